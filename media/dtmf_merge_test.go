package media

import (
	"slices"
	"sync"
	"testing"
	"time"
)

func TestDTMFMerger(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	rfc := func(d byte, ms int) DTMF { return DTMF{Digit: d, Source: DTMFRFC4733, At: at(ms)} }
	inb := func(d byte, ms int) DTMF { return DTMF{Digit: d, Source: DTMFInband, At: at(ms)} }
	tests := []struct {
		name   string
		window time.Duration
		in     []DTMF
		want   []bool
	}{
		{"one press both paths", 0, []DTMF{rfc('5', 0), inb('5', 60)}, []bool{true, false}},
		{"in-band first", 0, []DTMF{inb('5', 60), rfc('5', 0)}, []bool{true, false}},
		{"at the window edge", 0, []DTMF{rfc('5', 0), inb('5', 150)}, []bool{true, false}},
		{"beyond the window", 0, []DTMF{rfc('5', 0), inb('5', 151)}, []bool{true, true}},
		{"different digits", 0, []DTMF{rfc('5', 0), inb('6', 10)}, []bool{true, true}},
		{"same path twice", 0, []DTMF{rfc('5', 0), rfc('5', 50)}, []bool{true, true}},
		{"5 5 both ways in order", 0,
			[]DTMF{rfc('5', 0), inb('5', 40), rfc('5', 120), inb('5', 165)},
			[]bool{true, false, true, false}},
		{"5 5 rfc first then in-band", 0,
			[]DTMF{rfc('5', 0), rfc('5', 120), inb('5', 40), inb('5', 165)},
			[]bool{true, true, false, false}},
		{"5 5 in-band late and reversed", 0,
			[]DTMF{inb('5', 165), rfc('5', 0), rfc('5', 120), inb('5', 40)},
			[]bool{true, true, false, false}},
		{"one-to-one: three in-band, two rfc", 0,
			[]DTMF{rfc('1', 0), rfc('1', 100), inb('1', 10), inb('1', 110), inb('1', 200)},
			[]bool{true, true, false, false, true}},
		{"nearest start wins", 0,
			[]DTMF{rfc('9', 0), rfc('9', 100), inb('9', 90), inb('9', 5)},
			[]bool{true, true, false, false}},
		{"only one path", 0, []DTMF{inb('1', 0), inb('2', 100), inb('3', 200)}, []bool{true, true, true}},
		{"custom window", 50 * time.Millisecond, []DTMF{rfc('#', 0), inb('#', 60)}, []bool{true, true}},
		{"pin both ways", 0,
			[]DTMF{rfc('1', 0), rfc('2', 200), inb('1', 50), rfc('3', 400), inb('2', 250), inb('3', 450), rfc('4', 600), inb('4', 640)},
			[]bool{true, true, false, true, false, false, true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []DTMFMergeOption
			if tt.window > 0 {
				opts = append(opts, WithDTMFMergeWindow(tt.window))
			}
			var out []DTMF
			opts = append(opts, WithDTMFMergeOutput(func(p DTMF) { out = append(out, p) }))
			m := NewDTMFMerger(opts...)
			var want []DTMF
			for i, p := range tt.in {
				if got := m.Add(p); got != tt.want[i] {
					t.Errorf("Add #%d (%c %v at %v) = %v, want %v", i, p.Digit, p.Source, p.At.Sub(t0), got, tt.want[i])
				}
				if tt.want[i] {
					want = append(want, p)
				}
			}
			if !slices.Equal(out, want) {
				t.Errorf("output %v, want %v", out, want)
			}
		})
	}
}

// The two paths deliver from different goroutines; every press must come
// out once whatever the interleaving.
func TestDTMFMergerConcurrent(t *testing.T) {
	t0 := time.Now()
	const n = 500
	digits := []byte(allDigits)
	var mu sync.Mutex
	var out []DTMF
	m := NewDTMFMerger(WithDTMFMergeOutput(func(p DTMF) {
		mu.Lock()
		out = append(out, p)
		mu.Unlock()
	}))
	// Rounds of 10 presses per path run in parallel, so one path is never
	// more than 2 s of presses ahead of the other (real paths run in step).
	const round = 10
	for r := 0; r < n; r += round {
		var wg sync.WaitGroup
		for _, src := range []DTMFSource{DTMFRFC4733, DTMFInband} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := r; i < r+round; i++ {
					skew := 0
					if src == DTMFInband {
						skew = 30 + i%50 // in-band sees the press a little later
					}
					m.Add(DTMF{Digit: digits[i%len(digits)], Source: src, At: t0.Add(time.Duration(i*200+skew) * time.Millisecond)})
				}
			}()
		}
		wg.Wait()
	}
	if len(out) != n {
		t.Fatalf("%d presses out, want %d", len(out), n)
	}
	slices.SortFunc(out, func(a, b DTMF) int { return a.At.Compare(b.At) })
	for i, p := range out {
		if p.Digit != digits[i%len(digits)] {
			t.Fatalf("press %d is %c, want %c", i, p.Digit, digits[i%len(digits)])
		}
	}
}

func TestDTMFMergerForgetsOldPresses(t *testing.T) {
	t0 := time.Now()
	m := NewDTMFMerger()
	for i := range 10000 {
		m.Add(DTMF{Digit: '1', Source: DTMFRFC4733, At: t0.Add(time.Duration(i) * 200 * time.Millisecond)})
	}
	m.mu.Lock()
	n := len(m.recent)
	m.mu.Unlock()
	if limit := int((dtmfMergeRetention+DefaultDTMFMergeWindow)/(200*time.Millisecond)) + 1; n > limit {
		t.Errorf("%d presses kept, want ≤ %d", n, limit)
	}
}
