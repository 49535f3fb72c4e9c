package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/supportline/ivr/media"
)

// Directions of RTP (label direction): in is from the caller, out to the
// caller.
const (
	dirIn  = "in"
	dirOut = "out"
)

var (
	descPackets = prometheus.NewDesc("ivr_rtp_packets_total",
		"RTP packets of the callers' legs by direction (in: from the caller, out: to the caller).", []string{"direction"}, nil)
	descLost = prometheus.NewDesc("ivr_rtp_lost_packets_total",
		"RTP packets lost (RFC 3550 A.3, expected minus received) by direction; only in is measured (no RTCP from callers).",
		[]string{"direction"}, nil)
	descLate = prometheus.NewDesc("ivr_rtp_skipped_frames_total",
		"Frames to the caller skipped because the pacing clock fell more than two frames behind (direction out).",
		[]string{"direction"}, nil)
	descSendErrors = prometheus.NewDesc("ivr_rtp_send_errors_total",
		"RTP packets to the caller whose send failed.", nil, nil)
	descJitterMax = prometheus.NewDesc("ivr_rtp_jitter_max_seconds",
		"Largest RFC 3550 interarrival jitter among calls in progress (direction in).", []string{"direction"}, nil)
	descSRTPDropped = prometheus.NewDesc("ivr_srtp_dropped_packets_total",
		"SRTP packets from callers dropped, by reason (auth: the tag did not verify, e.g. forged or a wrong key; replay).",
		[]string{"reason"}, nil)
	descInterval = prometheus.NewDesc("ivr_rtp_packet_interval_seconds",
		"Time between consecutive RTP packets of ended calls, by direction (out: our pacing, 20 ms nominal; in: arrivals from the caller).",
		[]string{"direction"}, nil)
)

// intervalBoundsMS are the bucket bounds of ivr_rtp_packet_interval_seconds,
// in whole milliseconds (media.IntervalHistogram counts 1 ms buckets).
var intervalBoundsMS = []int{5, 10, 15, 18, 19, 20, 21, 22, 25, 30, 40, 60, 100, 200}

// rtpTotals are RTP counters summed over calls.
type rtpTotals struct {
	inPackets, outPackets, inLost, outSkipped, sendErrors uint64
	srtpAuth, srtpReplays                                 uint64
}

func (t *rtpTotals) add(st *media.Stats) {
	t.inPackets += st.PacketsReceived
	t.outPackets += st.PacketsSent
	t.inLost += uint64(max(st.Lost, 0))
	t.outSkipped += st.SkippedFrames
	t.sendErrors += st.SendErrors
	t.srtpAuth += st.SRTPAuthFailures
	t.srtpReplays += st.SRTPReplays
}

// plus adds o's counters to t.
func (t *rtpTotals) plus(o rtpTotals) {
	t.inPackets += o.inPackets
	t.outPackets += o.outPackets
	t.inLost += o.inLost
	t.outSkipped += o.outSkipped
	t.sendErrors += o.sendErrors
	t.srtpAuth += o.srtpAuth
	t.srtpReplays += o.srtpReplays
}

// monotonic keeps each field at least its last reported value: a call
// leaves the calls in progress just before its counters reach the ended
// totals, and a scrape between the two must not see a counter go down.
func (t *rtpTotals) monotonic(last *rtpTotals) {
	for _, p := range [][2]*uint64{{&t.inPackets, &last.inPackets}, {&t.outPackets, &last.outPackets},
		{&t.inLost, &last.inLost}, {&t.outSkipped, &last.outSkipped}, {&t.sendErrors, &last.sendErrors},
		{&t.srtpAuth, &last.srtpAuth}, {&t.srtpReplays, &last.srtpReplays}} {
		*p[0] = max(*p[0], *p[1])
		*p[1] = *p[0]
	}
}

// liveCollector is the scrape-time collector of the callers' legs: RTP
// counters of ended calls plus those of calls in progress, and the state
// gauges of calls, agents, the queue and the decoders (live.go).
type liveCollector struct {
	sources

	mu         sync.Mutex
	endedSum   rtpTotals
	last       rtpTotals
	inInterval media.IntervalHistogram
	outInterv  media.IntervalHistogram
}

func newLiveCollector() *liveCollector { return &liveCollector{} }

func (c *liveCollector) setSources(src Sources) {
	c.sources.mu.Lock()
	c.sources.src = src
	c.sources.mu.Unlock()
}

// ended adds an ended call's counters.
func (c *liveCollector) ended(st *media.Stats) {
	c.mu.Lock()
	c.endedSum.add(st)
	c.inInterval.Merge(&st.RecvIntervals)
	c.outInterv.Merge(&st.SendIntervals)
	c.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (c *liveCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPackets, descLost, descLate, descSendErrors, descSRTPDropped, descJitterMax, descInterval} {
		ch <- d
	}
	describeStates(ch)
}

// Collect implements prometheus.Collector.
func (c *liveCollector) Collect(ch chan<- prometheus.Metric) {
	src := c.get()
	var live rtpTotals
	var ringing, answered int
	var jitter time.Duration
	if src.Calls != nil {
		src.Calls.EachCall(func(ans bool, st *media.Stats) {
			if !ans {
				ringing++
				return
			}
			answered++
			live.add(st)
			jitter = max(jitter, st.Jitter)
		})
	}
	c.mu.Lock()
	t := c.endedSum
	t.plus(live)
	t.monotonic(&c.last)
	in, out := histogramOf(&c.inInterval), histogramOf(&c.outInterv)
	c.mu.Unlock()

	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(descPackets, t.inPackets, dirIn)
	counter(descPackets, t.outPackets, dirOut)
	counter(descLost, t.inLost, dirIn)
	counter(descLate, t.outSkipped, dirOut)
	counter(descSendErrors, t.sendErrors)
	counter(descSRTPDropped, t.srtpAuth, "auth")
	counter(descSRTPDropped, t.srtpReplays, "replay")
	ch <- prometheus.MustNewConstMetric(descJitterMax, prometheus.GaugeValue, jitter.Seconds(), dirIn)
	ch <- prometheus.MustNewConstHistogram(descInterval, in.n, in.sum, in.buckets, dirIn)
	ch <- prometheus.MustNewConstHistogram(descInterval, out.n, out.sum, out.buckets, dirOut)
	collectStates(ch, src, ringing, answered)
}

// constHistogram is a media.IntervalHistogram in Prometheus' terms.
type constHistogram struct {
	n       uint64
	sum     float64
	buckets map[float64]uint64
}

// histogramOf maps h's 1 ms buckets onto intervalBoundsMS: the bucket
// le=L ms counts the intervals shorter than L ms. The sum takes each
// interval at its bucket's middle (the longest at HistogramBuckets ms).
func histogramOf(h *media.IntervalHistogram) constHistogram {
	out := constHistogram{n: h.N, buckets: make(map[float64]uint64, len(intervalBoundsMS))}
	var acc uint64
	i := 0
	for _, le := range intervalBoundsMS {
		for ; i < le && i < len(h.Buckets); i++ {
			acc += uint64(h.Buckets[i])
		}
		out.buckets[float64(le)/1000] = acc
	}
	for j, c := range h.Buckets {
		out.sum += (float64(j) + 0.5) / 1000 * float64(c)
	}
	return out
}
