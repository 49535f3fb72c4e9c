package asr

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/supportline/ivr/media"
)

// The en-us acoustic model is trained on 16 kHz audio with mel filters up to
// 6.8 kHz. Telephone audio upsampled to 16 kHz leaves 4–8 kHz empty, the top
// filter-bank channels see -inf log energy and the model recognises almost
// nothing (DESIGN.md, "Findings"). The front-end upsamples and fills the empty
// band with low-level noise shaped to it, which restores those channels to a
// constant "quiet hiss" the model tolerates.

// FrontEndConfig sets the band fill of the phone-audio front-end.
type FrontEndConfig struct {
	// NoiseRMS is the RMS level of the fill noise as a fraction of full
	// scale (1.0 = 32768). 0 means DefaultNoiseRMS; negative disables.
	NoiseRMS float64
	// LowCut, when positive, high-passes the noise above this frequency in
	// Hz so only the empty band is filled. 0 (the default) or negative
	// gives white noise, which measured better on the corpus (README).
	LowCut float64
}

// Front-end defaults, chosen by measurement (see README, "Speech recognition").
const (
	DefaultNoiseRMS = 0.003
)

func (c FrontEndConfig) withDefaults() FrontEndConfig {
	if c.NoiseRMS == 0 {
		c.NoiseRMS = DefaultNoiseRMS
	}
	if c.LowCut <= 0 {
		c.LowCut = -1
	}
	return c
}

// noiseTableLen is one second of fill noise at 16 kHz, played in a loop.
const noiseTableLen = 16000

var noiseTables sync.Map // FrontEndConfig → []int16

// noiseTable returns the shared fill-noise loop for a configuration.
func noiseTable(c FrontEndConfig) []int16 {
	if t, ok := noiseTables.Load(c); ok {
		return t.([]int16)
	}
	const taps = 63
	r := rand.New(rand.NewPCG(0x1f0, 0x8000))
	white := make([]float64, noiseTableLen+taps)
	for i := range white {
		white[i] = r.NormFloat64()
	}
	shaped := make([]float64, noiseTableLen)
	if c.LowCut < 0 {
		copy(shaped, white)
	} else {
		h := highPass(taps, c.LowCut/16000)
		for i := range shaped {
			var acc float64
			for k, hk := range h {
				acc += hk * white[i+taps-1-k]
			}
			shaped[i] = acc
		}
	}
	var ss float64
	for _, v := range shaped {
		ss += v * v
	}
	gain := 0.0
	if c.NoiseRMS > 0 {
		gain = c.NoiseRMS * 32768 / math.Sqrt(ss/noiseTableLen)
	}
	t := make([]int16, noiseTableLen)
	for i, v := range shaped {
		t[i] = int16(math.Max(-32768, math.Min(32767, math.Round(v*gain))))
	}
	act, _ := noiseTables.LoadOrStore(c, t)
	return act.([]int16)
}

// highPass designs a Blackman-windowed sinc high-pass FIR with cutoff fc
// (a fraction of the sample rate): an all-pass minus the low-pass.
func highPass(taps int, fc float64) []float64 {
	h := make([]float64, taps)
	m := float64(taps - 1)
	var sum float64
	for i := range h {
		x := float64(i) - m/2
		lp := 2 * fc
		if x != 0 {
			lp = math.Sin(2*math.Pi*fc*x) / (math.Pi * x)
		}
		w := 0.42 - 0.5*math.Cos(2*math.Pi*float64(i)/m) + 0.08*math.Cos(4*math.Pi*float64(i)/m)
		h[i] = lp * w
		sum += h[i]
	}
	for i := range h {
		h[i] = -h[i] / sum
	}
	h[taps/2]++
	return h
}

// FrontEnd turns 8 kHz telephone frames into 16 kHz frames the en-us model
// recognises: a 2× upsample, then the shaped fill noise added. It keeps
// state across frames and is not safe for concurrent use.
type FrontEnd struct {
	cfg   FrontEndConfig
	up    media.Upsampler2x
	noise []int16
	pos   int
}

// NewFrontEnd returns a front-end; seed picks where in the noise loop it
// starts, so streams do not all carry the same hiss.
func NewFrontEnd(cfg FrontEndConfig, seed uint64) *FrontEnd {
	cfg = cfg.withDefaults()
	return &FrontEnd{cfg: cfg, noise: noiseTable(cfg), pos: int(seed % noiseTableLen)}
}

// String names the stage and its settings.
func (f *FrontEnd) String() string {
	shape := "white"
	if f.cfg.LowCut > 0 {
		shape = fmt.Sprintf(">%.0f Hz", f.cfg.LowCut)
	}
	return fmt.Sprintf("Upsample2x -> BandFill(%.2f%% FS, %s)", f.cfg.NoiseRMS*100, shape)
}

// Reset forgets the upsampler history, as at the start of an utterance.
func (f *FrontEnd) Reset() { f.up.Reset() }

// Process appends the 16 kHz version of src to dst and returns it.
func (f *FrontEnd) Process(dst, src []int16) []int16 {
	n := len(dst)
	dst = f.up.Process(dst, src)
	out := dst[n:]
	if f.cfg.NoiseRMS < 0 {
		return dst
	}
	for i, s := range out {
		v := int32(s) + int32(f.noise[f.pos])
		f.pos++
		if f.pos == len(f.noise) {
			f.pos = 0
		}
		out[i] = int16(max(-32768, min(32767, v)))
	}
	return dst
}
