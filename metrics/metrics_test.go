package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/bridge"
	"github.com/supportline/ivr/media"
	"github.com/supportline/ivr/server"
)

func TestOutcomeLabel(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    server.CallSummary
		want string
	}{
		{"rejected", server.CallSummary{Outcome: server.OutcomeRejected}, "rejected"},
		{"abandoned", server.CallSummary{Outcome: server.OutcomeAbandoned}, "abandoned"},
		{"bot goodbye, we hung up", server.CallSummary{Outcome: server.OutcomeCompleted, Flow: server.FlowResult{Outcome: botCompleted}}, "bot_completed"},
		{"bot goodbye, caller hung up first", server.CallSummary{Outcome: server.OutcomeCallerHangup, Flow: server.FlowResult{Outcome: botCompleted}}, "bot_completed"},
		{"handover", server.CallSummary{Outcome: server.OutcomeCallerHangup, Flow: server.FlowResult{Outcome: botHandover}}, "handed_over"},
		{"handover then RTP lost", server.CallSummary{Outcome: server.OutcomeFailed, Flow: server.FlowResult{Outcome: botHandover}}, "handed_over"},
		{"bot error", server.CallSummary{Outcome: server.OutcomeCompleted, Flow: server.FlowResult{Outcome: botError}}, "failed"},
		{"hung up in the bot", server.CallSummary{Outcome: server.OutcomeCallerHangup, Flow: server.FlowResult{Outcome: botHangup}}, "caller_hung_up"},
		{"RTP time-out in the bot", server.CallSummary{Outcome: server.OutcomeFailed, Flow: server.FlowResult{Outcome: botHangup}}, "failed"},
		{"menu finished", server.CallSummary{Outcome: server.OutcomeCompleted}, "completed"},
		{"shutdown", server.CallSummary{Outcome: server.OutcomeShutdown, Flow: server.FlowResult{Outcome: botHangup}}, "shutdown"},
		{"unknown", server.CallSummary{Outcome: "+15550100"}, "other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := outcomeLabel(tc.s); got != tc.want {
				t.Errorf("outcome %q, want %q", got, tc.want)
			}
		})
	}
}

// TestLabelsAreClosed feeds values from outside every fixed set: each
// becomes "other", so nothing a caller says or keys reaches a label.
func TestLabelsAreClosed(t *testing.T) {
	m := New()
	m.CallEnded(server.CallSummary{Outcome: server.OutcomeRejected, Reason: "2468"})
	m.CallEnded(server.CallSummary{Outcome: "4111111111111111", Answered: true,
		Flow: server.FlowResult{Outcome: botHandover, Reason: "card 4242"}})
	m.Responded("2468", time.Millisecond)
	m.SpeechResult(asr.Event{Type: asr.EventFinal, Text: "two four six eight", Value: "2468", Intent: asr.IntentDigits})
	body := namesAndLabels(scrapeBody(t, m))
	for _, bad := range []string{"2468", "4111", "4242", "two four"} {
		if strings.Contains(body, bad) {
			t.Errorf("%q in /metrics", bad)
		}
	}
	if got := testutil.ToFloat64(m.rejected.WithLabelValues(other)); got != 1 {
		t.Errorf("rejected{reason=other} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.handovers.WithLabelValues(other)); got != 1 {
		t.Errorf("handovers{reason=other} = %v, want 1", got)
	}
}

// namesAndLabels returns a Prometheus text exposition without its sample
// values: names, labels and help, where something a caller said or keyed
// could leak. The values are counts, sums and the Go runtime's figures; one
// held 2468 by chance in a CI run (go_memstats_..., a false alarm).
func namesAndLabels(body string) string {
	var b strings.Builder
	for _, l := range strings.Split(body, "\n") {
		if !strings.HasPrefix(l, "#") {
			if i := strings.LastIndexByte(l, ' '); i > 0 {
				l = l[:i]
			}
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

func scrapeBody(t *testing.T, m *Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHistogramOf(t *testing.T) {
	var h media.IntervalHistogram
	for _, d := range []time.Duration{19500 * time.Microsecond, 20 * time.Millisecond, 20900 * time.Microsecond,
		40 * time.Millisecond, 300 * time.Millisecond} {
		h.Add(d)
	}
	c := histogramOf(&h)
	for le, want := range map[float64]uint64{.019: 0, .02: 1, .021: 3, .04: 3, .06: 4, .2: 4} {
		if got := c.buckets[le]; got != want {
			t.Errorf("bucket le=%v: %d, want %d", le, got, want)
		}
	}
	if c.n != 5 {
		t.Errorf("count %d, want 5", c.n)
	}
	if want := .0195 + .0205 + .0205 + .0405 + .2005; c.sum < want-1e-9 || c.sum > want+1e-9 {
		t.Errorf("sum %v, want %v", c.sum, want)
	}
}

// fakeCalls stands in for the server's calls in progress.
type fakeCalls []struct {
	answered bool
	st       media.Stats
}

func (f fakeCalls) EachCall(fn func(bool, *media.Stats)) {
	for i := range f {
		fn(f[i].answered, &f[i].st)
	}
}

type fakeQueue bridge.SupervisorView

func (f fakeQueue) Supervisor() bridge.SupervisorView { return bridge.SupervisorView(f) }

type fakePool asr.PoolStats

func (f fakePool) Stats() asr.PoolStats { return asr.PoolStats(f) }

// TestScrapeStates reads states and RTP counters from the sources at
// scrape time, and the RTP counters never go down when a call moves from
// the calls in progress to the ended ones.
func TestScrapeStates(t *testing.T) {
	m := New()
	live := fakeCalls{{answered: false}, {answered: true}, {answered: true}, {answered: true}}
	live[1].st = media.Stats{PacketsReceived: 100, PacketsSent: 110, Lost: 2, Jitter: 3 * time.Millisecond}
	live[2].st = media.Stats{PacketsReceived: 50, PacketsSent: 60, Lost: -1}
	q := fakeQueue{Waiting: 1, WithAgent: 1, QueueLength: 1, LongestWait: 12.5,
		Agents: []bridge.AgentView{{State: bridge.StateOnCall}, {State: bridge.StateAvailable}, {State: bridge.StateAvailable}}}
	m.Watch(Sources{Calls: live, Queue: q, Decoders: fakePool{Size: 4, Free: 3, Acquired: 9, Waited: 2, Retried: 1}})
	want := `
# HELP ivr_calls Calls in progress by state: ringing (not answered yet), bot (answered, with the bot or menu), queued (waiting for an agent), agent (with an agent).
# TYPE ivr_calls gauge
ivr_calls{state="agent"} 1
ivr_calls{state="bot"} 1
ivr_calls{state="queued"} 1
ivr_calls{state="ringing"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "ivr_calls"); err != nil {
		t.Error(err)
	}
	checks := []struct {
		name, labels string
		want         float64
	}{
		{"ivr_rtp_packets_total", `direction="in"`, 150},
		{"ivr_rtp_packets_total", `direction="out"`, 170},
		{"ivr_rtp_lost_packets_total", `direction="in"`, 2},
		{"ivr_rtp_jitter_max_seconds", `direction="in"`, .003},
		{"ivr_agents", `state="available"`, 2},
		{"ivr_agents", `state="on_call"`, 1},
		{"ivr_agents", `state="offline"`, 0},
		{"ivr_queue_length", "", 1},
		{"ivr_queue_longest_wait_seconds", "", 12.5},
		{"ivr_asr_decoders", `state="busy"`, 1},
		{"ivr_asr_decoder_waited_total", "", 2},
		{"ivr_asr_retried_total", "", 1},
	}
	body := scrapeBody(t, m)
	for _, c := range checks {
		line := c.name
		if c.labels != "" {
			line += "{" + c.labels + "}"
		}
		if !strings.Contains(body, line+" "+formatFloat(c.want)+"\n") {
			t.Errorf("want %s %v in\n%s", line, c.want, grepLines(body, c.name))
		}
	}
	// Call 1 ends: it leaves the live set first, then reaches the totals;
	// a scrape in between keeps the counters where they were.
	ended := live[1].st
	live = append(live[:1], live[2:]...)
	m.Watch(Sources{Calls: live, Queue: q})
	if body := scrapeBody(t, m); !strings.Contains(body, `ivr_rtp_packets_total{direction="in"} 150`+"\n") {
		t.Errorf("packets in went down between a call's two steps:\n%s", grepLines(body, "ivr_rtp_packets_total"))
	}
	m.CallEnded(server.CallSummary{Outcome: server.OutcomeCallerHangup, Answered: true, Media: ended})
	live[1].st.PacketsReceived += 10
	if body := scrapeBody(t, m); !strings.Contains(body, `ivr_rtp_packets_total{direction="in"} 160`+"\n") {
		t.Errorf("packets in after the end:\n%s", grepLines(body, "ivr_rtp_packets_total"))
	}
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func grepLines(body, prefix string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestEventsCount checks the event-fed metrics.
func TestEventsCount(t *testing.T) {
	m := New()
	m.SpeechResult(asr.Event{Type: asr.EventFinal, Latency: 5 * time.Millisecond, DecoderWait: 0})
	m.SpeechResult(asr.Event{Type: asr.EventNoMatch, Latency: 8 * time.Millisecond, DecoderWait: 30 * time.Millisecond})
	m.SpeechResult(asr.Event{Type: asr.EventNoInput})
	m.SpeechResult(asr.Event{Type: asr.EventSpeechStart})
	m.Responded(server.InputSpeech, 310*time.Millisecond)
	m.Dequeued(20*time.Second, true)
	m.Dequeued(3*time.Second, false)
	m.CallEnded(server.CallSummary{Outcome: server.OutcomeCallerHangup, Answered: true,
		Flow: server.FlowResult{Outcome: botHangup, Contained: true}})
	m.CallEnded(server.CallSummary{Outcome: server.OutcomeCallerHangup, Answered: true,
		Flow: server.FlowResult{Outcome: botHandover, Reason: "frustration"}})
	for _, c := range []struct {
		got, want float64
		what      string
	}{
		{testutil.ToFloat64(m.asrResults.WithLabelValues("match")), 1, "match"},
		{testutil.ToFloat64(m.asrResults.WithLabelValues("nomatch")), 1, "nomatch"},
		{testutil.ToFloat64(m.asrResults.WithLabelValues("noinput")), 1, "noinput"},
		{float64(testutil.CollectAndCount(m.asrLatency)), 1, "latency series"},
		{testutil.ToFloat64(m.contained), 1, "contained"},
		{testutil.ToFloat64(m.handovers.WithLabelValues("frustration")), 1, "frustration handovers"},
		{testutil.ToFloat64(m.calls.WithLabelValues("handed_over")), 1, "handed over"},
		{testutil.ToFloat64(m.calls.WithLabelValues("caller_hung_up")), 1, "caller hung up"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	body := scrapeBody(t, m)
	for _, want := range []string{
		"ivr_asr_recognition_latency_seconds_count 2",
		"ivr_asr_decoder_wait_seconds_bucket{le=\"0.05\"} 2",
		"ivr_asr_decoder_wait_seconds_bucket{le=\"0.02\"} 1",
		"ivr_response_latency_seconds_bucket{input=\"speech\",le=\"0.35\"} 1",
		"ivr_response_latency_seconds_bucket{input=\"speech\",le=\"0.3\"} 0",
		"ivr_queue_wait_seconds_count{result=\"answered\"} 1",
		"ivr_queue_wait_seconds_bucket{result=\"left\",le=\"5\"} 1",
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("want %q", want)
		}
	}
}

type fakeLegs []bridge.LegStats

func (f fakeLegs) EachLeg(fn func(bridge.LegStats)) {
	for _, st := range f {
		fn(st)
	}
}

func TestLegCounters(t *testing.T) {
	m := New()
	live := fakeLegs{{Sent: 100, Received: 90, SendDropped: 1, Jitter: media.JitterStats{Concealed: 3, Late: 2}}}
	m.Watch(Sources{Legs: live})
	m.LegEnded(bridge.LegStats{Sent: 50, Received: 40})
	body := scrapeBody(t, m)
	for _, want := range []string{
		`ivr_webrtc_packets_total{direction="in"} 130`, `ivr_webrtc_packets_total{direction="out"} 150`,
		`ivr_webrtc_dropped_frames_total{direction="out"} 1`, `ivr_webrtc_concealed_frames_total{direction="in"} 3`,
		`ivr_webrtc_late_packets_total{direction="in"} 2`, `ivr_webrtc_legs 1`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("want %s in\n%s", want, grepLines(body, "ivr_webrtc"))
		}
	}
	m.Watch(Sources{}) // the live leg left, its end not reported yet: no counter goes down
	if body := scrapeBody(t, m); !strings.Contains(body, `ivr_webrtc_packets_total{direction="in"} 130`+"\n") {
		t.Errorf("counter went down:\n%s", grepLines(body, "ivr_webrtc"))
	}
}

// BenchmarkScrape is one scrape (gather and encode) with 200 calls in
// progress and 20 agents.
func BenchmarkScrape(b *testing.B) {
	m := New()
	live := make(fakeCalls, 200)
	for i := range live {
		live[i].answered = true
		live[i].st = media.Stats{PacketsReceived: 1000, PacketsSent: 1000}
	}
	agents := make([]bridge.AgentView, 20)
	m.Watch(Sources{Calls: live, Queue: fakeQueue{Agents: agents}, Decoders: fakePool{Size: 8}})
	h := m.Handler()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	}
}
