package softphone

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestLoad(t *testing.T) {
	defer goleak.VerifyNone(t, leakOpts()...)
	ctx := timeout(t, 30*time.Second)
	f := &farEnd{Tone: 300 * time.Millisecond, ToneAmp: 0.3, HangupAt: 5 * time.Second, Respond: 200 * time.Millisecond}
	target, stop := startFarEnd(t, f)
	defer stop()
	sc := writeScript(t, "wait-silence 5\ndtmf #\nwait-silence 5\nhangup\n")
	var out bytes.Buffer
	var mu sync.Mutex
	sink := NewJSONSink(&syncWriter{w: &out, mu: &mu}, time.Now())
	cfg := testConfig(target)
	progress := 0
	cfg.Progress = func(LoadProgress) { progress++ }
	const n = 20
	sum, err := Load(ctx, cfg, sc, n, 50, sink)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Attempted != n || sum.Answered != n || sum.Failed != 0 {
		t.Fatalf("summary %+v", sum)
	}
	if sum.SetupP50Ms <= 0 || sum.SetupP95Ms < sum.SetupP50Ms || sum.SetupMaxMs < sum.SetupP95Ms {
		t.Errorf("setup times %v %v %v", sum.SetupP50Ms, sum.SetupP95Ms, sum.SetupMaxMs)
	}
	if sum.PacketsReceived < n*40 || sum.PacketsSent < n*40 {
		t.Errorf("packets sent %d received %d", sum.PacketsSent, sum.PacketsReceived)
	}
	if sum.RecvWithin5Pct <= 0 || sum.MaxRecvGapMs <= 0 || sum.RecvIntervals.N == 0 {
		t.Errorf("receive spacing %.2f%%, max gap %.1f ms", sum.RecvWithin5Pct, sum.MaxRecvGapMs)
	}
	if sum.WallS <= 0 || sum.CPUUserS <= 0 || sum.MaxRSSKiB <= 0 {
		t.Errorf("usage %+v", sum)
	}
	if r := sum.Responses["dtmf"]; r.N != n || r.P50Ms <= 0 || r.MaxMs < r.P95Ms {
		t.Errorf("responses %+v", sum.Responses)
	}
	if !strings.Contains(sum.Text(), "attempted 20, answered 20, failed 0") {
		t.Errorf("text:\n%s", sum.Text())
	}
	// The JSON stream: one object per line, per-call summaries, then the run's.
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var last Event
	calls := map[int]bool{}
	for _, l := range lines {
		var ev map[string]any
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("bad line %q: %v", l, err)
		}
		if _, ok := ev["t_ms"]; !ok {
			t.Errorf("no t_ms in %q", l)
		}
		calls[int(ev["call"].(float64))] = true
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Name != EvSummary ||
		last.Call != -1 || last.Summary == nil || last.Summary.Answered != n {
		t.Errorf("last line %q", lines[len(lines)-1])
	}
	if len(calls) != n+1 {
		t.Errorf("events from %d calls", len(calls))
	}
	for range n {
		<-f.Ended
	}
}

type syncWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
