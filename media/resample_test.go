package media

import (
	"math"
	"strconv"
	"testing"
)

// sine returns n samples of amp·sin(2πft) at rate.
func sine(n, rate int, f, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(amp * math.Sin(2*math.Pi*f*float64(i)/float64(rate))))
	}
	return out
}

// toneAmp measures the peak amplitude of the component of x at frequency f
// with a Hann-windowed single-bin DFT (Goertzel at an arbitrary frequency).
func toneAmp(x []int16, rate int, f float64) float64 {
	n := len(x)
	var re, im, wsum float64
	for i, v := range x {
		w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n-1))
		ph := 2 * math.Pi * f * float64(i) / float64(rate)
		re += w * float64(v) * math.Cos(ph)
		im -= w * float64(v) * math.Sin(ph)
		wsum += w
	}
	return 2 * math.Hypot(re, im) / wsum
}

// peakFreq finds the strongest frequency of x between lo and hi in 1 Hz steps.
func peakFreq(x []int16, rate int, lo, hi float64) float64 {
	best, bestF := -1.0, 0.0
	for f := lo; f <= hi; f++ {
		if a := toneAmp(x, rate, f); a > best {
			best, bestF = a, f
		}
	}
	return bestF
}

func rms64(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}

func db(ratio float64) float64 { return 20 * math.Log10(ratio) }

func TestResampleTone(t *testing.T) {
	tests := []struct {
		from, to int
		freq     float64
	}{
		{48000, 8000, 1000},
		{48000, 8000, 3300},
		{44100, 8000, 440},
		{44100, 8000, 3000},
		{32000, 8000, 1800},
		{24000, 8000, 2500},
		{22050, 8000, 700},
		{16000, 8000, 3400},
		{8000, 16000, 1000},
		{8000, 16000, 3400},
		{8000, 44100, 1234},
		{11025, 8000, 2000},
		{44101, 8000, 1000}, // awkward ratio: phases computed on the fly
	}
	const amp = 16000.0
	for _, tt := range tests {
		t.Run(fmtRates(tt.from, tt.to, tt.freq), func(t *testing.T) {
			in := sine(tt.from/2, tt.from, tt.freq, amp) // 0.5 s
			out := Resample(in, tt.from, tt.to)
			want := (len(in)*tt.to + tt.from - 1) / tt.from
			if len(out) != want {
				t.Fatalf("len = %d, want %d", len(out), want)
			}
			mid := out[len(out)/10 : len(out)*9/10] // away from the edges
			if f := peakFreq(mid, tt.to, tt.freq-20, tt.freq+20); math.Abs(f-tt.freq) > 1 {
				t.Errorf("peak at %.0f Hz, want %.0f", f, tt.freq)
			}
			if got := toneAmp(mid, tt.to, tt.freq); math.Abs(db(got/amp)) > 0.1 {
				t.Errorf("level %.3f dB, want 0 ± 0.1", db(got/amp))
			}
		})
	}
}

func TestResampleStopband(t *testing.T) {
	tests := []struct {
		from, to int
		freq     float64
	}{
		{48000, 8000, 4200},
		{48000, 8000, 5000},
		{48000, 8000, 7000},
		{48000, 8000, 12000},
		{44100, 8000, 4300},
		{44100, 8000, 9000},
		{22050, 8000, 6000},
		{16000, 8000, 4500},
		{16000, 8000, 7500},
		{32000, 8000, 4100},
	}
	const amp = 16000.0
	for _, tt := range tests {
		t.Run(fmtRates(tt.from, tt.to, tt.freq), func(t *testing.T) {
			out := Resample(sine(tt.from/2, tt.from, tt.freq, amp), tt.from, tt.to)
			mid := out[len(out)/10 : len(out)*9/10]
			if a := db(rms64(mid) * math.Sqrt2 / amp); a > -50 {
				t.Errorf("alias at %.1f dB, want ≤ -50", a)
			}
		})
	}
}

// Upsampling must not create images above the old Nyquist frequency.
func TestResampleImages(t *testing.T) {
	const amp = 16000.0
	for _, f := range []float64{500, 1000, 3000, 3500} {
		t.Run(fmtRates(8000, 16000, f), func(t *testing.T) {
			out := Resample(sine(4000, 8000, f, amp), 8000, 16000)
			mid := out[len(out)/10 : len(out)*9/10]
			if a := db(toneAmp(mid, 16000, 8000-f) / amp); a > -60 {
				t.Errorf("image at %.0f Hz: %.1f dB, want ≤ -60", 8000-f, a)
			}
		})
	}
}

func TestResampleEdgeCases(t *testing.T) {
	tests := []struct {
		name     string
		in       []int16
		from, to int
		wantLen  int
		wantNil  bool
	}{
		{"empty", nil, 48000, 8000, 0, false},
		{"same rate copies", []int16{1, 2, 3}, 8000, 8000, 3, false},
		{"bad from", []int16{1}, 0, 8000, 0, true},
		{"bad to", []int16{1}, 8000, -1, 0, true},
		{"one sample down", []int16{100}, 48000, 8000, 1, false},
		{"seven samples down", make([]int16, 7), 48000, 8000, 2, false},
		{"three samples up", make([]int16, 3), 8000, 16000, 6, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := Resample(tt.in, tt.from, tt.to)
			if (out == nil) != tt.wantNil && len(tt.in) > 0 {
				t.Fatalf("nil = %v, want %v", out == nil, tt.wantNil)
			}
			if len(out) != tt.wantLen {
				t.Fatalf("len = %d, want %d", len(out), tt.wantLen)
			}
		})
	}
	if _, err := NewResampler(0, 1); err == nil {
		t.Error("NewResampler(0, 1): no error")
	}
}

func TestResampleFullScaleSaturates(t *testing.T) {
	// A full-scale square wave overshoots (Gibbs); output must clip, not wrap.
	in := make([]int16, 4800)
	for i := range in {
		if (i/24)%2 == 0 {
			in[i] = 32767
		} else {
			in[i] = -32768
		}
	}
	out := Resample(in, 48000, 8000)
	for i := 1; i < len(out); i++ {
		if d := int(out[i]) - int(out[i-1]); d > 40000 || d < -40000 {
			t.Fatalf("wrap-around at %d: %d → %d", i, out[i-1], out[i])
		}
	}
}

func TestUpsampler2xMatchesOneShot(t *testing.T) {
	tests := []struct {
		name   string
		frames []int // frame sizes fed in turn
	}{
		{"20ms frames", []int{160, 160, 160, 160, 160, 160, 160, 160, 160, 160}},
		{"ragged", []int{1, 159, 7, 320, 0, 80, 80, 33, 160, 500}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			total := 0
			for _, n := range tt.frames {
				total += n
			}
			in := make([]int16, total)
			for i := range in {
				in[i] = int16(8000*math.Sin(float64(i)*0.37) + 6000*math.Sin(float64(i)*1.9))
			}
			want := Resample(in, 8000, 16000)
			var u Upsampler2x
			var got []int16
			pos := 0
			for _, n := range tt.frames {
				before := len(got)
				got = u.Process(got, in[pos:pos+n])
				if len(got)-before != 2*n {
					t.Fatalf("frame of %d gave %d samples", n, len(got)-before)
				}
				pos += n
			}
			d := u.Delay()
			// Stream sample k is one-shot sample k-d, except where the one-shot
			// conversion already sees the zero padding after the end.
			for k := d; k < len(got); k++ {
				if m := k - d; m < len(want)-d && got[k] != want[m] {
					t.Fatalf("stream[%d] = %d, one-shot[%d] = %d", k, got[k], m, want[m])
				}
			}
		})
	}
}

func TestUpsampler2xReset(t *testing.T) {
	in := sine(160, 8000, 1000, 10000)
	var u Upsampler2x
	a := u.Process(nil, in)
	u.Reset()
	b := u.Process(nil, in)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("after Reset sample %d = %d, want %d", i, b[i], a[i])
		}
	}
}

func TestDownmixStereo(t *testing.T) {
	tests := []struct {
		name string
		in   []int16
		want []int16
	}{
		{"empty", nil, []int16{}},
		{"pairs", []int16{100, 300, -32768, -32768, 32767, 32767, 1, -1}, []int16{200, -32768, 32767, 0}},
		{"odd trailing dropped", []int16{2, 4, 9}, []int16{3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DownmixStereo(tt.in)
			if len(got) != len(tt.want) {
				t.Fatalf("len = %d, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("[%d] = %d, want %d", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func fmtRates(from, to int, f float64) string {
	return strconv.Itoa(from) + "to" + strconv.Itoa(to) + "_" + strconv.Itoa(int(f)) + "Hz"
}
