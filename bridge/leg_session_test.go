package bridge

import (
	"context"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/supportline/ivr/media"
)

// stampedWriter is a media.PCM16Writer that keeps each frame with the time
// it came.
type stampedWriter struct {
	mu     sync.Mutex
	frames []heardFrame
}

func (w *stampedWriter) String() string  { return "stamped" }
func (w *stampedWriter) SampleRate() int { return media.SampleRate }
func (w *stampedWriter) WriteSample(f []int16) error {
	w.mu.Lock()
	w.frames = append(w.frames, heardFrame{at: time.Now(), pcm: append([]int16(nil), f...)})
	w.mu.Unlock()
	return nil
}

func (w *stampedWriter) snapshot() []heardFrame {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]heardFrame(nil), w.frames...)
}

// stampedSource plays frames and keeps the time each was read.
type stampedSource struct {
	frames [][]int16
	mu     sync.Mutex
	read   []time.Time
}

func (s *stampedSource) ReadFrame(f []int16) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	copy(f, frameAt(s.frames, len(s.read)))
	s.read = append(s.read, time.Now())
	return true
}

func (s *stampedSource) times() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.read...)
}

// TestLegWithSession bridges a real caller RTP session the way the call
// coordinator does: the IVR's media.Session for the call has the leg as its
// Sink and leg.Source() as its source, and a second Session on loopback
// plays the caller's phone. The phone sends 1 kHz bursts, the pion peer
// (the agent's browser) 600 Hz bursts; each end must hear the other's tone,
// and the test reports the mouth-to-ear delay each way. Those include the
// IVR session's jitter buffer (20 ms here) towards the agent, and the
// phone's own jitter buffer (40 ms) towards the caller, besides the leg.
func TestLegWithSession(t *testing.T) {
	const on, off, n = 5, 10, 120
	checkLeaks(t)
	ctx := testContext(t, 20*time.Second)
	ports, err := media.NewPortAllocator(testLoopback, 39100, 39499)
	if err != nil {
		t.Fatal(err)
	}
	leg := newTestLeg(t, testLegConfig("PCMA"))
	peer := newTestPeer(t, "PCMA", false)
	connect(ctx, t, leg, peer)

	ivr := newBridgeSession(t, ports, media.SessionConfig{Codec: media.PCMA, Sink: leg, JitterDelay: 20 * time.Millisecond})
	ear := &stampedWriter{}
	phone := newBridgeSession(t, ports, media.SessionConfig{Codec: media.PCMA, Sink: ear, Remote: ivr.LocalAddr()})
	ivr.SetRemote(phone.LocalAddr())
	ivr.SetSource(leg.Source())
	mouthFrames, onsets := bursts(1000, on, off, n)
	mouth := &stampedSource{frames: mouthFrames}
	phone.SetSource(mouth)
	agentFrames, _ := bursts(600, on, off, n)

	runCtx, stop := context.WithCancel(ctx)
	g, gctx := errgroup.WithContext(runCtx)
	g.Go(func() error { return ivr.Run(gctx) })
	g.Go(func() error { return phone.Run(gctx) })
	var agentSent []time.Time
	err = tick(ctx, n+10, func(i int, now time.Time) error {
		agentSent = append(agentSent, now)
		return peer.writeFrame(frameAt(agentFrames, i))
	})
	stop()
	if werr := g.Wait(); err == nil {
		err = werr
	}
	if err != nil {
		t.Fatal(err)
	}
	checkBridged(t, peer.received(), ear.snapshot(), mouth.times(), agentSent, onsets)
}

// checkBridged checks the tones at both ends and reports the delays.
func checkBridged(t *testing.T, atAgent []rxFrame, atEar []heardFrame, mouthSent, agentSent []time.Time, onsets []int) {
	t.Helper()
	var agentPCM, earPCM [][]int16
	var agentHeard []heardFrame
	for _, f := range atAgent {
		agentPCM = append(agentPCM, f.pcm)
		agentHeard = append(agentHeard, heardFrame{at: f.at, pcm: f.pcm})
	}
	for _, f := range atEar {
		earPCM = append(earPCM, f.pcm)
	}
	const toneFramesSent = 8 * 5 // the full bursts in n frames
	checkTone(t, "phone→agent", measureTone(agentPCM, 1000, 600), 1000, toneFramesSent)
	checkTone(t, "agent→phone", measureTone(earPCM, 600, 1000), 600, toneFramesSent)
	toAgent := onsetDelays(mouthSent, onsets, agentHeard)
	toEar := onsetDelays(agentSent, onsets, atEar)
	t.Logf("phone mouth → agent: %v", toAgent)
	t.Logf("agent → phone ear: %v", toEar)
	if len(toAgent) < len(onsets)-1 || len(toEar) < len(onsets)-1 {
		t.Errorf("onsets heard: %d at the agent, %d at the phone, of %d", len(toAgent), len(toEar), len(onsets))
	}
}

// newBridgeSession makes a media.Session on loopback ports from a.
func newBridgeSession(t *testing.T, a *media.PortAllocator, cfg media.SessionConfig) *media.Session {
	t.Helper()
	pp, err := a.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Ports = pp
	s, err := media.NewSession(cfg)
	if err != nil {
		_ = pp.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
