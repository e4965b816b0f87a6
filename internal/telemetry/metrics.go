// Package telemetry holds Pinpoint's Prometheus metrics.
package telemetry

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the gateway's Prometheus collectors, registered in their own
// registry (served on the admin listener at /metrics). Other components
// (the alert notifier, the call log) register their collectors on Registry.
type Metrics struct {
	// Registry holds every collector served at /metrics; it is also the
	// prometheus.Registerer other components register on.
	Registry *prometheus.Registry

	requests        *prometheus.CounterVec
	duration        *prometheus.HistogramVec
	upstreamLatency *prometheus.HistogramVec
	reloads         *prometheus.CounterVec
	revision        prometheus.Gauge
	inFlight        prometheus.Gauge
	denials         *prometheus.CounterVec
	wouldDeny       *prometheus.CounterVec
	storeErrors     *prometheus.CounterVec
	limitFallbacks  *prometheus.CounterVec
	upstreams       upstreamCollector
}

// New creates and registers the collectors, plus Go runtime and process metrics.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pinpoint_requests_total",
			Help: "Requests handled, by route, status and reason code (empty code: passed through with a success status).",
		}, []string{"route", "status", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pinpoint_request_duration_seconds",
			Help:    "Total time from accepting a request to the end of its response, by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		upstreamLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pinpoint_upstream_duration_seconds",
			Help:    "Time spent waiting on the upstream (all attempts), by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pinpoint_config_reloads_total",
			Help: "Configuration applies by outcome: applied, unchanged, rejected, failed.",
		}, []string{"outcome"}),
		revision: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pinpoint_config_revision",
			Help: "Number of the configuration revision being served.",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pinpoint_requests_in_flight",
			Help: "Requests being handled right now.",
		}),
		denials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pinpoint_denials_total",
			Help: "Refusals, by route, reason code, stage and layer: every problem the gateway wrote, and upstream answers it labelled (upstream.denied, upstream.rate_limited, upstream.error).",
		}, []string{"route", "code", "stage", "layer"}),
		wouldDeny: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pinpoint_would_deny_total",
			Help: "Refusals a report_only rule would have made (the request went on), by route, stage and reason code.",
		}, []string{"route", "stage", "code"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pinpoint_counter_store_errors_total",
			Help: "Failed calls to the store behind rate limits, quotas and idempotency keys (Redis or the gateway's store), by component, route and operation.",
		}, []string{"component", "route", "op"}),
		limitFallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pinpoint_limit_store_fallbacks_total",
			Help: "Decisions a Redis-backed rate limit or quota took without Redis, by route, limit and what was done (local: counted on this node, fail_closed: refused).",
		}, []string{"route", "limit", "action"}),
	}
	m.Registry.MustRegister(m.requests, m.duration, m.upstreamLatency, m.reloads, m.revision, m.inFlight, m.denials, m.wouldDeny,
		m.storeErrors, m.limitFallbacks, &m.upstreams,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// statusLabels avoids formatting the common statuses on every request.
var statusLabels = func() [600]string {
	var s [600]string
	for i := 100; i < 600; i++ {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

func statusLabel(code int) string {
	if code >= 100 && code < 600 {
		return statusLabels[code]
	}
	return strconv.Itoa(code)
}

// ObserveRequest counts one finished request.
func (m *Metrics) ObserveRequest(route string, status int, code string, total, upstream time.Duration) {
	m.requests.WithLabelValues(route, statusLabel(status), code).Inc()
	m.duration.WithLabelValues(route).Observe(total.Seconds())
	if upstream > 0 {
		m.upstreamLatency.WithLabelValues(route).Observe(upstream.Seconds())
	}
}

// Denial counts one refusal: a problem the gateway wrote, or an upstream
// answer it labelled with a reason code.
func (m *Metrics) Denial(route, code, stage, layer string) {
	m.denials.WithLabelValues(route, code, stage, layer).Inc()
}

// WouldDeny counts a refusal a report_only rule would have made. The rule
// is not a label: WAF rule sets name combinations of rule ids, which would
// make the series unbounded; explain and the analytics roll-ups name it.
func (m *Metrics) WouldDeny(route, stage, code string) {
	m.wouldDeny.WithLabelValues(route, stage, code).Inc()
}

// StoreError counts a failed call to a counter store.
func (m *Metrics) StoreError(component, route, op string) {
	m.storeErrors.WithLabelValues(component, route, op).Inc()
}

// LimitFallback counts a limit decision taken without its Redis store.
func (m *Metrics) LimitFallback(route, limit, action string) {
	m.limitFallbacks.WithLabelValues(route, limit, action).Inc()
}

// InFlight tracks requests being handled.
func (m *Metrics) InFlight(delta float64) { m.inFlight.Add(delta) }

// Reload counts a configuration apply outcome.
func (m *Metrics) Reload(outcome string) { m.reloads.WithLabelValues(outcome).Inc() }

// SetRevision records the revision being served.
func (m *Metrics) SetRevision(n int64) { m.revision.Set(float64(n)) }

// CallLogCounters is what the call-log writer reports.
type CallLogCounters interface {
	Written() uint64
	Dropped() uint64
	Failed() uint64
}

// RegisterCallLog exposes the call-log writer's counters.
func (m *Metrics) RegisterCallLog(c CallLogCounters) {
	m.Registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "pinpoint_calllog_written_total", Help: "Call-log records written to the store.",
		}, func() float64 { return float64(c.Written()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "pinpoint_calllog_dropped_total", Help: "Call-log records dropped because the writer's buffer was full.",
		}, func() float64 { return float64(c.Dropped()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "pinpoint_calllog_failed_total", Help: "Call-log records lost: refused by a reachable store, or not stored when shutdown gave up.",
		}, func() float64 { return float64(c.Failed()) }),
	)
}
