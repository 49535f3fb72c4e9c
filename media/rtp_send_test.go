package media

import (
	"testing"
	"time"
)

// TestSenderTick drives the pacing decision with tick times as a ticker
// started after the media clock delivers them: at or after the start of
// each frame, jittered or late.
func TestSenderTick(t *testing.T) {
	const F = FrameDuration
	type tk struct {
		at   time.Duration // since the clock's start
		want int           // packets this tick sends
	}
	tests := []struct {
		name             string
		ticks            []tk
		late, skipped    uint64
		lateness0, max   time.Duration // lateness of the first tick after the start, largest lateness
		wantMarkerAtLast bool
	}{
		{
			name: "ticks at the frame start or a little after send one frame each",
			ticks: []tk{{F, 1}, {2*F + time.Nanosecond, 1}, {3*F + 2*time.Microsecond, 1},
				{4*F + 30*time.Microsecond, 1}, {5*F + time.Millisecond, 1}, {6*F + 4900*time.Microsecond, 1}, {7 * F, 1}},
			lateness0: 0, max: 4900 * time.Microsecond,
		},
		{
			name:      "a tick late by most of a frame still sends one",
			ticks:     []tk{{F + 19*time.Millisecond, 1}, {2*F + 10*time.Microsecond, 1}, {3 * F, 1}},
			lateness0: 19 * time.Millisecond, max: 19 * time.Millisecond,
		},
		{
			name: "a tick late by a frame catches up, the tick kept meanwhile sends nothing",
			ticks: []tk{{F, 1}, {2*F + 25*time.Millisecond, 2}, {3*F + 5*time.Millisecond + 100*time.Microsecond, 0},
				{4 * F, 1}, {5 * F, 1}},
			late: 1, max: 25 * time.Millisecond,
		},
		{
			name:  "a stall longer than the catch-up skips to the current frame with a marker",
			ticks: []tk{{F, 1}, {2*F + 100*time.Millisecond, 1}},
			late:  1, skipped: 5, max: 100 * time.Millisecond, wantMarkerAtLast: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLeaks(t)
			c := newRTPCapture(t)
			s := newTestSession(t, SessionConfig{Remote: c.addr()})
			sd := newSender(s)
			sd.start = time.Now()
			sd.tick(sd.start) // frame 0, as sendLoop does
			first := c.next(t)
			prev := first
			for i, k := range tt.ticks {
				sd.tick(sd.start.Add(k.at))
				for j := range k.want {
					p := c.next(t)
					if p.SequenceNumber != prev.SequenceNumber+1 || p.Timestamp != prev.Timestamp+FrameSamples && !p.Marker {
						t.Fatalf("tick %d packet %d: seq %d ts %d after seq %d ts %d", i, j, p.SequenceNumber, p.Timestamp, prev.SequenceNumber, prev.Timestamp)
					}
					prev = p
				}
				if got := s.Stats().PacketsSent; got != uint64(prev.SequenceNumber-first.SequenceNumber)+1 {
					t.Fatalf("tick %d at %v: %d packets sent in all, want %d", i, k.at, got, prev.SequenceNumber-first.SequenceNumber+1)
				}
			}
			if prev.Marker != tt.wantMarkerAtLast {
				t.Errorf("last packet marker %v", prev.Marker)
			}
			st := s.Stats()
			if st.LateTicks != tt.late || st.SkippedFrames != tt.skipped {
				t.Errorf("late ticks %d, skipped %d; want %d, %d", st.LateTicks, st.SkippedFrames, tt.late, tt.skipped)
			}
			sending := 1 // the start
			for _, k := range tt.ticks {
				if k.want > 0 {
					sending++
				}
			}
			if h := st.TickLateness; h.N != uint64(sending) || h.Max != tt.max {
				t.Errorf("tick lateness: n=%d max=%v, want n=%d max=%v", h.N, h.Max, sending, tt.max)
			}
			if tt.lateness0 > 0 && st.TickLateness.Buckets[tt.lateness0/time.Millisecond] == 0 {
				t.Errorf("no tick counted %v late: %v", tt.lateness0, st.TickLateness.String())
			}
		})
	}
}
