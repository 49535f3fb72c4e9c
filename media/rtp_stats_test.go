package media

import (
	"strings"
	"testing"
	"time"
)

func TestIntervalHistogram(t *testing.T) {
	var h IntervalHistogram
	if h.Percentile(50) != 0 || h.Within(FrameDuration, time.Millisecond) != 0 {
		t.Error("empty histogram not zero")
	}
	for range 997 {
		h.Add(20*time.Millisecond + 300*time.Microsecond)
	}
	h.Add(0)
	h.Add(45 * time.Millisecond)
	h.Add(700 * time.Millisecond) // overflow bucket
	tests := []struct {
		p    float64
		want time.Duration
	}{
		{0.01, time.Millisecond}, // the smallest interval, 0 ms: bucket [0, 1 ms)
		{50, 21 * time.Millisecond},
		{99.7, 21 * time.Millisecond},
		{99.9, 46 * time.Millisecond},
		{100, 700 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := h.Percentile(tt.p); got != tt.want {
			t.Errorf("Percentile(%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if got := h.Within(FrameDuration, 5*time.Millisecond); got != 0.997 {
		t.Errorf("Within = %v, want 0.997", got)
	}
	if h.Max != 700*time.Millisecond || h.N != 1000 {
		t.Errorf("Max %v N %d", h.Max, h.N)
	}
	var m IntervalHistogram
	m.Merge(&h)
	m.Merge(&h)
	if m.N != 2000 || m.Buckets[20] != 2*997 || m.Max != h.Max {
		t.Errorf("Merge: N %d", m.N)
	}
	if s := h.String(); !strings.Contains(s, "n=1000") {
		t.Errorf("String %q", s)
	}
}

func TestSeqTrackerLoss(t *testing.T) {
	tests := []struct {
		name string
		seqs []uint16
		lost int64
	}{
		{"in order", []uint16{1, 2, 3, 4}, 0},
		{"one lost", []uint16{1, 2, 4, 5}, 1},
		{"reordered", []uint16{1, 3, 2, 4}, 0},
		{"duplicate", []uint16{1, 2, 2, 3}, -1},
		{"wrap", []uint16{65534, 65535, 0, 2}, 1},
		{"restart after a jump", []uint16{10, 11, 40000, 40001, 40002}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr seqTracker
			for _, s := range tt.seqs {
				tr.update(s)
			}
			if got := tr.lost(); got != tt.lost {
				t.Errorf("lost %d, want %d", got, tt.lost)
			}
		})
	}
}

func TestJitterEstimator(t *testing.T) {
	var e jitterEstimator
	// Perfect pacing: no jitter.
	for i := range uint32(100) {
		e.update(5000+i*160, i*160)
	}
	if d := e.duration(SampleRate); d != 0 {
		t.Errorf("jitter %v for perfect pacing", d)
	}
	// Alternating ±2 ms (16 units): |D| = 32 units = 4 ms each packet.
	for i := range uint32(2000) {
		off := uint32(0)
		if i%2 == 1 {
			off = 32
		}
		e.update(5000+i*160+off, i*160)
	}
	if d := e.duration(SampleRate); d < 3800*time.Microsecond || d > 4100*time.Microsecond {
		t.Errorf("jitter %v, want about 4 ms (A.8 integer arithmetic truncates)", d)
	}
}
