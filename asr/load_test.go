package asr

import (
	"context"
	"testing"
	"time"
)

// TestLoad runs a short real-time load over the CI corpus, with staggered
// starts and all at once, and checks the report adds up: the run lasts the
// spread and the measured window, results were counted, and the CPU and
// latency figures are filled in. (The figures themselves are measured with
// `ivr asr load`, README.)
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("runs streams in real time")
	}
	s := newTestSphinx(t)
	for _, tc := range []struct {
		name   string
		spread time.Duration
		want   float64
	}{
		{"staggered", time.Second, 1},
		{"all at once", -1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			start := time.Now()
			rep, err := Load(ctx, s, "../testdata/corpus-ci", LoadConfig{Streams: 4, Duration: 4 * time.Second, Spread: tc.spread})
			if err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			t.Logf("%+v in %v", *rep, took.Round(time.Millisecond))
			if rep.SpreadSec != tc.want || rep.DurationSec != 4 || rep.Streams != 4 {
				t.Errorf("report says %d streams, spread %v s, %v s; want 4, %v, 4", rep.Streams, rep.SpreadSec, rep.DurationSec, tc.want)
			}
			if min := time.Duration(tc.want*float64(time.Second)) + 4*time.Second; took < min {
				t.Errorf("run took %v, want at least spread + duration = %v", took, min)
			}
			// A clip and its pause last 4.4-7.7 s: in 4 s most of the
			// streams end an utterance, some may not.
			if rep.Utterances < 1 {
				t.Errorf("no utterance counted")
			}
			if rep.Correct == 0 || rep.CPUUse <= 0 || rep.RTF <= 0 || rep.LatencyP95MS <= 0 || rep.LatencyP95MS < rep.LatencyP50MS {
				t.Errorf("figures missing: %+v", *rep)
			}
		})
	}
}
