package bridge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/supportline/ivr/store"
)

// msgDropped tells a bridged call its agent's tab went away (internal: not
// a browser message).
const msgDropped = "dropped"

// errNoCall answers a call message for a call the agent does not have.
var errNoCall = errors.New("no such call on this tab")

// handle carries out one message from an agent's tab.
func (b *Bridge) handle(ctx context.Context, c *agentConn, m Msg) error {
	id := c.agent.ID
	switch m.Type {
	case MsgAvailable:
		b.endWrapUp(id)
		return b.queue.SetAvailable(id)
	case MsgAway:
		b.endWrapUp(id)
		return b.queue.SetAway(id)
	case MsgAccept:
		if err := b.queue.Accept(id, m.CallID); err != nil {
			b.log.Info("bridge: accept refused", "agent", c.agent.Name, "call_id", m.CallID, "state", b.queue.State(id), "error", err)
			return errors.New("that call is no longer ringing for you")
		}
		return nil
	case MsgDecline:
		if err := b.queue.Decline(id, m.CallID); err != nil {
			return errors.New("that call is no longer ringing for you")
		}
		return nil
	case MsgAnswer, MsgHold, MsgUnhold, MsgHangup:
		return b.toCall(id, m)
	case MsgWrapUp:
		return b.saveWrapUp(ctx, c, m)
	case MsgCallbackDone:
		if err := b.cfg.Store.SetCallbackDone(ctx, m.ID, true); err != nil {
			return fmt.Errorf("callback %d: %w", m.ID, err)
		}
		b.broadcastCallbacks(ctx)
		return nil
	}
	return fmt.Errorf("%w: %s", errBadMsg, m.Type)
}

// toCall passes a call message to the agent's bridged call.
func (b *Bridge) toCall(agentID int64, m Msg) error {
	b.mu.Lock()
	ac := b.active[agentID]
	b.mu.Unlock()
	if ac == nil || ac.callID != m.CallID {
		return fmt.Errorf("%s: %w", m.Type, errNoCall)
	}
	ac.deliver(m)
	return nil
}

func (b *Bridge) endWrapUp(agentID int64) {
	b.mu.Lock()
	delete(b.wrap, agentID)
	b.mu.Unlock()
}

// saveWrapUp stores the agent's notes and disposition with the call record.
func (b *Bridge) saveWrapUp(ctx context.Context, c *agentConn, m Msg) error {
	b.mu.Lock()
	callID := b.wrap[c.agent.ID]
	b.mu.Unlock()
	if callID == "" || callID != m.CallID {
		return fmt.Errorf("wrap-up: %w", errNoCall)
	}
	w := store.WrapUp{Agent: c.agent.Name, Disposition: m.Disposition, Notes: m.Notes, At: time.Now()}
	if err := b.cfg.Store.SaveWrapUp(ctx, callID, w); err != nil {
		return fmt.Errorf("wrap-up not saved: %w", err)
	}
	c.send(Msg{Type: MsgWrapUpSaved, CallID: callID})
	return nil
}
