package media

import (
	"math"
	"time"
)

// DBFSFloor is the level reported for digital silence (and empty frames).
const DBFSFloor = -120.0

// RMS returns the root-mean-square value of frame in sample units (0 for
// an empty frame).
func RMS(frame []int16) float64 {
	if len(frame) == 0 {
		return 0
	}
	var s float64
	for _, v := range frame {
		f := float64(v)
		s += f * f
	}
	return math.Sqrt(s / float64(len(frame)))
}

// DBFS returns the RMS level of frame in dB relative to full scale, where a
// full-scale square wave is 0 dBFS (a full-scale sine is -3.01 dBFS). It
// never returns less than DBFSFloor, so silence gives -120, not -Inf.
func DBFS(frame []int16) float64 {
	r := RMS(frame)
	if r == 0 {
		return DBFSFloor
	}
	return max(DBFSFloor, 20*math.Log10(r/32768))
}

// ActivityEvent is what an ActivityDetector saw in a frame.
type ActivityEvent uint8

// Activity events.
const (
	ActivityNone  ActivityEvent = iota // no change
	ActivityStart                      // the far end started sending audio
	ActivityStop                       // the far end has been quiet for the hang time
)

// String returns "none", "start" or "stop".
func (e ActivityEvent) String() string {
	switch e {
	case ActivityStart:
		return "start"
	case ActivityStop:
		return "stop"
	}
	return "none"
}

// ActivityOption configures an ActivityDetector.
type ActivityOption func(*ActivityDetector)

// WithActivityThreshold sets the level (dBFS, see DBFS) a frame must reach
// to count as active (default -45).
func WithActivityThreshold(dBFS float64) ActivityOption {
	return func(a *ActivityDetector) { a.threshold = dBFS }
}

// WithActivityHysteresis sets how far below the threshold (dB) a frame may
// fall, once audio has started, and still count as active (default 6).
func WithActivityHysteresis(dB float64) ActivityOption {
	return func(a *ActivityDetector) { a.hysteresis = dB }
}

// WithActivityStartFrames sets how many consecutive active frames start
// activity (default 2).
func WithActivityStartFrames(n int) ActivityOption {
	return func(a *ActivityDetector) { a.startFrames = max(1, n) }
}

// WithActivityHang sets how long the audio must stay quiet to stop activity
// (default 700 ms).
func WithActivityHang(d time.Duration) ActivityOption {
	return func(a *ActivityDetector) { a.hang = d }
}

// ActivityDetector tells when the far end starts and stops sending audio,
// by frame energy with hysteresis and a hang time. It measures time by the
// samples it is given (8 kHz), not by a clock. It is not safe for
// concurrent use.
type ActivityDetector struct {
	threshold   float64
	hysteresis  float64
	startFrames int
	hang        time.Duration

	active bool
	run    int           // consecutive loud frames while inactive
	quiet  time.Duration // quiet audio since the last active frame
	level  float64
}

// NewActivityDetector returns a detector with the given options.
func NewActivityDetector(opts ...ActivityOption) *ActivityDetector {
	a := &ActivityDetector{threshold: -45, hysteresis: 6, startFrames: 2, hang: 700 * time.Millisecond}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Process measures one frame and returns ActivityStart or ActivityStop when
// the state changes in it.
func (a *ActivityDetector) Process(frame []int16) ActivityEvent {
	a.level = DBFS(frame)
	if !a.active {
		if a.level < a.threshold {
			a.run = 0
			return ActivityNone
		}
		a.run++
		if a.run < a.startFrames {
			return ActivityNone
		}
		a.active, a.run, a.quiet = true, 0, 0
		return ActivityStart
	}
	if a.level >= a.threshold-a.hysteresis {
		a.quiet = 0
		return ActivityNone
	}
	a.quiet += time.Duration(len(frame)) * time.Second / SampleRate
	if a.quiet < a.hang {
		return ActivityNone
	}
	a.active, a.quiet = false, 0
	return ActivityStop
}

// Active reports whether the far end is currently sending audio.
func (a *ActivityDetector) Active() bool { return a.active }

// Level returns the level of the last frame in dBFS.
func (a *ActivityDetector) Level() float64 { return a.level }

// Reset returns the detector to the inactive state.
func (a *ActivityDetector) Reset() { a.active, a.run, a.quiet, a.level = false, 0, 0, DBFSFloor }
