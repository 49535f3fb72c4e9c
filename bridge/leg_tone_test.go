package bridge

import (
	"math"
	"slices"
	"time"

	"github.com/supportline/ivr/media"
)

// toneLevel is the level above which a received frame counts as tone, well
// above G.711 idle noise and far below the test tones (-9 dBFS).
const toneLevel = -30.0

// toneFrames cuts n frames of a continuous sine at freq Hz (peak amp × full
// scale) into 20 ms frames.
func toneFrames(freq, amp float64, n int) [][]int16 {
	pcm := media.GenerateTone([]float64{freq}, time.Duration(n)*media.FrameDuration, amp)
	out := make([][]int16, n)
	for i := range out {
		out[i] = pcm[i*media.FrameSamples : (i+1)*media.FrameSamples]
	}
	return out
}

// bursts is n frames of on frames of a sine then off frames of silence,
// repeated; onset reports the frame indexes where a burst starts.
func bursts(freq float64, on, off, n int) (frames [][]int16, onsets []int) {
	tone := toneFrames(freq, 0.5, on)
	silence := make([]int16, media.FrameSamples)
	for i := range n {
		k := i % (on + off)
		if k == 0 {
			onsets = append(onsets, i)
		}
		if k < on {
			frames = append(frames, tone[k])
		} else {
			frames = append(frames, silence)
		}
	}
	return frames, onsets
}

// frameFreq estimates the frequency of the sine in x from its zero
// crossings, interpolated between samples: (crossings − 1) half periods
// between the first and the last crossing. It returns 0 with fewer than
// three crossings.
func frameFreq(x []int16) float64 {
	first, last, n := -1.0, -1.0, 0
	for i := 1; i < len(x); i++ {
		a, b := float64(x[i-1]), float64(x[i])
		if (a < 0) == (b < 0) {
			continue
		}
		pos := float64(i-1) + a/(a-b)
		if first < 0 {
			first = pos
		}
		last = pos
		n++
	}
	if n < 3 || last <= first {
		return 0
	}
	return float64(n-1) / 2 / ((last - first) / media.SampleRate)
}

// goertzelDB returns the power of x at freq Hz, in dB relative to a
// full-scale sine filling x.
func goertzelDB(x []int16, freq float64) float64 {
	w := 2 * math.Pi * freq / media.SampleRate
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = float64(v)/32768+c*s1-s2, s1
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	ref := float64(len(x)) * float64(len(x)) / 4
	return 10 * math.Log10(max(p/ref, 1e-12))
}

// toneReport measures the loud frames of a received stream.
type toneReport struct {
	loud      int     // frames above toneLevel
	freq      float64 // median per-frame frequency of the loud frames
	level     float64 // median level of the loud frames, dBFS
	wantDB    float64 // median Goertzel power at the expected frequency
	otherDB   float64 // median Goertzel power at the other side's frequency
	totalSeen int
}

func measureTone(frames [][]int16, want, other float64) toneReport {
	var freqs, levels, wantDB, otherDB []float64
	for _, f := range frames {
		lv := media.DBFS(f)
		if lv < toneLevel {
			continue
		}
		freqs = append(freqs, frameFreq(f))
		levels = append(levels, lv)
		wantDB = append(wantDB, goertzelDB(f, want))
		otherDB = append(otherDB, goertzelDB(f, other))
	}
	return toneReport{
		loud: len(freqs), freq: median(freqs), level: median(levels),
		wantDB: median(wantDB), otherDB: median(otherDB), totalSeen: len(frames),
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func durMedian(v []time.Duration) time.Duration {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
