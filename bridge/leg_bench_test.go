package bridge

import (
	"testing"
	"time"

	pmedia "github.com/pion/webrtc/v4/pkg/media"

	"github.com/supportline/ivr/media"
)

// BenchmarkLegWriteSample is the caller side's cost of one frame to the
// agent on a connected leg: encode and hand-off, on the caller's RTP pacing
// goroutine. (Frames the writer has no room for are dropped, as they would
// be if it fell behind; the writer's own cost is BenchmarkLegTrackWrite.)
func BenchmarkLegWriteSample(b *testing.B) {
	leg := connectedBenchLeg(b)
	frame := toneFrames(1000, 0.5, 1)[0]
	b.ReportAllocs()
	for b.Loop() {
		if err := leg.WriteSample(frame); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLegTrackWrite is the leg's writer goroutine's cost of one frame:
// pion's packetizer, RTCP report interceptor, SRTP and a loopback UDP send.
func BenchmarkLegTrackWrite(b *testing.B) {
	leg := connectedBenchLeg(b)
	payload := media.PCMU.Encode(nil, toneFrames(1000, 0.5, 1)[0])
	b.ReportAllocs()
	for b.Loop() {
		if err := leg.track.WriteSample(pmedia.Sample{Data: payload, Duration: media.FrameDuration}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLegSourceReadFrame is the cost of one frame of the agent's
// voice: the track reader's push into the jitter buffer and the caller's
// pacing loop's ReadFrame (decode) — or ReadFrame alone while the agent
// sends nothing (silence).
func BenchmarkLegSourceReadFrame(b *testing.B) {
	b.Run("push+read", func(b *testing.B) {
		leg := newTestLeg(b, testLegConfig("PCMU"))
		payload := media.PCMU.Encode(nil, toneFrames(600, 0.5, 1)[0])
		src, f := leg.Source(), make([]int16, media.FrameSamples)
		var seq uint16
		b.ReportAllocs()
		for b.Loop() {
			leg.rx.push(1, seq, payload)
			seq++
			if !src.ReadFrame(f) {
				b.Fatal("source ended")
			}
		}
		if st := leg.Stats().Jitter; st.Played < uint64(b.N)*9/10 {
			b.Fatalf("only %d of %d frames played: %+v", st.Played, b.N, st)
		}
	})
	b.Run("silence", func(b *testing.B) {
		leg := newTestLeg(b, testLegConfig("PCMU"))
		src, f := leg.Source(), make([]int16, media.FrameSamples)
		b.ReportAllocs()
		for b.Loop() {
			src.ReadFrame(f)
		}
	})
}

func connectedBenchLeg(b *testing.B) *Leg {
	b.Helper()
	ctx := testContext(b, 10*time.Second)
	leg := newTestLeg(b, testLegConfig("PCMU"))
	connect(ctx, b, leg, newTestPeer(b, "PCMU", false))
	return leg
}
