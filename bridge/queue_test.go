package bridge

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// recorder is a QueueNotifier that writes what it is told as lines.
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.lines = append(r.lines, s)
	r.mu.Unlock()
}

func (r *recorder) Offer(id int64, w *Waiting, _ time.Duration) {
	r.add(fmt.Sprintf("offer %d %s", id, w.CallID))
}

func (r *recorder) OfferCancelled(id int64, callID, reason string) {
	r.add(fmt.Sprintf("cancel %d %s (%s)", id, callID, reason))
}

func (r *recorder) AgentState(id int64, st AgentState, reason string) {
	if reason != "" {
		r.add(fmt.Sprintf("state %d %s (%s)", id, st, reason))
	}
}

// offers returns the offer lines so far and forgets every line.
func (r *recorder) offers() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, l := range r.lines {
		if strings.HasPrefix(l, "offer") || strings.HasPrefix(l, "state") {
			out = append(out, l)
		}
	}
	r.lines = nil
	return out
}

func newTestQueue(t *testing.T) (*Queue, *recorder) {
	t.Helper()
	r := &recorder{}
	return NewQueue(15*time.Second, r, slog.New(slog.DiscardHandler)), r
}

func card(id string) *Waiting { return NewWaiting(HandoffCard{CallID: id, From: "+1555" + id}) }

// login brings agents 1..n in, available one second apart (1 idles longest).
func login(t *testing.T, q *Queue, n int) {
	t.Helper()
	for i := int64(1); i <= int64(n); i++ {
		q.Login(i, fmt.Sprintf("agent%d", i))
		if err := q.SetAvailable(i); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second) // fake clock (synctest): orders idle times
	}
}

func TestQueueRules(t *testing.T) {
	type step func(t *testing.T, q *Queue, calls map[string]*Waiting)
	enqueue := func(id string) step {
		return func(t *testing.T, q *Queue, calls map[string]*Waiting) { calls[id] = card(id); q.Enqueue(calls[id]) }
	}
	wait := func(d time.Duration) step {
		return func(t *testing.T, q *Queue, calls map[string]*Waiting) { time.Sleep(d); synctest.Wait() }
	}
	accept := func(agent int64, id string, ok bool) step {
		return func(t *testing.T, q *Queue, calls map[string]*Waiting) {
			if err := q.Accept(agent, id); (err == nil) != ok {
				t.Fatalf("accept %d %s: %v", agent, id, err)
			}
		}
	}
	decline := func(agent int64, id string) step {
		return func(t *testing.T, q *Queue, calls map[string]*Waiting) {
			if err := q.Decline(agent, id); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name   string
		agents int
		steps  []step
		want   []string
	}{
		{"longest idle gets the offer", 3, []step{enqueue("a")}, []string{"offer 1 a"}},
		{"arrival order", 2, []step{enqueue("a"), enqueue("b")}, []string{"offer 1 a", "offer 2 b"}},
		{"no agent: waits, then offered on available", 0, []step{enqueue("a"),
			func(t *testing.T, q *Queue, _ map[string]*Waiting) { q.Login(7, "late"); _ = q.SetAvailable(7) }},
			[]string{"offer 7 a"}},
		{"timeout goes to the next agent", 2, []step{enqueue("a"), wait(15 * time.Second)},
			[]string{"offer 1 a", "offer 2 a"}},
		{"not before the timeout", 2, []step{enqueue("a"), wait(14 * time.Second)}, []string{"offer 1 a"}},
		{"decline goes to the next agent", 2, []step{enqueue("a"), decline(1, "a")},
			[]string{"offer 1 a", "offer 2 a"}},
		{"two misses in a row set away", 1, []step{enqueue("a"), wait(15 * time.Second), wait(15 * time.Second), wait(15 * time.Second)},
			[]string{"offer 1 a", "offer 1 a", "state 1 away (set away after 2 missed calls in a row)"}},
		{"an accept in between resets the misses", 1, []step{enqueue("a"), wait(15 * time.Second), wait(15 * time.Second),
			wait(15 * time.Second), wait(15 * time.Second),
			func(t *testing.T, q *Queue, _ map[string]*Waiting) { _ = q.SetAvailable(1) }, accept(1, "a", true),
			func(t *testing.T, q *Queue, _ map[string]*Waiting) { q.EndCall(1, time.Minute); _ = q.SetAvailable(1) },
			enqueue("b"), wait(15 * time.Second), wait(15 * time.Second), wait(15 * time.Second)},
			[]string{"offer 1 a", "offer 1 a", "state 1 away (set away after 2 missed calls in a row)",
				"offer 1 a", "offer 1 b", "offer 1 b", "state 1 away (set away after 2 missed calls in a row)"}},
		{"accept of a call not offered fails", 2, []step{enqueue("a"), accept(2, "a", false), accept(1, "a", true)},
			[]string{"offer 1 a"}},
		{"accept after the timeout fails", 2, []step{enqueue("a"), wait(15 * time.Second), accept(1, "a", false), accept(2, "a", true)},
			[]string{"offer 1 a", "offer 2 a"}},
		{"dropped call goes back to the head", 1, []step{enqueue("a"), accept(1, "a", true), enqueue("b"),
			func(t *testing.T, q *Queue, calls map[string]*Waiting) {
				q.Dropped(1)
				q.Requeue(calls["a"])
				q.Login(2, "agent2")
				_ = q.SetAvailable(2)
			}},
			[]string{"offer 1 a", "state 1 offline (connection lost)", "offer 2 a"}},
		{"a caller leaving frees the ringing agent", 1, []step{enqueue("a"), enqueue("b"),
			func(t *testing.T, q *Queue, calls map[string]*Waiting) { q.Leave(calls["a"]) }},
			[]string{"offer 1 a", "offer 1 b"}},
		{"logout while ringing passes the call on", 2, []step{enqueue("a"),
			func(t *testing.T, q *Queue, _ map[string]*Waiting) { q.Logout(1) }},
			[]string{"offer 1 a", "offer 2 a"}},
		{"a decliner is offered again after the timeout", 1, []step{enqueue("a"), decline(1, "a"), wait(15 * time.Second)},
			[]string{"offer 1 a", "offer 1 a"}},
		{"after wrap-up the agent is the least idle", 2, []step{enqueue("a"), accept(1, "a", true),
			func(t *testing.T, q *Queue, _ map[string]*Waiting) { q.EndCall(1, time.Minute); _ = q.SetAvailable(1) },
			wait(time.Second), enqueue("b")},
			[]string{"offer 1 a", "offer 2 b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				q, r := newTestQueue(t)
				login(t, q, tt.agents)
				r.offers()
				calls := map[string]*Waiting{}
				for _, s := range tt.steps {
					s(t, q, calls)
					synctest.Wait()
				}
				if got := r.offers(); !slices.Equal(got, tt.want) {
					t.Errorf("events:\n got %q\nwant %q", got, tt.want)
				}
				for _, w := range calls {
					q.Leave(w)
				}
				time.Sleep(time.Minute) // let pending timers fire inside the bubble
			})
		})
	}
}

func TestQueueAssignedAndPositions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q, _ := newTestQueue(t)
		a, b, c := card("a"), card("b"), card("c")
		for i, w := range []*Waiting{a, b, c} {
			if pos := q.Enqueue(w); pos != i+1 {
				t.Fatalf("position of %s = %d, want %d", w.CallID, pos, i+1)
			}
		}
		if q.AgentsLoggedIn() {
			t.Fatal("no agent is logged in")
		}
		if got := q.EstimatedWait(2); got != 2*queueDefaultHandle {
			t.Fatalf("estimated wait %v", got)
		}
		q.Login(1, "ann")
		if err := q.SetAvailable(1); err != nil {
			t.Fatal(err)
		}
		if err := q.Accept(1, "a"); err != nil {
			t.Fatal(err)
		}
		select {
		case as := <-a.Assigned():
			if as.AgentID != 1 || as.AgentName != "ann" {
				t.Fatalf("assignment %+v", as)
			}
		default:
			t.Fatal("no assignment")
		}
		if q.Position(b) != 1 || q.Position(c) != 2 || q.Position(a) != 0 {
			t.Fatalf("positions b=%d c=%d a=%d", q.Position(b), q.Position(c), q.Position(a))
		}
		if err := q.SetAway(1); err == nil {
			t.Fatal("away while on a call must fail")
		}
		snap := q.Snapshot()
		if len(snap.Waiting) != 2 || snap.Agents[0].State != StateOnCall || snap.Agents[0].CallID != "a" {
			t.Fatalf("snapshot %+v", snap)
		}
		q.EndCall(1, 2*time.Minute)
		if q.State(1) != StateWrapUp {
			t.Fatalf("state %v", q.State(1))
		}
		q.Leave(b)
		q.Leave(c)
	})
}
