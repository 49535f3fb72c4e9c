package prompts

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/supportline/ivr/media"
)

// ramp returns a clip of n samples valued start, start+1, ...
func ramp(name string, n int, start int16) *Clip {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = start + int16(i)
	}
	return &Clip{Name: name, Text: name, PCM: pcm}
}

// drain reads p until it ends (at most limit frames) and returns all samples.
func drain(t *testing.T, p media.Source, limit int) []int16 {
	t.Helper()
	var out []int16
	f := make([]int16, media.FrameSamples)
	for range limit {
		if !p.ReadFrame(f) {
			return out
		}
		out = append(out, f...)
	}
	t.Fatalf("source still playing after %d frames", limit)
	return nil
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestPlayerExactSamples(t *testing.T) {
	a, b := ramp("a", 250, 1), ramp("b", 100, 1000)
	gap := 10 * time.Millisecond // 80 samples
	p := NewPlayer([]*Clip{a, b}, WithGap(gap))
	if p.String() != "Player(a,b)" {
		t.Errorf("String = %q", p.String())
	}
	got := drain(t, p, 10)
	want := slices.Concat(a.PCM, make([]int16, 80), b.PCM)
	want = append(want, make([]int16, 480-len(want))...) // 430 samples → 3 frames
	if !slices.Equal(got, want) {
		t.Fatalf("got %d samples, want %d; mismatch", len(got), len(want))
	}
	if !closed(p.Done()) || p.Interrupted() {
		t.Errorf("done %v, interrupted %v", closed(p.Done()), p.Interrupted())
	}
	if p.Position() != 60*time.Millisecond {
		t.Errorf("Position = %v", p.Position())
	}
	f := make([]int16, media.FrameSamples)
	f[0] = 7
	if p.ReadFrame(f) || f[0] != 7 {
		t.Error("ReadFrame after the end returned true or touched the frame")
	}
}

// TestPlayerDoneWithLastSample checks Done closes as the last audio leaves,
// not one frame later.
func TestPlayerDoneWithLastSample(t *testing.T) {
	p := NewPlayer([]*Clip{ramp("a", 2*media.FrameSamples, 1)})
	f := make([]int16, media.FrameSamples)
	p.ReadFrame(f)
	if closed(p.Done()) {
		t.Fatal("done after first of two frames")
	}
	if !p.ReadFrame(f) || !closed(p.Done()) {
		t.Fatal("second frame: want true and done")
	}
	if p.ReadFrame(f) {
		t.Fatal("third frame returned true")
	}
}

func TestPlayerStop(t *testing.T) {
	p := NewPlayer([]*Clip{ramp("a", 8000, 0)})
	f := make([]int16, media.FrameSamples)
	for range 3 {
		if !p.ReadFrame(f) {
			t.Fatal("ended early")
		}
	}
	p.Stop()
	if !closed(p.Done()) || !p.Interrupted() {
		t.Fatal("Stop: want done and interrupted")
	}
	if p.ReadFrame(f) {
		t.Fatal("frame after Stop")
	}
	if p.Position() != 60*time.Millisecond {
		t.Errorf("Position = %v", p.Position())
	}
	p.Stop() // idempotent
}

// TestPlayerStopConcurrent stops from another goroutine while the sender
// reads (run with -race).
func TestPlayerStopConcurrent(t *testing.T) {
	music := ramp("m", 1000, 0)
	music.Loop = true
	p := NewPlayer([]*Clip{music}, WithLoop())
	var wg sync.WaitGroup
	started := make(chan struct{})
	wg.Go(func() {
		f := make([]int16, media.FrameSamples)
		for i := 0; p.ReadFrame(f); i++ {
			if i == 10 {
				close(started)
			}
		}
	})
	<-started
	p.Stop()
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed")
	}
	wg.Wait()
	if !p.Interrupted() {
		t.Error("not interrupted")
	}
}

func TestPlayerLoop(t *testing.T) {
	m := ramp("m", 300, 0)
	p := NewPlayer([]*Clip{m}, WithLoop())
	f := make([]int16, media.FrameSamples)
	var got []int16
	for range 10 {
		if !p.ReadFrame(f) {
			t.Fatal("loop ended")
		}
		got = append(got, f...)
	}
	for i, v := range got {
		if v != int16(i%300) {
			t.Fatalf("sample %d = %d, want %d (no gap at the wrap of one clip)", i, v, i%300)
		}
	}
	if closed(p.Done()) {
		t.Error("loop done without Stop")
	}
	// Two clips loop with the gap between them and at the wrap.
	p = NewPlayer([]*Clip{ramp("a", 40, 1), ramp("b", 40, 101)}, WithLoop(), WithGap(5*time.Millisecond))
	p.ReadFrame(f)
	one := slices.Concat(ramp("", 40, 1).PCM, make([]int16, 40), ramp("", 40, 101).PCM, make([]int16, 40))
	if want := slices.Concat(one, one[:0+len(f)-len(one)]); !slices.Equal(f, want) {
		t.Errorf("two-clip loop frame = %v", f)
	}
}

func TestPlayerEmpty(t *testing.T) {
	for _, p := range []*Player{NewPlayer(nil), NewPlayer([]*Clip{{Name: "e"}}, WithLoop())} {
		if p.ReadFrame(make([]int16, media.FrameSamples)) || !closed(p.Done()) || p.Interrupted() {
			t.Errorf("%v: want immediate end", p)
		}
	}
}

func TestPlayerNoAllocs(t *testing.T) {
	m := ramp("m", 1234, 0)
	p := NewPlayer([]*Clip{m, m}, WithLoop())
	f := make([]int16, media.FrameSamples)
	if n := testing.AllocsPerRun(1000, func() { p.ReadFrame(f) }); n != 0 {
		t.Errorf("%v allocations per ReadFrame", n)
	}
}

func BenchmarkPlayerReadFrame(b *testing.B) {
	m := ramp("m", 8000, 0)
	p := NewPlayer([]*Clip{m, m, m}, WithLoop())
	f := make([]int16, media.FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		p.ReadFrame(f)
	}
}

func TestPlayerSentencePause(t *testing.T) {
	a := ramp("a", 100, 1)
	a.Text = "Sorry."
	b, c := ramp("b", 60, 1), ramp("c", 20, 1)
	p := NewPlayer([]*Clip{a, b, c}, WithSentencePause(5*time.Millisecond), WithGap(time.Millisecond))
	got := drain(t, p, 10)
	want := slices.Concat(a.PCM, make([]int16, 40), b.PCM, make([]int16, 8), c.PCM)
	want = append(want, make([]int16, 320-len(want))...)
	if !slices.Equal(got, want) {
		t.Errorf("pauses wrong: got %d samples", len(got))
	}
}
