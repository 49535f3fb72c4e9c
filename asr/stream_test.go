package asr

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/supportline/ivr/media"
	"go.uber.org/goleak"
)

// newTestSphinx loads the installed model, or skips when it is absent.
func newTestSphinx(t *testing.T) *Sphinx {
	t.Helper()
	dir := DefaultModelDir()
	if _, err := os.Stat(filepath.Join(dir, "en-us", "mdef")); err != nil {
		t.Skipf("pocketsphinx-en-us not installed: %v", err)
	}
	s, err := NewSphinx(SphinxConfig{Decoders: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestNewSphinxBadInput(t *testing.T) {
	if _, err := NewSphinx(SphinxConfig{ModelDir: t.TempDir()}); err == nil {
		t.Error("missing model: no error")
	}
	g := &Grammar{Name: "x", Rules: []Rule{{"a", "frobnicatorix"}}}
	if _, err := NewSphinx(SphinxConfig{Grammars: []*Grammar{g}}); err == nil {
		t.Error("word missing from the dictionary: no error")
	}
}

// TestStreamEvents feeds synthetic speech-like bursts: the stream must report
// speech start, speech end and a result in order, then a no-input, and end
// without leaking goroutines.
func TestStreamEvents(t *testing.T) {
	defer goleak.VerifyNone(t)
	s := newTestSphinx(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := s.NewStream(ctx, StreamConfig{Grammar: GrammarConfirm, NoInput: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.WriteSample(make([]int16, 10)); err == nil {
		t.Error("short frame accepted")
	}
	if err := st.Listen("nope"); err == nil {
		t.Error("unknown grammar accepted")
	}
	write := func(frames [][]int16) {
		for _, f := range frames {
			if err := st.WriteSample(f); err != nil {
				t.Error(err)
				return
			}
		}
	}
	write(synth(2000, -60, -20, [2]int{500, 1100}))
	var got []EventType
	for e := range st.Events() {
		got = append(got, e.Type)
		if e.Type == EventFinal || e.Type == EventNoMatch {
			break
		}
	}
	if err := st.Listen(GrammarMain); err != nil { // re-arms the no-input time-out
		t.Fatal(err)
	}
	write(synth(2000, -60, -100))
	for e := range st.Events() {
		got = append(got, e.Type)
		if e.Type == EventNoInput {
			break
		}
	}
	st.Close()
	want := []EventType{EventSpeechStart, EventSpeechEnd}
	if len(got) < 4 || got[0] != want[0] || got[1] != want[1] ||
		(got[2] != EventFinal && got[2] != EventNoMatch) || got[3] != EventNoInput {
		t.Errorf("events %v, want speech-start, speech-end, final|no-match, no-input", got)
	}
	if err := st.WriteSample(make([]int16, media.FrameSamples)); err == nil {
		t.Error("write after close accepted")
	}
}

// TestWriteAfterContextEnds checks that a frame written after the stream's
// context ended is refused with ErrClosed and the reason.
func TestWriteAfterContextEnds(t *testing.T) {
	s := newTestSphinx(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	st, err := s.NewStream(ctx, StreamConfig{Grammar: GrammarMain})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	<-ctx.Done()
	err = st.WriteSample(make([]int16, media.FrameSamples))
	if !errors.Is(err, ErrClosed) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WriteSample after the deadline: %v, want ErrClosed and the deadline", err)
	}
}
