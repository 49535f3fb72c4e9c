// Package metrics is `ivr serve`'s Prometheus endpoint: what calls,
// speech recognition, the queue, agents and RTP do, under names prefixed
// ivr_ (docs/metrics.md lists them).
//
// It keeps its own registry (never the process-wide default), with the Go
// runtime and process collectors. Counts of events (a call's end, a
// recognition result, a queue wait, the bot's response time) come through
// the small observer interfaces the producing packages define
// (server.Observer, bridge.Observer); states (calls ringing or with an
// agent, agents by state, the queue, decoder use, RTP counters of calls in
// progress) are read from the server, the bridge and the recognizer when
// Prometheus scrapes.
//
// Labels are low-cardinality by construction: every label value is one of
// a fixed set (an unknown value becomes "other"), never a call ID, a phone
// number, a digit or recognised text.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/bridge"
	"github.com/supportline/ivr/server"
)

// Histogram buckets, in seconds.
var (
	// responseBuckets: end of the caller's turn → first frame of the answer
	// (the design's budget is 480 ms with the 400 ms end silence).
	responseBuckets = []float64{.05, .1, .15, .2, .25, .3, .35, .4, .45, .5, .6, .7, .8, 1, 1.5, 2, 3, 5}
	// recognitionBuckets: end of utterance → result, and decoder waits.
	recognitionBuckets = []float64{.001, .0025, .005, .01, .02, .05, .1, .15, .25, .5, 1, 2.5}
	// queueBuckets: time in the queue.
	queueBuckets = []float64{1, 5, 10, 15, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 1800}
	// durationBuckets: a call's length.
	durationBuckets = []float64{1, 5, 10, 20, 30, 60, 120, 180, 300, 600, 1200, 1800, 3600}
	// jitterBuckets: a call's RFC 3550 interarrival jitter at its end.
	jitterBuckets = []float64{.0005, .001, .002, .005, .01, .02, .03, .05, .1, .2}
)

// Metrics holds the registry and the metrics fed by events. Make it with
// New; it implements server.Observer and bridge.Observer.
type Metrics struct {
	reg *prometheus.Registry

	calls      *prometheus.CounterVec
	rejected   *prometheus.CounterVec
	duration   prometheus.Histogram
	contained  prometheus.Counter
	handovers  *prometheus.CounterVec
	queueWait  *prometheus.HistogramVec
	asrResults *prometheus.CounterVec
	asrLatency prometheus.Histogram
	asrWait    prometheus.Histogram
	response   *prometheus.HistogramVec
	jitter     prometheus.Histogram

	live *liveCollector
	legs *legCollector
	sip  *sipCollector
}

// New returns metrics on a registry of their own, with the Go and process
// collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), live: newLiveCollector(), legs: &legCollector{}, sip: &sipCollector{}}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.calls = m.counterVec("ivr_calls_total",
		"Calls that reached the server, by how they ended (outcome).", "outcome")
	m.rejected = m.counterVec("ivr_calls_rejected_total",
		"Calls refused before ringing, by reason (also in ivr_calls_total{outcome=\"rejected\"}).", "reason")
	m.duration = m.histogram("ivr_call_duration_seconds", "Length of calls, from the INVITE to the end.", durationBuckets)
	m.contained = prometheus.NewCounter(prometheus.CounterOpts{Name: "ivr_bot_contained_total",
		Help: "Calls the bot served by itself: the caller said goodbye, or hung up after the bot answered a request, with no handover."})
	m.reg.MustRegister(m.contained)
	m.handovers = m.counterVec("ivr_handovers_total",
		"Calls the bot handed to a person, by reason (asked, frustration, bot_failed).", "reason")
	m.queueWait = m.histogramVec("ivr_queue_wait_seconds",
		"Time calls waited in the agent queue, by result (answered by an agent, or left: hung up or took a callback).",
		queueBuckets, "result")
	m.asrResults = m.counterVec("ivr_asr_results_total",
		"Speech recognition results, by result (match, nomatch, noinput).", "result")
	m.asrLatency = m.histogram("ivr_asr_recognition_latency_seconds",
		"End of an utterance (the frame that ended it) to its recognition result.", recognitionBuckets)
	m.asrWait = m.histogram("ivr_asr_decoder_wait_seconds",
		"Time each utterance waited for a free decoder of the pool.", recognitionBuckets)
	m.response = m.histogramVec("ivr_response_latency_seconds",
		"End of the caller's turn (last voiced frame, or the key press) to the first frame of the bot's answer sent, by input (speech, dtmf).",
		responseBuckets, "input")
	m.jitter = m.histogram("ivr_rtp_jitter_seconds",
		"RFC 3550 interarrival jitter of the caller's RTP at each call's end (direction in).", jitterBuckets)
	m.reg.MustRegister(m.live, m.legs, m.sip)
	m.zero()
	return m
}

func (m *Metrics) counterVec(name, help string, label string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{label})
	m.reg.MustRegister(c)
	return c
}

func (m *Metrics) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets})
	m.reg.MustRegister(h)
	return h
}

func (m *Metrics) histogramVec(name, help string, buckets []float64, label string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, []string{label})
	m.reg.MustRegister(h)
	return h
}

// Registry is the registry every metric is on.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// CallEnded implements server.Observer.
func (m *Metrics) CallEnded(s server.CallSummary) {
	m.calls.WithLabelValues(outcomeLabel(s)).Inc()
	m.duration.Observe(s.Duration.Seconds())
	if s.Outcome == server.OutcomeRejected {
		m.rejected.WithLabelValues(oneOf(s.Reason, rejectReasons)).Inc()
		return
	}
	if s.Flow.Contained {
		m.contained.Inc()
	}
	if s.Flow.Outcome == botHandover {
		m.handovers.WithLabelValues(oneOf(s.Flow.Reason, handoverReasons)).Inc()
	}
	if s.Answered {
		m.jitter.Observe(s.Media.Jitter.Seconds())
	}
	m.live.ended(&s.Media)
}

// SpeechResult implements server.Observer.
func (m *Metrics) SpeechResult(ev asr.Event) {
	var result string
	switch ev.Type {
	case asr.EventFinal:
		result = "match"
	case asr.EventNoMatch:
		result = "nomatch"
	case asr.EventNoInput:
		m.asrResults.WithLabelValues("noinput").Inc()
		return
	default:
		return
	}
	m.asrResults.WithLabelValues(result).Inc()
	m.asrLatency.Observe(ev.Latency.Seconds())
	m.asrWait.Observe(ev.DecoderWait.Seconds())
}

// Responded implements server.Observer.
func (m *Metrics) Responded(input string, after time.Duration) {
	m.response.WithLabelValues(oneOf(input, inputs)).Observe(after.Seconds())
}

// Dequeued implements bridge.Observer.
func (m *Metrics) Dequeued(wait time.Duration, answered bool) {
	result := "left"
	if answered {
		result = "answered"
	}
	m.queueWait.WithLabelValues(result).Observe(wait.Seconds())
}

var (
	_ server.Observer = (*Metrics)(nil)
	_ bridge.Observer = (*Metrics)(nil)
)
