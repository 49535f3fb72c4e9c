package server

import (
	"context"
	"log/slog"
	"time"

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
	// Log is the call's logger (with its call_id).
	Log() *slog.Logger
}

// Flow is a call's dialog. Run returns when the flow is over; the call is
// then hung up unless the caller already did.
type Flow interface {
	Run(ctx context.Context, call Call) error
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
