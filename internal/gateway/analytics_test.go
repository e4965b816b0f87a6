package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/analytics"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/telemetry"
)

// TestRequestsAreCountedInRollups: every finished request, refused or
// not, lands in the minute roll-ups with its route, consumer, refusal,
// status class and upstream error; report_only refusals in would_deny rows.
func TestRequestsAreCountedInRollups(t *testing.T) {
	t.Parallel()
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer ok.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer failing.Close()
	key, sha := accessKey("live", "anly0000anly")
	var agg *analytics.Aggregator
	h := newHarness(t, fmt.Sprintf(`version: 1
authenticators:
  - {name: keys, type: api_key}
consumers:
  - id: app
    api_keys: [{id: anly0000anly, sha256: %s, scopes: [read]}]
routes:
  - name: trial
    paths: ["/trial"]
    upstream: ok
    ip: {allow: ["10.0.0.0/8"], mode: report_only}
    auth: {methods: [keys]}
    authorize: {scopes: [write], mode: report_only}
  - name: open
    paths: ["/open"]
    upstream: ok
  - name: failing
    paths: ["/failing"]
    upstream: failing
  - name: dead
    paths: ["/dead"]
    upstream: dead
upstreams:
  - name: ok
    targets: [{url: %q}]
  - name: failing
    targets: [{url: %q}]
  - name: dead
    targets: [{url: "http://127.0.0.1:1"}]
`, sha, ok.URL, failing.URL), func(o *Options) {
		st := o.Store
		agg = analytics.New(analytics.Options{Node: "gw-1", Store: st})
		o.Analytics = agg
	})
	requests := []struct {
		path   string
		key    string
		status int
	}{
		{"/trial", key, 200}, {"/trial", key, 200}, {"/trial", "", 401},
		{"/open", "", 200}, {"/nope", "", 404}, {"/failing", "", 503}, {"/dead", "", 502},
	}
	for _, r := range requests {
		hdr := map[string]string{}
		if r.key != "" {
			hdr["X-API-Key"] = r.key
		}
		if resp, body := h.do("GET", r.path, hdr, ""); resp.StatusCode != r.status {
			t.Fatalf("GET %s: %d %s, want %d", r.path, resp.StatusCode, body, r.status)
		}
	}
	// finish runs after the answer reached the client: flush until every
	// request is in.
	var rows []store.Rollup
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := agg.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		var err error
		if rows, err = h.st.QueryRollups(context.Background(), store.RollupQuery{Level: store.LevelMinute}); err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, r := range rows {
			if r.Kind == store.RollupRequest {
				n += r.Count
			}
		}
		if n == int64(len(requests)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d requests counted: %+v", n, len(requests), rows)
		}
		time.Sleep(10 * time.Millisecond)
	}
	type want struct {
		kind, route, consumer, code, stage, layer, rule string
		class                                           int
		count, upstreamErrors                           int64
	}
	for _, w := range []want{
		{store.RollupRequest, "trial", "app", "", "", "", "", 2, 2, 0},
		{store.RollupRequest, "trial", "", "authn.credential_missing", "authn", "gateway", "", 4, 1, 0},
		{store.RollupRequest, "open", "", "", "", "", "", 2, 1, 0},
		{store.RollupRequest, "(none)", "", "route.not_found", "route", "gateway", "", 4, 1, 0},
		{store.RollupRequest, "failing", "", "upstream.error", "upstream", "upstream", "", 5, 1, 1},
		{store.RollupRequest, "dead", "", "upstream.connect_failed", "upstream", "gateway", "", 5, 1, 1},
		{store.RollupWouldDeny, "trial", "app", "ip.not_allowed", "ip", "", "", 2, 2, 0},
		{store.RollupWouldDeny, "trial", "app", "authz.scope_missing", "authz", "", "", 2, 2, 0},
	} {
		var got *store.Rollup
		for i := range rows {
			r := &rows[i]
			if r.Kind == w.kind && r.Route == w.route && r.Consumer == w.consumer && r.Code == w.code {
				got = r
			}
		}
		if got == nil {
			t.Errorf("no %s row for %s/%s/%s in %+v", w.kind, w.route, w.consumer, w.code, rows)
			continue
		}
		if got.Stage != w.stage || got.Layer != w.layer || got.StatusClass != w.class || got.Count != w.count ||
			got.UpstreamErrors != w.upstreamErrors || got.Node != "gw-1" {
			t.Errorf("%s row %s/%s: %+v, want %+v", w.kind, w.route, w.code, got, w)
		}
		if w.kind == store.RollupRequest && len(got.Latency) == 0 {
			t.Errorf("%s row %s/%s has no latency sketch", w.kind, w.route, w.code)
		}
	}
}

// TestAnalyticsDisabled: analytics.enabled: false counts nothing.
func TestAnalyticsDisabled(t *testing.T) {
	t.Parallel()
	be := backend(t, "app")
	var agg *analytics.Aggregator
	h := newHarness(t, simpleConfig(be.URL)+"analytics: {enabled: false}\n", func(o *Options) {
		agg = analytics.New(analytics.Options{Node: "gw-1", Store: o.Store})
		o.Analytics = agg
	})
	if resp, _ := h.do("GET", "/api/x", nil, ""); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	h.srv.Close() // waits for the handler, and so for finish
	if err := agg.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	rows, err := h.st.QueryRollups(context.Background(), store.RollupQuery{Level: store.LevelMinute})
	if err != nil || len(rows) != 0 {
		t.Fatalf("rows %+v, %v: want none", rows, err)
	}
}

// BenchmarkObserve measures observe on a refused request with a
// would-deny step, once its rows exist.
func BenchmarkObserve(b *testing.B) {
	agg := analytics.New(analytics.Options{Node: "gw-1", Store: nil})
	g := New(Options{Metrics: telemetry.New(), Analytics: agg})
	st := &state{}
	st.x.Start = time.Now()
	st.x.Route = "orders"
	st.x.Identity.ConsumerID = "acme-app"
	st.code, st.layer, st.stage = "authz.scope_missing", "gateway", "authz"
	st.x.Trace = []pipeline.Step{
		{Stage: "route", Outcome: pipeline.OutcomePass, Rule: "orders"},
		{Stage: "ip", Outcome: pipeline.OutcomeWouldDeny, Code: "ip.not_allowed"},
		{Stage: "authz", Outcome: pipeline.OutcomeDeny, Code: "authz.scope_missing", Rule: "orders-write"},
	}
	b.ReportAllocs()
	for b.Loop() {
		g.observe(st, nil, 403, st.code, st.layer, 3*time.Millisecond)
	}
}
