package asr

import (
	"math"
	"testing"
)

// bandPower is the mean power of x (at rate) between lo and hi Hz, by DFT.
func bandPower(x []int16, rate, lo, hi float64) float64 {
	n := len(x)
	var p float64
	for k := 1; k < n/2; k++ {
		f := float64(k) * rate / float64(n)
		if f < lo || f >= hi {
			continue
		}
		var re, im float64
		for i, s := range x {
			a := 2 * math.Pi * float64(k*i) / float64(n)
			re += float64(s) * math.Cos(a)
			im -= float64(s) * math.Sin(a)
		}
		p += 2 * (re*re + im*im) / float64(n*n)
	}
	return p
}

func TestFrontEndBandFill(t *testing.T) {
	fe := NewFrontEnd(FrontEndConfig{NoiseRMS: 0.01, LowCut: 4200}, 7)
	silence := make([]int16, 160)
	var out []int16
	for range 25 {
		out = fe.Process(out, silence)
	}
	if len(out) != 25*320 {
		t.Fatalf("len = %d, want %d", len(out), 25*320)
	}
	x := out[len(out)-2048:]
	hi := bandPower(x, 16000, 4200, 8000)
	lo := bandPower(x, 16000, 0, 3800)
	want := math.Pow(0.01*32768, 2)
	if hi < 0.8*want || hi > 1.2*want {
		t.Errorf("4.2-8 kHz power %.0f, want %.0f ±20%%", hi, want)
	}
	if lo > hi/100 {
		t.Errorf("0-3.8 kHz leak %.1f dB below the fill, want ≥ 20 dB", 10*math.Log10(hi/lo))
	}
}

func TestFrontEndPassesSpeechBand(t *testing.T) {
	fe := NewFrontEnd(FrontEndConfig{NoiseRMS: -1}, 0)
	var out []int16
	for n := range 25 {
		f := make([]int16, 160)
		for i := range f {
			f[i] = int16(10000 * math.Sin(2*math.Pi*1000*float64(n*160+i)/8000))
		}
		out = fe.Process(out, f)
	}
	x := out[len(out)-2048:]
	p := bandPower(x, 16000, 900, 1100)
	want := 10000.0 * 10000 / 2
	if math.Abs(10*math.Log10(p/want)) > 0.5 {
		t.Errorf("1 kHz tone power %.1f dB off", 10*math.Log10(p/want))
	}
	if img := bandPower(x, 16000, 6900, 7100); img > p/1000 {
		t.Errorf("7 kHz image only %.1f dB down", 10*math.Log10(p/img))
	}
}
