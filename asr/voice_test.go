package asr

import (
	"math"
	"testing"

	"github.com/supportline/ivr/media"
)

// tone is a harmonic-rich periodic signal (fundamental f Hz) at peak
// amplitude amp, n samples at 8 kHz.
func tone(f, amp float64, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		t := float64(i) / media.SampleRate
		v := math.Sin(2*math.Pi*f*t) + 0.5*math.Sin(4*math.Pi*f*t) + 0.3*math.Sin(6*math.Pi*f*t)
		out[i] = int16(amp * v / 1.8)
	}
	return out
}

func TestVoiceMeter(t *testing.T) {
	tests := []struct {
		f, amp float64
		dbfs   float64 // expected level, ±1.5 dB
	}{
		{110, 8000, -19.1},
		{220, 8000, -19.1},
		{160, 2000, -31.1},
		{300, 16000, -13.1},
	}
	for _, tt := range tests {
		var m voiceMeter
		pcm := tone(tt.f, tt.amp, 50*media.FrameSamples)
		for i := 0; i < len(pcm); i += media.FrameSamples {
			m.add(pcm[i : i+media.FrameSamples])
		}
		// Silence frames do not count as speech.
		for range 10 {
			m.add(make([]int16, media.FrameSamples))
		}
		v := m.voice(3)
		if math.Abs(v.PitchHz-tt.f)/tt.f > 0.05 {
			t.Errorf("%.0f Hz: pitch %.1f Hz", tt.f, v.PitchHz)
		}
		if math.Abs(v.LevelDBFS-tt.dbfs) > 1.5 {
			t.Errorf("%.0f Hz amp %.0f: level %.1f dBFS, want %.1f", tt.f, tt.amp, v.LevelDBFS, tt.dbfs)
		}
		if v.Speech != 50*frameDur || v.Words != 3 || math.Abs(v.WordsPerSecond()-3) > 1e-9 {
			t.Errorf("speech %v words %d rate %.2f", v.Speech, v.Words, v.WordsPerSecond())
		}
	}
	var m voiceMeter
	if v := m.voice(0); v != (Voice{}) {
		t.Errorf("empty utterance: %+v", v)
	}
}
