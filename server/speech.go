package server

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/media"
)

// WithRecognizer turns on speech: every call gets a recognition stream from
// rec, configured by cfg (its Log is set per call). Without it calls are
// keypad only.
func WithRecognizer(rec asr.Recognizer, cfg asr.StreamConfig) Option {
	return func(s *Server) { s.rec, s.recCfg = rec, cfg }
}

// frameFanout is the call's media sink: each received frame goes to the
// in-band DTMF detector and, while speech is on, the recognition stream.
type frameFanout struct {
	inband *media.DTMFDetector
	speech atomic.Pointer[asr.Stream]
	tap    atomic.Pointer[tapRef] // the live-agent bridge, while bridged
	rec    *callRecording         // the recording's left channel (nil: not recorded)
}

// tapRef holds a tap (an atomic.Pointer needs a concrete type).
type tapRef struct{ w media.PCM16Writer }

func (f *frameFanout) String() string  { return "Fanout(DTMFDetector, ASR)" }
func (f *frameFanout) SampleRate() int { return media.SampleRate }

// WriteSample feeds one 20 ms frame to every stage.
func (f *frameFanout) WriteSample(frame []int16) error {
	err := f.inband.WriteSample(frame)
	if f.rec != nil {
		f.rec.caller(frame)
	}
	if s := f.speech.Load(); s != nil {
		if serr := (*s).WriteSample(frame); serr != nil && err == nil {
			err = serr
		}
	}
	if t := f.tap.Load(); t != nil {
		if terr := t.w.WriteSample(frame); terr != nil && err == nil {
			err = terr
		}
	}
	return err
}

// startSpeech opens the call's recognition stream and reports whether the
// call has speech; a failure leaves the call on the keypad.
func (c *call) startSpeech(ctx context.Context) bool {
	if c.srv.rec == nil {
		return false
	}
	cfg := c.srv.recCfg
	cfg.Log = c.log
	cfg.NoInput = -1 // the flow times its own no-input
	st, err := c.srv.rec.NewStream(ctx, cfg)
	if err != nil {
		c.log.Warn("speech recognition unavailable for this call; keypad only", "error", err)
		return false
	}
	c.stream = st
	c.sink.speech.Store(&st)
	return true
}

// pumpSpeech turns recognition events into barge-in and results for the
// flow. A recognition error switches the call to the keypad.
func (c *call) pumpSpeech(ctx context.Context) error {
	defer func() {
		c.sink.speech.Store(nil) // no frames into a closed stream
		c.stream.Close()
	}()
	for {
		select {
		case ev, ok := <-c.stream.Events():
			if !ok {
				return errCallOver
			}
			c.onSpeech(ev)
		case <-ctx.Done():
			return errCallOver
		}
	}
}

func (c *call) onSpeech(ev asr.Event) {
	switch ev.Type {
	case asr.EventSpeechStart:
		if c.listening.Load() {
			c.stopPrompt() // barge-in
		}
		return
	case asr.EventSpeechEnd, asr.EventPartial:
		return
	case asr.EventError:
		c.log.Warn("speech recognition failed; switching the call to the keypad", "error", ev.Err)
		c.speechOff.Store(true)
		c.sink.speech.Store(nil)
	case asr.EventFinal, asr.EventNoMatch, asr.EventNoInput:
		c.log.Info("speech", "result", ev.Type.String(), "grammar", ev.Grammar, "intent", ev.Intent,
			"text", loggable(ev), "confidence", ev.Confidence, "latency", ev.Latency, "decoder_wait", ev.DecoderWait)
		c.srv.obs.SpeechResult(ev)
	}
	if !c.listening.Load() && ev.Type != asr.EventError {
		return // nobody asked: speech while a prompt without barge-in plays
	}
	if ev.Type == asr.EventFinal || ev.Type == asr.EventNoMatch {
		c.turnEnded(InputSpeech, time.Now().Add(-ev.Latency-ev.Trailing))
	}
	select {
	case c.speech <- ev:
	default:
		c.log.Warn("speech result dropped: flow is not reading")
	}
}

// Listen implements Call.
func (c *call) Listen(grammar string) bool {
	if c.stream == nil || c.speechOff.Load() {
		return false
	}
	if err := c.stream.Listen(grammar); err != nil {
		c.log.Warn("listen failed; keypad only", "grammar", grammar, "error", err)
		c.speechOff.Store(true)
		return false
	}
	c.listening.Store(true)
	return true
}

// Speech implements Call.
func (c *call) Speech() <-chan asr.Event { return c.speech }

// loggable is the text of a result as it may appear in a log: what was said
// to a digits grammar (a PIN, an account or card number) is masked, one *
// per word, so no digits of it reach the log.
func loggable(ev asr.Event) string {
	if ev.Grammar != asr.GrammarDigits {
		return ev.Text
	}
	return strings.TrimSpace(strings.Repeat("* ", len(strings.Fields(ev.Text))))
}
