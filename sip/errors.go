package sip

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors of the signaling layer.
var (
	ErrMalformedSDP    = errors.New("sip: malformed SDP")
	ErrNoAudio         = errors.New("sip: offer has no audio stream")
	ErrNoCommonCodec   = errors.New("sip: no supported codec in offer")
	ErrCallLimit       = errors.New("sip: call limit reached")
	ErrCapacity        = errors.New("sip: no media capacity")
	ErrShuttingDown    = errors.New("sip: server shutting down")
	ErrNoDialog        = errors.New("sip: no such dialog")
	ErrCallEnded       = errors.New("sip: call ended")
	ErrNotAnswered     = errors.New("sip: call not answered")
	ErrAlreadyAnswered = errors.New("sip: call already answered or rejected")
)

// StatusError is a SIP final response carried as an error. The server
// answers with it as is; a client returns it when the far end refused a call.
type StatusError struct {
	Code       int
	Reason     string
	Warning    string        // text for a Warning header (399), optional
	RetryAfter time.Duration // for 503, optional
	Err        error         // what caused it, optional
}

// Error describes the response, e.g. "488 Not Acceptable Here: no supported codec".
func (e *StatusError) Error() string {
	s := fmt.Sprintf("%d %s", e.Code, e.Reason)
	if e.Warning != "" {
		s += ": " + e.Warning
	}
	if e.Err != nil && e.Warning == "" {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *StatusError) Unwrap() error { return e.Err }

// statusFor maps an error from call set-up to the final response that
// reports it. This is the one place where errors become SIP status codes
// (after livekit/sip's classifyInviteError).
func statusFor(err error) *StatusError {
	var se *StatusError
	switch {
	case errors.As(err, &se):
		return se
	case errors.Is(err, ErrMalformedSDP):
		return &StatusError{Code: 400, Reason: "Bad Request", Warning: "malformed SDP", Err: err}
	case errors.Is(err, ErrNoAudio), errors.Is(err, ErrNoCommonCodec), errors.Is(err, ErrSRTP):
		return &StatusError{Code: 488, Reason: "Not Acceptable Here", Warning: strings.TrimPrefix(err.Error(), "sip: "), Err: err}
	case errors.Is(err, ErrCallLimit):
		return &StatusError{Code: 503, Reason: "Service Unavailable", Warning: "call limit reached", RetryAfter: 30 * time.Second, Err: err}
	case errors.Is(err, ErrCapacity):
		return &StatusError{Code: 503, Reason: "Service Unavailable", Warning: "no media ports free", RetryAfter: 30 * time.Second, Err: err}
	case errors.Is(err, ErrShuttingDown):
		return &StatusError{Code: 503, Reason: "Service Unavailable", Warning: "shutting down", RetryAfter: 60 * time.Second, Err: err}
	case errors.Is(err, ErrNoDialog):
		return &StatusError{Code: 481, Reason: "Call/Transaction Does Not Exist", Err: err}
	}
	return &StatusError{Code: 500, Reason: "Server Internal Error", Err: err}
}

func secondsDuration(n int) time.Duration { return time.Duration(n) * time.Second }
