package media

import (
	"testing"
	"time"
)

// testIDCodec decodes each payload byte b to the sample b*64, so a frame's
// first sample tells which packet it came from.
var testIDCodec = Codec{
	Name: "ID", ClockRate: SampleRate,
	Encode: func(dst []byte, src []int16) []byte { return dst },
	Decode: func(dst []int16, p []byte) []int16 {
		for _, b := range p {
			dst = append(dst, int16(b)*64)
		}
		return dst
	},
}

func jbID(seq uint16) byte { return byte(seq%200) + 20 }

func jbPayload(seq uint16) []byte {
	p := make([]byte, FrameSamples)
	for i := range p {
		p[i] = jbID(seq)
	}
	return p
}

// jbStep pushes packets, then pops one frame and checks it.
type jbStep struct {
	push   []uint16
	event  []uint16 // telephone-event packets pushed after push
	want   FrameKind
	seq    uint16 // for FramePlayed: the packet expected
	sample int16  // for FrameConcealed: expected first sample
}

func jbPlayed(seq uint16, push ...uint16) jbStep {
	return jbStep{push: push, want: FramePlayed, seq: seq}
}

func TestJitterBuffer(t *testing.T) {
	type counts struct{ late, dup, dropped, resyncs, concealed uint64 }
	tests := []struct {
		name  string
		steps []jbStep
		reset int // before this step index (0 = never)
		want  counts
	}{
		{
			name: "in order",
			steps: []jbStep{
				{push: []uint16{100}, want: FrameNone},
				jbPlayed(100, 101), jbPlayed(101, 102), jbPlayed(102, 103), jbPlayed(103),
			},
		},
		{
			name: "reordered",
			steps: []jbStep{
				jbPlayed(10, 10, 12), // 11 may still come in time
				jbPlayed(11, 11), jbPlayed(12),
			},
		},
		{
			name: "duplicates",
			steps: []jbStep{
				{push: []uint16{5, 5}, want: FrameNone},
				jbPlayed(5, 6, 6), jbPlayed(6, 7, 5), jbPlayed(7),
			},
			want: counts{dup: 2, late: 1},
		},
		{
			name: "loss concealed with attenuated repeats then silence",
			steps: []jbStep{
				jbPlayed(0, 0, 1), jbPlayed(1),
				{push: []uint16{5, 6}, want: FrameConcealed, sample: int16(jbID(1)) * 64 >> 1},
				{want: FrameConcealed, sample: int16(jbID(1)) * 64 >> 2},
				{want: FrameConcealed, sample: int16(jbID(1)) * 64 >> 3},
				jbPlayed(5), jbPlayed(6),
			},
			want: counts{concealed: 3},
		},
		{
			name: "wrap at 65535",
			steps: []jbStep{
				{push: []uint16{65534}, want: FrameNone},
				jbPlayed(65534, 0), jbPlayed(65535, 65535), jbPlayed(0, 1), jbPlayed(1, 2), jbPlayed(2),
			},
		},
		{
			name: "late packet dropped",
			steps: []jbStep{
				jbPlayed(1, 1, 2), jbPlayed(2, 3), jbPlayed(3, 2),
			},
			want: counts{late: 1},
		},
		{
			name: "new SSRC resets",
			steps: []jbStep{
				jbPlayed(7, 7, 8),
				{push: []uint16{40000}, want: FrameNone}, // after Reset: refill
				jbPlayed(40000, 40001), jbPlayed(40001),
			},
			reset: 1,
		},
		{
			name: "big sequence jump resyncs",
			steps: []jbStep{
				jbPlayed(7, 7, 8), jbPlayed(8),
				{push: []uint16{3000}, want: FrameNone},
				jbPlayed(3000, 3001),
			},
			want: counts{resyncs: 1},
		},
		{
			name: "burst after a pause is cut back to the target",
			steps: []jbStep{
				jbPlayed(0, 0, 1), jbPlayed(1),
				{want: FrameConcealed, sample: int16(jbID(1)) * 64 >> 1}, // underrun: hold
				{want: FrameConcealed, sample: int16(jbID(1)) * 64 >> 2},
				{want: FrameConcealed, sample: int16(jbID(1)) * 64 >> 3},
				{want: FrameConcealed, sample: 0},            // then silence
				jbPlayed(10, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), // 2..9 dropped
				jbPlayed(11),
			},
			want: counts{dropped: 8, concealed: 4},
		},
		{
			name: "telephone-event packets play as silence, not loss",
			steps: []jbStep{
				jbPlayed(0, 0, 1),
				{event: []uint16{2, 3}, want: FramePlayed, seq: 1},
				{want: FrameEvent},
				{push: []uint16{4}, want: FrameEvent},
				jbPlayed(4, 5),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jb := NewJitterBuffer(testIDCodec, 40*time.Millisecond)
			dst := make([]int16, FrameSamples)
			for i, st := range tt.steps {
				if tt.reset != 0 && i == tt.reset {
					jb.Reset()
				}
				for _, seq := range st.push {
					jb.Push(seq, jbPayload(seq))
				}
				for _, seq := range st.event {
					jb.PushEvent(seq)
				}
				got := jb.Pop(dst)
				if got != st.want {
					t.Fatalf("step %d: Pop = %v, want %v", i, got, st.want)
				}
				switch got {
				case FramePlayed:
					if want := int16(jbID(st.seq)) * 64; dst[0] != want || dst[FrameSamples-1] != want {
						t.Fatalf("step %d: played sample %d, want packet %d (%d)", i, dst[0], st.seq, want)
					}
				case FrameConcealed:
					if dst[0] != st.sample {
						t.Fatalf("step %d: concealed sample %d, want %d", i, dst[0], st.sample)
					}
				case FrameNone, FrameEvent:
					if dst[0] != 0 {
						t.Fatalf("step %d: %v frame not silent", i, got)
					}
				}
			}
			s := jb.Stats()
			got := counts{s.Late, s.Duplicate, s.Dropped, s.Resyncs, s.Concealed}
			if got != tt.want {
				t.Errorf("counters %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestJitterBufferShrinks checks that a delay above the target for a whole
// second is brought down by one frame.
func TestJitterBufferShrinks(t *testing.T) {
	jb := NewJitterBuffer(testIDCodec, 40*time.Millisecond)
	dst := make([]int16, FrameSamples)
	for seq := range uint16(3) {
		jb.Push(seq, jbPayload(seq))
	}
	seq := uint16(3)
	for range 2 * jbShrinkWindow {
		if k := jb.Pop(dst); k != FramePlayed {
			t.Fatalf("Pop = %v", k)
		}
		jb.Push(seq, jbPayload(seq))
		seq++
	}
	if s := jb.Stats(); s.Dropped != 1 {
		t.Errorf("dropped %d frames, want 1", s.Dropped)
	}
	if d := jb.Depth(); d != 2 {
		t.Errorf("depth %d after shrinking, want 2", d)
	}
}

func TestJitterBufferOddPayloads(t *testing.T) {
	jb := NewJitterBuffer(testIDCodec, 20*time.Millisecond)
	dst := make([]int16, FrameSamples)
	jb.Push(1, []byte{30, 30, 30})           // short: padded with silence
	jb.Push(2, make([]byte, 3*FrameSamples)) // long: cut
	if k := jb.Pop(dst); k != FramePlayed || dst[0] != 30*64 || dst[3] != 0 {
		t.Errorf("short payload: %v %v", k, dst[:4])
	}
	if k := jb.Pop(dst); k != FramePlayed {
		t.Errorf("long payload: %v", k)
	}
	for _, k := range []FrameKind{FrameNone, FramePlayed, FrameConcealed, FrameEvent, 99} {
		if k.String() == "" {
			t.Errorf("%d has no name", k)
		}
	}
}

func BenchmarkJitterBuffer(b *testing.B) {
	jb := NewJitterBuffer(PCMU, 0)
	p := make([]byte, FrameSamples)
	dst := make([]int16, FrameSamples)
	b.ReportAllocs()
	seq := uint16(0)
	for b.Loop() {
		jb.Push(seq, p)
		jb.Pop(dst)
		seq++
	}
}
