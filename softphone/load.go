package softphone

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/supportline/ivr/media"
	"github.com/supportline/ivr/sip"
)

// LoadProgress is a snapshot of a load run.
type LoadProgress struct {
	Elapsed                      time.Duration
	Started, Up, Answered, Ended int
	Failed                       int
}

// String is one progress line, e.g. "12s started 200 up 180 answered 190 failed 2 ended 10".
func (p LoadProgress) String() string {
	return fmt.Sprintf("%4.0fs started %d up %d answered %d failed %d ended %d",
		p.Elapsed.Seconds(), p.Started, p.Up, p.Answered, p.Failed, p.Ended)
}

// Summary is the outcome of a load run.
type Summary struct {
	Attempted int            `json:"attempted"`
	Answered  int            `json:"answered"`
	Failed    int            `json:"failed"`
	Failures  map[string]int `json:"failures,omitempty"` // by reason

	SetupP50Ms float64 `json:"setup_p50_ms"`
	SetupP95Ms float64 `json:"setup_p95_ms"`
	SetupMaxMs float64 `json:"setup_max_ms"`

	// Responses are the far end's response times over all calls, by what
	// they answered: "play" (from play end) and "dtmf" (from the last digit).
	Responses map[string]TurnStats `json:"responses,omitempty"`

	PacketsSent     uint64  `json:"packets_sent"`
	PacketsReceived uint64  `json:"packets_received"`
	Lost            int64   `json:"lost"`
	LossPct         float64 `json:"loss_pct"`
	// Receive spacing: the far end's packets as they arrived, all calls
	// merged. RecvWithin5Pct is the share 20±5 ms apart.
	MaxRecvGapMs   float64 `json:"max_recv_gap_ms"`
	RecvP999Ms     float64 `json:"recv_interval_p99_9_ms"`
	RecvWithin5Pct float64 `json:"recv_20ms_pm5_pct"`
	// Send spacing: our own packets, to show the generator kept time.
	MaxSendGapMs   float64 `json:"max_send_gap_ms"`
	SendWithin5Pct float64 `json:"send_20ms_pm5_pct"`

	WallS     float64 `json:"wall_s"`
	CPUUserS  float64 `json:"cpu_user_s"`
	CPUSysS   float64 `json:"cpu_sys_s"`
	CPUPct    float64 `json:"cpu_pct_of_one_core"`
	MaxRSSKiB int64   `json:"max_rss_kib"`

	// RecvIntervals and SendIntervals are the merged histograms.
	RecvIntervals media.IntervalHistogram `json:"-"`
	SendIntervals media.IntervalHistogram `json:"-"`
}

// TurnStats summarises response times.
type TurnStats struct {
	N     int     `json:"n"`
	P50Ms float64 `json:"p50_ms"`
	P95Ms float64 `json:"p95_ms"`
	MaxMs float64 `json:"max_ms"`
}

// Load runs n calls of script concurrently, starting rate calls a second
// (0: all at once), from one Phone. It returns once every call has ended;
// cancelling ctx hangs up the calls under way and starts no more. Per-call
// events go to events, then one "summary" event with call -1.
func Load(ctx context.Context, cfg Config, script *Script, n int, rate float64, events EventSink) (*Summary, error) {
	if n < 1 {
		return nil, fmt.Errorf("%w: %d calls", ErrConfig, n)
	}
	e, err := newEnv(cfg, script, events)
	if err != nil {
		return nil, err
	}
	defer e.close()
	ru0 := readUsage()
	t0 := time.Now()
	stopProgress := e.reportProgress(t0)
	results := e.startCalls(ctx, n, rate)
	stopProgress()
	sum := summarize(results, time.Since(t0), readUsage().sub(ru0))
	e.sink.Event(Event{At: time.Now(), Call: -1, Name: EvSummary, Summary: sum})
	return sum, nil
}

// startCalls starts up to n calls at rate per second and waits for them.
func (e *env) startCalls(ctx context.Context, n int, rate float64) []*Result {
	results := make([]*Result, n)
	var tick <-chan time.Time
	if rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer t.Stop()
		tick = t.C
	}
	var wg sync.WaitGroup
	started := 0
start:
	for i := range n {
		if i > 0 && tick != nil {
			select {
			case <-tick:
			case <-ctx.Done():
				break start
			}
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() { results[i] = e.call(ctx, i, recordPath(e.cfg.Record, i, n)) })
		started++
		e.started.Store(int64(started))
	}
	wg.Wait()
	return results[:started]
}

// reportProgress calls cfg.Progress each second until the returned func is called.
func (e *env) reportProgress(t0 time.Time) func() {
	if e.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				e.cfg.Progress(LoadProgress{Elapsed: now.Sub(t0), Started: int(e.started.Load()),
					Up: int(e.up.Load()), Answered: int(e.answered.Load()), Failed: int(e.failed.Load()),
					Ended: int(e.ended.Load())})
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// recordPath gives call i of n its own recording file.
func recordPath(path string, i, n int) string {
	if path == "" || n == 1 {
		return path
	}
	ext := filepath.Ext(path)
	return fmt.Sprintf("%s-%04d%s", strings.TrimSuffix(path, ext), i, ext)
}

func summarize(results []*Result, wall time.Duration, ru usage) *Summary {
	s := &Summary{Attempted: len(results), Failures: map[string]int{}}
	var setups []float64
	responses := map[string][]float64{}
	for _, r := range results {
		if r.Answered {
			s.Answered++
			setups = append(setups, r.SetupMs)
		}
		if r.Err != nil {
			s.Failed++
			s.Failures[failureKind(r.Err)]++
		}
		for _, t := range r.Turns {
			responses[t.After] = append(responses[t.After], t.ResponseMs)
		}
		st := &r.Stats
		s.PacketsSent += st.PacketsSent
		s.PacketsReceived += st.PacketsReceived
		s.Lost += st.Lost
		s.RecvIntervals.Merge(&st.RecvIntervals)
		s.SendIntervals.Merge(&st.SendIntervals)
	}
	if len(s.Failures) == 0 {
		s.Failures = nil
	}
	s.SetupP50Ms, s.SetupP95Ms, s.SetupMaxMs = percentile(setups, 50), percentile(setups, 95), percentile(setups, 100)
	for kind, v := range responses {
		if s.Responses == nil {
			s.Responses = map[string]TurnStats{}
		}
		s.Responses[kind] = TurnStats{N: len(v), P50Ms: percentile(v, 50), P95Ms: percentile(v, 95), MaxMs: percentile(v, 100)}
	}
	if exp := int64(s.PacketsReceived) + s.Lost; exp > 0 {
		s.LossPct = 100 * float64(s.Lost) / float64(exp)
	}
	s.MaxRecvGapMs = msOf(s.RecvIntervals.Max)
	s.RecvP999Ms = msOf(s.RecvIntervals.Percentile(99.9))
	s.RecvWithin5Pct = 100 * s.RecvIntervals.Within(media.FrameDuration, 5*time.Millisecond)
	s.MaxSendGapMs = msOf(s.SendIntervals.Max)
	s.SendWithin5Pct = 100 * s.SendIntervals.Within(media.FrameDuration, 5*time.Millisecond)
	s.WallS = wall.Seconds()
	s.CPUUserS, s.CPUSysS = ru.user.Seconds(), ru.sys.Seconds()
	if wall > 0 {
		s.CPUPct = 100 * (ru.user + ru.sys).Seconds() / wall.Seconds()
	}
	s.MaxRSSKiB = ru.maxRSSKiB
	return s
}

// percentile returns the p-th percentile (nearest rank) of v; 0 when empty.
func percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	sort.Float64s(v)
	k := int(p/100*float64(len(v))+0.9999999) - 1
	return v[min(max(k, 0), len(v)-1)]
}

// failureKind groups failures for the summary: the SIP status without its
// warning text, or the sentinel reason.
func failureKind(err error) string {
	var se *sip.StatusError
	if errors.As(err, &se) {
		return fmt.Sprintf("%d %s", se.Code, se.Reason)
	}
	for _, k := range []error{ErrSetupTimeout, ErrNoRTP, ErrRTPStopped, ErrSilenceTimeout,
		ErrNoTelephoneEvent, ErrBadAnswer, ErrInterrupted, media.ErrPortsExhausted} {
		if errors.Is(err, k) {
			return k.Error()
		}
	}
	return err.Error()
}

// Text formats the summary for people.
func (s *Summary) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "calls: attempted %d, answered %d, failed %d\n", s.Attempted, s.Answered, s.Failed)
	keys := make([]string, 0, len(s.Failures))
	for k := range s.Failures {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "  failed %4d  %s\n", s.Failures[k], k)
	}
	fmt.Fprintf(&b, "setup (INVITE→200): p50 %.1f ms, p95 %.1f ms, max %.1f ms\n", s.SetupP50Ms, s.SetupP95Ms, s.SetupMaxMs)
	for _, kind := range []string{"play", "dtmf"} {
		if t, ok := s.Responses[kind]; ok {
			fmt.Fprintf(&b, "response after %s (n=%d): p50 %.1f ms, p95 %.1f ms, max %.1f ms\n",
				kind, t.N, t.P50Ms, t.P95Ms, t.MaxMs)
		}
	}
	fmt.Fprintf(&b, "rtp: sent %d, received %d, lost %d (%.3f%%)\n", s.PacketsSent, s.PacketsReceived, s.Lost, s.LossPct)
	fmt.Fprintf(&b, "receive spacing: %.3f%% within 20±5 ms, p99.9 %.1f ms, largest gap %.1f ms\n",
		s.RecvWithin5Pct, s.RecvP999Ms, s.MaxRecvGapMs)
	fmt.Fprintf(&b, "send spacing: %.3f%% within 20±5 ms, largest gap %.1f ms\n", s.SendWithin5Pct, s.MaxSendGapMs)
	fmt.Fprintf(&b, "this process: wall %.1f s, cpu user %.2f s + sys %.2f s (%.1f%% of one core), max RSS %d MiB\n",
		s.WallS, s.CPUUserS, s.CPUSysS, s.CPUPct, s.MaxRSSKiB/1024)
	return b.String()
}
