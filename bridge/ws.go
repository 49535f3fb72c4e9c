package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"

	"github.com/supportline/ivr/store"
)

// WebSocket close codes of the agent page (4000–4999 are the
// application's, RFC 6455 §7.4.2).
const (
	closeReplaced = websocket.StatusCode(4000) // a newer tab took over
	closeExpired  = websocket.StatusCode(4001) // the session expired
	closeSlow     = websocket.StatusCode(4002) // the tab did not read its messages
)

// connQueue is how many messages may wait for a slow tab.
const connQueue = 64

// kick is why a connection is closed by the hub.
type kick struct {
	code   websocket.StatusCode
	reason string
}

// agentConn is one agent's tab.
type agentConn struct {
	agent *store.Agent
	out   chan Msg
	kick  chan kick
	once  sync.Once
}

// send queues m for the tab; a tab that does not keep up is closed.
func (c *agentConn) send(m Msg) {
	select {
	case c.out <- m:
	default:
		c.close(closeSlow, "too many messages waiting: reload the page")
	}
}

// close asks the connection's writer to close it, once.
func (c *agentConn) close(code websocket.StatusCode, reason string) {
	c.once.Do(func() { c.kick <- kick{code, reason} })
}

// serveWS is GET /ws: the agent page's WebSocket, for a signed-in agent
// from the page's own origin.
func (b *Bridge) serveWS(w http.ResponseWriter, r *http.Request) {
	agent, err := b.cfg.Auth.Agent(r)
	if err != nil {
		http.Error(w, "sign in first", http.StatusUnauthorized)
		return
	}
	if !CheckOrigin(r) {
		http.Error(w, "cross-origin WebSocket refused", http.StatusForbidden)
		return
	}
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		b.log.Info("bridge: websocket accept failed", "agent", agent.Name, "error", err)
		return
	}
	ws.SetReadLimit(msgLimit)
	c := &agentConn{agent: agent, out: make(chan Msg, connQueue), kick: make(chan kick, 1)}
	log := b.log.With("agent", agent.Name)
	log.Info("bridge: agent connected")
	err = b.runConn(r, ws, c)
	log.Info("bridge: agent disconnected", "cause", err)
}

func (b *Bridge) runConn(r *http.Request, ws *websocket.Conn, c *agentConn) error {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	b.attach(c)
	defer b.detach(c)
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return b.writeLoop(ctx, ws, c) })
	g.Go(func() error { return b.readLoop(ctx, ws, c) })
	g.Go(func() error { return b.checkSession(ctx, r.Clone(ctx), c) })
	err := g.Wait()
	ws.CloseNow()
	return err
}

// attach makes c its agent's tab; an older tab is told why and closed.
func (b *Bridge) attach(c *agentConn) {
	id := c.agent.ID
	b.mu.Lock()
	old := b.conns[id]
	b.conns[id] = c
	b.mu.Unlock()
	if old != nil {
		old.close(closeReplaced, "opened in another tab or window; this one is closed")
	}
	st := b.queue.Login(id, c.agent.Name)
	c.send(Msg{Type: MsgHello, Agent: c.agent.Name, State: st.String(), ICEServers: b.iceServers(c.agent.Name, 12*time.Hour)})
	if w := b.queue.Ringing(id); w != nil { // the older tab was ringing: ring here
		card := w.Card
		c.send(Msg{Type: MsgOffer, CallID: w.CallID, Card: &card, TimeoutMS: b.queue.OfferTimeout().Milliseconds()})
	}
	snap := b.queue.Snapshot()
	c.send(Msg{Type: MsgQueue, Queue: &snap})
	if list, err := b.cfg.Store.Callbacks(context.Background(), false); err == nil {
		c.send(Msg{Type: MsgCallbacks, Callbacks: list})
	}
	b.broadcastQueue()
}

// detach forgets c; if it was still the agent's tab the agent goes offline
// and a bridged call hears of the drop.
func (b *Bridge) detach(c *agentConn) {
	id := c.agent.ID
	b.mu.Lock()
	current := b.conns[id] == c
	var ac *activeCall
	if current {
		delete(b.conns, id)
		ac = b.active[id]
	}
	b.mu.Unlock()
	if !current {
		return
	}
	if ac != nil {
		ac.deliver(Msg{Type: msgDropped, CallID: ac.callID})
	}
	b.queue.Logout(id)
	b.broadcastQueue()
}

func (b *Bridge) writeLoop(ctx context.Context, ws *websocket.Conn, c *agentConn) error {
	for {
		select {
		case m := <-c.out:
			if err := writeMsg(ctx, ws, m); err != nil {
				return err
			}
		case k := <-c.kick:
			_ = writeMsg(ctx, ws, Msg{Type: MsgError, Message: k.reason, Reason: "closed"})
			_ = ws.Close(k.code, k.reason)
			return errors.New(k.reason)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func writeMsg(ctx context.Context, ws *websocket.Conn, m Msg) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return ws.Write(wctx, websocket.MessageText, data)
}

func (b *Bridge) readLoop(ctx context.Context, ws *websocket.Conn, c *agentConn) error {
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			return err
		}
		m, err := parseMsg(data)
		if err != nil {
			c.send(Msg{Type: MsgError, Message: err.Error()})
			continue
		}
		if err := b.handle(ctx, c, m); err != nil {
			c.send(Msg{Type: MsgError, CallID: m.CallID, Message: err.Error()})
		}
	}
}

// checkSession closes the socket when the agent's session ends (expired,
// signed out, agent disabled).
func (b *Bridge) checkSession(ctx context.Context, r *http.Request, c *agentConn) error {
	t := time.NewTicker(b.cfg.SessionCheck)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if _, err := b.cfg.Auth.Agent(r); err != nil {
				c.close(closeExpired, "your session ended ("+err.Error()+"): sign in again")
				return nil
			}
		case <-ctx.Done():
			return nil
		}
	}
}
