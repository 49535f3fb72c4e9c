// Package asr is streaming speech recognition for phone calls: a small
// Recognizer/Stream interface, the PocketSphinx backend behind it (cgo), the
// phone-audio front-end, the VAD and endpointer, the dialog grammars, and the
// corpus harness behind `ivr asr eval`.
//
// A stream takes a call's 20 ms 8 kHz frames and reports events: speech
// start (for barge-in), speech end, partial and final results, no-match and
// no-input. Audio time, not wall time, drives endpointing and time-outs, so
// a stream needs no timers and behaves the same in tests.
package asr

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/supportline/ivr/media"
)

// Recognizer opens one recognition stream per call. Backends (PocketSphinx,
// a network recognizer) implement it.
type Recognizer interface {
	NewStream(ctx context.Context, cfg StreamConfig) (Stream, error)
}

// RecognizerFunc adapts a function to a Recognizer.
type RecognizerFunc func(ctx context.Context, cfg StreamConfig) (Stream, error)

// NewStream calls fn(ctx, cfg).
func (fn RecognizerFunc) NewStream(ctx context.Context, cfg StreamConfig) (Stream, error) {
	return fn(ctx, cfg)
}

// Stream is one call's recognition. WriteSample takes 20 ms frames of 8 kHz
// PCM (media.FrameSamples long); Listen chooses the grammar of the current
// dialog step; results arrive on Events, which is closed after the stream
// ends (Close or the context's end).
type Stream interface {
	media.PCM16Writer
	// Listen selects the grammar for the next utterance and restarts the
	// no-input time-out. An utterance already under way keeps its grammar.
	Listen(grammar string) error
	// Events delivers the stream's events in order.
	Events() <-chan Event
	// Close stops the stream and waits for its goroutine. It is idempotent.
	Close() error
}

// StreamConfig sets up one stream. Zero fields take the defaults.
type StreamConfig struct {
	// Log receives the stream's log lines (per call: log.With("call_id", id)).
	Log *slog.Logger
	// Grammar is the grammar Listen would select; "" waits for Listen.
	Grammar string
	// VAD tunes the voice-activity detector; VAD.EndSilence is the silence
	// that ends an utterance (default 400 ms).
	VAD VADConfig
	// ShortEndSilence ends speech sooner once the words so far already form a
	// complete phrase of a closed grammar. Default 240 ms; negative disables.
	ShortEndSilence time.Duration
	// NoInput is the time after Listen without speech that gives a no-input
	// event. Default 6 s; negative disables.
	NoInput time.Duration
	// MaxUtterance ends an utterance that runs this long. Default 10 s.
	MaxUtterance time.Duration
	// Partials asks for partial results while the caller speaks.
	Partials bool
	// QueueFrames is how many frames WriteSample buffers before it blocks.
	// Default 500 (10 s of audio).
	QueueFrames int
}

func (c StreamConfig) withDefaults() StreamConfig {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	c.VAD = c.VAD.withDefaults()
	if c.ShortEndSilence == 0 {
		c.ShortEndSilence = DefaultShortEndSilence
	}
	if c.NoInput == 0 {
		c.NoInput = DefaultNoInput
	}
	if c.MaxUtterance == 0 {
		c.MaxUtterance = DefaultMaxUtterance
	}
	if c.QueueFrames == 0 {
		c.QueueFrames = 500
	}
	return c
}

// EventType is the kind of a stream event.
type EventType int

// Stream events.
const (
	// EventSpeechStart: the caller started speaking (stop the prompt: barge-in).
	EventSpeechStart EventType = iota + 1
	// EventSpeechEnd: the endpointer heard the end of the utterance.
	EventSpeechEnd
	// EventPartial: the best hypothesis so far (StreamConfig.Partials).
	EventPartial
	// EventFinal: the utterance matched the grammar; Intent says how.
	EventFinal
	// EventNoMatch: the utterance was not in the grammar.
	EventNoMatch
	// EventNoInput: no speech within StreamConfig.NoInput of Listen.
	EventNoInput
	// EventError: recognition failed for this utterance (Err says why); the
	// call should fall back to the keypad. The stream goes on.
	EventError
)

// String names the event type.
func (t EventType) String() string {
	switch t {
	case EventSpeechStart:
		return "speech-start"
	case EventSpeechEnd:
		return "speech-end"
	case EventPartial:
		return "partial"
	case EventFinal:
		return "final"
	case EventNoMatch:
		return "no-match"
	case EventNoInput:
		return "no-input"
	case EventError:
		return "error"
	}
	return fmt.Sprintf("EventType(%d)", int(t))
}

// Event is one thing a stream reports.
type Event struct {
	Type EventType
	// Grammar is the grammar the utterance was decoded with.
	Grammar string
	// Intent is the matched rule's intent (EventFinal).
	Intent string
	// Text is the recognised words (EventPartial, EventFinal, EventNoMatch).
	Text string
	// Value is the intent's value: the digits of IntentDigits, the amount
	// in dollars ("321.09") of IntentAmount.
	Value string
	// Confidence is in [0, 1]: the share of the utterance's speech frames
	// the grammar's words explain rather than the garbage loop.
	Confidence float64
	// AcousticGap (EventFinal, EventNoMatch) is how far per frame the
	// acoustic score of the recognised words falls short of the best senone
	// of each frame: higher means the words fit the audio worse.
	AcousticGap float64
	// Retried (EventFinal, EventNoMatch) says the first search found no
	// path through the grammar and the result is from a second, wide-beam
	// decode of the same audio (SphinxConfig.RetryDecoders).
	Retried bool
	// PhoneFrames (EventFinal, EventNoMatch) is how many 10 ms frames the
	// recognised words take per phone: words squeezed onto speech that
	// said something else take fewer.
	PhoneFrames float64
	// At is the audio time of the event since the stream began.
	At time.Duration
	// Latency (EventFinal, EventNoMatch) is the wall time from the write of
	// the frame that ended the utterance to the result.
	Latency time.Duration
	// DecoderWait is how long the utterance waited for a free decoder.
	DecoderWait time.Duration
	// Trailing (EventSpeechEnd, EventFinal, EventNoMatch) is the silence
	// that ended the utterance: the caller stopped speaking this long
	// before the frame that ended it (the write Latency counts from).
	Trailing time.Duration
	// Err is the failure of an EventError.
	Err error
	// Cues are the grammar's cue phrases (Grammar.Cues) heard before or
	// instead of the rule's words (EventFinal, EventNoMatch): "this is
	// useless, my balance" is IntentBalance with the cue "this is useless".
	Cues []Cue
	// Voice is how the utterance was spoken (EventFinal, EventNoMatch).
	Voice Voice
	// Words is the best path word by word (EventFinal, EventNoMatch):
	// grammar words, garbage phones and fillers with their frames and
	// acoustic scores. It may hold the digits of a PIN or card: never log it.
	Words []WordScore
}

// WordScore is one entry of a result's best path.
type WordScore struct {
	Word   string `json:"word"`
	Frames int    `json:"frames"`
	// Ascr is the acoustic score, in PocketSphinx's log base, relative to
	// each frame's best senone (0 is a perfect fit, lower is worse).
	Ascr int32 `json:"ascr"`
}
