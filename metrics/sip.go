package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/supportline/ivr/sip"
)

// SIPSource is the SIP server's access-control counters (*server.Server).
type SIPSource interface {
	SIPStats() sip.SecurityStats
}

// sipReasons are the label values of ivr_sip_rejected_total: the guard's
// reasons, each always reported (0 until it happens).
var sipReasons = []string{sip.ReasonBanned, sip.ReasonRateLimited, sip.ReasonMalformed, sip.ReasonAuthRequired,
	sip.ReasonAuthFailed, sip.ReasonStaleNonce, sip.ReasonForbidden, sip.ReasonSourceCalls, sip.ReasonNoDialog,
	sip.ReasonIntervalShort}

var (
	descSIPInspected = prometheus.NewDesc("ivr_sip_packets_inspected_total",
		"SIP datagrams and TCP/TLS reads the access-control guard looked at before parsing.", nil, nil)
	descSIPRejected = prometheus.NewDesc("ivr_sip_rejected_total",
		"SIP packets dropped or requests refused by access control, by reason (banned and rate_limited are dropped unanswered).",
		[]string{"reason"}, nil)
	descSIPBans       = prometheus.NewDesc("ivr_sip_bans_total", "Sources banned since start.", nil, nil)
	descSIPBansActive = prometheus.NewDesc("ivr_sip_bans_active", "Sources banned now.", nil, nil)
	descSIPAuth       = prometheus.NewDesc("ivr_sip_auth_total",
		"SIP digest authentications by result (ok, failed: wrong or unknown credentials).", []string{"result"}, nil)
	descSIPRegs    = prometheus.NewDesc("ivr_sip_registrations", "REGISTER bindings in force.", nil, nil)
	descSIPSources = prometheus.NewDesc("ivr_sip_sources_tracked", "Source addresses the guard keeps state for.", nil, nil)
)

// sipCollector reads the SIP access-control counters at each scrape.
type sipCollector struct{ sources }

// Describe implements prometheus.Collector.
func (c *sipCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSIPInspected, descSIPRejected, descSIPBans, descSIPBansActive,
		descSIPAuth, descSIPRegs, descSIPSources} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *sipCollector) Collect(ch chan<- prometheus.Metric) {
	src := c.get().SIP
	if src == nil {
		return
	}
	st := src.SIPStats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	counter(descSIPInspected, st.Requests)
	for _, r := range sipReasons {
		counter(descSIPRejected, st.Rejected[r], r)
	}
	counter(descSIPBans, st.BansTotal)
	gauge(descSIPBansActive, st.BansActive)
	counter(descSIPAuth, st.AuthOK, "ok")
	counter(descSIPAuth, st.AuthFailures, "failed")
	gauge(descSIPRegs, st.Registrations)
	gauge(descSIPSources, st.Sources)
}
