package media

import (
	"math"
	"math/cmplx"
	"time"
)

// In-band DTMF detection (ITU-T Q.23 frequencies, Q.24 acceptance limits)
// with Goertzel filters over 8 kHz PCM.
//
// Analysis: blocks of dtmfBlock samples (12.75 ms, one DFT bin ≈ 78 Hz, so
// adjacent row frequencies fall near each other's nulls), started every
// dtmfHop samples (2.5 ms). A block is "on" for a digit when
//
//   - the strongest row and column tones are each above the minimum level;
//   - each is at least dtmfGroupMargin stronger than the rest of its group;
//   - twist is within limits: the column (high-group) tone may be up to
//     8 dB stronger than the row tone ("normal" twist) and the row
//     (low-group) tone up to 4 dB stronger ("reverse" twist);
//   - the two tones carry at least dtmfMinToneRatio of the block's energy;
//   - the second harmonics of both tones are at least dtmfHarmonicMargin
//     below their fundamentals (voiced speech is rich in harmonics).
//
// A press is a run of "on" blocks for one digit; gaps of up to
// dtmfReleaseHops are bridged (Q.24 asks that short interruptions not split
// a digit). When the run ends the press is judged as a whole: its
// duration, estimated from the run length, must reach the minimum (40 ms
// tones pass, 30 ms tones do not), and each tone's frequency, measured from
// the phase advance of its DFT bin between consecutive fully covered
// blocks, must be within ±2.5% of nominal (Q.24: accept ±1.5%, reject
// ±3.5%). A press is reported once, when it ends, with At set to its
// estimated start and Duration to its estimated length.

// DTMF frequencies (ITU-T Q.23).
var (
	dtmfRows = [4]float64{697, 770, 852, 941}
	dtmfCols = [4]float64{1209, 1336, 1477, 1633}
	dtmfKeys = [4][4]byte{
		{'1', '2', '3', 'A'},
		{'4', '5', '6', 'B'},
		{'7', '8', '9', 'C'},
		{'*', '0', '#', 'D'},
	}
)

const (
	dtmfBlock          = 102
	dtmfHop            = 20
	dtmfGroupMargin    = 8.0  // dB
	dtmfNormalTwist    = 8.0  // dB, column tone stronger
	dtmfReverseTwist   = 4.0  // dB, row tone stronger
	dtmfMinToneRatio   = 0.75 // share of block energy in the two tones
	dtmfHarmonicMargin = 15.0 // dB
	dtmfMaxFreqDev     = 0.025
	dtmfReleaseHops    = 10   // 25 ms of "off" ends a press
	dtmfFullCoverage   = 0.85 // block amplitude vs the press's peak
	dtmfMaxRecords     = 512  // hops of a press kept for the frequency check
	// dtmfEdgeSamples converts a run of "on" blocks to tone time: a block is
	// "on" once about 84% of it holds tone (the energy-share test, measured),
	// so a run from block a to block b spans a tone from a+16 to b+N-16.
	dtmfEdgeSamples = 16
)

// DTMFOption configures a DTMFDetector.
type DTMFOption func(*DTMFDetector)

// WithDTMFClock sets the clock used to time-stamp presses (default
// time.Now). A press's At is the clock reading at the Process call that
// completed it, minus the audio that arrived since the press began.
func WithDTMFClock(now func() time.Time) DTMFOption {
	return func(d *DTMFDetector) { d.now = now }
}

// WithDTMFHandler sets a function called with each detected press, in
// addition to its being returned by Process.
func WithDTMFHandler(fn func(DTMF)) DTMFOption {
	return func(d *DTMFDetector) { d.handler = fn }
}

// WithDTMFMinDuration sets the shortest tone accepted (default 35 ms, so
// that 40 ms tones are always accepted and 30 ms bursts rejected; the
// duration estimate is good to about ±3 ms).
func WithDTMFMinDuration(min time.Duration) DTMFOption {
	return func(d *DTMFDetector) { d.minDur = min }
}

// WithDTMFMinLevel sets the weakest tone accepted, per tone, in dB relative
// to a full-scale sine (default -36 dB, about -33 dBm0 in G.711).
func WithDTMFMinLevel(dBFS float64) DTMFOption {
	return func(d *DTMFDetector) { d.minAmp = 32767 * math.Pow(10, dBFS/20) }
}

// goertzelBank holds the coefficients for one frequency.
type goertzelBank struct {
	coef float64 // 2cos(ω)
	rot  complex128
}

func newGoertzel(f float64) goertzelBank {
	w := 2 * math.Pi * f / SampleRate
	return goertzelBank{coef: 2 * math.Cos(w), rot: cmplx.Exp(complex(0, -w))}
}

// run returns the DFT of x at the bank's frequency, up to a phase factor
// that is the same for every block of the same length.
func (g *goertzelBank) run(x []float64) complex128 {
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = v+g.coef*s1-s2, s1
	}
	return complex(s1, 0) - g.rot*complex(s2, 0)
}

// dtmfHop is the analysis of one block.
type dtmfHopResult struct {
	key      int // row*4+col, or -1
	amp      float64
	row, col complex128
}

// pressRecord is what a press keeps of each of its blocks.
type pressRecord struct {
	on       bool
	amp      float64
	row, col complex128
}

// DTMFDetector finds DTMF key presses in 8 kHz PCM. Feed it consecutive
// frames with Process. It is not safe for concurrent use.
type DTMFDetector struct {
	now     func() time.Time
	handler func(DTMF)
	minDur  time.Duration
	minAmp  float64

	rows, cols   [4]goertzelBank
	rows2, cols2 [4]goertzelBank // second harmonics
	// leak[r][c] bounds how much of the row and column tones of key (r, c)
	// shows in the bins of their second harmonics, as a fraction of the
	// tones' own bin magnitudes (rect window, over ±2.5% deviation).
	leak [4][4]harmonicLeak

	buf   []int16   // samples from the current block start on
	blk   []float64 // current block as float
	hop   int64     // index of the next block
	total int64     // samples received

	key     int // key of the press in progress, -1 if none
	first   int64
	last    int64
	records []pressRecord

	out []DTMF
}

// NewDTMFDetector returns a detector with the given options.
func NewDTMFDetector(opts ...DTMFOption) *DTMFDetector {
	d := &DTMFDetector{
		now:     time.Now,
		key:     -1,
		buf:     make([]int16, 0, dtmfBlock+4*FrameSamples),
		blk:     make([]float64, dtmfBlock),
		records: make([]pressRecord, 0, dtmfMaxRecords),
		out:     make([]DTMF, 0, 4),
	}
	WithDTMFMinDuration(35 * time.Millisecond)(d)
	WithDTMFMinLevel(-36)(d)
	for i := range 4 {
		d.rows[i] = newGoertzel(dtmfRows[i])
		d.cols[i] = newGoertzel(dtmfCols[i])
		d.rows2[i] = newGoertzel(2 * dtmfRows[i])
		d.cols2[i] = newGoertzel(2 * dtmfCols[i])
	}
	for r := range 4 {
		for c := range 4 {
			d.leak[r][c] = harmonicLeak{
				rowInRow2: maxLeak(dtmfRows[r], 2*dtmfRows[r]),
				colInRow2: maxLeak(dtmfCols[c], 2*dtmfRows[r]),
				rowInCol2: maxLeak(dtmfRows[r], 2*dtmfCols[c]),
				colInCol2: maxLeak(dtmfCols[c], 2*dtmfCols[c]),
			}
		}
	}
	for _, o := range opts {
		o(d)
	}
	return d
}

// harmonicLeak holds leakage factors for one key; see DTMFDetector.leak.
type harmonicLeak struct {
	rowInRow2, colInRow2, rowInCol2, colInCol2 float64
}

// maxLeak is the largest response of a block-length DFT bin at bin to a
// sine near f (within ±2.5%), relative to the sine's own bin.
func maxLeak(f, bin float64) float64 {
	worst := 0.0
	for dev := -dtmfMaxFreqDev; dev <= dtmfMaxFreqDev+1e-9; dev += 0.0025 {
		dw := 2 * math.Pi * (f*(1+dev) - bin) / SampleRate
		own := 2 * math.Pi * f * dev / SampleRate
		worst = max(worst, dirichlet(dw)/dirichlet(own))
	}
	return worst
}

// dirichlet is |Σ e^{jωn}| over a block, divided by the block length.
func dirichlet(w float64) float64 {
	if math.Abs(w) < 1e-12 {
		return 1
	}
	return math.Abs(math.Sin(dtmfBlock*w/2) / (dtmfBlock * math.Sin(w/2)))
}

// String names the stage.
func (d *DTMFDetector) String() string { return "DTMFDetector" }

// SampleRate returns 8000.
func (d *DTMFDetector) SampleRate() int { return SampleRate }

// WriteSample processes one frame (PCM16Writer); presses go to the handler.
func (d *DTMFDetector) WriteSample(frame []int16) error {
	d.Process(frame)
	return nil
}

// Reset forgets all audio and any press in progress.
func (d *DTMFDetector) Reset() {
	d.buf = d.buf[:0]
	d.hop, d.total = 0, 0
	d.key = -1
	d.records = d.records[:0]
}

// Process analyses the next frame of audio (any length, usually 20 ms)
// and returns the presses that ended in it. The returned slice is reused
// by the next call.
func (d *DTMFDetector) Process(frame []int16) []DTMF {
	d.out = d.out[:0]
	d.total += int64(len(frame))
	d.buf = append(d.buf, frame...)
	off := 0
	for len(d.buf)-off >= dtmfBlock {
		d.step(d.analyze(d.buf[off : off+dtmfBlock]))
		off += dtmfHop
	}
	n := copy(d.buf, d.buf[off:])
	d.buf = d.buf[:n]
	return d.emit()
}

// Flush ends the stream: a press still in progress is judged and, if it
// qualifies, returned.
func (d *DTMFDetector) Flush() []DTMF {
	d.out = d.out[:0]
	if d.key >= 0 {
		d.finish()
	}
	return d.emit()
}

func (d *DTMFDetector) emit() []DTMF {
	if len(d.out) == 0 {
		return nil
	}
	if d.handler != nil {
		for _, p := range d.out {
			d.handler(p)
		}
	}
	return d.out
}

// step advances the press state machine by one block.
func (d *DTMFDetector) step(h dtmfHopResult) {
	i := d.hop
	d.hop++
	switch {
	case d.key >= 0 && h.key == d.key:
		d.last = i
		d.record(pressRecord{on: true, amp: h.amp, row: h.row, col: h.col})
	case d.key >= 0 && h.key >= 0: // another digit without a pause
		d.finish()
		d.start(i, h)
	case d.key >= 0:
		if i-d.last > dtmfReleaseHops {
			d.finish()
		} else {
			d.record(pressRecord{})
		}
	case h.key >= 0:
		d.start(i, h)
	}
}

func (d *DTMFDetector) start(i int64, h dtmfHopResult) {
	d.key, d.first, d.last = h.key, i, i
	d.records = d.records[:0]
	d.record(pressRecord{on: true, amp: h.amp, row: h.row, col: h.col})
}

func (d *DTMFDetector) record(r pressRecord) {
	if len(d.records) < cap(d.records) {
		d.records = append(d.records, r)
	}
}

// finish judges the press in progress and ends it.
func (d *DTMFDetector) finish() {
	key := d.key
	d.key = -1
	d.records = d.records[:len(d.records)-trailingOff(d.records)]
	// See dtmfEdgeSamples.
	startSample := d.first*dtmfHop + dtmfEdgeSamples
	endSample := d.last*dtmfHop + dtmfBlock - dtmfEdgeSamples
	dur := time.Duration(endSample-startSample) * time.Second / SampleRate
	if dur < d.minDur || !d.freqOK(key) {
		return
	}
	since := time.Duration(d.total-startSample) * time.Second / SampleRate
	d.out = append(d.out, DTMF{
		Digit:    dtmfKeys[key/4][key%4],
		Source:   DTMFInband,
		At:       d.now().Add(-since),
		Duration: dur,
	})
}

func trailingOff(r []pressRecord) int {
	n := 0
	for i := len(r) - 1; i >= 0 && !r[i].on; i-- {
		n++
	}
	return n
}

// freqOK measures both tones' frequencies over the press from the phase
// advance of their DFT bins. Per-hop advances (less the bin's own) are
// wrapped one hop at a time, where ±200 Hz is unambiguous, and summed over
// the longest unbroken stretch between two fully covered blocks: the sum
// telescopes to the phase gained over the whole stretch, so the error of
// the end blocks (leakage of the other tone, noise) is divided by its
// length.
func (d *DTMFDetector) freqOK(key int) bool {
	peak := 0.0
	for _, r := range d.records {
		peak = max(peak, r.amp)
	}
	full := dtmfFullCoverage * peak
	fr, fc := dtmfRows[key/4], dtmfCols[key%4]
	nomR, nomC := hopAdvance(fr), hopAdvance(fc)
	var bestR, bestC float64
	best := 0
	var sumR, sumC float64 // from the first full block of the current stretch
	var accR, accC float64 // up to its last full block so far
	first, last := -1, -1
	for i, r := range d.records {
		if !r.on {
			first = -1
			continue
		}
		if first >= 0 {
			p := d.records[i-1]
			sumR += math.Remainder(cmplx.Phase(r.row*cmplx.Conj(p.row))-nomR, 2*math.Pi)
			sumC += math.Remainder(cmplx.Phase(r.col*cmplx.Conj(p.col))-nomC, 2*math.Pi)
		}
		if r.amp < full {
			continue
		}
		if first < 0 {
			first, sumR, sumC = i, 0, 0
		}
		last, accR, accC = i, sumR, sumC
		if last-first > best {
			best, bestR, bestC = last-first, accR, accC
		}
	}
	if best < 4 {
		return false
	}
	rowDev := bestR / float64(best) / hopAdvance(1)
	colDev := bestC / float64(best) / hopAdvance(1)
	return math.Abs(rowDev) <= dtmfMaxFreqDev*fr && math.Abs(colDev) <= dtmfMaxFreqDev*fc
}

// hopAdvance is the phase a sine of f Hz advances in one hop.
func hopAdvance(f float64) float64 { return 2 * math.Pi * f * dtmfHop / SampleRate }

// analyze tests one block for a DTMF digit.
func (d *DTMFDetector) analyze(x []int16) dtmfHopResult {
	blk := d.blk
	energy := 0.0
	for i, v := range x {
		f := float64(v)
		blk[i] = f
		energy += f * f
	}
	res := dtmfHopResult{key: -1}
	if energy == 0 {
		return res
	}
	var rowX, colX [4]complex128
	var rowE, colE [4]float64
	for i := range 4 {
		rowX[i] = d.rows[i].run(blk)
		colX[i] = d.cols[i].run(blk)
		rowE[i] = sqAbs(rowX[i])
		colE[i] = sqAbs(colX[i])
	}
	r, rOK := strongest(&rowE)
	c, cOK := strongest(&colE)
	if !rOK || !cOK {
		return res
	}
	// Amplitude of a sine from its bin: |X| = A·N/2.
	ampR := 2 * math.Sqrt(rowE[r]) / dtmfBlock
	ampC := 2 * math.Sqrt(colE[c]) / dtmfBlock
	if ampR < d.minAmp || ampC < d.minAmp {
		return res
	}
	twist := 20 * math.Log10(ampC/ampR)
	if twist > dtmfNormalTwist || -twist > dtmfReverseTwist {
		return res
	}
	// Power of the two sines vs the block's mean power.
	if (ampR*ampR+ampC*ampC)/2 < dtmfMinToneRatio*energy/dtmfBlock {
		return res
	}
	// Second harmonics, less what the two tones themselves leak into those
	// bins (2×697 Hz lies next to 1336 Hz, for one).
	l := &d.leak[r][c]
	magR, magC := math.Sqrt(rowE[r]), math.Sqrt(colE[c])
	h2r := cmplx.Abs(d.rows2[r].run(blk)) - l.rowInRow2*magR - l.colInRow2*magC
	h2c := cmplx.Abs(d.cols2[c].run(blk)) - l.rowInCol2*magR - l.colInCol2*magC
	if h2r > magR*dtmfHarmonicAmp || h2c > magC*dtmfHarmonicAmp {
		return res
	}
	return dtmfHopResult{key: r*4 + c, amp: ampR + ampC, row: rowX[r], col: colX[c]}
}

// strongest returns the index of the largest energy and whether it beats
// every other one by dtmfGroupMargin.
func strongest(e *[4]float64) (int, bool) {
	best := 0
	for i := 1; i < 4; i++ {
		if e[i] > e[best] {
			best = i
		}
	}
	for i := range 4 {
		if i != best && e[i]*dtmfGroupRatio > e[best] {
			return best, false
		}
	}
	return best, true
}

// Power ratios of the dB margins.
var (
	dtmfGroupRatio  = math.Pow(10, dtmfGroupMargin/10)
	dtmfHarmonicAmp = math.Pow(10, -dtmfHarmonicMargin/20)
)

func sqAbs(z complex128) float64 { return real(z)*real(z) + imag(z)*imag(z) }

// dtmfFreqs returns the row and column frequency of a digit.
func dtmfFreqs(digit byte) (row, col float64, ok bool) {
	for r := range 4 {
		for c := range 4 {
			if dtmfKeys[r][c] == digit {
				return dtmfRows[r], dtmfCols[c], true
			}
		}
	}
	return 0, 0, false
}

// GenerateDTMF returns dur of 8 kHz PCM holding the two tones of digit,
// each with peak amplitude amplitude × full scale (0 < amplitude ≤ 0.5 to
// stay unclipped). An invalid digit gives nil.
func GenerateDTMF(digit byte, dur time.Duration, amplitude float64) []int16 {
	r, c, ok := dtmfFreqs(digit)
	if !ok {
		return nil
	}
	return GenerateTone([]float64{r, c}, dur, amplitude)
}

// GenerateTone returns dur of 8 kHz PCM holding the sum of sines at freqs
// (Hz), each with peak amplitude amplitude × full scale, starting at zero
// phase. The sum is clipped to 16 bits.
func GenerateTone(freqs []float64, dur time.Duration, amplitude float64) []int16 {
	n := int(dur * SampleRate / time.Second)
	out := make([]int16, n)
	a := amplitude * 32767
	for i := range out {
		v := 0.0
		for _, f := range freqs {
			v += math.Sin(2 * math.Pi * f * float64(i) / SampleRate)
		}
		out[i] = sat16(a * v)
	}
	return out
}

var _ PCM16Writer = (*DTMFDetector)(nil)
