package media

import (
	"sync"
	"time"
)

// DefaultDTMFMergeWindow is how far apart the starts of the same press, as
// seen by the RFC 4733 and in-band paths, may be. It covers the jitter
// buffer (which delays only the audio) and the detectors' timing error.
const DefaultDTMFMergeWindow = 150 * time.Millisecond

// dtmfMergeRetention is how long a press waits for its twin from the other
// path. The in-band detector reports at the end of a press and RFC 4733
// receivers may too, so a twin can arrive well after the window has passed
// in At terms.
const dtmfMergeRetention = 5 * time.Second

// DTMFMergeOption configures a DTMFMerger.
type DTMFMergeOption func(*DTMFMerger)

// WithDTMFMergeWindow sets the largest difference between the At of two
// presses of the same digit from different paths for them to count as one.
func WithDTMFMergeWindow(w time.Duration) DTMFMergeOption {
	return func(m *DTMFMerger) { m.window = w }
}

// WithDTMFMergeOutput sets a function called with every press the merger
// lets through. It is called outside the merger's lock, from the goroutine
// that called Add.
func WithDTMFMergeOutput(fn func(DTMF)) DTMFMergeOption {
	return func(m *DTMFMerger) { m.out = fn }
}

// DTMFMerger turns presses reported by both DTMF paths into one stream with
// each physical press once. A press from one path is dropped when a press
// of the same digit from another path, not already paired, started within
// the window; pairing is one-to-one (nearest start first), so a key pressed
// twice quickly still gives two digits. Presses from the same path are
// never merged. Safe for concurrent use.
type DTMFMerger struct {
	window time.Duration
	out    func(DTMF)

	mu     sync.Mutex
	recent []mergeEntry // presses let through, oldest first
	latest time.Time    // largest At seen
}

type mergeEntry struct {
	p      DTMF
	paired bool
}

// NewDTMFMerger returns a merger with the given options.
func NewDTMFMerger(opts ...DTMFMergeOption) *DTMFMerger {
	m := &DTMFMerger{window: DefaultDTMFMergeWindow}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Add offers a press from one path. It reports whether the press is new
// (and was passed to the output function) or the twin of one already let
// through.
func (m *DTMFMerger) Add(p DTMF) bool {
	m.mu.Lock()
	fresh := m.add(p)
	m.mu.Unlock()
	if fresh && m.out != nil {
		m.out(p)
	}
	return fresh
}

func (m *DTMFMerger) add(p DTMF) bool {
	if p.At.After(m.latest) {
		m.latest = p.At
	}
	m.prune()
	best := -1
	var bestGap time.Duration
	for i, e := range m.recent {
		if e.paired || e.p.Digit != p.Digit || e.p.Source == p.Source {
			continue
		}
		gap := absDuration(e.p.At.Sub(p.At))
		if gap <= m.window && (best < 0 || gap < bestGap) {
			best, bestGap = i, gap
		}
	}
	if best >= 0 {
		m.recent[best].paired = true
		return false
	}
	m.recent = append(m.recent, mergeEntry{p: p})
	return true
}

// prune drops presses too old to pair with anything still to come.
func (m *DTMFMerger) prune() {
	cut := m.latest.Add(-dtmfMergeRetention - m.window)
	n := 0
	for _, e := range m.recent {
		if !e.p.At.Before(cut) {
			m.recent[n] = e
			n++
		}
	}
	clear(m.recent[n:])
	m.recent = m.recent[:n]
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
