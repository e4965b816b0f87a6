// Package alert evaluates the alert rules of the served revision on the
// analytics roll-ups and notifies webhooks when a rule fires and when it
// resolves, naming the config revisions and key, consumer and tenant
// events shortly before the onset that plausibly caused it.
//
// Every node of a cluster evaluates the rules on the shared roll-ups;
// a notification is sent by the one node that claims it in the audit log
// (an AppendAudit whose Dedupe names the rule and onset), which is also
// how alerts reach the audit log. Nodes follow each other's claims there,
// so a node that starts while an alert fires takes it over instead of
// repeating it.
package alert

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/redact"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// Options configure an Alerter.
type Options struct {
	// Rollups holds the analytics roll-ups the rules are evaluated on. Required.
	Rollups store.Rollups
	// History holds the revisions and the audit log: causes are looked up
	// there and notifications claimed there. Required.
	History History
	// Current returns the configuration being served and its revision
	// (nil: none yet). Rules and webhooks are read from it at every
	// evaluation, so they follow revisions. Required.
	Current func() (*config.Config, int64)
	// Node names this node in notifications and audit entries.
	Node string
	// Logger is the server log; default slog.Default().
	Logger *slog.Logger
	// Registerer receives the alerting metrics; nil: not registered.
	Registerer prometheus.Registerer
	// HTTPClient posts to webhooks. Nil: a client that follows no redirects.
	HTTPClient *http.Client
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Alerter evaluates alert rules and sends their notifications.
type Alerter struct {
	o        Options
	log      *slog.Logger
	metrics  *metrics
	notifier *Notifier

	// mu serializes evaluations; the fields below belong to them.
	mu     sync.Mutex
	cfg    *config.Config
	rules  []*Rule
	policy *redact.Policy
	states map[string]*ruleState
}

// New creates an Alerter; call Run.
func New(o Options) (*Alerter, error) {
	if o.Rollups == nil || o.History == nil || o.Current == nil {
		return nil, errors.New("alert: Rollups, History and Current are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	log := o.Logger.With("component", "alerts")
	return &Alerter{
		o: o, log: log, metrics: m, notifier: newNotifier(o.HTTPClient, log, m),
		states: map[string]*ruleState{},
	}, nil
}

// Run evaluates the rules every alerts.evaluate_every until ctx ends, then
// waits up to drain for queued notifications.
func (a *Alerter) Run(ctx context.Context, drain time.Duration) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drain)
			defer cancel()
			if err := a.notifier.close(dctx); err != nil {
				a.log.Warn("stopping alerts", "error", err)
			}
			return
		case <-t.C:
		}
		a.Evaluate(ctx)
		t.Reset(a.interval())
	}
}

// Close stops the notifier, waiting for queued notifications until ctx
// ends. Run calls it itself; use it when Evaluate is driven directly.
func (a *Alerter) Close(ctx context.Context) error { return a.notifier.close(ctx) }

// interval is the served config's evaluate_every.
func (a *Alerter) interval() time.Duration {
	if cfg, _ := a.o.Current(); cfg != nil {
		return cfg.Alerts.EvaluateEvery.Or(30 * time.Second)
	}
	return 30 * time.Second
}

// Evaluate runs every rule of the served revision once. Failures are
// logged and counted; the next evaluation retries.
func (a *Alerter) Evaluate(ctx context.Context) {
	a.mu.Lock()
	defer a.mu.Unlock()
	cfg, rev := a.o.Current()
	if cfg == nil {
		return
	}
	a.load(cfg)
	now := a.o.Now().UTC()
	rows := newRowSource(a.o.Rollups, a.rules, now)
	for _, r := range a.rules {
		if ctx.Err() != nil {
			return
		}
		if err := a.evaluate(ctx, r, rows, now, rev); err != nil {
			a.metrics.evalError.Inc()
			a.log.Warn("alert rule not evaluated", "rule", r.Name(), "error", err)
		}
	}
}

// load compiles the rules and webhooks of cfg when it is a new revision.
// The state of rules that keep their name survives; removed rules are
// forgotten without a notification.
func (a *Alerter) load(cfg *config.Config) {
	if cfg == a.cfg {
		return
	}
	a.cfg = cfg
	a.policy = redact.New(cfg.Redact, true, nil)
	a.rules = a.rules[:0]
	keep := map[string]bool{}
	for _, rc := range cfg.Alerts.Rules {
		r, err := Compile(rc)
		if err != nil {
			a.log.Error("alert rule skipped", "rule", rc.Name, "error", err)
			continue
		}
		a.rules = append(a.rules, r)
		keep[r.Name()] = true
	}
	for name := range a.states {
		if !keep[name] {
			delete(a.states, name)
			a.metrics.firing.DeleteLabelValues(name)
		}
	}
	a.notifier.configure(cfg.Alerts.Webhooks)
}
