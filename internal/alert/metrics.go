package alert

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the alerting collectors.
type metrics struct {
	sent      *prometheus.CounterVec
	dropped   *prometheus.CounterVec
	evalError prometheus.Counter
	firing    *prometheus.GaugeVec
}

// newMetrics creates the collectors and registers them on reg (nil: not
// registered). Collectors already registered there (a second Alerter on
// the same registry) are reused.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pinpoint_alert_notifications_sent_total",
			Help: "Alert notifications delivered to a webhook, by webhook.",
		}, []string{"webhook"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pinpoint_alert_notifications_dropped_total",
			Help: "Alert notifications never delivered, by webhook and reason (queue_full: the webhook's queue was full; failed: every attempt failed; shutdown: the gateway stopped first).",
		}, []string{"webhook", "reason"}),
		evalError: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pinpoint_alert_evaluation_errors_total",
			Help: "Alert rule evaluations that failed to read the store.",
		}),
		firing: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pinpoint_alert_firing",
			Help: "1 while an alert rule is firing, else 0, by rule.",
		}, []string{"rule"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	m.sent, err = register(reg, m.sent)
	if err == nil {
		m.dropped, err = register(reg, m.dropped)
	}
	if err == nil {
		m.evalError, err = register(reg, m.evalError)
	}
	if err == nil {
		m.firing, err = register(reg, m.firing)
	}
	return m, err
}

// register registers c, or returns the equal collector already registered.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}
