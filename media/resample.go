package media

import (
	"fmt"
	"math"
	"sync"
)

// Band-limited sample-rate conversion by a rational factor up/down with a
// polyphase windowed-sinc FIR (Kaiser window, β = 7.86, about 80 dB of
// stopband). The anti-aliasing low-pass sits at min(from, to)/2: its -6 dB
// point is at 92.5% of the lower Nyquist frequency and it spans
// resampleTaps taps at the lower rate, so for 8 kHz output the passband is
// flat to 3.4 kHz and everything above 4 kHz is at least 70 dB down.
//
// Output sample m sits at input time m·from/to (zero phase, no delay); the
// input is taken as zero outside its ends.

const (
	resampleHalfTaps = 32    // taps either side of centre, at the lower rate
	resampleCutoff   = 0.925 // -6 dB point as a fraction of the lower Nyquist
	resampleBeta     = 7.857 // Kaiser β for A ≈ 80 dB: 0.1102·(80-8.7)
	resampleMaxTable = 1 << 18
)

// Resampler converts 16-bit mono PCM from one sample rate to another. It
// holds only immutable filter tables, so one Resampler may be shared by any
// number of goroutines.
type Resampler struct {
	from, to int
	up, down int // to/from reduced: output m is at input time m·down/up
	half     int // taps either side of centre, in input samples
	fc       float64
	phases   [][]float64 // phases[p] for fractional time p/up; nil if computed on the fly
}

// NewResampler returns a resampler from fromRate to toRate (in Hz).
func NewResampler(fromRate, toRate int) (*Resampler, error) {
	if fromRate <= 0 || toRate <= 0 {
		return nil, fmt.Errorf("%w: %d Hz to %d Hz", ErrBadSampleRate, fromRate, toRate)
	}
	g := gcd(fromRate, toRate)
	r := &Resampler{from: fromRate, to: toRate, up: toRate / g, down: fromRate / g}
	lower := min(fromRate, toRate)
	// Half-length in input samples: resampleHalfTaps periods of the lower rate.
	r.half = (resampleHalfTaps*fromRate + lower - 1) / lower
	r.fc = resampleCutoff * 0.5 * float64(lower) / float64(fromRate) // cycles per input sample
	if r.up*2*r.half <= resampleMaxTable {
		r.phases = make([][]float64, r.up)
		for p := range r.phases {
			r.phases[p] = make([]float64, 2*r.half)
			r.fillPhase(r.phases[p], float64(p)/float64(r.up))
		}
	}
	return r, nil
}

// String describes the conversion, e.g. "Resample 48000->8000".
func (r *Resampler) String() string { return fmt.Sprintf("Resample %d->%d", r.from, r.to) }

// fillPhase computes the taps for an output at fractional input time frac
// (0 ≤ frac < 1) past input sample b; tap j multiplies input b+j-(half-1).
// The taps are normalised to sum to one (exact DC gain).
func (r *Resampler) fillPhase(c []float64, frac float64) {
	h := float64(r.half)
	i0b := besselI0(resampleBeta)
	sum := 0.0
	for j := range c {
		tau := frac + h - 1 - float64(j)
		x := tau / h
		w := 0.0
		if x > -1 && x < 1 {
			w = besselI0(resampleBeta*math.Sqrt(1-x*x)) / i0b
		}
		v := 2 * r.fc * sinc(2*r.fc*tau) * w
		c[j] = v
		sum += v
	}
	for j := range c {
		c[j] /= sum
	}
}

// OutputLen is the number of samples Resample produces for n input samples:
// ceil(n·to/from).
func (r *Resampler) OutputLen(n int) int {
	return int((int64(n)*int64(r.up) + int64(r.down) - 1) / int64(r.down))
}

// Resample appends the conversion of the whole of src to dst and returns
// the extended slice. src is one complete signal: it is taken as silent
// before its start and after its end.
func (r *Resampler) Resample(dst, src []int16) []int16 {
	if len(src) == 0 {
		return dst
	}
	n := r.OutputLen(len(src))
	taps := 2 * r.half
	// in(i) is src[i-(half-1)], zero outside src, so output m's window
	// starts at in(b) with b = floor(m·down/up).
	in := func(i int) float64 {
		if j := i - (r.half - 1); j >= 0 && j < len(src) {
			return float64(src[j])
		}
		return 0
	}
	var scratch []float64
	if r.phases == nil {
		scratch = make([]float64, taps)
	}
	const chunk = 1024 // outputs converted per pass over a float window
	win := make([]float64, 0, int(int64(chunk)*int64(r.down)/int64(r.up))+taps+1)
	for m0 := 0; m0 < n; m0 += chunk {
		m1 := min(n, m0+chunk)
		b0 := int(int64(m0) * int64(r.down) / int64(r.up))
		b1 := int(int64(m1-1)*int64(r.down)/int64(r.up)) + taps
		win = win[:0]
		for i := b0; i < b1; i++ {
			win = append(win, in(i))
		}
		for m := m0; m < m1; m++ {
			pos := int64(m) * int64(r.down)
			b := int(pos/int64(r.up)) - b0
			p := int(pos % int64(r.up))
			c := scratch
			if r.phases != nil {
				c = r.phases[p]
			} else {
				r.fillPhase(c, float64(p)/float64(r.up))
			}
			dst = append(dst, sat16(dot(win[b:b+taps], c)))
		}
	}
	return dst
}

// dot returns the dot product of x and c (len(x) ≥ len(c)) with a fixed
// summation order. Both the one-shot and the streaming paths use it, so
// they agree to the bit.
func dot(x, c []float64) float64 {
	x = x[:len(c)]
	var a0, a1, a2, a3 float64
	j := 0
	for ; j+4 <= len(c); j += 4 {
		a0 += x[j] * c[j]
		a1 += x[j+1] * c[j+1]
		a2 += x[j+2] * c[j+2]
		a3 += x[j+3] * c[j+3]
	}
	for ; j < len(c); j++ {
		a0 += x[j] * c[j]
	}
	return (a0 + a1) + (a2 + a3)
}

func sat16(v float64) int16 {
	switch {
	case v >= 32767:
		return 32767
	case v <= -32768:
		return -32768
	case v >= 0:
		return int16(v + 0.5)
	default:
		return int16(v - 0.5)
	}
}

var resamplers sync.Map // [2]int{up, down} → *Resampler; tables are immutable

// cachedResampler returns a shared Resampler for the ratio, building its
// tables once.
func cachedResampler(fromRate, toRate int) (*Resampler, error) {
	if fromRate <= 0 || toRate <= 0 {
		return nil, fmt.Errorf("%w: %d Hz to %d Hz", ErrBadSampleRate, fromRate, toRate)
	}
	key := [2]int{fromRate, toRate}
	if r, ok := resamplers.Load(key); ok {
		return r.(*Resampler), nil
	}
	r, err := NewResampler(fromRate, toRate)
	if err != nil {
		return nil, err
	}
	v, _ := resamplers.LoadOrStore(key, r)
	return v.(*Resampler), nil
}

// Resample converts mono PCM src from fromRate to toRate (in Hz) with a
// band-limited filter and returns a new slice of ceil(len(src)·to/from)
// samples. Equal rates return a copy; a rate ≤ 0 returns nil. Filter tables
// are built once per rate pair and shared.
func Resample(src []int16, fromRate, toRate int) []int16 {
	if fromRate == toRate && fromRate > 0 {
		return append([]int16(nil), src...)
	}
	r, err := cachedResampler(fromRate, toRate)
	if err != nil {
		return nil
	}
	return r.Resample(make([]int16, 0, r.OutputLen(len(src))), src)
}

// DownmixStereo averages interleaved left/right pairs into mono. A trailing
// odd sample is dropped.
func DownmixStereo(interleaved []int16) []int16 {
	out := make([]int16, len(interleaved)/2)
	for i := range out {
		out[i] = int16((int32(interleaved[2*i]) + int32(interleaved[2*i+1])) >> 1)
	}
	return out
}

// downmix averages frames of ch interleaved channels into mono.
func downmix(interleaved []int16, ch int) []int16 {
	if ch <= 1 {
		return append([]int16(nil), interleaved...)
	}
	if ch == 2 {
		return DownmixStereo(interleaved)
	}
	out := make([]int16, len(interleaved)/ch)
	for i := range out {
		var s int32
		for _, v := range interleaved[i*ch : i*ch+ch] {
			s += int32(v)
		}
		out[i] = int16(s / int32(ch))
	}
	return out
}

// Upsampler2x doubles the sample rate of a stream (8 kHz → 16 kHz for the
// speech recogniser) frame by frame. It uses the same filter as
// Resample(x, 8000, 16000) and keeps its history across calls, so frame
// boundaries leave no trace: the concatenated output equals the one-shot
// output delayed by Delay samples. The zero value is ready to use; an
// Upsampler2x is not safe for concurrent use.
type Upsampler2x struct {
	r    *Resampler
	work []float64 // last 2·half-1 input samples, then the current frame
}

// Delay2x is the latency of Upsampler2x in output samples (4 ms at 16 kHz).
const Delay2x = 2 * resampleHalfTaps

// Delay returns the latency of the upsampler in output samples: output k of
// the stream is output k-Delay of the one-shot conversion.
func (u *Upsampler2x) Delay() int { return Delay2x }

// Reset forgets the history, as at the start of a new stream.
func (u *Upsampler2x) Reset() {
	if u.work != nil {
		clear(u.work[:2*u.r.half-1])
	}
}

// Process appends 2·len(src) samples to dst and returns the extended slice.
// Once dst and the internal buffer have grown to the frame size it does not
// allocate.
func (u *Upsampler2x) Process(dst, src []int16) []int16 {
	if u.r == nil {
		r, err := cachedResampler(8000, 16000)
		if err != nil {
			return dst
		}
		u.r = r
		u.work = make([]float64, 2*r.half-1, 2*r.half-1+FrameSamples)
	}
	taps := 2 * u.r.half
	hist := taps - 1
	u.work = u.work[:hist]
	for _, v := range src {
		u.work = append(u.work, float64(v))
	}
	c0, c1 := u.r.phases[0], u.r.phases[1]
	for n := range src {
		w := u.work[n : n+taps]
		dst = append(dst, sat16(dot(w, c0)), sat16(dot(w, c1)))
	}
	copy(u.work, u.work[len(src):])
	u.work = u.work[:hist]
	return dst
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	x *= math.Pi
	return math.Sin(x) / x
}

// besselI0 is the zeroth-order modified Bessel function of the first kind
// (power series; converges fast for the arguments a Kaiser window uses).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	q := x * x / 4
	for k := 1; k < 64; k++ {
		term *= q / float64(k*k)
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
