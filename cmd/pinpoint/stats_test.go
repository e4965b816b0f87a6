package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/analytics"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// statsAt is the start of the stats fixture's traffic.
var statsAt = time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC)

// newStatsCLIFixture is newCLIFixture with the stats endpoints, over an
// hour of known roll-ups from two nodes: orders gets 400 requests (from
// 14:30 on, 1 in 4 refused authz.scope_missing for consumer partner-x),
// users 200; 20 would-be refusals of rule office-ips; 10 upstream 502s.
func newStatsCLIFixture(t *testing.T) *cliFixture {
	t.Helper()
	f := newCLIFixture(t)
	srv := httptest.NewServer(admin.NewHandler(admin.Options{Control: f.ctl, Store: f.st, Version: "test",
		Stats: &analytics.Reader{Store: f.st}}))
	t.Cleanup(srv.Close)
	f.srv = srv
	nodes := []*analytics.Aggregator{
		analytics.New(analytics.Options{Node: "gw-1", Store: f.st}),
		analytics.New(analytics.Options{Node: "gw-2", Store: f.st}),
	}
	for i := range 600 {
		e := analytics.Event{Time: statsAt.Add(time.Duration(i) * 6 * time.Second), Route: "users", Consumer: "app",
			Status: 200, Latency: time.Duration(2+i%7) * time.Millisecond}
		if i%3 != 0 {
			e.Route = "orders"
		}
		if e.Route == "orders" && i >= 300 && i%4 == 1 {
			e.Consumer, e.Status, e.Code, e.Stage, e.Layer, e.Rule = "partner-x", 403, "authz.scope_missing", "authz", "gateway", "orders-write"
		}
		if i%30 == 2 {
			e.Trace = []pipeline.Step{{Stage: "ip", Outcome: pipeline.OutcomeWouldDeny, Code: "ip.not_allowed", Rule: "office-ips"}}
		}
		if i%60 == 5 {
			e.Status, e.Code, e.Stage, e.Layer, e.UpstreamError = 502, "upstream.connect_failed", "upstream", "gateway", true
		}
		nodes[i%2].Record(e)
	}
	for _, n := range nodes {
		if err := n.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func TestStatsPrintsTopListsAndTrend(t *testing.T) {
	t.Parallel()
	f := newStatsCLIFixture(t)
	r := f.run(t, "stats", "--since", "2026-11-30T14:00:00Z", "--until", "2026-11-30T15:00:00Z", "--step", "10m")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	checkGolden(t, "stats", r.stdout)
	for _, want := range []string{"authz.scope_missing", "partner-x", "office-ips"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %s", want)
		}
	}
}

func TestStatsJSONAndFilters(t *testing.T) {
	t.Parallel()
	f := newStatsCLIFixture(t)
	r := f.run(t, "stats", "--since", "2026-11-30T14:00:00Z", "--until", "2026-11-30T15:00:00Z", "--route", "orders", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var out struct {
		Summary analytics.Summary `json:"summary"`
		Trend   analytics.Series  `json:"trend"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	if out.Summary.Requests != 400 || len(out.Summary.TopRoutes) != 1 || out.Summary.TopRoutes[0].Name != "orders" {
		t.Fatalf("summary %+v", out.Summary)
	}
	if out.Trend.StepNs != 5*time.Minute || len(out.Trend.Points) != 12 {
		t.Fatalf("trend of %d points every %v, want 12 of 5m", len(out.Trend.Points), out.Trend.Step)
	}
	var trend int64
	for _, p := range out.Trend.Points {
		trend += p.Denied
	}
	if trend != out.Summary.Denied || trend == 0 {
		t.Fatalf("trend refusals %d, summary %d", trend, out.Summary.Denied)
	}
	for _, bad := range [][]string{
		{"stats", "--since", "soon"},
		{"stats", "--since", "1h", "--until", "2h"},
		{"stats", "--step", "30s"},
		{"stats", "--top", "0"},
	} {
		if r := f.run(t, bad...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)", bad, r.code)
		}
	}
}
