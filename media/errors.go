package media

import "errors"

// Sentinel errors of the media package.
var (
	ErrUnsupportedCodec = errors.New("media: unsupported codec")
	// ErrBadSampleRate reports a sample rate or channel count that cannot be used.
	ErrBadSampleRate = errors.New("media: bad sample rate")
	// ErrBadWAV reports a WAV file that cannot be read; the wrapping error says why.
	ErrBadWAV = errors.New("media: bad WAV file")
	// ErrPortRange reports an RTP port range that cannot be used.
	ErrPortRange = errors.New("media: bad RTP port range")
	// ErrPortsExhausted reports that every RTP/RTCP port pair in the range is taken.
	ErrPortsExhausted = errors.New("media: RTP ports exhausted")
	// ErrRTPTimeout reports that no RTP arrived for the session's inactivity timeout.
	ErrRTPTimeout = errors.New("media: RTP inactivity timeout")
	// ErrSessionConfig reports a SessionConfig that cannot be used.
	ErrSessionConfig = errors.New("media: bad RTP session config")
	// ErrSessionClosed reports a call on a Session that has been closed or whose Run has returned.
	ErrSessionClosed = errors.New("media: RTP session closed")
	// ErrSendInactive reports DTMF that cannot be sent because sending is on hold or the remote address is unknown.
	ErrSendInactive = errors.New("media: RTP sending inactive")
	// ErrBadDigit reports a character that is not a DTMF key (0-9, *, #, A-D).
	ErrBadDigit = errors.New("media: not a DTMF digit")
	// ErrShortPayload reports an RTP or RFC 4733 payload shorter than its fixed part.
	ErrShortPayload = errors.New("media: payload too short")
)
