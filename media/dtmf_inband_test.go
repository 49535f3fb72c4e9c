package media

import (
	"math"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const allDigits = "123A456B789C*0#D"

func silence(d time.Duration) []int16 { return make([]int16, int(d*SampleRate/time.Second)) }

func joinPCM(parts ...[]int16) []int16 {
	var out []int16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// mix adds b to a (same length or shorter), saturating.
func mix(a, b []int16) []int16 {
	out := append([]int16(nil), a...)
	for i := range min(len(a), len(b)) {
		out[i] = sat16(float64(a[i]) + float64(b[i]))
	}
	return out
}

// detect feeds sig to a new detector in 20 ms frames, then flushes, and
// returns the presses.
func detect(t *testing.T, sig []int16, opts ...DTMFOption) []DTMF {
	t.Helper()
	d := NewDTMFDetector(opts...)
	var got []DTMF
	for i := 0; i < len(sig); i += FrameSamples {
		got = append(got, d.Process(sig[i:min(i+FrameSamples, len(sig))])...)
	}
	return append(got, d.Flush()...)
}

func digitsOf(ps []DTMF) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteByte(p.Digit)
	}
	return b.String()
}

const ms = time.Millisecond

func TestDTMFAllDigits(t *testing.T) {
	for _, dg := range []byte(allDigits) {
		t.Run(string(dg), func(t *testing.T) {
			sig := joinPCM(silence(100*ms), GenerateDTMF(dg, 100*ms, 0.25), silence(100*ms))
			got := detect(t, sig)
			if digitsOf(got) != string(dg) {
				t.Fatalf("detected %q, want %q", digitsOf(got), dg)
			}
			if got[0].Source != DTMFInband {
				t.Errorf("source %v", got[0].Source)
			}
		})
	}
}

func TestDTMFFrequencyDeviation(t *testing.T) {
	tests := []struct {
		name           string
		rowDev, colDev float64
		want           bool
	}{
		{"both +1.5%", 0.015, 0.015, true},
		{"both -1.5%", -0.015, -0.015, true},
		{"row +1.5% col -1.5%", 0.015, -0.015, true},
		{"row -1.5% col +1.5%", -0.015, 0.015, true},
		{"row +3.5%", 0.035, 0, false},
		{"row -3.5%", -0.035, 0, false},
		{"col +3.5%", 0, 0.035, false},
		{"col -3.5%", 0, -0.035, false},
		{"both +3.5%", 0.035, 0.035, false},
		{"both -3.5%", -0.035, -0.035, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, dg := range []byte(allDigits) {
				r, c, _ := dtmfFreqs(dg)
				tone := GenerateTone([]float64{r * (1 + tt.rowDev), c * (1 + tt.colDev)}, 80*ms, 0.25)
				got := digitsOf(detect(t, joinPCM(silence(50*ms), tone, silence(50*ms))))
				if want := map[bool]string{true: string(dg), false: ""}[tt.want]; got != want {
					t.Errorf("digit %c: detected %q, want %q", dg, got, want)
				}
			}
		})
	}
}

// Twist is col level minus row level; positive ("normal") twist up to 8 dB
// and negative ("reverse") twist down to -4 dB are accepted.
func TestDTMFTwist(t *testing.T) {
	tests := []struct {
		twistDB float64
		want    bool
	}{
		{0, true},
		{6, true},
		{7.5, true},
		{10, false},
		{14, false},
		{-3.5, true},
		{-6, false},
		{-10, false},
	}
	for _, tt := range tests {
		t.Run(ftoa(tt.twistDB)+"dB", func(t *testing.T) {
			for _, dg := range []byte("1D5#") {
				r, c, _ := dtmfFreqs(dg)
				ampR, ampC := 0.2, 0.2*math.Pow(10, tt.twistDB/20)
				if ampC > 0.45 {
					ampR, ampC = ampR*0.45/ampC, 0.45
				}
				tone := mix(GenerateTone([]float64{r}, 80*ms, ampR), GenerateTone([]float64{c}, 80*ms, ampC))
				got := digitsOf(detect(t, joinPCM(silence(50*ms), tone, silence(50*ms))))
				if (got == string(dg)) != tt.want || (got != "" && got != string(dg)) {
					t.Errorf("digit %c: detected %q, want accepted=%v", dg, got, tt.want)
				}
			}
		})
	}
}

func TestDTMFDuration(t *testing.T) {
	tests := []struct {
		dur  time.Duration
		want bool
	}{
		{20 * ms, false},
		{25 * ms, false},
		{30 * ms, false},
		{40 * ms, true},
		{45 * ms, true},
		{60 * ms, true},
		{2000 * ms, true},
	}
	for _, tt := range tests {
		t.Run(tt.dur.String(), func(t *testing.T) {
			// Every alignment of the tone against blocks and frames.
			for lead := 0; lead < FrameSamples; lead += 7 {
				sig := joinPCM(make([]int16, 400+lead), GenerateDTMF('8', tt.dur, 0.25), silence(100*ms))
				got := detect(t, sig)
				if (len(got) == 1) != tt.want || len(got) > 1 {
					t.Fatalf("lead %d: detected %q, want accepted=%v", lead, digitsOf(got), tt.want)
				}
				if tt.want {
					if d := got[0].Duration - tt.dur; d < -3*ms || d > 3*ms {
						t.Errorf("lead %d: duration %v, want %v ± 3ms", lead, got[0].Duration, tt.dur)
					}
				}
			}
		})
	}
}

func TestDTMFSequence(t *testing.T) {
	tests := []struct {
		name        string
		digits      string
		tone, pause time.Duration
	}{
		{"all 40ms/40ms", allDigits, 40 * ms, 40 * ms},
		{"repeated 40ms/40ms", "5555500000", 40 * ms, 40 * ms},
		{"all 50ms/45ms", allDigits, 50 * ms, 45 * ms},
		{"pin 100ms/60ms", "1234#", 100 * ms, 60 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig := silence(60 * ms)
			for _, dg := range []byte(tt.digits) {
				sig = joinPCM(sig, GenerateDTMF(dg, tt.tone, 0.25), silence(tt.pause))
			}
			if got := digitsOf(detect(t, sig)); got != tt.digits {
				t.Errorf("detected %q, want %q", got, tt.digits)
			}
		})
	}
}

// A 10 ms interruption does not split a press (Q.24).
func TestDTMFDropoutBridged(t *testing.T) {
	tone := GenerateDTMF('9', 200*ms, 0.25)
	clear(tone[800:880])
	if got := digitsOf(detect(t, joinPCM(silence(50*ms), tone, silence(50*ms)))); got != "9" {
		t.Errorf("detected %q, want %q", got, "9")
	}
}

func TestDTMFThroughG711(t *testing.T) {
	sig := silence(60 * ms)
	for _, dg := range []byte(allDigits) {
		sig = joinPCM(sig, GenerateDTMF(dg, 50*ms, 0.1), silence(50*ms))
	}
	tests := []struct {
		name  string
		codec Codec
	}{
		{"PCMU", PCMU},
		{"PCMA", PCMA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := tt.codec.Decode(nil, tt.codec.Encode(nil, sig))
			if got := digitsOf(detect(t, rt)); got != allDigits {
				t.Errorf("detected %q, want %q", got, allDigits)
			}
		})
	}
}

func whiteNoise(rng *rand.Rand, n int, rms float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = sat16(rng.NormFloat64() * rms)
	}
	return out
}

func TestDTMFNoise(t *testing.T) {
	tests := []struct {
		snrDB float64
	}{{20}, {17}, {15}}
	for _, tt := range tests {
		t.Run(ftoa(tt.snrDB)+"dB", func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tt.snrDB)))
			var sig []int16
			for _, dg := range []byte(allDigits + allDigits) {
				sig = joinPCM(sig, silence(60*ms), GenerateDTMF(dg, 60*ms, 0.15))
			}
			sig = joinPCM(sig, silence(60*ms))
			// Signal power: two sines of amplitude 0.15·32767.
			sigRMS := 0.15 * 32767
			noisy := mix(sig, whiteNoise(rng, len(sig), sigRMS/math.Pow(10, tt.snrDB/20)))
			if got := digitsOf(detect(t, noisy)); got != allDigits+allDigits {
				t.Errorf("detected %q, want %q", got, allDigits+allDigits)
			}
		})
	}
}

func TestDTMFRejects(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	tests := []struct {
		name string
		sig  []int16
	}{
		{"silence", silence(time.Second)},
		{"white noise", whiteNoise(rng, 8000*5, 3000)},
		{"row tone only", GenerateTone([]float64{770}, time.Second, 0.3)},
		{"col tone only", GenerateTone([]float64{1336}, time.Second, 0.3)},
		{"dial tone 350+440", GenerateTone([]float64{350, 440}, time.Second, 0.3)},
		{"ringback 440+480", GenerateTone([]float64{440, 480}, time.Second, 0.3)},
		{"two rows 697+770", GenerateTone([]float64{697, 770}, time.Second, 0.3)},
		{"too weak -45 dB", GenerateDTMF('1', 200*ms, math.Pow(10, -45.0/20))},
		{"digit in loud noise", mix(GenerateDTMF('1', 200*ms, 0.05), whiteNoise(rng, 1600, 6000))},
		{"digit with 2nd harmonics", mix(GenerateDTMF('2', 200*ms, 0.2), GenerateTone([]float64{2 * 697, 2 * 1336}, 200*ms, 0.1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := detect(t, tt.sig); len(got) != 0 {
				t.Errorf("detected %q, want none", digitsOf(got))
			}
		})
	}
}

func TestDTMFLevel(t *testing.T) {
	tests := []struct {
		dBFS float64
		want bool
	}{{-3, false}, {-6.1, true}, {-20, true}, {-30, true}, {-34, true}, {-40, false}}
	for _, tt := range tests {
		t.Run(ftoa(tt.dBFS), func(t *testing.T) {
			amp := math.Pow(10, tt.dBFS/20)
			if amp > 0.5 { // would clip: not a valid DTMF signal
				return
			}
			got := detect(t, joinPCM(silence(50*ms), GenerateDTMF('0', 100*ms, amp), silence(50*ms)))
			if (len(got) == 1) != tt.want {
				t.Errorf("detected %q, want accepted=%v", digitsOf(got), tt.want)
			}
		})
	}
}

func TestDTMFTiming(t *testing.T) {
	base := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	var clock time.Time
	d := NewDTMFDetector(WithDTMFClock(func() time.Time { return clock }))
	var handled []DTMF
	d2 := NewDTMFDetector(WithDTMFClock(func() time.Time { return clock }), WithDTMFHandler(func(p DTMF) { handled = append(handled, p) }))
	sig := joinPCM(silence(333*ms), GenerateDTMF('7', 120*ms, 0.2), silence(200*ms), GenerateDTMF('#', 70*ms, 0.2), silence(100*ms))
	var got []DTMF
	for i := 0; i+FrameSamples <= len(sig); i += FrameSamples {
		clock = base.Add(time.Duration(i+FrameSamples) * time.Second / SampleRate)
		got = append(got, d.Process(sig[i:i+FrameSamples])...)
		if err := d2.WriteSample(sig[i : i+FrameSamples]); err != nil {
			t.Fatal(err)
		}
	}
	want := []struct {
		digit   byte
		at, dur time.Duration
	}{{'7', 333 * ms, 120 * ms}, {'#', 653 * ms, 70 * ms}}
	if len(got) != len(want) || len(handled) != len(want) {
		t.Fatalf("got %q, handler %q, want 2 presses", digitsOf(got), digitsOf(handled))
	}
	for i, w := range want {
		g := got[i]
		if g.Digit != w.digit || absDur(g.At.Sub(base)-w.at) > 3*ms || absDur(g.Duration-w.dur) > 3*ms {
			t.Errorf("press %d: %c at %v for %v, want %c at %v for %v", i, g.Digit, g.At.Sub(base), g.Duration, w.digit, w.at, w.dur)
		}
		if handled[i] != g {
			t.Errorf("handler got %+v, Process %+v", handled[i], g)
		}
	}
}

func TestDTMFFlushAndReset(t *testing.T) {
	d := NewDTMFDetector()
	if got := d.Process(joinPCM(silence(20*ms), GenerateDTMF('4', 100*ms, 0.2))); len(got) != 0 {
		t.Fatalf("reported %q before the press ended", digitsOf(got))
	}
	if got := digitsOf(d.Flush()); got != "4" {
		t.Fatalf("Flush gave %q, want 4", got)
	}
	if got := d.Flush(); len(got) != 0 {
		t.Fatalf("second Flush gave %q", digitsOf(got))
	}
	d.Process(GenerateDTMF('6', 100*ms, 0.2))
	d.Reset()
	if got := d.Flush(); len(got) != 0 {
		t.Fatalf("Flush after Reset gave %q", digitsOf(got))
	}
	if d.String() != "DTMFDetector" || d.SampleRate() != SampleRate {
		t.Errorf("stage %q at %d Hz", d.String(), d.SampleRate())
	}
}

func TestGenerateDTMF(t *testing.T) {
	tests := []struct {
		digit byte
		n     int
	}{{'1', 800}, {'D', 400}, {'x', 0}, {'E', 0}, {0, 0}}
	for _, tt := range tests {
		got := GenerateDTMF(tt.digit, time.Duration(tt.n)*time.Second/SampleRate, 0.3)
		if len(got) != tt.n {
			t.Errorf("GenerateDTMF(%q): %d samples, want %d", tt.digit, len(got), tt.n)
		}
	}
	r, c, _ := dtmfFreqs('6')
	s := GenerateDTMF('6', time.Second, 0.3)
	for _, f := range []float64{r, c} {
		if a := toneAmp(s, SampleRate, f); math.Abs(a-0.3*32767) > 30 {
			t.Errorf("%.0f Hz at amplitude %.0f, want %.0f", f, a, 0.3*32767)
		}
	}
}

// talkOffText is varied English: questions, numbers, names, long vowels,
// sibilants and the words a caller says to a support line.
const talkOffText = `Hello, thank you for calling. I would like to check my balance, please.
My account number is four seven two, nine nine one, zero three eight six.
When is my next payment due? I paid three hundred and twelve dollars and fifty cents last Tuesday.
Could you please put me through to a real person? I have been waiting for twenty minutes already!
The quick brown fox jumps over the lazy dog while the five boxing wizards jump quickly.
She sells sea shells by the sea shore, and the shells she sells are surely sea shells.
Oh, no, no, no. That is not what I said at all. I said I want to pay the full amount today.
Yes. Yeah, sure, okay, alright, uh huh, mm hmm, right, exactly, absolutely, definitely not.
One, two, three, four, five, six, seven, eight, nine, ten, eleven, twelve, thirteen, fourteen.
Wednesday the fifteenth of February, two thousand and twenty five, at half past eleven.
Please repeat that. Sorry, I did not catch that. Can you say it again more slowly?
Aaaah. Eeeee. Ooooooh. Mmmmmm. Hmmmmm. Wow, that is really quite something, isn't it?
My name is Margaret Elizabeth Thompson-Okonkwo and I live at eighteen Willow Lane, Springfield.
I am really frustrated with this service; every single time I call, the line just drops.
Representative. Agent. Operator. Human being. Customer service. Cancel. Help. Main menu.
In the beginning the universe was created. This has made a lot of people very angry
and been widely regarded as a bad move. Far out in the uncharted backwaters of the
unfashionable end of the western spiral arm of the galaxy lies a small unregarded yellow sun.`

// Speech must not produce digits (talk-off). A few minutes of synthetic
// speech in several voices, pitches and speeds, through μ-law.
func TestDTMFTalkOff(t *testing.T) {
	espeak := needTool(t, "espeak-ng")
	if testing.Short() {
		t.Skip("talk-off corpus is slow in -short mode")
	}
	dir := t.TempDir()
	voices := []struct {
		voice string
		speed int
		pitch int
	}{
		{"en-us", 150, 50},
		{"en-gb", 175, 40},
		{"en-us+f3", 160, 70},
		{"en-gb-x-rp+f2", 140, 80},
		{"en-us+m3", 200, 30},
		{"en-029+f4", 130, 90},
		{"en-gb-scotland+klatt", 165, 60},
		{"en-us+whisper", 150, 50},
	}
	total := 0
	for _, v := range voices {
		t.Run(v.voice, func(t *testing.T) {
			path := filepath.Join(dir, strings.NewReplacer("+", "_").Replace(v.voice)+".wav")
			cmd := exec.Command(espeak, "-v", v.voice, "-s", itoa(v.speed), "-p", itoa(v.pitch), "-w", path, talkOffText)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("espeak-ng: %v\n%s", err, out)
			}
			a, err := ReadWAVFile(path)
			if err != nil {
				t.Fatal(err)
			}
			speech := a.Mono8k()
			// Bring to a typical telephone level (peak -3 dBFS) and through G.711.
			peak := 1.0
			for _, s := range speech {
				peak = max(peak, math.Abs(float64(s)))
			}
			for i, s := range speech {
				speech[i] = sat16(float64(s) * 23000 / peak)
			}
			speech = DecodeULaw(nil, EncodeULaw(nil, speech))
			total += len(speech)
			if got := detect(t, speech); len(got) != 0 {
				for _, p := range got {
					t.Errorf("talk-off: %c for %v", p.Digit, p.Duration)
				}
			}
		})
	}
	t.Logf("talk-off corpus: %.1f minutes of speech", float64(total)/SampleRate/60)
	if total < 3*60*SampleRate {
		t.Errorf("corpus only %d s, want ≥ 3 min", total/SampleRate)
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
