package metrics

import (
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/bridge"
	"github.com/supportline/ivr/media"
)

// CallSource is the server's calls in progress (*server.Server).
type CallSource interface {
	EachCall(f func(answered bool, st *media.Stats))
}

// QueueSource is the live-agent bridge's view of agents, calls and the
// queue (*bridge.Bridge).
type QueueSource interface {
	Supervisor() bridge.SupervisorView
}

// DecoderSource is the speech recognizer's decoder pool (*asr.Sphinx).
type DecoderSource interface {
	Stats() asr.PoolStats
}

// Sources are what Watch reads at each scrape; any may be nil.
type Sources struct {
	Calls    CallSource
	Queue    QueueSource
	Decoders DecoderSource
	Legs     LegSource
	SIP      SIPSource
}

// Watch sets what the state metrics are read from at each scrape.
func (m *Metrics) Watch(src Sources) {
	m.live.setSources(src)
	m.legs.setSource(src.Legs)
	m.sip.mu.Lock()
	m.sip.src = src
	m.sip.mu.Unlock()
}

// Call states (ivr_calls{state}).
var callStates = []string{"ringing", "bot", "queued", "agent"}

var (
	descCalls = prometheus.NewDesc("ivr_calls",
		"Calls in progress by state: ringing (not answered yet), bot (answered, with the bot or menu), queued (waiting for an agent), agent (with an agent).",
		[]string{"state"}, nil)
	descAgents = prometheus.NewDesc("ivr_agents",
		"Agents known since start by state (offline, away, available, ringing, on_call, wrap_up).", []string{"state"}, nil)
	descQueueLen     = prometheus.NewDesc("ivr_queue_length", "Calls waiting in the agent queue.", nil, nil)
	descQueueLongest = prometheus.NewDesc("ivr_queue_longest_wait_seconds",
		"How long the call waiting longest in the queue has waited.", nil, nil)
	descDecoders = prometheus.NewDesc("ivr_asr_decoders",
		"Speech decoders of the pool by state (free, busy).", []string{"state"}, nil)
	descDecoderUses = prometheus.NewDesc("ivr_asr_decoder_acquired_total",
		"Utterances that took a decoder from the pool.", nil, nil)
	descDecoderWaits = prometheus.NewDesc("ivr_asr_decoder_waited_total",
		"Utterances that found no decoder free and waited.", nil, nil)
	descDecoderRetries = prometheus.NewDesc("ivr_asr_retried_total",
		"Utterances of a number grammar whose search found no path, decoded again with wide beams.", nil, nil)
)

// collectStates sends the call, agent, queue and decoder gauges.
func collectStates(ch chan<- prometheus.Metric, src Sources, ringing, answered int) {
	var v bridge.SupervisorView
	if src.Queue != nil {
		v = src.Queue.Supervisor()
	}
	bot := max(answered-v.Waiting-v.WithAgent, 0)
	for i, n := range []int{ringing, bot, v.Waiting, v.WithAgent} {
		ch <- prometheus.MustNewConstMetric(descCalls, prometheus.GaugeValue, float64(n), callStates[i])
	}
	if src.Queue != nil {
		agents := map[string]int{}
		for st := bridge.StateOffline; st <= bridge.StateWrapUp; st++ {
			agents[agentState(st)] = 0
		}
		for _, a := range v.Agents {
			agents[agentState(a.State)]++
		}
		for st, n := range agents {
			ch <- prometheus.MustNewConstMetric(descAgents, prometheus.GaugeValue, float64(n), st)
		}
		ch <- prometheus.MustNewConstMetric(descQueueLen, prometheus.GaugeValue, float64(v.QueueLength))
		ch <- prometheus.MustNewConstMetric(descQueueLongest, prometheus.GaugeValue, v.LongestWait)
	}
	if src.Decoders != nil {
		p := src.Decoders.Stats()
		ch <- prometheus.MustNewConstMetric(descDecoders, prometheus.GaugeValue, float64(p.Free), "free")
		ch <- prometheus.MustNewConstMetric(descDecoders, prometheus.GaugeValue, float64(p.Size-p.Free), "busy")
		ch <- prometheus.MustNewConstMetric(descDecoderUses, prometheus.CounterValue, float64(p.Acquired))
		ch <- prometheus.MustNewConstMetric(descDecoderWaits, prometheus.CounterValue, float64(p.Waited))
		ch <- prometheus.MustNewConstMetric(descDecoderRetries, prometheus.CounterValue, float64(p.Retried))
	}
}

// agentState is a state's label value: its name with '_' ("on_call").
func agentState(s bridge.AgentState) string { return strings.ReplaceAll(s.String(), "-", "_") }

// describeStates sends the descriptions of collectStates' metrics.
func describeStates(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCalls, descAgents, descQueueLen, descQueueLongest,
		descDecoders, descDecoderUses, descDecoderWaits, descDecoderRetries} {
		ch <- d
	}
}

// sources are what a liveCollector reads at each scrape.
type sources struct {
	mu  sync.Mutex
	src Sources
}

func (s *sources) get() Sources {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.src
}
