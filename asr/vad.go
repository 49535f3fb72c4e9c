package asr

import (
	"math"
	"time"
)

// VADConfig tunes the energy voice-activity detector and endpointer. Zero
// fields take the defaults.
type VADConfig struct {
	// Threshold is how far above the tracked noise floor (dB) a frame must
	// be to count as speech. Default 9 dB.
	Threshold float64
	// MinLevel is the quietest frame (dBFS) that can count as speech.
	// Default -50 dBFS.
	MinLevel float64
	// StartFrames is how many 20 ms speech frames in a row start speech.
	// Default 3 (60 ms), which ignores clicks.
	StartFrames int
	// EndSilence is the silence that ends speech. Default 400 ms.
	EndSilence time.Duration
}

// Endpointer defaults.
const (
	DefaultVADThreshold = 9.0
	DefaultVADMinLevel  = -50.0
	DefaultStartFrames  = 3
	DefaultEndSilence   = 400 * time.Millisecond
	// DefaultShortEndSilence ends speech once the hypothesis already is a
	// complete phrase of a closed grammar.
	DefaultShortEndSilence = 240 * time.Millisecond
	// DefaultNoInput is how long a stream waits for speech after Listen.
	DefaultNoInput = 6 * time.Second
	// DefaultMaxUtterance cuts off an utterance that never ends.
	DefaultMaxUtterance = 10 * time.Second
)

func (c VADConfig) withDefaults() VADConfig {
	if c.Threshold == 0 {
		c.Threshold = DefaultVADThreshold
	}
	if c.MinLevel == 0 {
		c.MinLevel = DefaultVADMinLevel
	}
	if c.StartFrames == 0 {
		c.StartFrames = DefaultStartFrames
	}
	if c.EndSilence == 0 {
		c.EndSilence = DefaultEndSilence
	}
	return c
}

// VADEvent is what one frame changed.
type VADEvent int

// VAD events.
const (
	VADNone VADEvent = iota
	VADStart
	VADEnd
)

// String names the event.
func (e VADEvent) String() string {
	switch e {
	case VADStart:
		return "start"
	case VADEnd:
		return "end"
	}
	return "none"
}

// VAD finds the start and end of speech in 20 ms frames of telephone audio
// by frame energy against an adaptive noise floor: the floor follows a drop
// at once and a rise slowly, so steady background noise raises the floor
// while speech stands above it. It is not safe for concurrent use.
type VAD struct {
	cfg      VADConfig
	floor    float64
	inSpeech bool
	run      int // speech frames in a row (idle) or silence frames in a row (speech)
	endAfter int // silence frames that end speech
	ended    int // silence frames that ended the last utterance
	level    float64
	frames   int
}

// NewVAD returns a VAD in the idle state.
func NewVAD(cfg VADConfig) *VAD {
	cfg = cfg.withDefaults()
	v := &VAD{cfg: cfg}
	v.SetEndSilence(cfg.EndSilence)
	return v
}

// SetEndSilence changes the silence that ends the current and later
// utterances (the stream shortens it once a complete phrase is heard).
func (v *VAD) SetEndSilence(d time.Duration) {
	v.endAfter = max(1, int(d/(20*time.Millisecond)))
}

// EndedAfter is how many silent frames ended the last utterance (the end
// silence in force then, shortened or not).
func (v *VAD) EndedAfter() int { return v.ended }

// InSpeech reports whether the VAD is between a start and an end.
func (v *VAD) InSpeech() bool { return v.inSpeech }

// Level is the last frame's energy in dBFS.
func (v *VAD) Level() float64 { return v.level }

// Floor is the tracked noise floor in dBFS.
func (v *VAD) Floor() float64 { return v.floor }

// SilenceRun is how many non-speech frames in a row ended the last frame
// (only meaningful in speech).
func (v *VAD) SilenceRun() int {
	if v.inSpeech {
		return v.run
	}
	return 0
}

// frameDBFS is the frame's mean power in dB relative to full scale.
func frameDBFS(f []int16) float64 {
	var ss float64
	for _, s := range f {
		x := float64(s)
		ss += x * x
	}
	if len(f) == 0 || ss == 0 {
		return -100
	}
	return 10 * math.Log10(ss/float64(len(f))/(32768*32768))
}

// Process classifies one frame and returns the event it caused.
func (v *VAD) Process(f []int16) VADEvent {
	e := frameDBFS(f)
	v.level = e
	if v.frames == 0 {
		v.floor = e // the line's first frame sets the noise floor
	}
	v.frames++
	thr := v.cfg.Threshold
	if v.inSpeech {
		thr -= 3 // hysteresis: hold on through weak word endings
	}
	speech := e > v.floor+thr && e > v.cfg.MinLevel
	switch {
	case e < v.floor:
		v.floor += 0.3 * (e - v.floor)
	case !speech:
		v.floor += 0.05 * (e - v.floor)
	default:
		v.floor += 0.002 * (e - v.floor) // adapts even to steady loud noise, slowly
	}
	v.floor = max(v.floor, -90)
	if !v.inSpeech {
		if speech {
			v.run++
		} else {
			v.run = 0
		}
		if v.run >= v.cfg.StartFrames {
			v.inSpeech, v.run = true, 0
			return VADStart
		}
		return VADNone
	}
	if speech {
		v.run = 0
		return VADNone
	}
	v.run++
	if v.run >= v.endAfter {
		v.ended = v.run
		v.inSpeech, v.run = false, 0
		v.SetEndSilence(v.cfg.EndSilence)
		return VADEnd
	}
	return VADNone
}
