package main

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

// quotaCLIKey is the API key of consumer orders-app in the quota fixture.
const quotaCLIKey = "pp_live_ordr0000ordr_S3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3"

// newQuotaCLIFixture is newCLIFixture with a real gateway behind the
// admin API, serving a route with a consumer quota (plans from the
// consumer's metadata) and a tenant quota. orders-app (tenant acme, plan
// pro) has sent n requests through it.
func newQuotaCLIFixture(t *testing.T, n int) *cliFixture {
	t.Helper()
	f := newCLIFixture(t)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	t.Cleanup(backend.Close)
	sum := sha256.Sum256([]byte(quotaCLIKey))
	doc := fmt.Sprintf(`version: 1
listeners:
  - {name: public, kind: proxy, address: "127.0.0.1:0"}
authenticators:
  - {name: keys, type: api_key}
tenants:
  - {id: acme}
consumers:
  - id: orders-app
    tenant: acme
    metadata: {plan: pro}
    api_keys: [{id: ordr0000ordr, sha256: %s}]
upstreams:
  - name: app
    targets: [{url: %q}]
routes:
  - name: orders
    paths: ["/orders"]
    upstream: app
    auth: {methods: [keys]}
    quotas:
      - {name: daily, period: day, limit: 100, plans: {pro: 1000}}
      - {name: monthly, period: month, limit: 5000, key: tenant}
  - name: health
    paths: ["/health"]
    upstream: app
`, hex.EncodeToString(sum[:]), backend.URL)
	g := gateway.New(gateway.Options{Store: f.st, Metrics: telemetry.New()})
	t.Cleanup(g.Close)
	if _, err := g.Apply(t.Context(), admin.ApplyRequest{Filename: "quotas.yaml", Document: []byte(doc), Author: "test"}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	proxy := httptest.NewServer(g)
	t.Cleanup(proxy.Close)
	for range n {
		req, err := http.NewRequestWithContext(t.Context(), "GET", proxy.URL+"/orders", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-API-Key", quotaCLIKey)
		resp, err := proxy.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET /orders: %d", resp.StatusCode)
		}
	}
	// The fixture's own server (without quotas) stays up unused.
	f.srv = httptest.NewServer(admin.NewHandler(admin.Options{Control: g, Store: f.st, Version: "test", Quotas: g}))
	t.Cleanup(f.srv.Close)
	return f
}

func TestQuotasUsage(t *testing.T) {
	t.Parallel()
	f := newQuotaCLIFixture(t, 3)
	t.Run("table", func(t *testing.T) {
		t.Parallel()
		r := f.run(t, "quotas", "usage", "--consumer", "orders-app")
		wantCode(t, r, exitOK)
		checkGolden(t, "quotas_usage", wallTimeRE.ReplaceAllString(r.stdout, "YYYY-MM-DDTHH:MM:SSZ"))
	})
	t.Run("one quota of a credential", func(t *testing.T) {
		t.Parallel()
		r := f.run(t, "quotas", "usage", "--credential", "pp_live_ordr0000ordr", "--route", "orders", "--quota", "monthly")
		wantCode(t, r, exitOK)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if len(lines) != 2 || strings.Join(strings.Fields(lines[1])[:6], " ") != "orders monthly tenant:acme 3 5000 4997" {
			t.Errorf("stdout:\n%s", r.stdout)
		}
	})
	t.Run("json", func(t *testing.T) {
		t.Parallel()
		r := f.run(t, "quotas", "usage", "--tenant", "acme", "-o", "json")
		wantCode(t, r, exitOK)
		var out struct {
			Usage []admin.QuotaUsage `json:"usage"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("%v:\n%s", err, r.stdout)
		}
		if len(out.Usage) != 1 || out.Usage[0].Quota != "monthly" || out.Usage[0].Used != 3 || out.Usage[0].Remaining != 4997 ||
			out.Usage[0].Plan != "" || !out.Usage[0].Reset.After(time.Now()) {
			t.Errorf("usage %+v", out.Usage)
		}
	})
	t.Run("no quota", func(t *testing.T) {
		t.Parallel()
		r := f.run(t, "quotas", "usage", "--ip", "192.0.2.7", "--route", "health")
		wantCode(t, r, exitOK)
		if r.stdout != "" || r.stderr != "no quota counts ip:192.0.2.7\n" {
			t.Errorf("stdout %q stderr %q", r.stdout, r.stderr)
		}
	})
	t.Run("unknown route", func(t *testing.T) {
		t.Parallel()
		r := f.run(t, "quotas", "usage", "--consumer", "orders-app", "--route", "nope")
		wantCode(t, r, exitFailure)
		if !strings.HasPrefix(r.stderr, `error: Not found: Route "nope" was not found. (code admin.not_found, request `) {
			t.Errorf("stderr:\n%s", r.stderr)
		}
	})
	t.Run("a quota without a counter for the caller", func(t *testing.T) {
		t.Parallel()
		r := f.run(t, "quotas", "usage", "--tenant", "acme", "--quota", "daily")
		wantCode(t, r, exitFailure)
		if !strings.Contains(r.stderr, `counts requests per consumer, not per tenant; ask for a consumer`) {
			t.Errorf("stderr:\n%s", r.stderr)
		}
	})
}

func TestQuotasHistory(t *testing.T) {
	t.Parallel()
	f := newQuotaCLIFixture(t, 0)
	jan, feb := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	if err := f.st.AddQuotaUsage(t.Context(), []store.QuotaDelta{
		{Route: "orders", Quota: "monthly", Key: "tenant:acme", Period: jan, N: 4100},
		{Route: "orders", Quota: "monthly", Key: "tenant:acme", Period: feb, N: 3900},
		{Route: "orders", Quota: "monthly", Key: "tenant:initech", Period: feb, N: 12},
	}); err != nil {
		t.Fatal(err)
	}
	// columns drops the UPDATED column (the store's clock) of each row.
	columns := func(out string) []string {
		var rows []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			fs := strings.Fields(l)
			rows = append(rows, strings.Join(fs[:len(fs)-1], " "))
		}
		return rows
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"every caller", []string{"quotas", "history"}, []string{
			"PERIOD ROUTE QUOTA KEY USED",
			"2026-02-01T00:00:00Z orders monthly tenant:acme 3900",
			"2026-02-01T00:00:00Z orders monthly tenant:initech 12",
			"2026-01-01T00:00:00Z orders monthly tenant:acme 4100",
		}},
		{"one tenant since a date", []string{"quotas", "history", "--tenant", "acme", "--since", "2026-01-15T00:00:00Z"}, []string{
			"PERIOD ROUTE QUOTA KEY USED",
			"2026-02-01T00:00:00Z orders monthly tenant:acme 3900",
		}},
		{"limit", []string{"quotas", "history", "--route", "orders", "--limit", "1"}, []string{
			"PERIOD ROUTE QUOTA KEY USED",
			"2026-02-01T00:00:00Z orders monthly tenant:acme 3900",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := f.run(t, tc.args...)
			wantCode(t, r, exitOK)
			if got := columns(r.stdout); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("stdout:\n%s\nwant (without UPDATED):\n%s", r.stdout, strings.Join(tc.want, "\n"))
			}
		})
	}
	t.Run("json", func(t *testing.T) {
		t.Parallel()
		r := f.run(t, "quotas", "history", "--tenant", "initech", "-o", "json")
		wantCode(t, r, exitOK)
		var out struct {
			History []store.QuotaUsage `json:"history"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("%v:\n%s", err, r.stdout)
		}
		if len(out.History) != 1 || out.History[0].Used != 12 || !out.History[0].Period.Equal(feb) || out.History[0].UpdatedAt.IsZero() {
			t.Errorf("history %+v", out.History)
		}
	})
	t.Run("nothing", func(t *testing.T) {
		t.Parallel()
		r := f.run(t, "quotas", "history", "--consumer", "nobody")
		wantCode(t, r, exitOK)
		if r.stdout != "" || r.stderr != "no stored quota counters match\n" {
			t.Errorf("stdout %q stderr %q", r.stdout, r.stderr)
		}
		j := f.run(t, "quotas", "history", "--consumer", "nobody", "-o", "json")
		wantCode(t, j, exitOK)
		if j.stdout != "{\n  \"history\": []\n}\n" {
			t.Errorf("json %q", j.stdout)
		}
	})
}

func TestQuotasUsageErrors(t *testing.T) {
	t.Parallel()
	f := newCLIFixture(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no caller", []string{"quotas", "usage"}, "one of --consumer, --tenant, --credential or --ip is required"},
		{"two callers", []string{"quotas", "usage", "--consumer", "a", "--tenant", "b"}, "give one of --consumer, --tenant, --credential or --ip"},
		{"bad address", []string{"quotas", "usage", "--ip", "localhost"}, `--ip "localhost": want an IP address`},
		{"bad since", []string{"quotas", "history", "--since", "last week"}, `--since "last week"`},
		{"bad limit", []string{"quotas", "history", "--limit", "0"}, "--limit must be between 1 and 10000"},
		{"unknown subcommand", []string{"quotas", "frob"}, `unknown command "frob" for "pinpoint quotas"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := f.run(t, tc.args...)
			wantCode(t, r, exitUsage)
			if !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "--help' for usage.") {
				t.Errorf("stderr %q does not contain %q", r.stderr, tc.want)
			}
		})
	}
	t.Run("a gateway without quota reading", func(t *testing.T) {
		t.Parallel()
		r := f.run(t, "quotas", "usage", "--consumer", "a")
		wantCode(t, r, exitFailure)
		if !strings.Contains(r.stderr, "Endpoint /admin/quotas was not found.") {
			t.Errorf("stderr:\n%s", r.stderr)
		}
	})
}
