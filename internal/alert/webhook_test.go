package alert_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pinpointgw/pinpoint/internal/alert"
	"github.com/pinpointgw/pinpoint/internal/config"
)

// fireRules fires `rules` count rules at once, delivers them to url with
// the webhook settings in hook (YAML flow mapping entries) and waits for
// the deliveries to end.
func fireRules(t *testing.T, rules int, url, hook string) (*prometheus.Registry, string) {
	t.Helper()
	a, reg, logs := firing(t, rules, url, hook)
	a.Evaluate(t.Context())
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	return reg, logs.String()
}

// firing sets up an alerter whose next evaluation fires `rules` rules.
func firing(t *testing.T, rules int, url, hook string) (*alert.Alerter, *prometheus.Registry, *syncBuffer) {
	t.Helper()
	st := openStore(t)
	addRows(t, st, ok(base, "orders", "acme", 10))
	var b strings.Builder
	b.WriteString("version: 1\nroutes:\n  - {name: orders, paths: [\"/orders\"], upstream: u}\nupstreams:\n  - {name: u, targets: [{url: \"http://10.0.0.5:8080\"}]}\nalerts:\n  rules:\n")
	for i := range rules {
		fmt.Fprintf(&b, "    - {name: r%d, count_above: 0}\n", i)
	}
	fmt.Fprintf(&b, "  webhooks:\n    - {name: hook, url: %q, backoff: 5ms%s}\n", url, hook)
	cfg := loadConfig(t, b.String(), map[string]string{"HOOK_SECRET": hookSecret})
	reg := prometheus.NewRegistry()
	logs := &syncBuffer{}
	clk := &clock{now: base.Add(30e9)}
	a, err := alert.New(alert.Options{
		Rollups: st, History: st, Registerer: reg, Logger: testLogger(logs), Now: clk.Now,
		Current: func() (*config.Config, int64) { return cfg, 1 },
	})
	if err != nil {
		t.Fatal(err)
	}
	return a, reg, logs
}

func TestWebhookDelivery(t *testing.T) {
	t.Parallel()
	sent := func(reg *prometheus.Registry) float64 {
		return metricValue(t, reg, "pinpoint_alert_notifications_sent_total", map[string]string{"webhook": "hook"})
	}
	dropped := func(reg *prometheus.Registry, reason string) float64 {
		return metricValue(t, reg, "pinpoint_alert_notifications_dropped_total", map[string]string{"webhook": "hook", "reason": reason})
	}

	t.Run("server errors are retried with backoff", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t)
		rc.fail = []int{503, 429, 500}
		reg, _ := fireRules(t, 1, rc.srv.URL, "")
		if got := rc.next(t).n; got.Rule != "r0" {
			t.Errorf("notification %+v", got)
		}
		if sent(reg) != 1 || dropped(reg, "failed") != 0 {
			t.Errorf("sent %v failed %v", sent(reg), dropped(reg, "failed"))
		}
	})
	t.Run("retries run out", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t)
		rc.fail = []int{500, 502, 503}
		reg, logs := fireRules(t, 1, rc.srv.URL, ", retries: 2")
		rc.none(t)
		if sent(reg) != 0 || dropped(reg, "failed") != 1 {
			t.Errorf("sent %v failed %v", sent(reg), dropped(reg, "failed"))
		}
		if !strings.Contains(logs, "receiver answered 503") {
			t.Errorf("log does not say why:\n%s", logs)
		}
	})
	t.Run("client errors are not retried", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t)
		rc.fail = []int{400}
		reg, _ := fireRules(t, 1, rc.srv.URL, "")
		rc.none(t)
		if dropped(reg, "failed") != 1 {
			t.Errorf("failed %v", dropped(reg, "failed"))
		}
	})
	t.Run("redirects are not followed", func(t *testing.T) {
		t.Parallel()
		var hits atomic.Int32
		target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
		defer target.Close()
		redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
		defer redirect.Close()
		reg, _ := fireRules(t, 1, redirect.URL, `, headers: {Authorization: "Bearer ${HOOK_SECRET}"}`)
		if hits.Load() != 0 || dropped(reg, "failed") != 1 {
			t.Errorf("redirect followed (%d) or not counted (%v)", hits.Load(), dropped(reg, "failed"))
		}
	})
	t.Run("a full queue drops and counts", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		var got atomic.Int32
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-release
			got.Add(1)
		}))
		defer slow.Close()
		a, reg, _ := firing(t, 6, slow.URL, ", queue_size: 1")
		// Evaluate queues without waiting: one notification may be in
		// flight and one queued; the others are dropped at once.
		a.Evaluate(t.Context())
		if d := dropped(reg, "queue_full"); d < 4 || d > 5 {
			t.Errorf("dropped %v while the receiver is stuck, want 4 or 5", d)
		}
		close(release)
		if err := a.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if s, d := sent(reg), dropped(reg, "queue_full"); s+d != 6 || d < 4 || int(s) != int(got.Load()) {
			t.Errorf("sent %v, dropped %v, received %d: want 6 in all, at least 4 dropped", s, d, got.Load())
		}
	})
	t.Run("secrets in the URL and headers never reach the log", func(t *testing.T) {
		t.Parallel()
		// Nothing listens on port 1: every attempt fails and is logged.
		_, logs := fireRules(t, 1, "http://127.0.0.1:1/hook?token="+hookSecret, `, retries: -1, headers: {X-Token: "${HOOK_SECRET}"}`)
		if !strings.Contains(logs, "alert notification not delivered") || strings.Contains(logs, hookSecret) {
			t.Errorf("log:\n%s", logs)
		}
	})
}
