package bridge

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/supportline/ivr/media"
)

var loadCalls = flag.Int("bridge.calls", 0, "TestBridgeLoad: calls handed over and bridged at once (0 skips the test)")

// bridgedCall is one call of TestBridgeLoad: the caller's side, the agent's
// browser stand-in, and where the measurement window starts in each.
type bridgedCall struct {
	call      *fakeCall
	peer      *testPeer
	hangUp    context.CancelFunc
	errc      <-chan error
	heardFrom int // caller frames before the window
	rxFrom    int // agent frames before the window
}

// TestBridgeLoad is the whole bridge under load: -bridge.calls agents sign
// in over HTTP, open the WebSocket and go available; as many calls are
// handed over (Handoff, hold music, the queue), offered, accepted and
// answered by a pion peer each (the browser's stand-in), then carry a
// tone both ways for -bridge.loadtime. It reports the frames that did not
// arrive each way and the process's CPU. It is a load run: skipped unless
// -bridge.calls is given, e.g.
//
//	go test -run TestBridgeLoad -v ./bridge/ -args -bridge.calls=100 -bridge.loadtime=30s
func TestBridgeLoad(t *testing.T) {
	if *loadCalls <= 0 {
		t.Skip("a load run: give -bridge.calls N")
	}
	checkLeaks(t)
	n := *loadCalls
	ctx := testContext(t, *loadTime+time.Duration(n)*2*time.Second+time.Minute)
	h := newHarness(t, 30*time.Second)
	calls := make([]*bridgedCall, n)
	start := time.Now()
	for i := range calls {
		calls[i] = bridgeOne(ctx, t, h, i)
	}
	t.Logf("%d calls handed over, accepted and connected in %v", n, time.Since(start).Round(time.Millisecond))
	// The window is timed from before the first call's start count to after
	// the last call's end count, so each call is counted over no more than
	// the window: the missing share errs high, never low.
	cpu0, wall0 := cpuTime(), time.Now()
	for _, c := range calls {
		c.heardFrom, c.rxFrom = len(c.call.heardSince(0)), len(c.peer.received())
	}
	select {
	case <-time.After(*loadTime): // the measurement window
	case <-ctx.Done():
		t.Fatal("timed out during the window")
	}
	heard, rx := make([][][]int16, n), make([]int, n)
	for i, c := range calls {
		heard[i], rx[i] = c.call.heardSince(c.heardFrom), len(c.peer.received())-c.rxFrom
	}
	wall, cpu := time.Since(wall0), cpuTime()-cpu0
	want := float64(n) * float64(wall/media.FrameDuration)
	var toAgent, toCaller int
	for i := range calls {
		toAgent += rx[i]
		for _, f := range heard[i] {
			if media.DBFS(f) > toneLevel {
				toCaller++
			}
		}
	}
	lossAgent, lossCaller := 100*(1-float64(toAgent)/want), 100*(1-float64(toCaller)/want)
	t.Logf("%d calls, %v: caller→agent %d of %.0f frames (missing %.3f%%), agent→caller %d tone frames (missing %.3f%%)",
		n, wall.Round(time.Millisecond), toAgent, want, lossAgent, toCaller, lossCaller)
	t.Logf("CPU %.1f%% of one core for the whole process (server side and the %d peers), %.2f%% per call",
		100*cpu.Seconds()/wall.Seconds(), n, 100*cpu.Seconds()/wall.Seconds()/float64(n))
	for _, c := range calls {
		c.hangUp()
		if err := <-c.errc; err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("handoff: %v", err)
		}
	}
	if lossAgent >= 1 || lossCaller >= 1 {
		t.Errorf("missing %.3f%% to the agent, %.3f%% to the caller: want < 1%%", lossAgent, lossCaller)
	}
}

// bridgeOne signs agent i in, makes it the only available agent, hands a
// call over and has the agent accept and answer it.
func bridgeOne(ctx context.Context, t *testing.T, h *harness, i int) *bridgedCall {
	t.Helper()
	tb := h.open(h.addAgent(fmt.Sprintf("agent%03d", i)))
	tb.available()
	id := fmt.Sprintf("L%03d", i)
	call := newFakeCall(toneFrames(callerTone, 0.5, 50))
	cctx, hangUp := context.WithCancel(ctx)
	errc := h.handoff(cctx, id, call)
	if off := tb.expect(MsgOffer); off.CallID != id {
		t.Fatalf("agent %d offered %s, want %s", i, off.CallID, id)
	}
	tb.send(Msg{Type: MsgAccept, CallID: id})
	return &bridgedCall{call: call, peer: tb.browser(ctx, t, id), hangUp: hangUp, errc: errc}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
