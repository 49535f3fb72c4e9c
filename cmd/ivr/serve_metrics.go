package main

import (
	"github.com/urfave/cli/v2"

	"github.com/supportline/ivr/bridge"
	"github.com/supportline/ivr/metrics"
	"github.com/supportline/ivr/server"
)

// serveMetrics wires package metrics into serve (--metrics); with metrics
// off every method does nothing.
type serveMetrics struct {
	m   *metrics.Metrics
	src metrics.Sources
}

func newMetrics(c *cli.Context) *serveMetrics {
	if !c.Bool("metrics") {
		return &serveMetrics{}
	}
	return &serveMetrics{m: metrics.New()}
}

// bridgeObserver is what the bridge reports queue waits and agent legs
// to (nil when off).
func (s *serveMetrics) bridgeObserver() bridge.Observer {
	if s.m == nil {
		return nil
	}
	return s.m
}

// serverOptions serve /metrics and report calls.
func (s *serveMetrics) serverOptions() []server.Option {
	if s.m == nil {
		return nil
	}
	return []server.Option{server.WithMetrics(s.m.Handler(), s.m)}
}

// watch reads calls, the queue and the decoder pool at each scrape.
func (s *serveMetrics) watch(srv *server.Server, br *bridge.Bridge) {
	if s.m == nil {
		return
	}
	s.src.Calls, s.src.Queue, s.src.Legs, s.src.SIP = srv, br, br, srv
	s.m.Watch(s.src)
}
