package media

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestRMSAndDBFS(t *testing.T) {
	square := make([]int16, 160)
	for i := range square {
		square[i] = 32767
		if i%2 == 1 {
			square[i] = -32767
		}
	}
	tests := []struct {
		name    string
		frame   []int16
		rms, db float64
	}{
		{"empty", nil, 0, DBFSFloor},
		{"silence", make([]int16, 160), 0, DBFSFloor},
		{"one LSB", []int16{1, -1, 1, -1}, 1, -90.31},
		{"full-scale square", square, 32767, 0},
		{"full-scale sine", sine(8000, 8000, 1000, 32767), 32767 / math.Sqrt2, -3.01},
		{"-20 dB sine", sine(8000, 8000, 440, 3276.7), 3276.7 / math.Sqrt2, -23.01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RMS(tt.frame); math.Abs(got-tt.rms) > 0.5 {
				t.Errorf("RMS = %.2f, want %.2f", got, tt.rms)
			}
			if got := DBFS(tt.frame); math.Abs(got-tt.db) > 0.02 || math.IsInf(got, 0) {
				t.Errorf("DBFS = %.3f, want %.2f", got, tt.db)
			}
		})
	}
}

// segment is a stretch of test signal: a 1 kHz sine at a level, or noise.
type segment struct {
	dBFS float64 // RMS level; ≤ -120 for silence
	dur  time.Duration
}

func levelSignal(rng *rand.Rand, segs []segment) []int16 {
	var out []int16
	for _, s := range segs {
		n := int(s.dur * SampleRate / time.Second)
		if s.dBFS <= DBFSFloor {
			out = append(out, make([]int16, n)...)
			continue
		}
		amp := 32768 * math.Pow(10, s.dBFS/20) * math.Sqrt2
		for range n {
			v := amp*math.Sin(2*math.Pi*1000*float64(len(out))/SampleRate) + rng.NormFloat64()*0.5
			out = append(out, sat16(v))
		}
	}
	return out
}

func TestActivityDetector(t *testing.T) {
	type ev struct {
		at time.Duration // end of the frame that raised it
		e  ActivityEvent
	}
	tests := []struct {
		name string
		opts []ActivityOption
		segs []segment
		want []ev
	}{
		{"silence only", nil, []segment{{-130, 2 * time.Second}}, nil},
		{"low noise only", nil, []segment{{-60, 2 * time.Second}}, nil},
		{"speech then quiet", nil,
			[]segment{{-130, 500 * ms}, {-20, time.Second}, {-130, time.Second}},
			[]ev{{540 * ms, ActivityStart}, {2200 * ms, ActivityStop}}},
		{"one loud frame is a click", nil,
			[]segment{{-130, 500 * ms}, {-20, 20 * ms}, {-130, time.Second}}, nil},
		{"pauses shorter than hang bridge", nil,
			[]segment{{-20, 400 * ms}, {-130, 600 * ms}, {-20, 400 * ms}, {-130, 800 * ms}},
			[]ev{{40 * ms, ActivityStart}, {2100 * ms, ActivityStop}}},
		{"hysteresis keeps a fading tail active", nil,
			[]segment{{-30, 400 * ms}, {-48, 1000 * ms}, {-130, 800 * ms}},
			[]ev{{40 * ms, ActivityStart}, {2100 * ms, ActivityStop}}},
		{"below hysteresis counts as quiet", nil,
			[]segment{{-30, 400 * ms}, {-55, 1000 * ms}},
			[]ev{{40 * ms, ActivityStart}, {1100 * ms, ActivityStop}}},
		{"two utterances", nil,
			[]segment{{-25, 300 * ms}, {-130, time.Second}, {-25, 300 * ms}, {-130, time.Second}},
			[]ev{{40 * ms, ActivityStart}, {1000 * ms, ActivityStop}, {1340 * ms, ActivityStart}, {2300 * ms, ActivityStop}}},
		{"custom options", []ActivityOption{WithActivityThreshold(-30), WithActivityStartFrames(5), WithActivityHang(200 * ms), WithActivityHysteresis(0)},
			[]segment{{-35, 500 * ms}, {-25, 500 * ms}, {-130, 500 * ms}},
			[]ev{{600 * ms, ActivityStart}, {1200 * ms, ActivityStop}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig := levelSignal(rand.New(rand.NewPCG(3, 4)), tt.segs)
			a := NewActivityDetector(tt.opts...)
			var got []ev
			for i := 0; i+FrameSamples <= len(sig); i += FrameSamples {
				if e := a.Process(sig[i : i+FrameSamples]); e != ActivityNone {
					got = append(got, ev{time.Duration(i+FrameSamples) * time.Second / SampleRate, e})
					if a.Active() != (e == ActivityStart) {
						t.Errorf("Active() = %v after %v", a.Active(), e)
					}
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("events %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("event %d: %v at %v, want %v at %v", i, got[i].e, got[i].at, tt.want[i].e, tt.want[i].at)
				}
			}
		})
	}
}

func TestActivityEventString(t *testing.T) {
	for e, want := range map[ActivityEvent]string{ActivityNone: "none", ActivityStart: "start", ActivityStop: "stop", 9: "none"} {
		if e.String() != want {
			t.Errorf("%d.String() = %q, want %q", e, e.String(), want)
		}
	}
	a := NewActivityDetector()
	a.Process(sine(160, 8000, 1000, 10000))
	a.Process(sine(160, 8000, 1000, 10000))
	if !a.Active() || a.Level() < -15 {
		t.Fatalf("not active after two loud frames (level %.1f)", a.Level())
	}
	a.Reset()
	if a.Active() || a.Level() != DBFSFloor {
		t.Error("Reset left the detector active")
	}
}
