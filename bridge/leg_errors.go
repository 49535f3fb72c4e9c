package bridge

import "errors"

// Sentinel errors of the media leg.
var (
	// ErrLegConfig reports a LegConfig that cannot be used.
	ErrLegConfig = errors.New("bridge: bad leg config")
	// ErrLegClosed reports a call on a Leg after Close.
	ErrLegClosed = errors.New("bridge: leg closed")
	// ErrBadAnswer reports an SDP answer that cannot be parsed or applied.
	ErrBadAnswer = errors.New("bridge: bad SDP answer")
	// ErrCodecRefused reports an SDP answer that refused the audio or the
	// caller's codec.
	ErrCodecRefused = errors.New("bridge: codec refused by the browser")
	// ErrFrameSize reports a frame that is not one 20 ms frame (160 samples).
	ErrFrameSize = errors.New("bridge: frame is not 160 samples")
)
