package softphone

import (
	"sync"
	"time"

	"github.com/supportline/ivr/media"
)

// pcmSource plays a PCM buffer once into the RTP session (a media.Source)
// and signals when it has ended. The pacing loop reads it; Done and
// EndedAt may be used from any goroutine.
type pcmSource struct {
	pcm []int16
	pos int
	// onMark, when set, is called with the time the sample at mark is sent.
	mark   int
	onMark func(time.Time)
	done   chan struct{}
	once   sync.Once
	end    time.Time // written before done is closed
}

func newPCMSource(pcm []int16) *pcmSource {
	return &pcmSource{pcm: pcm, done: make(chan struct{})}
}

// ReadFrame copies the next frame, zero-padding the last one. When nothing
// is left it notes the time (the moment the last frame finished, in the
// sender's media clock) and reports the end.
func (s *pcmSource) ReadFrame(f []int16) bool {
	if s.pos >= len(s.pcm) {
		s.once.Do(func() {
			s.end = time.Now()
			close(s.done)
		})
		return false
	}
	if s.onMark != nil && s.mark >= s.pos && s.mark < s.pos+len(f) {
		s.onMark(time.Now())
	}
	n := copy(f, s.pcm[s.pos:])
	clear(f[n:])
	s.pos += n
	return true
}

// Done is closed once the source has ended.
func (s *pcmSource) Done() <-chan struct{} { return s.done }

// EndedAt is when the source ended; valid after Done.
func (s *pcmSource) EndedAt() time.Time { return s.end }

// In-band DTMF (when --dtmf-inband): tone and gap lengths and level.
const (
	DefaultDTMFDuration = 100 * time.Millisecond
	DefaultDTMFGap      = 100 * time.Millisecond
	// dtmfAmplitude is each tone's peak as a fraction of full scale:
	// about -14 dBFS per tone, a typical telephone level.
	dtmfAmplitude = 0.2
)

// inbandDTMF renders digits as tones separated by gaps of silence (the
// last tone is not followed by a gap) and says where the last tone starts.
func inbandDTMF(digits string, dur, gap time.Duration) (pcm []int16, last int) {
	silence := make([]int16, int(gap*media.SampleRate/time.Second))
	for i := range len(digits) {
		if i > 0 {
			pcm = append(pcm, silence...)
		}
		last = len(pcm)
		pcm = append(pcm, media.GenerateDTMF(digits[i], dur, dtmfAmplitude)...)
	}
	return pcm, last
}
