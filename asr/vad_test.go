package asr

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// synth builds 20 ms frames: background noise at noiseDBFS with bursts of a
// voiced-like signal (a 150 Hz harmonic series) at speechDBFS over the given
// [start, end) spans in milliseconds.
func synth(totalMS int, noiseDBFS, speechDBFS float64, spans ...[2]int) [][]int16 {
	r := rand.New(rand.NewPCG(1, 1))
	na := 32768 * math.Pow(10, noiseDBFS/20)
	sa := 32768 * math.Pow(10, speechDBFS/20) * math.Sqrt2 / 2
	var frames [][]int16
	for f := 0; f < totalMS/20; f++ {
		fr := make([]int16, 160)
		for i := range fr {
			n := f*160 + i
			ms := n / 8
			v := na * r.NormFloat64()
			for _, sp := range spans {
				if ms >= sp[0] && ms < sp[1] {
					tt := float64(n) / 8000
					v += sa * (math.Sin(2*math.Pi*150*tt) + math.Sin(2*math.Pi*450*tt)/2 + math.Sin(2*math.Pi*1200*tt)/3)
				}
			}
			fr[i] = int16(max(-32768, min(32767, v)))
		}
		frames = append(frames, fr)
	}
	return frames
}

func TestVAD(t *testing.T) {
	tests := []struct {
		name       string
		noise      float64
		speech     float64
		spans      [][2]int
		wantStarts []int // ms, ±60
		wantEnds   []int
	}{
		{"quiet line", -70, -20, [][2]int{{500, 1500}}, []int{560}, []int{1900}},
		{"noisy line", -40, -18, [][2]int{{1000, 2000}}, []int{1060}, []int{2400}},
		{"two phrases", -55, -22, [][2]int{{500, 1000}, {2000, 2600}}, []int{560, 2060}, []int{1400, 3000}},
		{"short pause inside phrase", -55, -22, [][2]int{{500, 1000}, {1200, 1600}}, []int{560}, []int{2000}},
		{"click", -60, -10, [][2]int{{500, 520}}, nil, nil},
		{"noise only", -35, -100, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := NewVAD(VADConfig{})
			var starts, ends []int
			for i, f := range synth(4000, tt.noise, tt.speech, tt.spans...) {
				switch v.Process(f) {
				case VADStart:
					starts = append(starts, (i+1)*20)
				case VADEnd:
					ends = append(ends, (i+1)*20)
				}
			}
			check := func(what string, got, want []int) {
				if len(got) != len(want) {
					t.Fatalf("%s at %v ms, want %v", what, got, want)
				}
				for i := range got {
					if d := got[i] - want[i]; d < -60 || d > 60 {
						t.Errorf("%s at %v ms, want %v ±60", what, got, want)
					}
				}
			}
			check("starts", starts, tt.wantStarts)
			check("ends", ends, tt.wantEnds)
		})
	}
}

func TestVADShortEndSilence(t *testing.T) {
	v := NewVAD(VADConfig{})
	frames := synth(2000, -60, -20, [2]int{200, 700})
	var end int
	for i, f := range frames {
		if v.Process(f) == VADStart {
			v.SetEndSilence(200 * time.Millisecond)
		}
		if v.InSpeech() == false && end == 0 && i > 20 {
			end = (i + 1) * 20
		}
	}
	if end < 860 || end > 960 {
		t.Errorf("end at %d ms, want ~900", end)
	}
}
