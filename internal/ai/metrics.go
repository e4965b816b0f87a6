package ai

import (
	"errors"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pinpointgw/pinpoint/internal/ai/provider"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// Metrics are the AI gateway's Prometheus metrics, shared by every
// revision. Labels are config names (routes, models, providers), so their
// number is bounded by the configuration; consumers are not a label (the
// usage records and `pinpoint usage` hold them).
type Metrics struct {
	calls    *prometheus.CounterVec
	tokens   *prometheus.CounterVec
	cost     *prometheus.CounterVec
	ttft     *prometheus.HistogramVec
	attempts *prometheus.CounterVec
}

// NewMetrics registers the AI metrics with reg, reusing the ones a
// previous NewMetrics registered there.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pinpoint_ai_calls_total",
			Help: "AI calls that reached a provider or failed on every target, by route, model name, serving provider, status and code.",
		}, []string{"route", "model", "provider", "status", "code"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pinpoint_ai_tokens_total",
			Help: "Tokens of AI calls by route, model name, provider and kind (input, output; cached is part of input).",
		}, []string{"route", "model", "provider", "kind"}),
		cost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pinpoint_ai_cost_usd_total",
			Help: "Cost of AI calls in USD from the price catalog (the usage records hold the exact amounts).",
		}, []string{"route", "model", "provider"}),
		ttft: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pinpoint_ai_time_to_first_token_seconds",
			Help:    "Time from the request to the first streamed chunk (to the answer, for calls not streamed).",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"route", "model"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pinpoint_ai_provider_attempts_total",
			Help: "Attempts at provider targets by provider and outcome (ok, or the failure kind that moved on to the next target).",
		}, []string{"provider", "outcome"}),
	}
	m.calls = reuse(reg, m.calls)
	m.tokens = reuse(reg, m.tokens)
	m.cost = reuse(reg, m.cost)
	m.ttft = reuse(reg, m.ttft)
	m.attempts = reuse(reg, m.attempts)
	return m
}

// reuse registers c, or returns the collector of the same name that reg
// already has (a second gateway on the same registry counts in the first
// one's series).
func reuse[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	panic(err)
}

// RegisterRecorder exposes the usage recorder's counters.
func RegisterRecorder(reg prometheus.Registerer, r *Recorder) {
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "pinpoint_ai_usage_written_total", Help: "AI usage records written to the store.",
		}, func() float64 { return float64(r.Written()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "pinpoint_ai_usage_dropped_total", Help: "AI usage records lost: the recorder's buffer was full or the store refused them.",
		}, func() float64 { return float64(r.Dropped()) }),
	)
}

// observe counts one finished call.
func (m *Metrics) observe(rec *store.AIUsageRecord) {
	if m == nil {
		return
	}
	status := statusText(rec.Status)
	m.calls.WithLabelValues(rec.Route, rec.Model, rec.Provider, status, rec.Code).Inc()
	if rec.Provider == "" {
		return
	}
	if rec.InputTokens > 0 {
		m.tokens.WithLabelValues(rec.Route, rec.Model, rec.Provider, "input").Add(float64(rec.InputTokens))
	}
	if rec.OutputTokens > 0 {
		m.tokens.WithLabelValues(rec.Route, rec.Model, rec.Provider, "output").Add(float64(rec.OutputTokens))
	}
	if rec.CachedTokens > 0 {
		m.tokens.WithLabelValues(rec.Route, rec.Model, rec.Provider, "cached").Add(float64(rec.CachedTokens))
	}
	if rec.CostPico > 0 {
		m.cost.WithLabelValues(rec.Route, rec.Model, rec.Provider).Add(float64(rec.CostPico) / 1e12)
	}
	if rec.TTFT > 0 {
		m.ttft.WithLabelValues(rec.Route, rec.Model).Observe(rec.TTFT.Seconds())
	}
}

// attempt counts one attempt at a target; pe is nil for a success.
func (m *Metrics) attempt(providerName string, pe *provider.Error) {
	if m == nil {
		return
	}
	outcome := "ok"
	if pe != nil {
		outcome = pe.Kind.String()
	}
	m.attempts.WithLabelValues(providerName, outcome).Inc()
}

// statusText is a status as a label without allocating for common ones.
func statusText(s int) string {
	switch s {
	case 200:
		return "200"
	case 400:
		return "400"
	case 499:
		return "499"
	case 502:
		return "502"
	case 503:
		return "503"
	}
	return strconv.Itoa(s)
}
