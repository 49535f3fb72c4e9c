package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/media"
)

// CallInfo is what a flow knows about its call at the start.
type CallInfo struct {
	ID        string // SIP Call-ID
	From      string // caller's number (From user part)
	To        string // number dialled
	Transport string
	Codec     string
}

// Call is what a dialog flow sees of a call: it plays prompts and hears key
// presses. It knows nothing of SIP or RTP.
type Call interface {
	// Info describes the call.
	Info() CallInfo
	// Play plays the named prompts back to back and returns when they have
	// been played, or at once when the caller barges in (a key press), or
	// when ctx ends. It reports whether the caller barged in.
	Play(ctx context.Context, names ...string) (bargedIn bool, err error)
	// Digits delivers the caller's key presses, each press once however it
	// arrived (RFC 4733, in-band tone, SIP INFO).
	Digits() <-chan media.DTMF
	// Listen asks for the caller's speech with the named grammar (the
	// current dialog step); speech then also barges in. It reports false
	// when the call has no speech (none configured, or recognition failed):
	// the flow offers the keypad.
	Listen(grammar string) bool
	// Speech delivers recognition results (final, no-match) and, once, an
	// error event when recognition fails mid-call.
	Speech() <-chan asr.Event
	// Log is the call's logger (with its call_id).
	Log() *slog.Logger
	// Sensitive starts a window in which the caller enters a PIN or card
	// data: the call recording holds silence from now until resume is
	// called (on every way out of the window: defer it) and a short guard
	// after it, so no key tone of the window is recorded.
	Sensitive() (resume func())
}

// Bridgeable is what a call offers beyond Call to the live-agent bridge:
// its single outgoing audio stream, so hold music and the agent's voice go
// out with the same sequence numbers and timestamps as the prompts, and a
// tap on the caller's received audio.
type Bridgeable interface {
	Call
	// SetSource plays src on the call's outgoing stream (nil: silence).
	SetSource(src media.Source)
	// Tap also sends each received 20 ms frame to w (nil: no tap). Any
	// call of Tap ends the bot's speech recognition for the call.
	Tap(w media.PCM16Writer)
}

// Flow is a call's dialog. Run returns when the flow is over; the call is
// then hung up unless the caller already did.
type Flow interface {
	Run(ctx context.Context, call Call) error
}

// Input is one caller turn: a key press or a recognition result.
type Input struct {
	Digit  *media.DTMF
	Speech *asr.Event
}

// WaitInput waits up to timeout for a key press or a speech result; ok is
// false on time-out.
func WaitInput(ctx context.Context, call Call, timeout time.Duration) (in Input, ok bool, err error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case d := <-call.Digits():
		return Input{Digit: &d}, true, nil
	case ev := <-call.Speech():
		return Input{Speech: &ev}, true, nil
	case <-t.C:
		return Input{}, false, nil
	case <-ctx.Done():
		return Input{}, false, ctx.Err()
	}
}

// WaitDigit waits up to timeout for the next key press.
func WaitDigit(ctx context.Context, call Call, timeout time.Duration) (media.DTMF, bool, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case d := <-call.Digits():
		return d, true, nil
	case <-t.C:
		return media.DTMF{}, false, nil
	case <-ctx.Done():
		return media.DTMF{}, false, ctx.Err()
	}
}
