package bridge

import "time"

// Observer is told how calls wait and how their agent legs went, for
// metrics (package metrics implements it). It is called without the
// bridge's or the queue's locks held and must not block.
type Observer interface {
	// Dequeued reports a call leaving the queue after waiting wait:
	// answered by an agent, or not (the caller hung up or took a callback).
	// A call put back at the head after its agent dropped waits again and
	// is reported again.
	Dequeued(wait time.Duration, answered bool)
	// LegEnded reports the counters of an agent leg that has ended, after
	// it has left EachLeg.
	LegEnded(st LegStats)
}

// dequeuedEvent reports w leaving the queue (under the lock; sent after).
func (q *Queue) dequeuedEvent(ev *events, w *Waiting, answered bool) {
	if q.observer == nil || w.queuedAt.IsZero() {
		return
	}
	wait := time.Since(w.queuedAt)
	w.queuedAt = time.Time{}
	o := q.observer
	*ev = append(*ev, func() { o.Dequeued(wait, answered) })
}

// EachLeg calls f with the counters of every agent leg in progress.
func (b *Bridge) EachLeg(f func(st LegStats)) {
	b.mu.Lock()
	legs := make([]*Leg, 0, len(b.active))
	for _, ac := range b.active {
		if ac.leg != nil {
			legs = append(legs, ac.leg)
		}
	}
	b.mu.Unlock()
	for _, l := range legs {
		f(l.Stats())
	}
}

// trackLeg makes ac's leg visible to EachLeg; the returned func takes it
// out and reports its counters.
func (b *Bridge) trackLeg(ac *activeCall, leg *Leg) (ended func()) {
	b.mu.Lock()
	ac.leg = leg
	b.mu.Unlock()
	return func() {
		b.mu.Lock()
		ac.leg = nil
		b.mu.Unlock()
		if b.cfg.Observer != nil {
			b.cfg.Observer.LegEnded(leg.Stats())
		}
	}
}
