package admin_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/gateway"
	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/telemetry"
)

// quotaKey is the whole API key of consumer gold-app in quotaDoc.
const quotaKey = "pp_live_gold0000gold_S3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3"

// quotaDoc declares gold-app (tenant acme, plan gold) with one key and a
// route with a consumer quota (plans) and a tenant quota; redis, when not
// empty, adds a route whose quota lives in Redis at that URL.
func quotaDoc(upstream, redis string) string {
	sum := sha256.Sum256([]byte(quotaKey))
	doc := fmt.Sprintf(`version: 1
listeners:
  - {name: public, kind: proxy, address: "127.0.0.1:0"}
authenticators:
  - {name: keys, type: api_key}
tenants:
  - {id: acme}
consumers:
  - id: gold-app
    tenant: acme
    metadata: {plan: gold}
    api_keys: [{id: gold0000gold, sha256: %s}]
upstreams:
  - name: app
    targets: [{url: %q}]
routes:
  - name: metered
    paths: ["/metered"]
    upstream: app
    auth: {methods: [keys]}
    quotas:
      - {name: daily, period: day, limit: 5, plans: {gold: 10}}
      - {name: org, period: month, limit: 100, key: tenant}
`, hex.EncodeToString(sum[:]), upstream)
	if redis != "" {
		doc += `  - name: clustered
    paths: ["/clustered"]
    upstream: app
    quotas: [{name: monthly, period: month, limit: 9, store: redis}]
redis: {url: "` + redis + `", dial_timeout: 50ms, timeout: 50ms}
`
	}
	return doc
}

// newQuotaFixture is the admin API with a real gateway as its QuotaReader,
// over the fixture's store, serving doc; proxy is the gateway's listener.
func newQuotaFixture(t *testing.T, doc string) (f *fixture, proxy *httptest.Server) {
	t.Helper()
	var g *gateway.Gateway
	f = newFixture(t, func(o *admin.Options) {
		g = gateway.New(gateway.Options{Store: o.Store, Metrics: telemetry.New()})
		o.Quotas = g
	})
	t.Cleanup(g.Close)
	if _, err := g.Apply(t.Context(), admin.ApplyRequest{Filename: "quotas.yaml", Document: []byte(doc), Author: "test"}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	proxy = httptest.NewServer(g)
	t.Cleanup(proxy.Close)
	return f, proxy
}

func upstreamServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	t.Cleanup(srv.Close)
	return srv.URL
}

func callMetered(t *testing.T, proxy *httptest.Server, n int) {
	t.Helper()
	for range n {
		req, err := http.NewRequestWithContext(t.Context(), "GET", proxy.URL+"/metered", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-API-Key", quotaKey)
		resp, err := proxy.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET /metered: %d", resp.StatusCode)
		}
	}
}

func TestQuotaUsageEndpoint(t *testing.T) {
	t.Parallel()
	f, proxy := newQuotaFixture(t, quotaDoc(upstreamServer(t), ""))
	callMetered(t, proxy, 3)

	t.Run("a consumer's usage", func(t *testing.T) {
		t.Parallel()
		r := f.do(t, "GET", "/admin/quotas?consumer=gold-app", testToken, nil)
		if r.status != 200 || r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("%d %s", r.status, r.body)
		}
		var body struct {
			Usage []map[string]any `json:"usage"`
		}
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatal(err)
		}
		if len(body.Usage) != 2 {
			t.Fatalf("usage %s, want two quotas", r.body)
		}
		daily := body.Usage[0]
		for k, want := range map[string]any{"route": "metered", "quota": "daily", "key": "consumer:gold-app", "store": "local",
			"used": 3.0, "limit": 10.0, "remaining": 7.0, "plan": "gold"} {
			if daily[k] != want {
				t.Errorf("%s = %v, want %v (%s)", k, daily[k], want, r.body)
			}
		}
		for _, k := range []string{"period", "reset"} {
			if _, err := time.Parse(time.RFC3339, fmt.Sprint(daily[k])); err != nil {
				t.Errorf("%s = %v: %v", k, daily[k], err)
			}
		}
		if org := body.Usage[1]; org["key"] != "tenant:acme" || org["used"] != 3.0 || org["plan"] != "" {
			t.Errorf("tenant quota %v", org)
		}
	})
	t.Run("the client", func(t *testing.T) {
		t.Parallel()
		got, err := f.client.QuotaUsage(t.Context(), admin.QuotaQuery{Route: "metered", Quota: "org", Key: "tenant:acme"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Used != 3 || got[0].Limit != 100 || got[0].Remaining != 97 || got[0].Key != "tenant:acme" ||
			!got[0].Reset.After(got[0].Period) {
			t.Errorf("usage %+v", got)
		}
		if _, err := f.client.QuotaUsage(t.Context(), admin.QuotaQuery{Key: "gold-app"}); err == nil || !strings.Contains(err.Error(), "KIND:ID") {
			t.Errorf("a caller without kind: %v", err)
		}
		_, err = f.client.QuotaUsage(t.Context(), admin.QuotaQuery{Route: "nope", Key: "consumer:gold-app"})
		if !admin.IsNotFound(err) {
			t.Errorf("unknown route: %v", err)
		}
	})
	t.Run("an IP address is normalized", func(t *testing.T) {
		t.Parallel()
		got, err := f.client.QuotaUsage(t.Context(), admin.QuotaQuery{Route: "metered", Quota: "daily", Key: "ip:::ffff:192.0.2.7"})
		if err != nil || len(got) != 1 || got[0].Key != "ip:192.0.2.7" || got[0].Used != 0 || got[0].Remaining != 5 {
			t.Errorf("usage %+v, %v", got, err)
		}
	})

	errs := []struct {
		name, query string
		status      int
		code        string
		detail      string
	}{
		{"no caller", "", 400, "admin.bad_request", "a caller is required: one of consumer=ID, tenant=ID, credential=ID or ip=ADDR"},
		{"two callers", "consumer=a&tenant=b", 400, "admin.bad_request", "give one caller: one of consumer, tenant, credential or ip"},
		{"a caller twice", "consumer=a&consumer=b", 400, "admin.bad_request", "consumer: give it once"},
		{"empty caller", "consumer=", 400, "admin.bad_request", "consumer: must not be empty"},
		{"bad address", "ip=999.1.1.1", 400, "admin.bad_request", "ip: not an IP address"},
		{"long id", "consumer=" + strings.Repeat("x", 257), 400, "admin.bad_request", "consumer: at most 256 bytes"},
		{"quota without a counter for the caller", "tenant=acme&quota=daily", 400, "admin.bad_request",
			`quota "daily" of route "metered" counts requests per consumer, not per tenant; ask for a consumer (or the IP address of unauthenticated callers)`},
		{"unknown route", "consumer=a&route=nope", 404, "admin.not_found", `Route "nope" was not found.`},
		{"unknown quota", "consumer=a&route=metered&quota=weekly", 404, "admin.not_found", `Quota "weekly" of route "metered" was not found.`},
		{"unknown quota anywhere", "consumer=a&quota=weekly", 404, "admin.not_found", `Quota "weekly" (on any route) was not found.`},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := wantProblem(t, f.do(t, "GET", "/admin/quotas?"+tc.query, testToken, nil), tc.status, tc.code)
			if p.Detail != tc.detail {
				t.Errorf("detail %q, want %q", p.Detail, tc.detail)
			}
		})
	}
}

func TestQuotaHistoryEndpoint(t *testing.T) {
	t.Parallel()
	f, proxy := newQuotaFixture(t, quotaDoc(upstreamServer(t), ""))
	ctx := t.Context()
	jan, feb := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	if err := f.st.AddQuotaUsage(ctx, []store.QuotaDelta{
		{Route: "metered", Quota: "org", Key: "tenant:acme", Period: jan, N: 40},
		{Route: "metered", Quota: "org", Key: "tenant:acme", Period: feb, N: 55},
		{Route: "metered", Quota: "org", Key: "tenant:initech", Period: feb, N: 7},
		{Route: "retired", Quota: "daily", Key: "ip:192.0.2.7", Period: jan, N: 2},
	}); err != nil {
		t.Fatal(err)
	}
	type row struct {
		route, quota, key string
		period            time.Time
		used              int64
	}
	history := func(t *testing.T, f admin.QuotaHistoryFilter, c *admin.Client) []row {
		t.Helper()
		list, err := c.QuotaHistory(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]row, 0, len(list))
		for _, u := range list {
			if u.Period.Before(feb.AddDate(0, 1, 0)) { // leave out what the gateway counts now
				out = append(out, row{u.Route, u.Quota, u.Key, u.Period.UTC(), u.Used})
			}
		}
		return out
	}
	tests := []struct {
		name string
		f    admin.QuotaHistoryFilter
		want []row
	}{
		{"every counter, newest period first", admin.QuotaHistoryFilter{}, []row{
			{"metered", "org", "tenant:acme", feb, 55}, {"metered", "org", "tenant:initech", feb, 7},
			{"metered", "org", "tenant:acme", jan, 40}, {"retired", "daily", "ip:192.0.2.7", jan, 2},
		}},
		{"one caller", admin.QuotaHistoryFilter{Key: "tenant:acme"}, []row{
			{"metered", "org", "tenant:acme", feb, 55}, {"metered", "org", "tenant:acme", jan, 40},
		}},
		{"a removed route's counters", admin.QuotaHistoryFilter{Route: "retired", Key: "ip:::ffff:192.0.2.7"}, []row{
			{"retired", "daily", "ip:192.0.2.7", jan, 2},
		}},
		{"since", admin.QuotaHistoryFilter{Quota: "org", Since: "2026-01-15T00:00:00Z"}, []row{
			{"metered", "org", "tenant:acme", feb, 55}, {"metered", "org", "tenant:initech", feb, 7},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := history(t, tc.f, f.client); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("history\n got %v\nwant %v", got, tc.want)
			}
		})
	}
	t.Run("limit", func(t *testing.T) {
		t.Parallel()
		list, err := f.client.QuotaHistory(ctx, admin.QuotaHistoryFilter{Route: "metered", Limit: 1})
		if err != nil || len(list) != 1 {
			t.Errorf("%v, %v; want one record", list, err)
		}
	})
	t.Run("no match is an empty list", func(t *testing.T) {
		t.Parallel()
		r := f.do(t, "GET", "/admin/quotas/history?route=nope", testToken, nil)
		if r.status != 200 || strings.TrimSpace(string(r.body)) != `{"history":[]}` {
			t.Errorf("%d %s", r.status, r.body)
		}
	})
	for _, tc := range []struct{ query, detail string }{
		{"since=yesterday", "since: want an RFC 3339 time or an age such as 15m, 2h or 7d"},
		{"limit=0", "limit: must be between 1 and 10000"},
		{"consumer=a&ip=192.0.2.7", "give one caller: one of consumer, tenant, credential or ip"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			t.Parallel()
			p := wantProblem(t, f.do(t, "GET", "/admin/quotas/history?"+tc.query, testToken, nil), 400, "admin.bad_request")
			if p.Detail != tc.detail {
				t.Errorf("detail %q, want %q", p.Detail, tc.detail)
			}
		})
	}
	t.Run("the gateway's counts reach the history", func(t *testing.T) {
		t.Parallel()
		callMetered(t, proxy, 2)
		day := time.Now().UTC().Truncate(24 * time.Hour)
		// The counter flushes to the store every second.
		deadline := time.Now().Add(10 * time.Second)
		for {
			list, err := f.client.QuotaHistory(ctx, admin.QuotaHistoryFilter{Route: "metered", Quota: "daily", Key: "consumer:gold-app"})
			if err != nil {
				t.Fatal(err)
			}
			if len(list) == 1 && list[0].Used == 2 && list[0].Period.Equal(day) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("history %+v, want 2 requests in the period %v", list, day)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

func TestQuotaEndpointsNeedTheTokenAndTheReader(t *testing.T) {
	t.Parallel()
	f, _ := newQuotaFixture(t, quotaDoc(upstreamServer(t), ""))
	for _, path := range []string{"/admin/quotas?consumer=gold-app", "/admin/quotas/history?consumer=gold-app"} {
		r := f.do(t, "GET", path, "", nil)
		wantProblem(t, r, 401, "admin.unauthorized")
		if strings.Contains(string(r.body), "gold") {
			t.Errorf("a refused request discloses data: %s", r.body)
		}
		wantProblem(t, f.do(t, "GET", path, "ppadm_this-token-is-not-stored-anywhere-00", nil), 401, "admin.unauthorized")
		r = f.do(t, "POST", path, testToken, nil)
		wantProblem(t, r, 405, "admin.method_not_allowed")
		if r.header.Get("Allow") != "GET, HEAD" {
			t.Errorf("Allow = %q", r.header.Get("Allow"))
		}
	}
	without := newFixture(t)
	for _, path := range []string{"/admin/quotas?consumer=gold-app", "/admin/quotas/history"} {
		wantProblem(t, without.do(t, "GET", path, testToken, nil), 404, "admin.not_found")
	}
}

// TestQuotaUsageStoreFailure: Redis down is a 503 that names neither the
// address nor the error.
func TestQuotaUsageStoreFailure(t *testing.T) {
	t.Parallel()
	f, _ := newQuotaFixture(t, quotaDoc(upstreamServer(t), "redis://127.0.0.1:1/0"))
	r := f.do(t, "GET", "/admin/quotas?route=clustered&ip=192.0.2.7", testToken, nil)
	wantProblem(t, r, 503, "admin.store_unavailable")
	for _, leak := range []string{"127.0.0.1:1", "refused", "dial"} {
		if strings.Contains(string(r.body), leak) {
			t.Errorf("body discloses %q: %s", leak, r.body)
		}
	}
}
