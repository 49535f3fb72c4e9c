package bridge

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/supportline/ivr/media"
	"github.com/supportline/ivr/store"
)

func TestAnnouncementNames(t *testing.T) {
	tests := []struct {
		pos  int
		est  time.Duration
		want string
	}{
		{1, 30 * time.Second, "queue_thanks_holding queue_caller_number num_1 queue_in_line queue_wait_under_minute callback_offer"},
		{3, 9 * time.Minute, "queue_thanks_holding queue_caller_number num_3 queue_in_line queue_wait_is num_9 word_minutes callback_offer"},
		{21, 61 * time.Second, "queue_thanks_holding queue_caller_number num_20 num_1 queue_in_line queue_wait_is num_1 word_minute callback_offer"},
		{0, 0, "queue_thanks_holding callback_offer"},
	}
	cat := testPrompts(t)
	for _, tt := range tests {
		got := announcementNames(tt.pos, tt.est)
		if strings.Join(got, " ") != tt.want {
			t.Errorf("pos %d est %v: got %q\nwant %q", tt.pos, tt.est, strings.Join(got, " "), tt.want)
		}
		if _, err := cat.Clips(got...); err != nil {
			t.Errorf("pos %d: %v", tt.pos, err)
		}
	}
}

func TestHandoffNoAgentsOffersCallback(t *testing.T) {
	checkLeaks(t)
	ctx := testContext(t, 20*time.Second)
	h := newHarness(t, 5*time.Second)
	call := newFakeCall(nil)
	call.digits <- media.DTMF{Digit: '1'} // typed ahead of the offer
	if err := <-h.handoff(ctx, "c1", call); err != nil {
		t.Fatalf("handoff: %v", err)
	}
	want := []string{"agents_closed", "callback_offer", "callback_confirmed", "goodbye"}
	if got := call.playedNames(); !slices.Equal(got, want) {
		t.Fatalf("played %q, want %q", got, want)
	}
	assertCallback(t, h.st, "c1")
}

func TestHandoffCallbackWhileWaiting(t *testing.T) {
	checkLeaks(t)
	ctx := testContext(t, 20*time.Second)
	h := newHarness(t, 5*time.Second)
	ann := h.open(h.addAgent("ann"))
	ann.available()
	call := newFakeCall(nil)
	errc := h.handoff(ctx, "c1", call)
	ann.expect(MsgOffer) // ringing, not answered: the caller holds
	call.digits <- media.DTMF{Digit: '1'}
	if err := <-errc; err != nil {
		t.Fatalf("handoff: %v", err)
	}
	if got := call.playedNames(); !slices.Contains(got, "callback_confirmed") {
		t.Fatalf("played %q", got)
	}
	assertCallback(t, h.st, "c1")
	if m := ann.expect(MsgCallbacks); len(m.Callbacks) != 1 || m.Callbacks[0].Phone != "+1555c1" {
		t.Fatalf("agent's callback list %+v", m.Callbacks)
	}
	if m := ann.expect(MsgOfferCancelled); m.Reason != "caller left" {
		t.Fatalf("offer cancelled %+v", m)
	}
	if n := len(h.br.queue.Snapshot().Waiting); n != 0 {
		t.Fatalf("%d calls still waiting", n)
	}
}

func assertCallback(t *testing.T, st *store.SQLite, callID string) {
	t.Helper()
	cbs, err := st.Callbacks(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(cbs) != 1 || cbs[0].CallID != callID {
		t.Fatalf("callbacks %+v", cbs)
	}
}

func TestSupervisorCountsCallsByPhase(t *testing.T) {
	checkLeaks(t)
	ctx := testContext(t, 20*time.Second)
	h := newHarness(t, 5*time.Second)
	done := h.br.BotCall("b1", "+1555b1")
	if v := h.br.Supervisor(); v.InBot != 1 || v.Waiting != 0 || len(v.Calls) != 1 {
		t.Fatalf("one call in the bot: %+v", v)
	}
	ann := h.open(h.addAgent("ann"))
	ann.available()
	w := h.br.Ring(HandoffCard{CallID: "b1", From: "+1555b1"})
	if w == nil {
		t.Fatal("Ring with an agent on duty returned nil")
	}
	ann.expect(MsgOffer) // rings at the decision, before Handoff
	if v := h.br.Supervisor(); v.InBot != 0 || v.Waiting != 1 || v.QueueLength != 1 {
		t.Fatalf("one call waiting: %+v", v)
	}
	h.br.Cancel(w) // the caller hung up during the bot's last words
	ann.expect(MsgOfferCancelled)
	done()
	if v := h.br.Supervisor(); len(v.Calls) != 0 || v.QueueLength != 0 {
		t.Fatalf("after the call: %+v", v)
	}
	_ = ctx
}
