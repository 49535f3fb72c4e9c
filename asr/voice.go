package asr

import (
	"math"
	"slices"
	"time"

	"github.com/supportline/ivr/media"
)

// Voice describes how an utterance was spoken, measured on the caller's
// 8 kHz frames as they reach the decoder (pre-roll included). The bot
// compares it with the caller's own first turns: a caller getting angry
// tends to speak louder, higher and faster.
type Voice struct {
	// LevelDBFS is the RMS level of the utterance's speech frames (those
	// within SpeechRangeDB of its loudest), in dB relative to full scale.
	LevelDBFS float64 `json:"level_dbfs"`
	// PitchHz is the median pitch over the voiced speech frames, found by
	// normalised autocorrelation over 40 ms windows; 0 when none was voiced.
	PitchHz float64 `json:"pitch_hz"`
	// Speech is how long the caller spoke: the speech frames' total length.
	Speech time.Duration `json:"speech"`
	// Words is the number of recognised words (the garbage loop's phones not
	// counted).
	Words int `json:"words"`
}

// WordsPerSecond is the speaking rate, 0 when there were no words.
func (v Voice) WordsPerSecond() float64 {
	if v.Words == 0 || v.Speech <= 0 {
		return 0
	}
	return float64(v.Words) / v.Speech.Seconds()
}

// SpeechRangeDB is how far below an utterance's loudest frame a frame may
// be and still count as speech in Voice.
const SpeechRangeDB = 25

const (
	pitchMinHz    = 60
	pitchMaxHz    = 400
	voicedMinCorr = 0.5 // normalised autocorrelation of a voiced frame
	pitchFloorDB  = -55 // frames quieter than this get no pitch search
)

// voiceFrame is one frame's measurements.
type voiceFrame struct {
	db    float64
	pitch float64 // 0: unvoiced
}

// voiceMeter measures an utterance's Voice frame by frame: energy always,
// pitch on frames loud enough to be voiced.
type voiceMeter struct {
	frames []voiceFrame
	prev   [media.FrameSamples]int16
	win    []float64
}

// reset starts a new utterance.
func (m *voiceMeter) reset() {
	m.frames = m.frames[:0]
	clear(m.prev[:])
}

// add measures one 20 ms frame.
func (m *voiceMeter) add(pcm []int16) {
	var sum float64
	for _, s := range pcm {
		sum += float64(s) * float64(s)
	}
	db := -120.0
	if sum > 0 {
		db = 10 * math.Log10(sum/float64(len(pcm))/(32768*32768))
	}
	f := voiceFrame{db: db}
	if db > pitchFloorDB {
		m.win = m.win[:0]
		for _, s := range m.prev {
			m.win = append(m.win, float64(s))
		}
		for _, s := range pcm {
			m.win = append(m.win, float64(s))
		}
		f.pitch = pitch(m.win, media.SampleRate)
	}
	copy(m.prev[:], pcm)
	m.frames = append(m.frames, f)
}

// voice sums the utterance up.
func (m *voiceMeter) voice(words int) Voice {
	v := Voice{Words: words}
	if len(m.frames) == 0 {
		return v
	}
	top := -120.0
	for _, f := range m.frames {
		top = max(top, f.db)
	}
	var energy float64
	var n int
	var pitches []float64
	for _, f := range m.frames {
		if f.db < top-SpeechRangeDB {
			continue
		}
		energy += math.Pow(10, f.db/10)
		n++
		if f.pitch > 0 {
			pitches = append(pitches, f.pitch)
		}
	}
	v.LevelDBFS = 10 * math.Log10(energy/float64(n))
	v.Speech = time.Duration(n) * frameDur
	if len(pitches) > 0 {
		slices.Sort(pitches)
		v.PitchHz = pitches[len(pitches)/2]
	}
	return v
}

// pitch is the fundamental frequency of x by normalised autocorrelation,
// or 0 when x is not voiced. The shortest lag that nearly matches the
// best correlation wins, so the pitch is not taken an octave low.
func pitch(x []float64, rate int) float64 {
	minLag, maxLag := rate/pitchMaxHz, rate/pitchMinHz
	if len(x) < 2*minLag {
		return 0
	}
	maxLag = min(maxLag, len(x)/2)
	corr := func(lag int) float64 {
		var xy, xx, yy float64
		for i := 0; i+lag < len(x); i++ {
			xy += x[i] * x[i+lag]
			xx += x[i] * x[i]
			yy += x[i+lag] * x[i+lag]
		}
		if xx == 0 || yy == 0 {
			return 0
		}
		return xy / math.Sqrt(xx*yy)
	}
	bestR := 0.0
	rs := make([]float64, maxLag+2)
	for lag := minLag; lag <= maxLag+1 && lag < len(x); lag++ {
		rs[lag] = corr(lag)
		if lag <= maxLag {
			bestR = max(bestR, rs[lag])
		}
	}
	if bestR < voicedMinCorr {
		return 0
	}
	// The shortest lag with a peak nearly as strong as the best: multiples
	// of the period correlate as well as the period itself.
	best := 0
	for lag := minLag; lag <= maxLag; lag++ {
		if rs[lag] >= 0.85*bestR && rs[lag] >= rs[lag-1] && rs[lag] >= rs[lag+1] {
			best = lag
			break
		}
	}
	if best == 0 {
		return 0
	}
	return float64(rate) / float64(best)
}
