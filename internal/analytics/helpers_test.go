package analytics

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/analytics/sketch"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
)

// openSQLite opens a fresh SQLite store for t.
func openSQLite(t testing.TB) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "pinpoint.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// allRows reads every row of level.
func allRows(t testing.TB, rs store.Rollups, level string) []store.Rollup {
	t.Helper()
	rows, err := rs.QueryRollups(context.Background(), store.RollupQuery{Level: level})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// find returns the row of kind, route, consumer and code in rows.
func find(rows []store.Rollup, kind, route, consumer, code string) *store.Rollup {
	for i := range rows {
		r := &rows[i]
		if r.Kind == kind && r.Route == route && r.Consumer == consumer && r.Code == code {
			return r
		}
	}
	return nil
}

// latencyCount decodes a row's sketch and returns how many values it holds.
func latencyCount(t testing.TB, r *store.Rollup) uint64 {
	t.Helper()
	s, err := sketch.Decode(r.Latency)
	if err != nil {
		t.Fatalf("row %s/%s: %v", r.Route, r.Code, err)
	}
	return s.Count()
}

var t0 = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

// traffic is a deterministic mix of requests: mostly passes, refusals of
// several codes and consumers, upstream errors, and would-be refusals.
func traffic(n int, start time.Time, every time.Duration) []Event {
	routes := []string{"orders", "users", "search"}
	consumers := []string{"acme-app", "globex-app", ""}
	wouldDeny := []pipeline.Step{
		{Stage: "route", Outcome: pipeline.OutcomePass},
		{Stage: "authz", Outcome: pipeline.OutcomeWouldDeny, Code: "authz.scope_missing", Rule: "orders-write"},
	}
	out := make([]Event, n)
	for i := range out {
		e := Event{
			Time: start.Add(time.Duration(i) * every), Route: routes[i%3], Consumer: consumers[i%len(consumers)],
			Status: 200, Latency: time.Duration(1+i%50) * time.Millisecond,
		}
		switch {
		case i%10 == 3:
			e.Status, e.Code, e.Stage, e.Layer, e.Rule = 403, "authz.scope_missing", "authz", "gateway", "orders-write"
		case i%10 == 7:
			e.Status, e.Code, e.Stage, e.Layer = 429, "limit.rate_exceeded", "limit", "gateway"
		case i%25 == 11:
			e.Status, e.Code, e.Stage, e.Layer, e.UpstreamError = 502, "upstream.error", "upstream", "upstream", true
		case i%13 == 5:
			e.Trace = wouldDeny
		}
		out[i] = e
	}
	return out
}

// expected totals of events, computed directly.
func expected(events []Event) Totals {
	t := Totals{Status: map[string]int64{}}
	for _, e := range events {
		t.Requests++
		t.Status[statusLabel(StatusClass(e.Status))]++
		if e.Code != "" && e.Layer != "upstream" {
			t.Denied++
		}
		if e.UpstreamError {
			t.UpstreamErrors++
		}
		for _, s := range e.Trace {
			if s.Outcome == pipeline.OutcomeWouldDeny {
				t.WouldDeny++
			}
		}
	}
	if t.Requests > 0 {
		t.DenialShare = float64(t.Denied) / float64(t.Requests)
	}
	return t
}

func sortedKeys(m map[string]int64) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// sameCounts compares the counts of two totals (not the latency).
func sameCounts(t *testing.T, what string, got, want Totals) {
	t.Helper()
	if got.Requests != want.Requests || got.Denied != want.Denied || got.UpstreamErrors != want.UpstreamErrors ||
		got.WouldDeny != want.WouldDeny {
		t.Errorf("%s: requests %d denied %d upstream errors %d would-deny %d, want %d %d %d %d", what,
			got.Requests, got.Denied, got.UpstreamErrors, got.WouldDeny, want.Requests, want.Denied, want.UpstreamErrors, want.WouldDeny)
	}
	if !slices.Equal(sortedKeys(got.Status), sortedKeys(want.Status)) {
		t.Errorf("%s: status classes %v, want %v", what, got.Status, want.Status)
	}
	for k, v := range want.Status {
		if got.Status[k] != v {
			t.Errorf("%s: status %s = %d, want %d", what, k, got.Status[k], v)
		}
	}
}
