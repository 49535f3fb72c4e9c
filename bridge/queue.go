package bridge

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Queue errors.
var (
	// ErrNoOffer is returned for an accept or decline of a call that is not
	// (or no longer) offered to that agent.
	ErrNoOffer = errors.New("bridge: no such offer")
	// ErrAgentBusy is returned when an agent on a call asks for a change
	// of presence that needs the call to end first.
	ErrAgentBusy = errors.New("bridge: agent is on a call")
	// ErrUnknownAgent is returned for an agent the queue has never seen.
	ErrUnknownAgent = errors.New("bridge: agent not logged in")
)

// DefaultOfferTimeout is how long an agent's phone rings before the call
// goes to the next agent.
const DefaultOfferTimeout = 15 * time.Second

// queueMaxMisses is how many offers in a row an agent may let ring out
// before being set away.
const queueMaxMisses = 2

// QueueNotifier is told what the queue decided; the hub turns it into
// messages to the agents' browsers. Its methods are called without the
// queue's lock held and must not block for long.
type QueueNotifier interface {
	// Offer rings agentID's phone with call w.
	Offer(agentID int64, w *Waiting, timeout time.Duration)
	// OfferCancelled stops the ringing of callID at agentID.
	OfferCancelled(agentID int64, callID, reason string)
	// AgentState tells agentID of its new state (and why, when the queue
	// changed it by itself).
	AgentState(agentID int64, st AgentState, reason string)
}

// Assignment is the agent who accepted a waiting call.
type Assignment struct {
	AgentID   int64
	AgentName string
}

// Waiting is one call in the queue. It is made by NewWaiting and owned by
// the caller's side (Handoff), which learns of the accepting agent on
// Assigned.
type Waiting struct {
	CallID string
	From   string
	Card   HandoffCard

	assigned chan Assignment
	// The fields below are guarded by the Queue's mutex.
	arrived   time.Time
	queuedAt  time.Time // this time in the queue began (Observer)
	queued    bool
	taken     bool // an agent accepted it: only Requeue puts it back
	offeredTo int64
	timer     *time.Timer
	skip      map[int64]time.Time // agents who declined or missed it, and when
}

// NewWaiting returns a call ready to be queued.
func NewWaiting(card HandoffCard) *Waiting {
	return &Waiting{CallID: card.CallID, From: card.From, Card: card,
		assigned: make(chan Assignment, 1), skip: map[int64]time.Time{}}
}

// Assigned delivers the agent who accepted the call, once per queueing.
func (w *Waiting) Assigned() <-chan Assignment { return w.assigned }

type queueAgent struct {
	id        int64
	name      string
	state     AgentState
	since     time.Time // in this state since
	idleSince time.Time // last became free: the longest idle gets the next call
	misses    int
	call      *Waiting // offered (ringing) or taken (on call)
}

// Queue holds the agents' presence and the calls waiting for them, and
// decides who is offered which call: calls in arrival order (a call whose
// agent dropped goes back to the head), each to the longest-idle available
// agent; an offer not taken within OfferTimeout goes to the next agent,
// and an agent who lets queueMaxMisses offers in a row ring out is set
// away. All methods are safe for concurrent use.
type Queue struct {
	timeout  time.Duration
	notify   QueueNotifier
	log      *slog.Logger
	observer Observer // nil: none (set before use)

	mu      sync.Mutex
	agents  map[int64]*queueAgent
	waiting []*Waiting
	handled time.Duration // total talk+wrap-up time of finished calls
	calls   int           // finished calls, for the estimated wait
}

// NewQueue returns an empty queue. timeout ≤ 0 means DefaultOfferTimeout.
func NewQueue(timeout time.Duration, notify QueueNotifier, log *slog.Logger) *Queue {
	if timeout <= 0 {
		timeout = DefaultOfferTimeout
	}
	if log == nil {
		log = slog.Default()
	}
	return &Queue{timeout: timeout, notify: notify, log: log, agents: map[int64]*queueAgent{}}
}

// OfferTimeout is how long an offer rings.
func (q *Queue) OfferTimeout() time.Duration { return q.timeout }

// events are notifications gathered under the lock and sent after it.
type events []func()

func (e events) send() {
	for _, f := range e {
		f()
	}
}

func (q *Queue) stateEvent(ev *events, a *queueAgent, reason string) {
	id, st := a.id, a.state
	*ev = append(*ev, func() { q.notify.AgentState(id, st, reason) })
}

func (q *Queue) setState(ev *events, a *queueAgent, st AgentState, reason string) {
	now := time.Now()
	if st == StateAvailable && a.state != StateAvailable {
		a.idleSince = now
	}
	a.state, a.since = st, now
	q.stateEvent(ev, a, reason)
}

// Login registers an agent's browser; the agent starts away (logged in,
// not taking calls). An agent already known keeps its state.
func (q *Queue) Login(id int64, name string) AgentState {
	q.mu.Lock()
	defer q.mu.Unlock()
	a := q.agents[id]
	if a == nil {
		a = &queueAgent{id: id, name: name, state: StateOffline}
		q.agents[id] = a
	}
	if a.state == StateOffline {
		a.state, a.since = StateAway, time.Now()
	}
	return a.state
}

// Logout takes an agent offline (the browser went away). A ringing offer
// goes to the next agent; an agent on a call stays on it until the call's
// side reports the drop (Requeue) or its end (EndCall).
func (q *Queue) Logout(id int64) {
	var ev events
	q.mu.Lock()
	if a := q.agents[id]; a != nil {
		if a.state == StateRinging {
			q.withdrawLocked(&ev, a, "agent went offline")
		}
		if a.state != StateOnCall {
			a.state, a.since, a.call = StateOffline, time.Now(), nil
		}
		q.dispatchLocked(&ev)
	}
	q.mu.Unlock()
	ev.send()
}

// SetAvailable makes an agent available for calls (ending wrap-up).
func (q *Queue) SetAvailable(id int64) error { return q.setPresence(id, StateAvailable) }

// SetAway stops offers to an agent; a ringing offer counts as declined.
func (q *Queue) SetAway(id int64) error { return q.setPresence(id, StateAway) }

func (q *Queue) setPresence(id int64, st AgentState) error {
	var ev events
	q.mu.Lock()
	a := q.agents[id]
	var err error
	switch {
	case a == nil || a.state == StateOffline:
		err = ErrUnknownAgent
	case a.state == StateOnCall:
		err = ErrAgentBusy
	default:
		if a.state == StateRinging {
			q.withdrawLocked(&ev, a, "agent went "+st.String())
		}
		a.misses = 0
		a.call = nil
		q.setState(&ev, a, st, "")
		q.dispatchLocked(&ev)
	}
	q.mu.Unlock()
	ev.send()
	return err
}

// Enqueue puts w at the tail of the queue and offers it if an agent is
// free; it returns w's position (1 = next). A call an agent has accepted
// stays out (Enqueue after Ring is safe); Requeue puts it back.
func (q *Queue) Enqueue(w *Waiting) int { return q.add(w, false) }

// Requeue puts w back at the head of the queue (its agent dropped).
func (q *Queue) Requeue(w *Waiting) int { return q.add(w, true) }

func (q *Queue) add(w *Waiting, head bool) int {
	var ev events
	q.mu.Lock()
	if head {
		w.taken = false
	}
	if !w.queued && !w.taken {
		if w.arrived.IsZero() {
			w.arrived = time.Now()
		}
		w.queued, w.offeredTo, w.queuedAt = true, 0, time.Now()
		if head {
			q.waiting = append([]*Waiting{w}, q.waiting...)
		} else {
			q.waiting = append(q.waiting, w)
		}
	}
	q.dispatchLocked(&ev)
	pos := q.positionLocked(w)
	q.mu.Unlock()
	ev.send()
	return pos
}

// Leave takes w out of the queue (the caller hung up or asked for a
// callback); a ringing agent stops ringing and is free again.
func (q *Queue) Leave(w *Waiting) {
	var ev events
	q.mu.Lock()
	if w.queued {
		if a := q.agents[w.offeredTo]; a != nil && a.state == StateRinging && a.call == w {
			q.stopTimer(w)
			ev = append(ev, func() { q.notify.OfferCancelled(a.id, w.CallID, "caller left") })
			a.call = nil
			q.setState(&ev, a, StateAvailable, "")
		}
		q.dequeuedEvent(&ev, w, false)
		q.removeLocked(w)
		q.dispatchLocked(&ev)
	}
	q.mu.Unlock()
	ev.send()
}

// Accept gives callID to agentID, who must be ringing with it.
func (q *Queue) Accept(agentID int64, callID string) error {
	var ev events
	q.mu.Lock()
	a := q.agents[agentID]
	if a == nil || a.state != StateRinging || a.call == nil || a.call.CallID != callID {
		q.mu.Unlock()
		return fmt.Errorf("accept %s: %w", callID, ErrNoOffer)
	}
	w := a.call
	q.stopTimer(w)
	q.dequeuedEvent(&ev, w, true)
	q.removeLocked(w)
	w.taken = true
	a.misses = 0
	q.setState(&ev, a, StateOnCall, "")
	w.assigned <- Assignment{AgentID: a.id, AgentName: a.name}
	q.mu.Unlock()
	ev.send()
	return nil
}

// Decline passes callID on to the next agent; agentID is free again (at
// the back of the idle order) and is not offered this call again for an
// offer timeout.
func (q *Queue) Decline(agentID int64, callID string) error {
	var ev events
	q.mu.Lock()
	a := q.agents[agentID]
	if a == nil || a.state != StateRinging || a.call == nil || a.call.CallID != callID {
		q.mu.Unlock()
		return fmt.Errorf("decline %s: %w", callID, ErrNoOffer)
	}
	q.passOnLocked(&ev, a, StateAvailable, "")
	a.misses = 0
	q.dispatchLocked(&ev)
	q.mu.Unlock()
	ev.send()
	return nil
}

// offerTimedOut is the offer timer: the call goes to the next agent, and
// the agent is set away after queueMaxMisses misses in a row.
func (q *Queue) offerTimedOut(a *queueAgent, w *Waiting) {
	var ev events
	q.mu.Lock()
	if a.state == StateRinging && a.call == w && w.offeredTo == a.id {
		a.misses++
		st, reason := StateAvailable, ""
		if a.misses >= queueMaxMisses {
			st, reason = StateAway, fmt.Sprintf("set away after %d missed calls in a row", a.misses)
		}
		q.log.Info("bridge: offer not answered", "agent", a.name, "call_id", w.CallID, "misses", a.misses)
		ev = append(ev, func() { q.notify.OfferCancelled(a.id, w.CallID, "not answered in time") })
		q.passOnLocked(&ev, a, st, reason)
		q.dispatchLocked(&ev)
	}
	q.mu.Unlock()
	ev.send()
}

// passOnLocked frees a ringing agent and makes w wait for the next one.
func (q *Queue) passOnLocked(ev *events, a *queueAgent, st AgentState, reason string) {
	w := a.call
	q.stopTimer(w)
	w.offeredTo = 0
	w.skip[a.id] = time.Now()
	a.call = nil
	q.setState(ev, a, st, reason)
	// When the skip ends the call may go to this agent again.
	time.AfterFunc(q.timeout, q.redispatch)
}

// withdrawLocked takes a ringing offer back from a (going away/offline).
func (q *Queue) withdrawLocked(ev *events, a *queueAgent, reason string) {
	w := a.call
	q.stopTimer(w)
	w.offeredTo = 0
	a.call = nil
	id := a.id
	*ev = append(*ev, func() { q.notify.OfferCancelled(id, w.CallID, reason) })
}

func (q *Queue) redispatch() {
	var ev events
	q.mu.Lock()
	q.dispatchLocked(&ev)
	q.mu.Unlock()
	ev.send()
}

// dispatchLocked offers each waiting call, in queue order, to the
// longest-idle available agent that has not just passed on it.
func (q *Queue) dispatchLocked(ev *events) {
	now := time.Now()
	for _, w := range q.waiting {
		if w.offeredTo != 0 {
			continue
		}
		a := q.pickLocked(w, now)
		if a == nil {
			continue
		}
		w.offeredTo, a.call = a.id, w
		q.setState(ev, a, StateRinging, "")
		w.timer = time.AfterFunc(q.timeout, func() { q.offerTimedOut(a, w) })
		id, timeout := a.id, q.timeout
		*ev = append(*ev, func() { q.notify.Offer(id, w, timeout) })
	}
}

func (q *Queue) pickLocked(w *Waiting, now time.Time) *queueAgent {
	var best *queueAgent
	for _, a := range q.agents {
		if a.state != StateAvailable {
			continue
		}
		if t, ok := w.skip[a.id]; ok && now.Sub(t) < q.timeout {
			continue
		}
		if best == nil || a.idleSince.Before(best.idleSince) || (a.idleSince.Equal(best.idleSince) && a.id < best.id) {
			best = a
		}
	}
	return best
}

func (q *Queue) stopTimer(w *Waiting) {
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
}

func (q *Queue) removeLocked(w *Waiting) {
	for i, x := range q.waiting {
		if x == w {
			q.waiting = append(q.waiting[:i:i], q.waiting[i+1:]...)
			break
		}
	}
	w.queued, w.offeredTo = false, 0
}

// EndCall moves an agent from the call to wrap-up; talk is the call's
// length, for the estimated wait.
func (q *Queue) EndCall(agentID int64, talk time.Duration) {
	var ev events
	q.mu.Lock()
	if a := q.agents[agentID]; a != nil && a.state == StateOnCall {
		a.call = nil
		q.handled += talk
		q.calls++
		q.setState(&ev, a, StateWrapUp, "")
	}
	q.mu.Unlock()
	ev.send()
}

// Dropped is EndCall for an agent whose browser went away mid-call: the
// agent is offline (their call is requeued by the caller's side).
func (q *Queue) Dropped(agentID int64) {
	var ev events
	q.mu.Lock()
	if a := q.agents[agentID]; a != nil && a.state == StateOnCall {
		a.call = nil
		q.setState(&ev, a, StateOffline, "connection lost")
	}
	q.mu.Unlock()
	ev.send()
}

// Position is w's place in the queue (1 = next), 0 when not queued.
func (q *Queue) Position(w *Waiting) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.positionLocked(w)
}

func (q *Queue) positionLocked(w *Waiting) int {
	for i, x := range q.waiting {
		if x == w {
			return i + 1
		}
	}
	return 0
}

// queueDefaultHandle is the assumed length of a call before any finished.
const queueDefaultHandle = 3 * time.Minute

// EstimatedWait guesses how long the call at position pos waits: the
// average handled call length times the calls ahead, shared by the agents
// logged in.
func (q *Queue) EstimatedWait(pos int) time.Duration {
	q.mu.Lock()
	defer q.mu.Unlock()
	avg := queueDefaultHandle
	if q.calls > 0 {
		avg = q.handled / time.Duration(q.calls)
	}
	n := 0
	for _, a := range q.agents {
		if a.state != StateOffline && a.state != StateAway {
			n++
		}
	}
	return avg * time.Duration(pos) / time.Duration(max(n, 1))
}

// AgentsLoggedIn reports whether any agent is logged in and not away.
func (q *Queue) AgentsLoggedIn() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, a := range q.agents {
		if a.state != StateOffline && a.state != StateAway {
			return true
		}
	}
	return false
}

// State returns an agent's state (StateOffline for an unknown agent).
func (q *Queue) State(id int64) AgentState {
	q.mu.Lock()
	defer q.mu.Unlock()
	if a := q.agents[id]; a != nil {
		return a.state
	}
	return StateOffline
}
