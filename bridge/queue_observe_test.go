package bridge

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// waits records what a QueueObserver is told.
type waits struct {
	mu  sync.Mutex
	got []string
}

func (w *waits) Dequeued(wait time.Duration, answered bool) {
	w.mu.Lock()
	w.got = append(w.got, fmt.Sprintf("%v %v", wait, answered))
	w.mu.Unlock()
}

// TestQueueObserver: a call answered after 7 s, one that leaves after 3 s,
// and one whose agent drops and is answered again count one wait per
// time in the queue (fake clock).
func TestQueueObserver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q, _ := newTestQueue(t)
		obs := &waits{}
		q.observer = obs
		a, b := card("a"), card("b")
		q.Enqueue(a)
		q.Enqueue(b)
		time.Sleep(3 * time.Second)
		q.Leave(b)
		q.Leave(b) // a second Leave is not a second wait
		time.Sleep(4 * time.Second)
		login(t, q, 1) // offered at once
		if err := q.Accept(1, "a"); err != nil {
			t.Fatal(err)
		}
		q.Dropped(1)
		q.Requeue(a)
		time.Sleep(2 * time.Second)
		q.Leave(a)
		want := []string{"3s false", "8s true", "2s false"} // login's 1 s counts
		if !slices.Equal(obs.got, want) {
			t.Errorf("waits %v, want %v", obs.got, want)
		}
	})
}
