package bridge

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sync/errgroup"

	"github.com/supportline/ivr/media"
)

// checkLeaks fails t if goroutines started during the test outlive it. It
// runs after every cleanup registered later (legs and peers closed).
func checkLeaks(t *testing.T) {
	t.Helper()
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

// testContext is the test's hard timeout.
func testContext(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

func newTestLeg(t testing.TB, cfg LegConfig) *Leg {
	t.Helper()
	leg, err := NewLeg(cfg)
	if err != nil {
		t.Fatalf("NewLeg: %v", err)
	}
	t.Cleanup(func() {
		if err := leg.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return leg
}

// heardFrame is one frame the caller side read from Source, with the time.
type heardFrame struct {
	at  time.Time
	pcm []int16
}

// exchange plays callerFrames into leg.WriteSample and agentFrames from the
// peer's microphone, each on its own 20 ms ticker, while the caller side
// reads Source on its ticker as the RTP session does. Both go on with
// silence for tail frames so the last packets can arrive. The peer's clock
// starts agentPhase after the caller's (the two clocks of a real call are
// independent). It returns when each frame was written and what the caller
// side heard.
func exchange(ctx context.Context, t *testing.T, leg *Leg, peer *testPeer, callerFrames, agentFrames [][]int16, tail int, agentPhase time.Duration) (callerSent, agentSent []time.Time, heard []heardFrame) {
	t.Helper()
	src := leg.Source()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return tick(ctx, len(callerFrames)+tail, func(i int, now time.Time) error {
			callerSent = append(callerSent, now)
			if err := leg.WriteSample(frameAt(callerFrames, i)); err != nil {
				return err
			}
			f := make([]int16, media.FrameSamples)
			if !src.ReadFrame(f) {
				return errors.New("source ended before Close")
			}
			heard = append(heard, heardFrame{at: time.Now(), pcm: f})
			return nil
		})
	})
	g.Go(func() error {
		phase := time.NewTimer(agentPhase)
		defer phase.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-phase.C:
		}
		return tick(ctx, len(agentFrames)+tail, func(i int, now time.Time) error {
			agentSent = append(agentSent, now)
			return peer.writeFrame(frameAt(agentFrames, i))
		})
	})
	if err := g.Wait(); err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return callerSent[:len(callerFrames)], agentSent[:len(agentFrames)], heard
}

// frameAt returns fs[i], or silence past its end.
func frameAt(fs [][]int16, i int) []int16 {
	if i < len(fs) {
		return fs[i]
	}
	return make([]int16, media.FrameSamples)
}

// tick calls fn n times, on a 20 ms ticker.
func tick(ctx context.Context, n int, fn func(i int, now time.Time) error) error {
	tk := time.NewTicker(media.FrameDuration)
	defer tk.Stop()
	for i := range n {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tk.C:
		}
		if err := fn(i, time.Now()); err != nil {
			return err
		}
	}
	return nil
}

func TestLegAudioBothWays(t *testing.T) {
	const callerHz, agentHz, frames = 1000.0, 600.0, 75
	for _, codec := range []string{"PCMU", "PCMA"} {
		t.Run(codec, func(t *testing.T) {
			checkLeaks(t)
			ctx := testContext(t, 20*time.Second)
			leg := newTestLeg(t, testLegConfig(codec))
			peer := newTestPeer(t, codec, false)
			connect(ctx, t, leg, peer)
			_, _, heard := exchange(ctx, t, leg, peer,
				toneFrames(callerHz, 0.5, frames), toneFrames(agentHz, 0.5, frames), 10, 7*time.Millisecond)

			var atAgent, atCaller [][]int16
			for _, f := range peer.received() {
				atAgent = append(atAgent, f.pcm)
			}
			for _, f := range heard {
				atCaller = append(atCaller, f.pcm)
			}
			checkTone(t, "caller→agent", measureTone(atAgent, callerHz, agentHz), callerHz, frames)
			checkTone(t, "agent→caller", measureTone(atCaller, agentHz, callerHz), agentHz, frames)
			st := leg.Stats()
			t.Logf("stats: %+v", st)
			if st.Received == 0 || st.Sent == 0 {
				t.Errorf("stats count no traffic: %+v", st)
			}
		})
	}
}

// checkTone checks that most of the frames sent arrived as the expected
// tone: its frequency within 1%, the level of a half-scale sine (-9 dBFS)
// within 1.5 dB, and the other side's tone at least 30 dB down.
func checkTone(t *testing.T, dir string, r toneReport, want float64, sent int) {
	t.Helper()
	t.Logf("%s: %d/%d frames loud, %.1f Hz, %.1f dBFS, Goertzel %.1f dB at %.0f Hz, %.1f dB at the other tone",
		dir, r.loud, r.totalSeen, r.freq, r.level, r.wantDB, want, r.otherDB)
	switch {
	case r.loud < sent*9/10:
		t.Errorf("%s: only %d of %d tone frames arrived", dir, r.loud, sent)
	case math.Abs(r.freq-want) > want/100:
		t.Errorf("%s: tone at %.1f Hz, want %.0f Hz", dir, r.freq, want)
	case math.Abs(r.level+9.03) > 1.5:
		t.Errorf("%s: level %.1f dBFS, want -9 dBFS", dir, r.level)
	case r.wantDB-r.otherDB < 30:
		t.Errorf("%s: the other tone is only %.1f dB down", dir, r.wantDB-r.otherDB)
	}
}

func TestLegStage(t *testing.T) {
	checkLeaks(t)
	leg := newTestLeg(t, testLegConfig("PCMA"))
	var w media.PCM16Writer = leg
	if got := w.String(); got != "WebRTCLeg(PCMA/8000)" {
		t.Errorf("String() = %q", got)
	}
	if w.SampleRate() != media.SampleRate {
		t.Errorf("SampleRate() = %d", w.SampleRate())
	}
	if err := w.WriteSample(make([]int16, 80)); !errors.Is(err, ErrFrameSize) {
		t.Errorf("10 ms frame: err %v, want ErrFrameSize", err)
	}
	f := make([]int16, media.FrameSamples)
	f[0] = 99
	if !leg.Source().ReadFrame(f) || f[0] != 0 {
		t.Errorf("Source before any audio: want a frame of silence, got ok=false or %d", f[0])
	}
	// Before the browser answers, frames go nowhere and never block.
	for range 3 * legSendQueue {
		if err := w.WriteSample(f); err != nil {
			t.Fatalf("WriteSample before connect: %v", err)
		}
	}
}

// TestLegReceiverSizes feeds the agent's side packets of 20 ms and of
// other sizes: 20 ms packets play as they are, others are counted (and
// cut or padded by the jitter buffer), and a new SSRC restarts playout.
func TestLegReceiverSizes(t *testing.T) {
	leg := newTestLeg(t, testLegConfig("PCMU"))
	tone := toneFrames(600, 0.5, 4)
	src, f := leg.Source(), make([]int16, media.FrameSamples)
	pushes := []struct {
		ssrc    uint32
		seq     uint16
		payload []byte
		odd     bool
	}{
		{1, 10, media.PCMU.Encode(nil, tone[0]), false},
		{1, 11, media.PCMU.Encode(nil, tone[1][:80]), true},
		{1, 12, media.PCMU.Encode(nil, append(tone[2], tone[3]...)), false},
		{2, 500, media.PCMU.Encode(nil, tone[3]), false},
	}
	for i, p := range pushes {
		if got := leg.rx.push(p.ssrc, p.seq, p.payload); got != p.odd {
			t.Errorf("push %d: first odd size %v, want %v", i, got, p.odd)
		}
		if !src.ReadFrame(f) {
			t.Fatal("source ended")
		}
		if lv := media.DBFS(f); lv < -20 {
			t.Errorf("frame %d: level %.1f dBFS, want the tone", i, lv)
		}
	}
	st := leg.Stats()
	if st.Received != 4 || st.OddSize != 2 || st.Jitter.Played != 4 {
		t.Errorf("stats %+v: want 4 received and played, 2 of odd size", st)
	}
}

func TestLegClose(t *testing.T) {
	checkLeaks(t)
	ctx := testContext(t, 10*time.Second)
	leg, err := NewLeg(testLegConfig("PCMU"))
	if err != nil {
		t.Fatal(err)
	}
	peer := newTestPeer(t, "PCMU", false)
	connect(ctx, t, leg, peer)
	for i := range 2 {
		start := time.Now()
		if err := leg.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		t.Logf("Close %d took %v", i+1, time.Since(start))
	}
	select {
	case <-leg.Done():
	default:
		t.Error("Done not closed after Close")
	}
	f := make([]int16, media.FrameSamples)
	if leg.Source().ReadFrame(f) {
		t.Error("Source still gives frames after Close")
	}
	if err := leg.WriteSample(f); !errors.Is(err, ErrLegClosed) {
		t.Errorf("WriteSample after Close: %v, want ErrLegClosed", err)
	}
	if _, err := leg.Offer(ctx); !errors.Is(err, ErrLegClosed) {
		t.Errorf("Offer after Close: %v, want ErrLegClosed", err)
	}
	if err := leg.Answer("v=0"); !errors.Is(err, ErrLegClosed) {
		t.Errorf("Answer after Close: %v, want ErrLegClosed", err)
	}
}

// TestLegPeerDrops checks that Done fires when the browser goes away: it
// closes its PeerConnection (DTLS close_notify), or it vanishes from the
// network and the leg's ICE sees nothing for DisconnectedTimeout.
func TestLegPeerDrops(t *testing.T) {
	for _, tc := range []struct {
		name         string
		cut          bool
		disconnected time.Duration
		within       time.Duration
	}{
		// Well within the disconnected timeout: noticed by close_notify.
		{"peer closes", false, 10 * time.Second, 2 * time.Second},
		{"peer vanishes", true, time.Second, 5 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkLeaks(t)
			ctx := testContext(t, 20*time.Second)
			cfg := testLegConfig("PCMU")
			cfg.DisconnectedTimeout = tc.disconnected
			leg := newTestLeg(t, cfg)
			peer := newTestPeer(t, "PCMU", tc.cut)
			connect(ctx, t, leg, peer)
			start := time.Now()
			if tc.cut {
				peer.conn.cut.Store(true)
			} else {
				peer.close()
			}
			select {
			case <-leg.Done():
				t.Logf("Done %v after the peer went", time.Since(start).Round(time.Millisecond))
			case <-time.After(tc.within):
				t.Fatalf("Done not closed %v after the peer went", tc.within)
			}
			f := make([]int16, media.FrameSamples)
			if !leg.Source().ReadFrame(f) {
				t.Error("Source ended before Close")
			}
		})
	}
}
