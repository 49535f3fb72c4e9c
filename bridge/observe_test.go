package bridge

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// waits records what a bridge Observer is told of queue waits.
type waits struct {
	mu  sync.Mutex
	got []string
}

func (w *waits) Dequeued(wait time.Duration, answered bool) {
	w.mu.Lock()
	w.got = append(w.got, fmt.Sprintf("%v %v", wait, answered))
	w.mu.Unlock()
}

func (w *waits) LegEnded(LegStats) {}

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

// legWatch records what a bridge Observer is told of agent legs.
type legWatch struct {
	waits
	legs chan LegStats
}

func (l *legWatch) LegEnded(st LegStats) { l.legs <- st }

// TestObserverSeesAgentLeg bridges a call to a real pion peer: the leg is
// listed by EachLeg while up, its counters (both directions) reach
// LegEnded at the end, and the call's wait is reported answered.
func TestObserverSeesAgentLeg(t *testing.T) {
	checkLeaks(t)
	ctx := testContext(t, 30*time.Second)
	h := newHarness(t, 5*time.Second)
	obs := &legWatch{legs: make(chan LegStats, 1)}
	h.br.cfg.Observer, h.br.queue.observer = obs, obs
	ann := h.open(h.addAgent("ann"))
	ann.available()
	call := newFakeCall(toneFrames(callerTone, 0.5, 50))
	callCtx, hangUp := context.WithCancel(ctx)
	defer hangUp()
	errc := h.handoff(callCtx, "c1", call)
	ann.expect(MsgOffer)
	ann.send(Msg{Type: MsgAccept, CallID: "c1"})
	peer := ann.browser(ctx, t, "c1")
	n := len(call.heardSince(0))
	waitTone(t, "agent hears the caller", received(peer), callerTone, agentTone)
	waitTone(t, "caller hears the agent", func() [][]int16 { return call.heardSince(n) }, agentTone, callerTone)
	legs := 0
	h.br.EachLeg(func(st LegStats) {
		legs++
		if st.Sent == 0 || st.Received == 0 {
			t.Errorf("leg in progress: %+v, want frames both ways", st)
		}
	})
	if legs != 1 {
		t.Errorf("EachLeg saw %d legs, want 1", legs)
	}
	hangUp()
	<-errc
	st := <-obs.legs
	if st.Sent < 10 || st.Received < 10 {
		t.Errorf("ended leg %+v, want frames both ways", st)
	}
	h.br.EachLeg(func(LegStats) { t.Error("a leg is listed after the call") })
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.got) != 1 || !strings.HasSuffix(obs.got[0], " true") {
		t.Errorf("waits %v, want one answered", obs.got)
	}
}
