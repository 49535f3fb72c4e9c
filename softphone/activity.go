package softphone

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/supportline/ivr/media"
)

// Far-end audio detection defaults.
const (
	// DefaultActivityThreshold is the frame level above which far-end audio
	// counts as present, in dBFS (a full-scale sine is 0 dBFS).
	DefaultActivityThreshold = -45.0
	// DefaultQuiet is how long the far end must stay below the threshold
	// for its audio to count as stopped (and wait-silence to return).
	DefaultQuiet = 700 * time.Millisecond
	// onsetFrames loud frames in a row start audio (a click does not).
	onsetFrames = 2
)

// frameDBFS returns the RMS level of a frame in dBFS, a full-scale sine
// being 0 dBFS; digital silence gives -inf.
//
// This is a small local stand-in for media's level measurement (level.go,
// being written); switch to it once it lands.
func frameDBFS(f []int16) float64 {
	if len(f) == 0 {
		return math.Inf(-1)
	}
	var sum float64
	for _, v := range f {
		x := float64(v)
		sum += x * x
	}
	rms := math.Sqrt(sum / float64(len(f)))
	return 20 * math.Log10(rms*math.Sqrt2/32767)
}

// activity finds the far end's audio starting and stopping in the frames
// played out of the jitter buffer, and times responses: the first audio
// start after a play ended (or DTMF was sent) is a turn.
type activity struct {
	threshold float64
	quiet     time.Duration
	emit      func(Event)

	mu       sync.Mutex
	active   bool
	run      int           // loud frames in a row while not active
	runStart time.Time     // first of them
	runPow   float64       // their summed mean power
	start    time.Time     // audio start of the current span
	lastLoud time.Time     // end of the last loud frame
	pow      float64       // summed mean power of the span's loud frames
	loud     int           // loud frames in the span
	stops    int           // audio_stop events so far
	changed  chan struct{} // closed (and replaced) at each audio stop
	ref      time.Time     // last play_end or dtmf_sent not yet answered
	refKind  string
	refLine  int
	turns    []Turn
}

// Turn is one response of the far end: from the end of our play (or DTMF)
// to the start of its audio.
type Turn struct {
	After      string  `json:"after"` // "play" or "dtmf"
	Line       int     `json:"line"`  // script line of the play or dtmf step
	ResponseMs float64 `json:"response_ms"`
}

func newActivity(threshold float64, quiet time.Duration, emit func(Event)) *activity {
	return &activity{threshold: threshold, quiet: quiet, emit: emit, changed: make(chan struct{})}
}

// frame takes one received frame that played out at now.
func (a *activity) frame(f []int16, now time.Time) {
	lvl := frameDBFS(f)
	loud := lvl > a.threshold
	a.mu.Lock()
	var ev *Event
	var stopped chan struct{}
	switch {
	case loud && a.active:
		a.lastLoud, a.pow, a.loud = now.Add(media.FrameDuration), a.pow+dbToPow(lvl), a.loud+1
	case loud:
		if a.run == 0 {
			a.runStart, a.runPow = now, 0
		}
		a.run++
		a.runPow += dbToPow(lvl)
		if a.run >= onsetFrames {
			ev = a.startLocked()
		}
	case a.active && now.Sub(a.lastLoud) >= a.quiet:
		ev = a.stopLocked()
		stopped, a.changed = a.changed, make(chan struct{})
	default:
		a.run = 0
	}
	a.mu.Unlock()
	if ev != nil {
		a.emit(*ev)
	}
	if stopped != nil {
		close(stopped) // after the event, so a waiting step's events follow it
	}
}

func (a *activity) startLocked() *Event {
	a.active, a.start = true, a.runStart
	a.pow, a.loud = a.runPow, a.run
	a.lastLoud = a.start.Add(time.Duration(a.run) * media.FrameDuration)
	a.run = 0
	ev := &Event{At: a.start, Name: EvAudioStart, LevelDBFS: ptr(round1(powToDB(a.pow / float64(a.loud))))}
	if !a.ref.IsZero() {
		t := Turn{After: a.refKind, ResponseMs: msOf(a.start.Sub(a.ref)), Line: a.refLine}
		a.turns = append(a.turns, t)
		ev.ResponseMs, ev.After = ptr(t.ResponseMs), t.After
		a.ref = time.Time{}
	}
	return ev
}

func (a *activity) stopLocked() *Event {
	a.active = false
	a.stops++
	return &Event{Name: EvAudioStop, At: time.Now(),
		LevelDBFS: ptr(round1(powToDB(a.pow / float64(a.loud)))),
		AudioMs:   ptr(msOf(a.lastLoud.Sub(a.start)))}
}

// end closes audio still under way when the call ends (the far end hung
// up mid-prompt): its audio_stop is emitted then.
func (a *activity) end() {
	a.mu.Lock()
	var ev *Event
	if a.active {
		ev = a.stopLocked()
		close(a.changed)
		a.changed = make(chan struct{})
	}
	a.mu.Unlock()
	if ev != nil {
		a.emit(*ev)
	}
}

// markTurn notes that our side just finished its turn at t (a play ended,
// or the last digit of a dtmf step started, when IVRs act on it): the next
// far-end audio start is the response.
func (a *activity) markTurn(t time.Time, kind string, line int) {
	a.mu.Lock()
	a.ref, a.refKind, a.refLine = t, kind, line
	a.mu.Unlock()
}

// waitStop returns once the far end has had audio that then stayed quiet
// for the quiet time, counting audio already under way; ErrSilenceTimeout
// after timeout.
func (a *activity) waitStop(ctx context.Context, timeout time.Duration) error {
	a.mu.Lock()
	ch := a.changed
	a.mu.Unlock()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-t.C:
		return ErrSilenceTimeout
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Turns returns the responses measured so far.
func (a *activity) Turns() []Turn {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Turn(nil), a.turns...)
}

func dbToPow(db float64) float64 { return math.Pow(10, db/10) }
func powToDB(p float64) float64  { return 10 * math.Log10(p) }
func round1(v float64) float64   { return math.Round(v*10) / 10 }
