package telemetry

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// UpstreamHealth is one upstream's state when /metrics is scraped.
type UpstreamHealth struct {
	// Name is the upstream's name.
	Name string
	// Circuit is the circuit breaker's state: "disabled", "closed", "open"
	// or "half_open".
	Circuit string
	// Targets are the upstream's targets in configuration order.
	Targets []TargetHealth
}

// TargetHealth is one target's state.
type TargetHealth struct {
	// URL is the target as configured (never with credentials).
	URL string
	// Healthy is true when the target may receive traffic now.
	Healthy bool
	// InFlight is the number of requests the target is serving.
	InFlight int64
}

// UpstreamSource reports the upstreams of the revision being served; it is
// called on every scrape.
type UpstreamSource func() []UpstreamHealth

// circuitStates are the states of an enabled circuit breaker, one series
// each (1 for the current state), so that a dashboard can plot any of them.
var circuitStates = [...]string{"closed", "open", "half_open"}

var (
	targetHealthyDesc = prometheus.NewDesc("pinpoint_upstream_target_healthy",
		"1 when the target may receive traffic (not marked down by health checks, not ejected), else 0.",
		[]string{"upstream", "target"}, nil)
	targetInFlightDesc = prometheus.NewDesc("pinpoint_upstream_target_in_flight_requests",
		"Requests the target is serving right now.",
		[]string{"upstream", "target"}, nil)
	circuitDesc = prometheus.NewDesc("pinpoint_upstream_circuit_state",
		"Circuit breaker state of the upstream: 1 for the current state (closed, open, half_open), 0 for the others; absent when the breaker is disabled.",
		[]string{"upstream", "state"}, nil)
)

// upstreamCollector reads upstream health at scrape time, so that the
// series follow reloads (an upstream removed from the config disappears).
type upstreamCollector struct {
	src atomic.Pointer[UpstreamSource]
}

func (c *upstreamCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- targetHealthyDesc
	ch <- targetInFlightDesc
	ch <- circuitDesc
}

func (c *upstreamCollector) Collect(ch chan<- prometheus.Metric) {
	src := c.src.Load()
	if src == nil {
		return
	}
	for _, u := range (*src)() {
		for _, t := range u.Targets {
			healthy := 0.0
			if t.Healthy {
				healthy = 1
			}
			ch <- prometheus.MustNewConstMetric(targetHealthyDesc, prometheus.GaugeValue, healthy, u.Name, t.URL)
			ch <- prometheus.MustNewConstMetric(targetInFlightDesc, prometheus.GaugeValue, float64(t.InFlight), u.Name, t.URL)
		}
		if u.Circuit == "" || u.Circuit == "disabled" {
			continue
		}
		for _, s := range circuitStates {
			v := 0.0
			if s == u.Circuit {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(circuitDesc, prometheus.GaugeValue, v, u.Name, s)
		}
	}
}

// SetUpstreams exposes the health of the upstreams src reports (the
// gateway sets it; a later call replaces the source).
func (m *Metrics) SetUpstreams(src UpstreamSource) { m.upstreams.src.Store(&src) }
