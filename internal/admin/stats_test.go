package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/analytics"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// statsFixture is an admin API with the stats endpoints over roll-ups of
// known traffic in the last hour: 60 requests to orders (10 refused with
// authz.scope_missing for consumer acme, 5 of them also would-be refused by
// rule trial) and 30 to users.
func statsFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t, func(o *admin.Options) { o.Stats = &analytics.Reader{Store: o.Store} })
	agg := analytics.New(analytics.Options{Node: "gw-1", Store: f.st})
	now := time.Now().Add(-30 * time.Minute)
	for i := range 90 {
		e := analytics.Event{Time: now.Add(time.Duration(i) * time.Second), Route: "orders", Consumer: "globex", Status: 200, Latency: 2 * time.Millisecond}
		if i >= 60 {
			e.Route = "users"
		}
		if i < 10 {
			e.Consumer, e.Status, e.Code, e.Stage, e.Layer = "acme", 403, "authz.scope_missing", "authz", "gateway"
		}
		if i >= 20 && i < 25 {
			e.Trace = []pipeline.Step{{Stage: "ip", Outcome: pipeline.OutcomeWouldDeny, Code: "ip.not_allowed", Rule: "trial"}}
		}
		agg.Record(e)
	}
	if err := agg.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestStatsSummary(t *testing.T) {
	t.Parallel()
	f := statsFixture(t)
	s, err := f.client.StatsSummary(t.Context(), admin.StatsQuery{Since: "2h"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Requests != 90 || s.Denied != 10 || s.WouldDeny != 5 || s.Status["2xx"] != 80 || s.Status["4xx"] != 10 {
		t.Fatalf("summary %+v", s.Totals)
	}
	if len(s.TopRoutes) != 2 || s.TopRoutes[0].Name != "orders" || s.TopRoutes[0].Count != 60 || s.TopRoutes[0].Denied != 10 {
		t.Errorf("top routes %+v", s.TopRoutes)
	}
	if len(s.TopCodes) != 1 || s.TopCodes[0].Name != "authz.scope_missing" || s.TopCodes[0].Share != 1 {
		t.Errorf("top codes %+v", s.TopCodes)
	}
	if len(s.TopConsumers) != 1 || s.TopConsumers[0].Name != "acme" || s.TopConsumers[0].Requests != 10 {
		t.Errorf("top refused consumers %+v", s.TopConsumers)
	}
	if len(s.TopWouldDeny) != 1 || s.TopWouldDeny[0].Rule != "trial" || s.TopWouldDeny[0].Code != "ip.not_allowed" {
		t.Errorf("top would-deny %+v", s.TopWouldDeny)
	}
	if s.Latency.P99 < 1.98 || s.Latency.P99 > 2.02 {
		t.Errorf("p99 %v ms, want 2 ms ± 1%%", s.Latency.P99)
	}
	// Filters narrow every count.
	s, err = f.client.StatsSummary(t.Context(), admin.StatsQuery{Since: "2h", Route: "users"})
	if err != nil || s.Requests != 30 || s.Denied != 0 {
		t.Fatalf("route filter: %+v, %v", s, err)
	}
}

func TestStatsSeriesAndTop(t *testing.T) {
	t.Parallel()
	f := statsFixture(t)
	s, err := f.client.StatsSeries(t.Context(), admin.StatsQuery{Since: "1h"}, "10m")
	if err != nil {
		t.Fatal(err)
	}
	var n, denied int64
	for _, p := range s.Points {
		n += p.Requests
		denied += p.Denied
	}
	if s.StepNs != 10*time.Minute || len(s.Points) < 6 || n != 90 || denied != 10 {
		t.Fatalf("series step %v, %d points, %d requests, %d denied", s.Step, len(s.Points), n, denied)
	}
	top, err := f.client.StatsTop(t.Context(), admin.StatsQuery{Since: "1h"}, "rule", "would_deny")
	if err != nil {
		t.Fatal(err)
	}
	if top.Total != 5 || len(top.Top) != 1 || top.Top[0].Name != "trial" {
		t.Fatalf("top would-deny rules %+v", top)
	}
}

func TestStatsRefusesBadQueries(t *testing.T) {
	t.Parallel()
	f := statsFixture(t)
	for _, q := range []string{
		"/admin/stats/summary?since=yesterday",
		"/admin/stats/summary?since=1h&until=2h",
		"/admin/stats/summary?limit=1000",
		"/admin/stats/summary?since=1000d",
		"/admin/stats/series?step=30s",
		"/admin/stats/series?since=30d&step=1m",
		"/admin/stats/top",
		"/admin/stats/top?by=tenant",
		"/admin/stats/top?by=code&kind=audit",
	} {
		r := f.do(t, "GET", q, testToken, nil)
		if p := decodeProblem(t, r); r.status != http.StatusBadRequest || p.Code != "admin.bad_request" {
			t.Errorf("GET %s: %d %s, want 400 admin.bad_request", q, r.status, p.Code)
		}
	}
	for _, path := range []string{"/admin/stats/summary", "/admin/stats/series", "/admin/stats/top?by=code"} {
		if r := f.do(t, "GET", path, "", nil); r.status != http.StatusUnauthorized {
			t.Errorf("GET %s without a token: %d, want 401", path, r.status)
		}
	}
	// The JSON a console charts: lists are [] rather than null.
	r := f.do(t, "GET", "/admin/stats/summary?since=2h&until=90m", testToken, nil)
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil || r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	for _, k := range []string{"top_routes", "top_codes", "top_consumers", "top_stages", "top_would_deny"} {
		if _, ok := m[k].([]any); !ok {
			t.Errorf("%s = %v, want a list", k, m[k])
		}
	}
}

func TestStatsEndpointsNeedAReader(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.do(t, "GET", "/admin/stats/summary?"+url.Values{"since": {"1h"}}.Encode(), testToken, nil)
	if r.status != http.StatusNotFound {
		t.Fatalf("without a reader: %d, want 404", r.status)
	}
}
