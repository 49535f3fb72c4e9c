package bridge

import "time"

// QueueObserver is told how long each call waited in the queue, for
// metrics (package metrics implements it). It is called without the
// queue's lock held and must not block.
type QueueObserver interface {
	// Dequeued reports a call leaving the queue after waiting wait:
	// answered by an agent, or not (the caller hung up or took a callback).
	// A call put back at the head after its agent dropped waits again and
	// is reported again.
	Dequeued(wait time.Duration, answered bool)
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
