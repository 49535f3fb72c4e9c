package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/supportline/ivr/bridge"
)

// LegSource is the live-agent bridge's WebRTC legs in progress
// (*bridge.Bridge).
type LegSource interface {
	EachLeg(f func(st bridge.LegStats))
}

var (
	descLegPackets = prometheus.NewDesc("ivr_webrtc_packets_total",
		"Audio frames of the agents' WebRTC legs by direction (in: RTP packets from the agent's browser, out: caller frames sent to it).",
		[]string{"direction"}, nil)
	descLegDropped = prometheus.NewDesc("ivr_webrtc_dropped_frames_total",
		"Caller frames not sent to the agent because the leg's writer was behind (direction out).", []string{"direction"}, nil)
	descLegConcealed = prometheus.NewDesc("ivr_webrtc_concealed_frames_total",
		"Frames of the agent's voice made up for missing packets, loss or underrun (direction in).", []string{"direction"}, nil)
	descLegLate = prometheus.NewDesc("ivr_webrtc_late_packets_total",
		"Packets of the agent's voice that arrived after their playout time (direction in).", []string{"direction"}, nil)
	descLegs = prometheus.NewDesc("ivr_webrtc_legs", "Agent WebRTC legs in progress.", nil, nil)
)

// legTotals are WebRTC leg counters summed over legs.
type legTotals struct{ in, out, dropped, concealed, late uint64 }

func (t *legTotals) add(st *bridge.LegStats) {
	t.in += st.Received
	t.out += st.Sent
	t.dropped += st.SendDropped
	t.concealed += st.Jitter.Concealed
	t.late += st.Jitter.Late
}

// legCollector is ended legs' counters plus those of legs in progress,
// never going down (see rtpTotals.monotonic).
type legCollector struct {
	mu    sync.Mutex
	src   LegSource
	ended legTotals
	last  legTotals
}

func (c *legCollector) setSource(src LegSource) {
	c.mu.Lock()
	c.src = src
	c.mu.Unlock()
}

// LegEnded implements bridge.Observer.
func (m *Metrics) LegEnded(st bridge.LegStats) {
	m.legs.mu.Lock()
	m.legs.ended.add(&st)
	m.legs.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (c *legCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLegPackets, descLegDropped, descLegConcealed, descLegLate, descLegs} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *legCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	src := c.src
	c.mu.Unlock()
	var live legTotals
	n := 0
	if src != nil {
		src.EachLeg(func(st bridge.LegStats) {
			n++
			live.add(&st)
		})
	}
	c.mu.Lock()
	t := c.ended
	for _, p := range [][3]*uint64{{&t.in, &live.in, &c.last.in}, {&t.out, &live.out, &c.last.out},
		{&t.dropped, &live.dropped, &c.last.dropped}, {&t.concealed, &live.concealed, &c.last.concealed},
		{&t.late, &live.late, &c.last.late}} {
		*p[0] = max(*p[0]+*p[1], *p[2])
		*p[2] = *p[0]
	}
	c.mu.Unlock()
	counter := func(d *prometheus.Desc, v uint64, dir string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), dir)
	}
	counter(descLegPackets, t.in, dirIn)
	counter(descLegPackets, t.out, dirOut)
	counter(descLegDropped, t.dropped, dirOut)
	counter(descLegConcealed, t.concealed, dirIn)
	counter(descLegLate, t.late, dirIn)
	ch <- prometheus.MustNewConstMetric(descLegs, prometheus.GaugeValue, float64(n))
}
