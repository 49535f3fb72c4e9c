package bridge

import (
	"fmt"
	"sort"
	"time"
)

// AgentState is an agent's presence.
type AgentState int

// Agent states.
const (
	StateOffline   AgentState = iota // no browser connected
	StateAway                        // logged in, not taking calls
	StateAvailable                   // waiting for a call
	StateRinging                     // a call is offered
	StateOnCall                      // talking to a caller
	StateWrapUp                      // call over, writing notes
)

var agentStateNames = [...]string{"offline", "away", "available", "ringing", "on-call", "wrap-up"}

// String names the state as the pages show it.
func (s AgentState) String() string {
	if s < 0 || int(s) >= len(agentStateNames) {
		return "unknown"
	}
	return agentStateNames[s]
}

// MarshalText writes the state's name (for JSON).
func (s AgentState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a state's name.
func (s *AgentState) UnmarshalText(b []byte) error {
	for i, n := range agentStateNames {
		if n == string(b) {
			*s = AgentState(i)
			return nil
		}
	}
	return fmt.Errorf("bridge: unknown agent state %q", b)
}

// AgentView is one agent in a snapshot.
type AgentView struct {
	ID     int64      `json:"id"`
	Name   string     `json:"name"`
	State  AgentState `json:"state"`
	Since  time.Time  `json:"since"`
	CallID string     `json:"call_id,omitempty"`
	From   string     `json:"from,omitempty"`
}

// WaitingView is one queued call in a snapshot.
type WaitingView struct {
	CallID    string    `json:"call_id"`
	From      string    `json:"from"`
	Since     time.Time `json:"since"`
	OfferedTo string    `json:"offered_to,omitempty"`
}

// QueueSnapshot is the queue at one moment, for the supervisor page and
// the agents' queue line.
type QueueSnapshot struct {
	Agents      []AgentView   `json:"agents"`
	Waiting     []WaitingView `json:"waiting"`
	LongestWait time.Duration `json:"longest_wait_ns"`
}

// Snapshot returns the agents (by name) and the waiting calls (in queue
// order).
func (q *Queue) Snapshot() QueueSnapshot {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	s := QueueSnapshot{Agents: []AgentView{}, Waiting: []WaitingView{}}
	for _, a := range q.agents {
		v := AgentView{ID: a.id, Name: a.name, State: a.state, Since: a.since}
		if a.call != nil {
			v.CallID, v.From = a.call.CallID, a.call.From
		}
		s.Agents = append(s.Agents, v)
	}
	sort.Slice(s.Agents, func(i, j int) bool { return s.Agents[i].Name < s.Agents[j].Name })
	for _, w := range q.waiting {
		v := WaitingView{CallID: w.CallID, From: w.From, Since: w.arrived}
		if a := q.agents[w.offeredTo]; a != nil {
			v.OfferedTo = a.name
		}
		s.Waiting = append(s.Waiting, v)
		s.LongestWait = max(s.LongestWait, now.Sub(w.arrived))
	}
	return s
}

// Ringing returns the call ringing at agentID, or nil.
func (q *Queue) Ringing(agentID int64) *Waiting {
	q.mu.Lock()
	defer q.mu.Unlock()
	if a := q.agents[agentID]; a != nil && a.state == StateRinging {
		return a.call
	}
	return nil
}
