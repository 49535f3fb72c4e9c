package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/supportline/ivr/media"
)

// activeCall is a call bridged (or being bridged) to an agent: the hub
// passes it the agent's call messages.
type activeCall struct {
	callID  string
	agentID int64
	inbox   chan Msg
	leg     *Leg // once made, for EachLeg (guarded by Bridge.mu)
}

// deliver passes m on; a call that is not reading is ending anyway.
func (a *activeCall) deliver(m Msg) {
	select {
	case a.inbox <- m:
	default:
	}
}

// errLegFailed is a bridge whose media never flowed.
var errLegFailed = errors.New("audio to the agent's browser could not be set up")

// talk bridges the call to the agent who accepted it, until either side
// hangs up or the agent's browser drops (dropped: the call goes back to
// the queue).
func (b *Bridge) talk(ctx context.Context, call CallLeg, w *Waiting, hc HandoffContext, as Assignment, music media.Source) (dropped bool, err error) {
	log := call.Log().With("agent", as.AgentName)
	ac := &activeCall{callID: w.CallID, agentID: as.AgentID, inbox: make(chan Msg, 16)}
	b.mu.Lock()
	b.active[as.AgentID] = ac
	_, online := b.conns[as.AgentID]
	b.mu.Unlock()
	defer b.unsetActive(ac)
	b.setPhase(w.CallID, w.From, PhaseAgent, as.AgentName)
	if !online {
		b.queue.Dropped(as.AgentID)
		return true, nil
	}
	cfg := b.cfg.Leg
	cfg.Codec, cfg.Log = hc.Codec, log
	cfg.ICEServers = b.iceServers("ivr-"+ac.callID, 2*time.Hour)
	leg, err := NewLeg(cfg)
	if err != nil {
		return b.legFailed(ac, log, err)
	}
	defer leg.Close()
	defer b.trackLeg(ac, leg)()
	accepted := time.Now()
	if err := b.connect(ctx, leg, ac); err != nil {
		if ctx.Err() != nil {
			b.endCall(ac, "caller", 0)
			return false, ctx.Err()
		}
		return b.legFailed(ac, log, err)
	}
	log.Info("bridge: call bridged", "accept_to_media", time.Since(accepted).Round(time.Millisecond))
	call.Tap(leg)
	defer call.Tap(nil)
	call.SetSource(leg.Source())
	b.send(as.AgentID, Msg{Type: MsgConnected, CallID: ac.callID})
	return b.bridged(ctx, call, leg, ac, music)
}

func (b *Bridge) unsetActive(ac *activeCall) {
	b.mu.Lock()
	if b.active[ac.agentID] == ac {
		delete(b.active, ac.agentID)
	}
	b.mu.Unlock()
}

// connect sends the leg's SDP offer to the agent's tab and waits for the
// answer and then for media, within ConnectTimeout.
func (b *Bridge) connect(ctx context.Context, leg *Leg, ac *activeCall) error {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.ConnectTimeout)
	defer cancel()
	sdp, err := leg.Offer(ctx)
	if err != nil {
		return err
	}
	b.send(ac.agentID, Msg{Type: MsgSDPOffer, CallID: ac.callID, SDP: sdp})
	for {
		select {
		case m := <-ac.inbox:
			switch m.Type {
			case MsgAnswer:
				if err := leg.Answer(m.SDP); err != nil {
					return err
				}
			case MsgHangup, msgDropped:
				return fmt.Errorf("agent %s before the audio connected", m.Type)
			}
		case <-leg.Connected():
			return nil
		case <-leg.Done():
			return errors.New("connection to the browser failed")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// legFailed handles a bridge whose media could not be set up: the agent is
// told and set away (their browser may not be able to take calls), and the
// call goes back to the head of the queue.
func (b *Bridge) legFailed(ac *activeCall, log *slog.Logger, err error) (bool, error) {
	log.Warn("bridge: media to the agent failed", "error", err)
	b.send(ac.agentID, Msg{Type: MsgCallEnded, CallID: ac.callID, By: "failed",
		Message: fmt.Sprintf("%v: %v", errLegFailed, err)})
	b.queue.EndCall(ac.agentID, 0)
	_ = b.queue.SetAway(ac.agentID)
	return true, nil
}

// bridged runs a connected call: key presses to the agent, hold, and the
// end from either side.
func (b *Bridge) bridged(ctx context.Context, call CallLeg, leg *Leg, ac *activeCall, music media.Source) (bool, error) {
	start := time.Now()
	for {
		select {
		case d := <-call.Digits():
			b.send(ac.agentID, Msg{Type: MsgDTMF, CallID: ac.callID, Digit: string(d.Digit)})
		case m := <-ac.inbox:
			switch m.Type {
			case MsgHold:
				call.Tap(nil)
				call.SetSource(music)
			case MsgUnhold:
				call.Tap(leg)
				call.SetSource(leg.Source())
			case MsgHangup:
				b.endCall(ac, "agent", time.Since(start))
				return false, nil
			case msgDropped:
				b.queue.Dropped(ac.agentID)
				return true, nil
			}
		case <-leg.Done():
			b.send(ac.agentID, Msg{Type: MsgCallEnded, CallID: ac.callID, By: "failed",
				Message: "the audio connection to your browser dropped; the caller is back in the queue"})
			b.queue.EndCall(ac.agentID, time.Since(start))
			_ = b.queue.SetAway(ac.agentID)
			return true, nil
		case <-ctx.Done():
			b.endCall(ac, "caller", time.Since(start))
			return false, ctx.Err()
		}
	}
}

// endCall ends a bridged call for the agent: wrap-up.
func (b *Bridge) endCall(ac *activeCall, by string, talk time.Duration) {
	b.queue.EndCall(ac.agentID, talk)
	b.mu.Lock()
	b.wrap[ac.agentID] = ac.callID
	b.mu.Unlock()
	b.send(ac.agentID, Msg{Type: MsgCallEnded, CallID: ac.callID, By: by})
}
