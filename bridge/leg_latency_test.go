package bridge

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/supportline/ivr/media"
)

// TestLegLatency measures the delay the leg adds in each direction, by the
// onsets of tone bursts (100 ms of tone, 200 ms of silence, 10 times):
//
//   - caller → agent: from the WriteSample call of a burst's first frame to
//     the arrival of its RTP packet in the peer (encode, hand-off to the
//     writer goroutine, SRTP, loopback UDP, pion's receive path);
//   - agent → caller: from the peer's write of a burst's first frame to the
//     first Source().ReadFrame, on the caller's own 20 ms clock, that gives
//     it (SRTP, loopback UDP, the track reader, the jitter buffer, and the
//     wait for the caller's next tick, 0–20 ms, which any bridge into a
//     paced RTP stream has).
//
// In steady state the agent → caller figure is the wait from the packet's
// arrival to the caller's next tick, plus about a millisecond: the jitter
// buffer plays a packet at the first tick after it arrives. When packets
// arrive within a millisecond or so of the caller's ticks (the peer's clock
// 0 or 19 ms after the caller's here), scheduling jitter puts some after
// the tick: the buffer underruns once and then holds one frame more (20 ms
// plus the phase, about 20 ms); a second underrun can add another frame for
// up to a second, until the buffer's shrink rule drops it. The cases set the
// peer's clock 0, 1, 10 and 19 ms after the caller's. On this shared
// machine a stalled goroutine now and then sets the playout back a frame
// for a second or two, so the bounds are: the best of ten onsets within one
// frame and 2 ms (the steady state: about 10 ms at phase 10 ms when the
// machine is quiet), and the median within two frames.
func TestLegLatency(t *testing.T) {
	const on, off, n = 5, 10, 150
	for _, tc := range []struct {
		codec       string
		phase, best time.Duration
	}{
		{"PCMU", 0, 22 * time.Millisecond},
		{"PCMU", time.Millisecond, 22 * time.Millisecond},
		{"PCMA", 10 * time.Millisecond, 22 * time.Millisecond},
		{"PCMU", 19 * time.Millisecond, 22 * time.Millisecond},
	} {
		t.Run(fmt.Sprintf("%s/phase=%v", tc.codec, tc.phase), func(t *testing.T) {
			codec := tc.codec
			checkLeaks(t)
			ctx := testContext(t, 20*time.Second)
			leg := newTestLeg(t, testLegConfig(codec))
			peer := newTestPeer(t, codec, false)
			connect(ctx, t, leg, peer)
			callerAudio, onsets := bursts(1000, on, off, n)
			agentAudio, _ := bursts(600, on, off, n)
			callerSent, agentSent, heard := exchange(ctx, t, leg, peer, callerAudio, agentAudio, 10, tc.phase)

			var atAgent []heardFrame
			for _, f := range peer.received() {
				atAgent = append(atAgent, heardFrame{at: f.at, pcm: f.pcm})
			}
			toAgent := onsetDelays(callerSent, onsets, atAgent)
			toCaller := onsetDelays(agentSent, onsets, heard)
			if len(toAgent) != len(onsets) || len(toCaller) != len(onsets) {
				t.Fatalf("onsets found: %d to the agent, %d to the caller, of %d", len(toAgent), len(toCaller), len(onsets))
			}
			t.Logf("caller→agent: median %v, max %v, all %v", durMedian(toAgent), slices.Max(toAgent), toAgent)
			t.Logf("agent→caller: median %v, max %v, all %v", durMedian(toCaller), slices.Max(toCaller), toCaller)
			t.Logf("stats: %+v", leg.Stats())
			if m := durMedian(toAgent); m > 10*time.Millisecond {
				t.Errorf("caller→agent median %v, want ≤ 10 ms", m)
			}
			if b := slices.Min(toCaller); b > tc.best {
				t.Errorf("agent→caller: best %v, want ≤ %v", b, tc.best)
			}
			if m := durMedian(toCaller); m > 45*time.Millisecond {
				t.Errorf("agent→caller median %v, want ≤ 45 ms", m)
			}
		})
	}
}

// onsetDelays returns, for each burst onset, the time from its frame's
// sending to the first loud frame received at or after it.
func onsetDelays(sent []time.Time, onsets []int, got []heardFrame) []time.Duration {
	var out []time.Duration
	for _, k := range onsets {
		for _, f := range got {
			if !f.at.Before(sent[k]) && media.DBFS(f.pcm) > toneLevel {
				out = append(out, f.at.Sub(sent[k]).Round(10*time.Microsecond))
				break
			}
		}
	}
	return out
}
