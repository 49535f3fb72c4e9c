package bridge

import (
	"context"
	"flag"
	"fmt"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/supportline/ivr/media"
)

var (
	loadLegs = flag.Int("bridge.legs", 0, "TestLegLoad: concurrent bridged legs, each with a pion peer (0 skips the test)")
	loadTime = flag.Duration("bridge.loadtime", 10*time.Second, "TestLegLoad: how long the legs carry audio")
)

// loadPair is one leg, its browser stand-in and what went through them.
type loadPair struct {
	leg        *Leg
	peer       *testPeer
	agentSent  uint64 // frames the peer wrote
	callerHeld uint64 // tone frames the caller side read from Source
}

// TestLegLoad runs -bridge.legs legs at once, each carrying a tone both
// ways for -bridge.loadtime, every side on its own 20 ms clock, and reports
// the loss each way (frames sent that never arrived, counted at the
// receiving peer and at the leg). It is a load run: it is skipped unless
// -bridge.legs is given, e.g.
//
//	go test -run TestLegLoad -v ./bridge/ -args -bridge.legs=100 -bridge.loadtime=30s
func TestLegLoad(t *testing.T) {
	if *loadLegs <= 0 {
		t.Skip("a load run: give -bridge.legs N")
	}
	checkLeaks(t)
	ctx := testContext(t, *loadTime+time.Duration(*loadLegs)*time.Second+time.Minute)
	pairs := make([]*loadPair, *loadLegs)
	start := time.Now()
	for i := range pairs {
		codec := [2]string{"PCMU", "PCMA"}[i%2]
		p := &loadPair{leg: newTestLeg(t, testLegConfig(codec)), peer: newTestPeer(t, codec, false)}
		connect(ctx, t, p.leg, p.peer)
		pairs[i] = p
	}
	t.Logf("%d legs connected in %v", len(pairs), time.Since(start).Round(time.Millisecond))
	frames := int(*loadTime / media.FrameDuration)
	g, gctx := errgroup.WithContext(ctx)
	for _, p := range pairs {
		g.Go(func() error { return p.runCaller(gctx, frames) })
		g.Go(func() error { return p.runAgent(gctx, frames) })
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	waitQuiet(ctx, t, pairs)
	reportLoad(t, pairs)
}

// runCaller is the caller's pacing loop: one frame to the agent and one
// from Source per tick.
func (p *loadPair) runCaller(ctx context.Context, frames int) error {
	tone := toneFrames(1000, 0.5, 50)
	src, f := p.leg.Source(), make([]int16, media.FrameSamples)
	return tick(ctx, frames, func(i int, _ time.Time) error {
		if err := p.leg.WriteSample(tone[i%len(tone)]); err != nil {
			return err
		}
		if !src.ReadFrame(f) {
			return fmt.Errorf("source ended")
		}
		if media.DBFS(f) > toneLevel {
			p.callerHeld++
		}
		return nil
	})
}

// runAgent is the browser's microphone.
func (p *loadPair) runAgent(ctx context.Context, frames int) error {
	tone := toneFrames(600, 0.5, 50)
	return tick(ctx, frames, func(i int, _ time.Time) error {
		p.agentSent++
		return p.peer.writeFrame(tone[i%len(tone)])
	})
}

// waitQuiet waits until the packets in flight have arrived: no counter
// moved for 100 ms.
func waitQuiet(ctx context.Context, t *testing.T, pairs []*loadPair) {
	t.Helper()
	total := func() (n uint64) {
		for _, p := range pairs {
			n += uint64(len(p.peer.received())) + p.leg.Stats().Received
		}
		return n
	}
	tk := time.NewTicker(100 * time.Millisecond)
	defer tk.Stop()
	for last := total(); ; {
		select {
		case <-ctx.Done():
			t.Fatal("timed out waiting for the last packets")
		case <-tk.C:
		}
		if n := total(); n == last {
			return
		} else {
			last = n
		}
	}
}

func reportLoad(t *testing.T, pairs []*loadPair) {
	t.Helper()
	var sent, dropped, atAgent, agentSent, atLeg, concealed, late uint64
	for _, p := range pairs {
		st := p.leg.Stats()
		sent += st.Sent
		dropped += st.SendDropped
		atAgent += uint64(len(p.peer.received()))
		agentSent += p.agentSent
		atLeg += st.Received
		concealed += st.Jitter.Concealed
		late += st.Jitter.Late
	}
	toAgent := 100 * float64(sent+dropped-atAgent) / float64(sent+dropped)
	toCaller := 100 * float64(agentSent-atLeg) / float64(agentSent)
	t.Logf("caller→agent: %d frames written, %d dropped by the leg, %d arrived: loss %.3f%%",
		sent+dropped, dropped, atAgent, toAgent)
	t.Logf("agent→caller: %d frames sent, %d arrived at the legs (%d late, %d concealed): loss %.3f%%",
		agentSent, atLeg, late, concealed, toCaller)
	if toAgent >= 1 || toCaller >= 1 {
		t.Errorf("loss %.3f%% to the agent, %.3f%% to the caller: want < 1%%", toAgent, toCaller)
	}
}
