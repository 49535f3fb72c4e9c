package bridge

import (
	"context"
	"testing"
	"time"

	"github.com/supportline/ivr/media"
)

// TestLegWriteSampleOverrun writes frames far faster than 20 ms apart, as a
// stalled caller's pacing loop catching up would: WriteSample never waits,
// the frames the writer has no room for are dropped and counted, and the
// RTP the browser gets skips their sequence numbers and media time, so
// timestamps stay true to media time (160 per sequence number). A few
// paced frames of silence follow, to know when everything has arrived (the
// flood itself may overflow the peer's UDP buffer: that loss shows as
// sequence gaps too).
func TestLegWriteSampleOverrun(t *testing.T) {
	const n, tail = 2000, 5
	checkLeaks(t)
	ctx := testContext(t, 20*time.Second)
	leg := newTestLeg(t, testLegConfig("PCMU"))
	peer := newTestPeer(t, "PCMU", false)
	connect(ctx, t, leg, peer)
	frame := toneFrames(1000, 0.5, 1)[0]
	start := time.Now()
	for range n {
		if err := leg.WriteSample(frame); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d WriteSample calls in %v", n, time.Since(start))
	silence := make([]int16, media.FrameSamples)
	if err := tick(ctx, tail, func(int, time.Time) error { return leg.WriteSample(silence) }); err != nil {
		t.Fatal(err)
	}
	rx := waitSilent(ctx, t, peer, tail)
	st := leg.Stats()
	if st.SendDropped == 0 || st.Sent+st.SendDropped != n+tail {
		t.Fatalf("stats %+v: want %d frames sent or dropped, some dropped", st, n+tail)
	}
	gaps := 0
	for i := 1; i < len(rx); i++ {
		dseq := rx[i].seq - rx[i-1].seq
		if dts := rx[i].ts - rx[i-1].ts; dts != uint32(dseq)*media.FrameSamples {
			t.Fatalf("packet %d: sequence +%d, timestamp +%d", i, dseq, dts)
		}
		gaps += int(dseq) - 1
	}
	t.Logf("stats %+v; %d packets received, %d skipped sequence numbers", st, len(rx), gaps)
	if gaps == 0 {
		t.Errorf("no sequence numbers skipped for %d frames dropped", st.SendDropped)
	}
}

// waitSilent waits until the peer has received n frames of silence.
func waitSilent(ctx context.Context, t *testing.T, peer *testPeer, n int) []rxFrame {
	t.Helper()
	tk := time.NewTicker(5 * time.Millisecond)
	defer tk.Stop()
	for {
		rx, silent := peer.received(), 0
		for _, f := range rx {
			if media.DBFS(f.pcm) < toneLevel {
				silent++
			}
		}
		if silent >= n {
			return rx
		}
		select {
		case <-ctx.Done():
			t.Fatalf("peer received %d of %d frames of silence", silent, n)
		case <-tk.C:
		}
	}
}

// TestLegWriteSamplePause has the caller's frames pause (as while the
// caller is on hold) for 1 s and for 2 min: the RTP timestamps the browser
// gets follow media time across the pause, the sequence numbers skip the
// same frames (loss, not a new stream: at most legMaxSkip), and short
// late ticks skip nothing.
func TestLegWriteSamplePause(t *testing.T) {
	checkLeaks(t)
	ctx := testContext(t, 20*time.Second)
	leg := newTestLeg(t, testLegConfig("PCMU"))
	peer := newTestPeer(t, "PCMU", false)
	connect(ctx, t, leg, peer)
	frame := toneFrames(1000, 0.5, 1)[0]
	silence := make([]int16, media.FrameSamples)
	// Media time of each write, in frames: a late tick (+2), a 1 s pause,
	// a 2 min pause, then the silent tail.
	at := []int{0, 1, 2, 4, 5, 55, 56, 57, 6057, 6058, 6059, 6060, 6061, 6062}
	const tail = 3
	base := time.Now()
	err := tick(ctx, len(at), func(i int, _ time.Time) error {
		f := frame
		if i >= len(at)-tail {
			f = silence
		}
		return leg.writeSampleAt(f, base.Add(time.Duration(at[i])*media.FrameDuration))
	})
	if err != nil {
		t.Fatal(err)
	}
	rx := waitSilent(ctx, t, peer, tail)
	if len(rx) != len(at) {
		t.Fatalf("peer received %d packets, want %d", len(rx), len(at))
	}
	for i := 1; i < len(rx); i++ {
		dts, dseq := rx[i].ts-rx[i-1].ts, rx[i].seq-rx[i-1].seq
		want := at[i] - at[i-1]
		if want > legMaxPause {
			want = min(want, legMaxSkip+1)
		} else {
			want = 1
		}
		if int(dseq) != want || dts != uint32(dseq)*media.FrameSamples {
			t.Errorf("write %d (+%d frames): sequence +%d, timestamp +%d; want +%d, +%d",
				i, at[i]-at[i-1], dseq, dts, want, want*media.FrameSamples)
		}
	}
}
