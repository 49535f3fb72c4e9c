package bridge

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/supportline/ivr/media"
)

// Tones: the caller says 1000 Hz, the agent's microphone 600 Hz.
const (
	callerTone = 1000.0
	agentTone  = 600.0
)

// browser answers the hub's SDP offer with a pion peer whose microphone
// plays agentTone until the test ends.
func (tb *tab) browser(ctx context.Context, t *testing.T, callID string) *testPeer {
	t.Helper()
	off := tb.expect(MsgSDPOffer)
	if off.CallID != callID {
		t.Fatalf("sdp offer for %s, want %s", off.CallID, callID)
	}
	peer := newTestPeer(t, "PCMU", false)
	ans, err := peer.answer(ctx, off.SDP)
	if err != nil {
		t.Fatal(err)
	}
	tb.send(Msg{Type: MsgAnswer, CallID: callID, SDP: ans})
	tb.expect(MsgConnected)
	mic := toneFrames(agentTone, 0.5, 50)
	var wg sync.WaitGroup
	micCtx, stop := context.WithCancel(ctx)
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(media.FrameDuration)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-tick.C:
				_ = peer.writeFrame(mic[i%len(mic)])
			case <-micCtx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() { stop(); wg.Wait() })
	return peer
}

// waitTone polls frames() until tone freq shows in at least 10 loud frames.
func waitTone(t *testing.T, what string, frames func() [][]int16, freq, other float64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := measureTone(frames(), freq, other)
		if r.loud >= 10 && math.Abs(r.freq-freq) < 30 && r.wantDB > r.otherDB+20 {
			t.Logf("%s: %d loud frames at %.0f Hz, %.1f dBFS", what, r.loud, r.freq, r.level)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %.0f Hz tone: %+v", what, freq, r)
		}
		time.Sleep(100 * time.Millisecond) // polling a measurement, not pacing
	}
}

func received(p *testPeer) func() [][]int16 {
	return func() [][]int16 {
		var out [][]int16
		for _, f := range p.received() {
			out = append(out, f.pcm)
		}
		return out
	}
}

func TestHandoffBridgesAudioBothWays(t *testing.T) {
	checkLeaks(t)
	ctx := testContext(t, 30*time.Second)
	// An offer timeout well above any stall of a loaded -race run (one
	// 5 s timeout expired before the accept was read).
	h := newHarness(t, 20*time.Second)
	ann := h.open(h.addAgent("ann"))
	ann.available()

	call := newFakeCall(toneFrames(callerTone, 0.5, 50))
	callCtx, hangUp := context.WithCancel(ctx)
	defer hangUp()
	start := time.Now()
	errc := h.handoff(callCtx, "c1", call)
	offer := ann.expect(MsgOffer)
	t.Logf("handoff → offer at the agent: %v", time.Since(start))
	if offer.CallID != "c1" || offer.Card == nil || offer.Card.From != "+1555c1" || len(offer.Card.Transcript) != 1 {
		t.Fatalf("offer %+v", offer)
	}
	accepted := time.Now()
	ann.send(Msg{Type: MsgAccept, CallID: "c1"})
	peer := ann.browser(ctx, t, "c1")
	t.Logf("accept → connected: %v", time.Since(accepted))
	heardFrom := len(call.heardSince(0))
	waitTone(t, "agent hears the caller", received(peer), callerTone, agentTone)
	waitTone(t, "caller hears the agent", func() [][]int16 { return call.heardSince(heardFrom) }, agentTone, callerTone)
	if sup := h.br.Supervisor(); sup.WithAgent != 1 || sup.Agents[0].State != StateOnCall {
		t.Fatalf("supervisor %+v", sup)
	}

	call.digits <- media.DTMF{Digit: '5'}
	if d := ann.expect(MsgDTMF); d.Digit != "5" {
		t.Fatalf("dtmf %+v", d)
	}
	hangUp() // the caller hangs up
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("handoff: %v", err)
	}
	if m := ann.expect(MsgCallEnded); m.By != "caller" {
		t.Fatalf("call ended %+v", m)
	}
	ann.send(Msg{Type: MsgWrapUp, CallID: "c1", Disposition: "resolved", Notes: "balance question"})
	ann.expect(MsgWrapUpSaved)
	rec, err := h.st.Call(ctx, "c1")
	if err == nil && (rec.WrapUp == nil || rec.WrapUp.Notes != "balance question") {
		t.Fatalf("wrap-up %+v", rec.WrapUp)
	}
	ann.available()
	if sup := h.br.Supervisor(); len(sup.Calls) != 0 || sup.Agents[0].State != StateAvailable {
		t.Fatalf("after the call: %+v", sup)
	}
}

func TestHandoffAgentHangsUp(t *testing.T) {
	checkLeaks(t)
	ctx := testContext(t, 30*time.Second)
	h := newHarness(t, 5*time.Second)
	ann := h.open(h.addAgent("ann"))
	ann.available()
	call := newFakeCall(toneFrames(callerTone, 0.5, 50))
	errc := h.handoff(ctx, "c1", call)
	ann.expect(MsgOffer)
	ann.send(Msg{Type: MsgAccept, CallID: "c1"})
	ann.browser(ctx, t, "c1")
	n := len(call.heardSince(0))
	waitTone(t, "caller hears the agent", func() [][]int16 { return call.heardSince(n) }, agentTone, callerTone)

	ann.send(Msg{Type: MsgHold, CallID: "c1"})
	n = len(call.heardSince(0)) + 10 // 200 ms for the message to reach the call
	waitFor(t, func() bool { return len(call.heardSince(n)) >= 100 })
	held := call.heardSince(n)
	loud, agent := 0, 0
	for _, f := range held {
		if media.DBFS(f) > -40 {
			loud++
			if goertzelDB(f, agentTone) > media.DBFS(f)-3 {
				agent++
			}
		}
	}
	if loud < 50 || agent > loud/10 {
		t.Fatalf("on hold the caller heard %d loud frames of 100, %d of them the agent's tone; want music", loud, agent)
	}
	ann.send(Msg{Type: MsgUnhold, CallID: "c1"})
	n = len(call.heardSince(0))
	waitTone(t, "caller hears the agent after unhold", func() [][]int16 { return call.heardSince(n) }, agentTone, callerTone)
	ann.send(Msg{Type: MsgHangup, CallID: "c1"})
	if err := <-errc; err != nil {
		t.Fatalf("handoff: %v", err)
	}
	if m := ann.expect(MsgCallEnded); m.By != "agent" {
		t.Fatalf("call ended %+v", m)
	}
	if st := h.br.Queue().State(1); st != StateWrapUp {
		t.Fatalf("agent state %v", st)
	}
}

func TestHandoffDeclineAndTimeoutGoToTheNextAgent(t *testing.T) {
	checkLeaks(t)
	ctx := testContext(t, 30*time.Second)
	h := newHarness(t, time.Second)
	ann := h.open(h.addAgent("ann"))
	ann.available()
	bob := h.open(h.addAgent("bob"))
	bob.available()

	errc := h.handoff(ctx, "c1", newFakeCall(nil))
	if m := ann.expect(MsgOffer); m.CallID != "c1" {
		t.Fatalf("ann offered %+v", m)
	}
	ann.send(Msg{Type: MsgDecline, CallID: "c1"})
	if m := bob.expect(MsgOffer); m.CallID != "c1" {
		t.Fatalf("bob offered %+v", m)
	}
	// bob lets it ring out: back to ann (her decline skip has run out).
	if m := bob.expect(MsgOfferCancelled); m.Reason != "not answered in time" {
		t.Fatalf("cancel %+v", m)
	}
	if m := ann.expect(MsgOffer); m.CallID != "c1" {
		t.Fatalf("ann offered again %+v", m)
	}
	ann.send(Msg{Type: MsgAccept, CallID: "bogus"})
	if m := ann.expect(MsgError); m.Message == "" {
		t.Fatal("no error for a bogus accept")
	}
	ann.send(Msg{Type: MsgAccept, CallID: "c1"})
	ann.browser(ctx, t, "c1")
	ann.send(Msg{Type: MsgHangup, CallID: "c1"})
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func TestHandoffAgentDropGoesBackToTheHead(t *testing.T) {
	checkLeaks(t)
	ctx := testContext(t, 30*time.Second)
	h := newHarness(t, 5*time.Second)
	ann := h.open(h.addAgent("ann"))
	ann.available()
	bobClient := h.addAgent("bob")

	call1 := newFakeCall(toneFrames(callerTone, 0.5, 50))
	errc1 := h.handoff(ctx, "c1", call1)
	ann.expect(MsgOffer)
	ann.send(Msg{Type: MsgAccept, CallID: "c1"})
	ann.browser(ctx, t, "c1")
	errc2 := h.handoff(ctx, "c2", newFakeCall(nil)) // waits behind: nobody free
	waitFor(t, func() bool { return len(h.br.Queue().Snapshot().Waiting) == 1 })

	ann.ws.CloseNow() // the browser goes away mid-call
	waitFor(t, func() bool { return slices.Contains(call1.playedNames(), "agent_disconnected") })
	snap := h.br.Queue().Snapshot()
	if len(snap.Waiting) != 2 || snap.Waiting[0].CallID != "c1" {
		t.Fatalf("queue after the drop: %+v", snap.Waiting)
	}
	bob := h.open(bobClient)
	bob.available()
	if m := bob.expect(MsgOffer); m.CallID != "c1" {
		t.Fatalf("bob offered %s, want the dropped call c1 first", m.CallID)
	}
	select {
	case err := <-errc1:
		t.Fatalf("dropped call ended: %v", err)
	case err := <-errc2:
		t.Fatalf("waiting call ended: %v", err)
	default:
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5 s")
		}
		time.Sleep(20 * time.Millisecond) // polling state, not pacing
	}
}

// A call Ring queued and an agent accepted during the bot's last words is
// not queued again by its Handoff: it must not stay in the queue nor ring
// a second agent while it is bridged.
func TestHandoffAfterRingAcceptedIsNotQueuedAgain(t *testing.T) {
	checkLeaks(t)
	ctx := testContext(t, 30*time.Second)
	h := newHarness(t, 5*time.Second)
	ann := h.open(h.addAgent("ann"))
	ann.available()
	w := h.br.Ring(HandoffCard{CallID: "r1", From: "+1555r1"})
	if w == nil {
		t.Fatal("Ring with an agent on duty returned nil")
	}
	ann.expect(MsgOffer)
	ann.send(Msg{Type: MsgAccept, CallID: "r1"}) // still in the bot's "transferring"
	if !w.AwaitAssigned(ctx.Done()) {
		t.Fatal("accept did not assign the call")
	}
	bob := h.open(h.addAgent("bob"))
	bob.available()

	call := newFakeCall(toneFrames(callerTone, 0.5, 50))
	callCtx, hangUp := context.WithCancel(ctx)
	defer hangUp()
	errc := h.handoffQueued(callCtx, "r1", call, w)
	ann.browser(ctx, t, "r1")
	if sup := h.br.Supervisor(); sup.QueueLength != 0 || sup.WithAgent != 1 {
		t.Fatalf("bridged call still queued: %+v", sup)
	}
	if st := h.br.Queue().State(2); st != StateAvailable {
		t.Fatalf("second agent is %v while the only call is bridged", st)
	}
	hangUp()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("handoff: %v", err)
	}
}
