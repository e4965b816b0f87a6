package alert_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pinpointgw/pinpoint/internal/alert"
	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/store/postgres"
	"github.com/pinpointgw/pinpoint/internal/store/postgres/pgtest"
)

const hookSecret = "s3cret-hook-token-0000"

func lifecycleConfig(t *testing.T, url string) *config.Config {
	return loadConfig(t, `version: 1
routes:
  - {name: orders, paths: ["/orders"], upstream: u}
upstreams:
  - {name: u, targets: [{url: "http://10.0.0.5:8080"}]}
alerts:
  rules:
    - name: orders-forbidden
      description: Partners are refused on /orders.
      route: orders
      match: {status: 403}
      share_above: 5%
      min_requests: 50
      window: 5m
      cooldown: 2m
      clear_for: 1m
  webhooks:
    - name: ops
      url: "`+url+`"
      headers: {Authorization: "Bearer ${HOOK_TOKEN}"}
      backoff: 10ms
`, map[string]string{"HOOK_TOKEN": hookSecret})
}

// metricValue reads one sample from a registry.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue next
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

func alertEntries(t *testing.T, st store.Audit) []store.AuditEntry {
	t.Helper()
	es, err := st.QueryAudit(t.Context(), store.AuditQuery{ObjectKind: store.AuditObjectAlert, Ascending: true})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// A 403 spike after a revision fires one notification that names the
// revision, a reminder once per cooldown, and a resolved notification
// once the condition stayed clear for clear_for, naming the revision
// that fixed it. Every notification is in the audit log.
func TestAlertFiresNamesTheRevisionAndResolves(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	rc := newReceiver(t)
	cfg := lifecycleConfig(t, rc.srv.URL)
	clk := &clock{}
	reg := prometheus.NewRegistry()
	var logs syncBuffer
	rev := int64(1)
	a, err := alert.New(alert.Options{
		Rollups: st, History: st, Node: "gw-1", Registerer: reg, Logger: testLogger(&logs), Now: clk.Now,
		Current: func() (*config.Config, int64) { return cfg, rev },
	})
	if err != nil {
		t.Fatal(err)
	}
	m := func(min int) time.Time { return base.Add(time.Duration(min) * time.Minute) }
	evaluate := func(at time.Time) {
		clk.Set(at)
		a.Evaluate(t.Context())
	}

	appendRevision(t, st, "ops", "file:/etc/pinpoint.yaml", "+ route orders", base.Add(-time.Hour))
	addRows(t, st, ok(m(0), "orders", "acme", 100), ok(m(1), "orders", "acme", 100))
	evaluate(m(1).Add(30 * time.Second))
	if es := alertEntries(t, st); len(es) != 0 {
		t.Fatalf("alert claimed on normal traffic: %+v", es)
	}

	// Revision 2 at 14:02 removes the scope; a 403 spike follows.
	appendRevision(t, st, "alice", "admin-api", "~ route orders: authorize.scopes\n~ gateway: disclosure", m(2))
	rev = 2
	addRows(t, st, ok(m(2), "orders", "acme", 10), denied(m(2), "orders", "acme", "authz.scope_missing", "authz", 90))
	evaluate(m(2).Add(40 * time.Second))
	fired := rc.next(t)
	n := fired.n
	if n.Rule != "orders-forbidden" || n.State != alert.StateFiring || n.Reminder || n.Revision != 2 || n.Node != "gw-1" {
		t.Errorf("firing notification: %s", fired.raw)
	}
	if n.Requests != 300 || n.Matched != 90 || n.Value != 0.3 || n.Threshold != 0.05 || n.MinRequests != 50 ||
		time.Duration(n.Window) != 5*time.Minute || !n.Onset.Equal(m(2).Add(40*time.Second)) {
		t.Errorf("measure in notification: %s", fired.raw)
	}
	if len(n.TopCodes) == 0 || n.TopCodes[0].Name != "authz.scope_missing" || n.TopConsumers[0].Name != "acme" || n.TopRoutes[0].Name != "orders" {
		t.Errorf("breakdowns: %s", fired.raw)
	}
	wantCause := "started 40 s after revision 2 (alice, admin-api): ~ route orders: authorize.scopes; ~ gateway: disclosure"
	if n.LikelyCause != wantCause || len(n.Causes) != 1 || n.Causes[0].Revision != 2 {
		t.Errorf("likely cause %q, causes %+v; want %q", n.LikelyCause, n.Causes, wantCause)
	}
	if !strings.Contains(n.Summary, "30.0% (threshold 5.0%") || !strings.Contains(n.Summary, wantCause) {
		t.Errorf("summary %q", n.Summary)
	}
	if got := fired.header.Get("Authorization"); got != "Bearer "+hookSecret {
		t.Errorf("webhook header %q", got)
	}

	// Still firing inside the cooldown: nothing more is claimed.
	addRows(t, st, denied(m(3), "orders", "acme", "authz.scope_missing", "authz", 50), ok(m(3), "orders", "acme", 10))
	evaluate(m(3).Add(30 * time.Second))
	if es := alertEntries(t, st); len(es) != 1 || es[0].Action != store.AuditAlertFired || es[0].Seq != n.AuditSeq || es[0].Source != "node:gw-1" {
		t.Fatalf("audit after the cooldown check: %+v", es)
	}
	// Past the cooldown: one reminder.
	addRows(t, st, denied(m(4), "orders", "acme", "authz.scope_missing", "authz", 50), ok(m(4), "orders", "acme", 10))
	evaluate(m(4).Add(41 * time.Second))
	if r := rc.next(t).n; r.State != alert.StateFiring || !r.Reminder || !r.Onset.Equal(n.Onset) || r.LikelyCause != wantCause {
		t.Errorf("reminder: %+v", r)
	}

	// Revision 3 restores the scope; traffic is clean again.
	appendRevision(t, st, "bob", "cli", "~ route orders: authorize.scopes", m(5))
	rev = 3
	for i := 5; i <= 11; i++ {
		addRows(t, st, ok(m(i), "orders", "acme", 200))
	}
	evaluate(m(10).Add(30 * time.Second)) // clear since now, but not for clear_for yet
	if es := alertEntries(t, st); len(es) != 2 {
		t.Fatalf("resolved before clear_for: %+v", es)
	}
	evaluate(m(11).Add(30 * time.Second))
	resolved := rc.next(t).n
	if resolved.State != alert.StateResolved || resolved.ResolvedAt == nil || !resolved.Onset.Equal(n.Onset) || resolved.Value != 0 || resolved.Revision != 3 {
		t.Errorf("resolved: %+v", resolved)
	}
	wantFix := "cleared 7 min after revision 3 (bob, cli): ~ route orders: authorize.scopes"
	if resolved.LikelyFix != wantFix || resolved.LikelyCause != wantCause {
		t.Errorf("resolved causes: fix %q cause %q; want %q", resolved.LikelyFix, resolved.LikelyCause, wantFix)
	}
	// Clean traffic afterwards claims nothing.
	evaluate(m(11).Add(50 * time.Second))

	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	rc.none(t)
	es := alertEntries(t, st)
	if len(es) != 3 || es[0].Action != store.AuditAlertFired || es[1].Action != store.AuditAlertFired || es[2].Action != store.AuditAlertResolved {
		t.Fatalf("audit entries: %+v", es)
	}
	for _, e := range es {
		if e.Actor != store.AuditSystemActor || e.ObjectID != "orders-forbidden" || !strings.Contains(string(e.Detail), `"onset_key"`) {
			t.Errorf("audit entry %+v %s", e, e.Detail)
		}
	}
	if v := metricValue(t, reg, "pinpoint_alert_notifications_sent_total", map[string]string{"webhook": "ops"}); v != 3 {
		t.Errorf("sent = %v, want 3", v)
	}
	if v := metricValue(t, reg, "pinpoint_alert_firing", map[string]string{"rule": "orders-forbidden"}); v != 0 {
		t.Errorf("firing gauge = %v after resolution", v)
	}
	if strings.Contains(logs.String(), hookSecret) {
		t.Errorf("the webhook secret reached the log:\n%s", logs.String())
	}
}

// Several nodes evaluate the same rules on the same store; each alert is
// notified once, and a node that starts while it fires takes it over.
func TestClusterNotifiesOnce(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	rc := newReceiver(t)
	cfg := lifecycleConfig(t, rc.srv.URL)
	clk := &clock{}
	newNode := func(name string) *alert.Alerter {
		a, err := alert.New(alert.Options{
			Rollups: st, History: st, Node: name, Now: clk.Now, Logger: testLogger(&syncBuffer{}),
			Registerer: prometheus.NewRegistry(),
			Current:    func() (*config.Config, int64) { return cfg, 1 },
		})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	m := func(min int) time.Time { return base.Add(time.Duration(min) * time.Minute) }
	n1, n2 := newNode("gw-1"), newNode("gw-2")
	addRows(t, st, ok(m(0), "orders", "acme", 100), denied(m(1), "orders", "acme", "authz.scope_missing", "authz", 100))

	// gw-1 fires at 14:01:59; gw-2 evaluates in the next minute (another
	// onset minute) and must follow gw-1's claim.
	clk.Set(m(1).Add(59 * time.Second))
	n1.Evaluate(t.Context())
	clk.Set(m(2).Add(time.Second))
	n2.Evaluate(t.Context())
	n1.Evaluate(t.Context())
	if got := rc.next(t).n; got.State != alert.StateFiring || got.Node != "gw-1" {
		t.Errorf("first notification: %+v", got)
	}
	// Both evaluate in the same minute with no state of their own (as at
	// start): the Dedupe key makes one claim win.
	n3 := newNode("gw-3")
	n3.Evaluate(t.Context())

	// The spike leaves the window; every node finds it clear.
	clk.Set(m(9))
	for _, a := range []*alert.Alerter{n2, n3, n1} {
		a.Evaluate(t.Context())
	}
	clk.Set(m(10).Add(time.Second))
	for _, a := range []*alert.Alerter{n2, n3, n1} {
		a.Evaluate(t.Context())
	}
	if got := rc.next(t).n; got.State != alert.StateResolved || got.Node != "gw-2" {
		t.Errorf("resolved notification: %+v", got)
	}
	for _, a := range []*alert.Alerter{n1, n2, n3} {
		if err := a.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	rc.none(t)
	if es := alertEntries(t, st); len(es) != 2 {
		t.Errorf("audit entries: %+v", es)
	}
}

// Nodes that evaluate at the same moment race for the claim; the audit
// log's Dedupe lets exactly one of them notify. On PostgreSQL every node
// has its own connection pool, as in a cluster.
func TestConcurrentNodesNotifyOnce(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		st := openStore(t)
		raceNodes(t, func() store.Store { return st })
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn := pgtest.FreshSchemaDSN(t)
		raceNodes(t, func() store.Store {
			st, err := postgres.Open(t.Context(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			return st
		})
	})
}

func raceNodes(t *testing.T, open func() store.Store) {
	rc := newReceiver(t)
	cfg := lifecycleConfig(t, rc.srv.URL)
	clk := &clock{now: base.Add(90 * time.Second)}
	var nodes []*alert.Alerter
	var first store.Store
	for i := range 5 {
		st := open()
		if first == nil {
			first = st
		}
		a, err := alert.New(alert.Options{
			Rollups: st, History: st, Node: "gw-" + string(rune('a'+i)), Now: clk.Now, Logger: testLogger(&syncBuffer{}),
			Current: func() (*config.Config, int64) { return cfg, 1 },
		})
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, a)
	}
	addRows(t, first, ok(base, "orders", "acme", 100), denied(base.Add(time.Minute), "orders", "acme", "authz.scope_missing", "authz", 100))
	done := make(chan struct{})
	for _, a := range nodes {
		go func() {
			defer func() { done <- struct{}{} }()
			a.Evaluate(t.Context())
		}()
	}
	for range nodes {
		<-done
	}
	for _, a := range nodes {
		if err := a.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := rc.next(t).n; got.State != alert.StateFiring {
		t.Errorf("notification: %+v", got)
	}
	rc.none(t)
	if es := alertEntries(t, first); len(es) != 1 {
		t.Errorf("audit entries: %+v", es)
	}
}

// Rules and webhooks are those of the revision being served: a new
// revision's rules are evaluated at the next evaluation, a removed rule is
// forgotten, and notifications go to the new webhook URL.
func TestRulesFollowRevisions(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	old, cur := newReceiver(t), newReceiver(t)
	doc := func(rule, url string) string {
		return `version: 1
routes:
  - {name: orders, paths: ["/orders"], upstream: u}
upstreams:
  - {name: u, targets: [{url: "http://10.0.0.5:8080"}]}
alerts:
  rules:
    - {name: ` + rule + `, route: orders, match: {code: "authz.*"}, count_above: 0}
  webhooks:
    - {name: ops, url: "` + url + `"}
`
	}
	cfg := loadConfig(t, doc("first", old.srv.URL), nil)
	reg := prometheus.NewRegistry()
	clk := &clock{now: base.Add(90 * time.Second)}
	a, err := alert.New(alert.Options{
		Rollups: st, History: st, Now: clk.Now, Logger: testLogger(&syncBuffer{}), Registerer: reg,
		Current: func() (*config.Config, int64) { return cfg, 1 },
	})
	if err != nil {
		t.Fatal(err)
	}
	addRows(t, st, denied(base.Add(time.Minute), "orders", "acme", "authz.scope_missing", "authz", 5))
	a.Evaluate(t.Context())
	if n := old.next(t).n; n.Rule != "first" {
		t.Errorf("first revision's notification: %+v", n)
	}
	cfg = loadConfig(t, doc("second", cur.srv.URL), nil)
	a.Evaluate(t.Context())
	if n := cur.next(t).n; n.Rule != "second" || n.State != alert.StateFiring {
		t.Errorf("second revision's notification: %+v", n)
	}
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	old.none(t)
	if v := metricValue(t, reg, "pinpoint_alert_firing", map[string]string{"rule": "second"}); v != 1 {
		t.Errorf("second firing gauge %v", v)
	}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "rule" && l.GetValue() == "first" {
					t.Errorf("removed rule still exported: %s", mf.GetName())
				}
			}
		}
	}
}
