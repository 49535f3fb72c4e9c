// Package media holds the audio side of a call: 20 ms frames of 8 kHz PCM, the
// G.711 codecs, RTP sessions (pacing, jitter buffer, symmetric RTP), RFC 4733
// and in-band DTMF, resampling, level measurement and WAV files.
//
// It knows nothing of SIP: session parameters arrive as plain values.
package media

import "time"

// Telephony audio constants. Every PCM frame that moves between stages is
// FrameSamples signed 16-bit samples at SampleRate, mono.
const (
	SampleRate    = 8000
	FrameDuration = 20 * time.Millisecond
	FrameSamples  = SampleRate / 50
)

// Writer is a media stage that takes samples of type T (after
// livekit/media-sdk). Chains of writers can be printed with String.
type Writer[T any] interface {
	String() string
	SampleRate() int
	WriteSample(sample T) error
}

// PCM16Writer is a stage that takes frames of 16-bit linear PCM.
type PCM16Writer = Writer[[]int16]

// Source produces outgoing audio one 20 ms frame at a time. The RTP sender
// pulls from it on its pacing clock, so a source never needs a timer.
type Source interface {
	// ReadFrame fills f (FrameSamples long) with the next frame. It returns
	// false once the source has ended; f is then left untouched.
	ReadFrame(f []int16) bool
}

// SourceFunc adapts a function to a Source.
type SourceFunc func(f []int16) bool

// ReadFrame calls fn(f).
func (fn SourceFunc) ReadFrame(f []int16) bool { return fn(f) }
