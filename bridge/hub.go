package bridge

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/supportline/ivr/prompts"
	"github.com/supportline/ivr/store"
)

// BridgeStore is what the bridge keeps in the store: callbacks and
// wrap-ups.
type BridgeStore interface {
	AddCallback(ctx context.Context, cb store.Callback) (*store.Callback, error)
	Callbacks(ctx context.Context, includeDone bool) ([]store.Callback, error)
	SetCallbackDone(ctx context.Context, id int64, done bool) error
	SaveWrapUp(ctx context.Context, callID string, w store.WrapUp) error
}

// Authenticator is the agents' sign-in (Auth): the pages and the WebSocket
// need a signed-in agent.
type Authenticator interface {
	Agent(r *http.Request) (*store.Agent, error)
	RequireAgent(h http.Handler) http.Handler
	Register(mux *http.ServeMux)
}

// Config configures a Bridge.
type Config struct {
	Store   BridgeStore
	Auth    Authenticator
	Prompts *prompts.Catalog
	// Leg is the template of each call's WebRTC leg (Codec is set per call).
	Leg LegConfig
	// TURNSecret, when set, is coturn's static-auth-secret: every TURN
	// server in Leg.ICEServers gets time-limited credentials
	// (TURNCredentials) per agent session and per call.
	TURNSecret string
	// OfferTimeout is how long an offer rings (DefaultOfferTimeout).
	OfferTimeout time.Duration
	// AnnounceEvery is the time between position announcements (30 s).
	AnnounceEvery time.Duration
	// ConnectTimeout bounds accept → media flowing (15 s).
	ConnectTimeout time.Duration
	// SessionCheck is how often a WebSocket's session is checked (30 s).
	SessionCheck time.Duration
	// Observer, when set, is told each call's wait in the queue and each
	// agent leg's counters.
	Observer Observer
	Log      *slog.Logger
}

// Bridge is the live-agent side of `ivr serve`: the queue, the agents'
// WebSockets and pages, and each handed-over call's bridge to a browser.
type Bridge struct {
	cfg   Config
	log   *slog.Logger
	queue *Queue

	mu     sync.Mutex
	conns  map[int64]*agentConn    // the newest tab of each agent
	active map[int64]*activeCall   // an agent's bridged call
	wrap   map[int64]string        // the call an agent is wrapping up
	calls  map[string]*trackedCall // every call in progress, for the supervisor
}

// New returns a Bridge; Store, Auth and Prompts are needed.
func New(cfg Config) (*Bridge, error) {
	if cfg.Store == nil || cfg.Auth == nil || cfg.Prompts == nil {
		return nil, errors.New("bridge: config needs Store, Auth and Prompts")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.AnnounceEvery <= 0 {
		cfg.AnnounceEvery = 30 * time.Second
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 15 * time.Second
	}
	if cfg.SessionCheck <= 0 {
		cfg.SessionCheck = 30 * time.Second
	}
	if _, err := cfg.Prompts.Clips(holdMusic); err != nil {
		return nil, err
	}
	b := &Bridge{cfg: cfg, log: cfg.Log, conns: map[int64]*agentConn{}, active: map[int64]*activeCall{},
		wrap: map[int64]string{}, calls: map[string]*trackedCall{}}
	b.queue = NewQueue(cfg.OfferTimeout, b, cfg.Log)
	b.queue.observer = cfg.Observer
	return b, nil
}

// Queue is the bridge's queue.
func (b *Bridge) Queue() *Queue { return b.queue }

// Call phases on the supervisor page.
const (
	PhaseBot     = "bot"
	PhaseWaiting = "waiting"
	PhaseAgent   = "agent"
)

type trackedCall struct {
	CallID string    `json:"call_id"`
	From   string    `json:"from"`
	Phase  string    `json:"phase"`
	Since  time.Time `json:"since"`
	Agent  string    `json:"agent,omitempty"`
}

// BotCall counts a call in the bot for the supervisor page; the returned
// func ends it. Handoff moves the call on to waiting and agent.
func (b *Bridge) BotCall(callID, from string) (done func()) {
	b.setPhase(callID, from, PhaseBot, "")
	return func() { b.forget(callID) }
}

// forget drops a call that ended from the supervisor's list.
func (b *Bridge) forget(callID string) {
	b.mu.Lock()
	delete(b.calls, callID)
	b.mu.Unlock()
	b.broadcastQueue()
}

func (b *Bridge) setPhase(callID, from, phase, agent string) {
	b.mu.Lock()
	c := b.calls[callID]
	if c == nil {
		c = &trackedCall{CallID: callID, From: from}
		b.calls[callID] = c
	}
	c.Phase, c.Since, c.Agent = phase, time.Now(), agent
	b.mu.Unlock()
	b.broadcastQueue()
}

// SupervisorView is the supervisor page's data.
type SupervisorView struct {
	Agents      []AgentView   `json:"agents"`
	Calls       []trackedCall `json:"calls"`
	InBot       int           `json:"in_bot"`
	Waiting     int           `json:"waiting"`
	WithAgent   int           `json:"with_agent"`
	QueueLength int           `json:"queue_length"`
	LongestWait float64       `json:"longest_wait_s"`
}

// Supervisor returns the state of agents and calls now.
func (b *Bridge) Supervisor() SupervisorView {
	q := b.queue.Snapshot()
	v := SupervisorView{Agents: q.Agents, Calls: []trackedCall{}, QueueLength: len(q.Waiting),
		LongestWait: q.LongestWait.Seconds()}
	b.mu.Lock()
	for _, c := range b.calls {
		v.Calls = append(v.Calls, *c)
		switch c.Phase {
		case PhaseBot:
			v.InBot++
		case PhaseWaiting:
			v.Waiting++
		case PhaseAgent:
			v.WithAgent++
		}
	}
	b.mu.Unlock()
	sort.Slice(v.Calls, func(i, j int) bool { return v.Calls[i].Since.Before(v.Calls[j].Since) })
	return v
}

// send gives m to agentID's tab, if one is connected.
func (b *Bridge) send(agentID int64, m Msg) {
	b.mu.Lock()
	c := b.conns[agentID]
	b.mu.Unlock()
	if c != nil {
		c.send(m)
	}
}

// broadcastQueue sends the queue's state to every agent's tab.
func (b *Bridge) broadcastQueue() {
	snap := b.queue.Snapshot()
	b.mu.Lock()
	conns := make([]*agentConn, 0, len(b.conns))
	for _, c := range b.conns {
		conns = append(conns, c)
	}
	b.mu.Unlock()
	for _, c := range conns {
		c.send(Msg{Type: MsgQueue, Queue: &snap})
	}
}

// broadcastCallbacks sends the open callback list to every agent's tab.
func (b *Bridge) broadcastCallbacks(ctx context.Context) {
	list, err := b.cfg.Store.Callbacks(ctx, false)
	if err != nil {
		b.log.Warn("bridge: reading callbacks", "error", err)
		return
	}
	b.mu.Lock()
	conns := make([]*agentConn, 0, len(b.conns))
	for _, c := range b.conns {
		conns = append(conns, c)
	}
	b.mu.Unlock()
	for _, c := range conns {
		c.send(Msg{Type: MsgCallbacks, Callbacks: list})
	}
}

// Offer implements QueueNotifier: the agent's tab rings with the card.
func (b *Bridge) Offer(agentID int64, w *Waiting, timeout time.Duration) {
	card := w.Card
	b.send(agentID, Msg{Type: MsgOffer, CallID: w.CallID, Card: &card, TimeoutMS: timeout.Milliseconds()})
	b.broadcastQueue()
}

// OfferCancelled implements QueueNotifier.
func (b *Bridge) OfferCancelled(agentID int64, callID, reason string) {
	b.send(agentID, Msg{Type: MsgOfferCancelled, CallID: callID, Reason: reason})
}

// AgentState implements QueueNotifier.
func (b *Bridge) AgentState(agentID int64, st AgentState, reason string) {
	b.send(agentID, Msg{Type: MsgState, State: st.String(), Reason: reason})
	b.broadcastQueue()
}

// iceServers returns the ICE servers for user, with fresh TURN credentials
// when a TURN secret is configured.
func (b *Bridge) iceServers(user string, ttl time.Duration) []webrtc.ICEServer {
	out := make([]webrtc.ICEServer, 0, len(b.cfg.Leg.ICEServers))
	for _, s := range b.cfg.Leg.ICEServers {
		if b.cfg.TURNSecret != "" && isTURN(s) {
			s.Username, s.Credential = TURNCredentials(b.cfg.TURNSecret, user, time.Now().Add(ttl))
		}
		out = append(out, s)
	}
	return out
}

func isTURN(s webrtc.ICEServer) bool {
	for _, u := range s.URLs {
		if strings.HasPrefix(u, "turn:") || strings.HasPrefix(u, "turns:") {
			return true
		}
	}
	return false
}
