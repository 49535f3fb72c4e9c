package bot

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/media"
)

// Labels of scripted calls.
const (
	LabelCalm       = "calm"       // must not be handed over
	LabelFrustrated = "frustrated" // must be handed over for frustration
	LabelAgent      = "agent"      // asks for a person: must be handed over at once
)

// ScriptTurn is one turn of a scripted caller: words (a WAV file), keys,
// or silence.
type ScriptTurn struct {
	Kind    string // "speech", "keys" or "silence"
	Payload string // the WAV path (relative to the corpus) or the keys
	// Frustrated marks the turns a frustrated caller says frustrated.
	Frustrated bool
	// Barge speaks over the bot's question.
	Barge bool
	// Agent marks an explicit request for a person.
	Agent bool

	pcm []int16 // the speech, through the codec
}

// ScriptCall is a scripted call: a label and the caller's turns, one per
// question of the bot. The caller is a known number (its account is made
// for the call, PIN 2468).
type ScriptCall struct {
	Name  string
	Label string
	Turns []ScriptTurn
}

// ReadScripts reads DIR/calls.tsv: tab-separated, header "call label turn
// kind payload flags", one line per turn in order; flags is "-" or a comma
// list of frustrated, barge, agent.
func ReadScripts(dir string) ([]ScriptCall, error) {
	f, err := os.Open(filepath.Join(dir, "calls.tsv"))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrScript, err)
	}
	defer f.Close()
	var calls []ScriptCall
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if n == 1 {
			if strings.Join(strings.Fields(line), " ") != "call label turn kind payload flags" {
				return nil, fmt.Errorf("%w: calls.tsv header is %q", ErrScript, line)
			}
			continue
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		name, label, t, err := parseTurn(line)
		if err != nil {
			return nil, fmt.Errorf("%w: calls.tsv line %d: %v", ErrScript, n, err)
		}
		if len(calls) == 0 || calls[len(calls)-1].Name != name {
			calls = append(calls, ScriptCall{Name: name, Label: label})
		}
		c := &calls[len(calls)-1]
		c.Turns = append(c.Turns, t)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrScript, err)
	}
	if len(calls) == 0 {
		return nil, fmt.Errorf("%w: calls.tsv has no calls", ErrScript)
	}
	return calls, nil
}

// parseTurn reads one line of calls.tsv.
func parseTurn(line string) (name, label string, t ScriptTurn, err error) {
	p := strings.Split(line, "\t")
	if len(p) != 6 {
		return "", "", t, fmt.Errorf("%d fields, want 6", len(p))
	}
	name, label = p[0], p[1]
	if label != LabelCalm && label != LabelFrustrated && label != LabelAgent {
		return "", "", t, fmt.Errorf("label %q", label)
	}
	if _, err := strconv.Atoi(p[2]); err != nil {
		return "", "", t, fmt.Errorf("turn %q", p[2])
	}
	t.Kind, t.Payload = p[3], p[4]
	switch t.Kind {
	case "speech", "keys", "silence":
	default:
		return "", "", t, fmt.Errorf("kind %q", t.Kind)
	}
	for _, fl := range strings.Split(p[5], ",") {
		switch fl {
		case "frustrated":
			t.Frustrated = true
		case "barge":
			t.Barge = true
		case "agent":
			t.Agent = true
		case "-", "":
		default:
			return "", "", t, fmt.Errorf("flag %q", fl)
		}
	}
	return name, label, t, nil
}

// scriptCall is a bot.Call whose caller follows a script: at each question
// of the bot it speaks its next turn into a real recognition stream, the
// way a call's audio reaches it (G.711 and 20 ms frames), presses keys, or
// stays silent. Prompts take no time. It ends the call (hangs up) when the
// script runs out.
type scriptCall struct {
	turns  []ScriptTurn
	stream asr.Stream
	log    *slog.Logger
	hangup context.CancelFunc
	lead   []int16 // silence before each utterance: a line is never quiet-free
	tail   []int16 // silence after each utterance, for the endpointer

	digits chan media.DTMF
	speech chan asr.Event
	starts chan struct{}
	audio  chan []int16
	fed    chan struct{} // an utterance (and its tail) was written

	mu     sync.Mutex
	asking bool
	given  int // turns spoken so far
}

// Asking implements TurnTaker: the next Play is a question.
func (c *scriptCall) Asking() {
	c.mu.Lock()
	c.asking = true
	c.mu.Unlock()
}

// Given is how many turns the caller has taken.
func (c *scriptCall) Given() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.given
}

// Play implements Call: a question gets the caller's next turn.
func (c *scriptCall) Play(ctx context.Context, _ ...string) (bool, error) {
	c.mu.Lock()
	ask := c.asking
	c.asking = false
	var t *ScriptTurn
	if ask && c.given < len(c.turns) {
		t = &c.turns[c.given]
		c.given++
	}
	c.mu.Unlock()
	if !ask {
		return false, ctx.Err()
	}
	if t == nil {
		c.hangup()
		return false, nil
	}
	switch t.Kind {
	case "keys":
		for i := range len(t.Payload) {
			c.digits <- media.DTMF{Digit: t.Payload[i]}
		}
		return true, nil
	case "silence":
		return false, nil
	}
	for len(c.starts) > 0 {
		<-c.starts
	}
	for len(c.fed) > 0 {
		<-c.fed
	}
	select {
	case c.audio <- t.pcm:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	if !t.Barge {
		return false, nil
	}
	select {
	case <-c.starts:
		return true, nil
	case <-c.fed: // the VAD never heard it start: no barge-in
		return false, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// Listen implements Call.
func (c *scriptCall) Listen(grammar string) bool {
	if err := c.stream.Listen(grammar); err != nil {
		c.log.Warn("listen failed", "grammar", grammar, "error", err)
		return false
	}
	return true
}

// Digits implements Call.
func (c *scriptCall) Digits() <-chan media.DTMF { return c.digits }

// Speech implements Call.
func (c *scriptCall) Speech() <-chan asr.Event { return c.speech }

// Log implements Call.
func (c *scriptCall) Log() *slog.Logger { return c.log }

// pump passes the stream's results to the bot and speech starts to Play.
func (c *scriptCall) pump(ctx context.Context) error {
	for {
		select {
		case ev, ok := <-c.stream.Events():
			if !ok {
				return nil
			}
			switch ev.Type {
			case asr.EventSpeechStart:
				select {
				case c.starts <- struct{}{}:
				default:
				}
			case asr.EventFinal, asr.EventNoMatch, asr.EventNoInput, asr.EventError:
				select {
				case c.speech <- ev:
				case <-ctx.Done():
					return nil
				}
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// feed writes each utterance between lead and tail silence, in 20 ms
// frames.
func (c *scriptCall) feed(ctx context.Context) error {
	frame := make([]int16, media.FrameSamples)
	for {
		select {
		case pcm := <-c.audio:
			for _, part := range [][]int16{c.lead, pcm, c.tail} {
				for i := 0; i < len(part); i += media.FrameSamples {
					clear(frame)
					copy(frame, part[i:min(len(part), i+media.FrameSamples)])
					if err := c.stream.WriteSample(frame); err != nil {
						return nil // the stream ended with the call
					}
				}
			}
			select {
			case c.fed <- struct{}{}:
			default:
			}
		case <-ctx.Done():
			return nil
		}
	}
}
