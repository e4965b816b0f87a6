package gateway

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/redisconn/redistest"
	"github.com/pinpointgw/pinpoint/internal/stage/limit"
)

// quotaUsageConfig has a route with four quotas (by consumer with plans,
// by a custom plan field, by tenant, by credential) behind optional API-key
// auth, so anonymous requests are counted by client IP, and a route
// without quotas. gold-app (tenant acme, plan gold, tier pro) and free-app
// (no tenant, an unlisted plan) each have a key.
func quotaUsageConfig(t *testing.T, extra string) (doc, goldKey, freeKey string) {
	t.Helper()
	goldKey, goldSHA := accessKey("live", "gold0000gold")
	freeKey, freeSHA := accessKey("live", "free0000free")
	doc = fmt.Sprintf(`version: 1
listeners:
  - {name: public, kind: proxy, address: "127.0.0.1:0"}
authenticators:
  - {name: keys, type: api_key}
tenants:
  - {id: acme, name: Acme}
consumers:
  - id: gold-app
    tenant: acme
    metadata: {plan: gold, tier: pro}
    api_keys: [{id: gold0000gold, sha256: %s}]
  - id: free-app
    metadata: {plan: unlisted}
    api_keys: [{id: free0000free, sha256: %s}]
upstreams:
  - name: app
    targets: [{url: %q}]
routes:
  - name: metered
    paths: ["/metered"]
    upstream: app
    auth: {methods: [keys], optional: true}
    quotas:
      - {name: daily, period: day, limit: 2, plans: {gold: 10}}
      - {name: tiered, period: month, limit: 5, plan_field: tier, plans: {pro: 50}}
      - {name: org, period: month, limit: 100, key: tenant, plans: {gold: 1000}}
      - {name: per-key, period: day, limit: 7, key: credential}
  - name: plain
    paths: ["/plain"]
    upstream: app
%s`, goldSHA, freeSHA, backend(t, "app").URL, extra)
	return doc, goldKey, freeKey
}

// usageRow is the part of a limit.QuotaUsage a case pins.
type usageRow struct {
	route, quota, key string
	used, limit       int64
	plan              string
}

func rows(list []limit.QuotaUsage) []usageRow {
	out := make([]usageRow, len(list))
	for i, u := range list {
		out[i] = usageRow{u.Route, u.Quota, u.Key, u.Used, u.Limit, u.Plan}
	}
	return out
}

func TestQuotaUsageOfEachCaller(t *testing.T) {
	t.Parallel()
	doc, gold, free := quotaUsageConfig(t, "")
	h := newHarness(t, doc)
	send := func(key string, n int) {
		for range n {
			hdr := map[string]string{}
			if key != "" {
				hdr["X-API-Key"] = key
			}
			if resp, body := h.do("GET", "/metered", hdr, ""); resp.StatusCode != 200 {
				t.Fatalf("request: %d %s", resp.StatusCode, body)
			}
		}
	}
	send(gold, 3)
	send(free, 1)
	send("", 1)

	const goldCred = "credential:pp_live_gold0000gold"
	tests := []struct {
		name string
		q    QuotaQuery
		want []usageRow
	}{
		{"consumer with a plan: its tenant's counter for the tenant quota, nothing per credential",
			QuotaQuery{Key: "consumer:gold-app"}, []usageRow{
				{"metered", "daily", "consumer:gold-app", 3, 10, "gold"},
				{"metered", "tiered", "consumer:gold-app", 3, 50, "pro"},
				{"metered", "org", "tenant:acme", 3, 1000, "gold"},
			}},
		{"consumer without tenant and with an unlisted plan",
			QuotaQuery{Key: "consumer:free-app"}, []usageRow{
				{"metered", "daily", "consumer:free-app", 1, 2, ""},
				{"metered", "tiered", "consumer:free-app", 1, 5, ""},
				{"metered", "org", "consumer:free-app", 1, 100, ""},
			}},
		{"tenant: only tenant quotas, the default limit",
			QuotaQuery{Key: "tenant:acme"}, []usageRow{{"metered", "org", "tenant:acme", 3, 100, ""}}},
		{"credential: its consumer's and tenant's counters, and its own",
			QuotaQuery{Key: goldCred}, []usageRow{
				{"metered", "daily", "consumer:gold-app", 3, 10, "gold"},
				{"metered", "tiered", "consumer:gold-app", 3, 50, "pro"},
				{"metered", "org", "tenant:acme", 3, 1000, "gold"},
				{"metered", "per-key", goldCred, 3, 7, ""},
			}},
		{"an API key's id stands for its prefix",
			QuotaQuery{Quota: "per-key", Key: "credential:gold0000gold"}, []usageRow{{"metered", "per-key", goldCred, 3, 7, ""}}},
		{"anonymous caller by IP, in every quota",
			QuotaQuery{Key: "ip:127.0.0.1"}, []usageRow{
				{"metered", "daily", "ip:127.0.0.1", 1, 2, ""},
				{"metered", "tiered", "ip:127.0.0.1", 1, 5, ""},
				{"metered", "org", "ip:127.0.0.1", 1, 100, ""},
				{"metered", "per-key", "ip:127.0.0.1", 1, 7, ""},
			}},
		{"an IPv4-mapped address is the IPv4 address",
			QuotaQuery{Route: "metered", Quota: "daily", Key: "ip:::ffff:127.0.0.1"},
			[]usageRow{{"metered", "daily", "ip:127.0.0.1", 1, 2, ""}}},
		{"one quota of one route",
			QuotaQuery{Route: "metered", Quota: "org", Key: "consumer:gold-app"},
			[]usageRow{{"metered", "org", "tenant:acme", 3, 1000, "gold"}}},
		{"a quota by name on any route",
			QuotaQuery{Quota: "per-key", Key: goldCred}, []usageRow{{"metered", "per-key", goldCred, 3, 7, ""}}},
		{"a caller who never called", QuotaQuery{Route: "metered", Quota: "daily", Key: "consumer:nobody"},
			[]usageRow{{"metered", "daily", "consumer:nobody", 0, 2, ""}}},
		{"a route without quotas", QuotaQuery{Route: "plain", Key: "consumer:gold-app"}, []usageRow{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := h.g.QuotaUsage(context.Background(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := fmt.Sprint(rows(got)), fmt.Sprint(tc.want); g != w {
				t.Errorf("usage\n got %s\nwant %s", g, w)
			}
		})
	}

	t.Run("periods", func(t *testing.T) {
		t.Parallel()
		got, err := h.g.QuotaUsage(context.Background(), QuotaQuery{Route: "metered", Key: "consumer:gold-app"})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		day := time.Date(now.UTC().Year(), now.UTC().Month(), now.UTC().Day(), 0, 0, 0, 0, time.UTC)
		month := time.Date(now.UTC().Year(), now.UTC().Month(), 1, 0, 0, 0, 0, time.UTC)
		want := map[string][2]time.Time{
			"daily": {day, day.AddDate(0, 0, 1)}, "tiered": {month, month.AddDate(0, 1, 0)}, "org": {month, month.AddDate(0, 1, 0)},
		}
		for _, u := range got {
			if w := want[u.Quota]; !u.Period.Equal(w[0]) || !u.Reset.Equal(w[1]) || u.Store != "local" {
				t.Errorf("%s: period %v reset %v store %s, want %v, %v, local", u.Quota, u.Period, u.Reset, u.Store, w[0], w[1])
			}
		}
	})
}

func TestQuotaUsageErrors(t *testing.T) {
	t.Parallel()
	doc, _, _ := quotaUsageConfig(t, "")
	h := newHarness(t, doc)
	notFound := []struct {
		name string
		q    QuotaQuery
		want admin.QuotaNotFoundError
	}{
		{"unknown route", QuotaQuery{Route: "nope", Key: "consumer:c"}, admin.QuotaNotFoundError{Route: "nope"}},
		{"unknown route with a quota", QuotaQuery{Route: "nope", Quota: "daily", Key: "consumer:c"}, admin.QuotaNotFoundError{Route: "nope"}},
		{"unknown quota of a route", QuotaQuery{Route: "metered", Quota: "weekly", Key: "consumer:c"}, admin.QuotaNotFoundError{Route: "metered", Quota: "weekly"}},
		{"a route without that quota", QuotaQuery{Route: "plain", Quota: "daily", Key: "consumer:c"}, admin.QuotaNotFoundError{Route: "plain", Quota: "daily"}},
		{"unknown quota on any route", QuotaQuery{Quota: "weekly", Key: "consumer:c"}, admin.QuotaNotFoundError{Quota: "weekly"}},
	}
	for _, tc := range notFound {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := h.g.QuotaUsage(context.Background(), tc.q)
			var nf *admin.QuotaNotFoundError
			if !errors.As(err, &nf) || *nf != tc.want {
				t.Fatalf("err = %#v, want %#v", err, &tc.want)
			}
		})
	}
	t.Run("a quota without a counter for the caller", func(t *testing.T) {
		t.Parallel()
		for _, q := range []QuotaQuery{
			{Route: "metered", Quota: "per-key", Key: "consumer:gold-app"},
			{Quota: "daily", Key: "tenant:acme"},
		} {
			_, err := h.g.QuotaUsage(context.Background(), q)
			var ce *admin.QuotaCallerError
			if !errors.As(err, &ce) || ce.Route != "metered" || ce.Quota != q.Quota {
				t.Fatalf("%+v: err = %v, want a QuotaCallerError", q, err)
			}
			if msg := err.Error(); !strings.Contains(msg, "counts requests per "+ce.CountedBy) {
				t.Errorf("message %q", msg)
			}
		}
	})
	t.Run("invalid callers", func(t *testing.T) {
		t.Parallel()
		for _, key := range []string{"", "consumer", "consumer:", "user:x", "ip:not-an-address"} {
			_, err := h.g.QuotaUsage(context.Background(), QuotaQuery{Key: key})
			var nf *admin.QuotaNotFoundError
			if err == nil || errors.As(err, &nf) || !strings.Contains(err.Error(), "invalid caller") {
				t.Errorf("key %q: err = %v, want an invalid caller error", key, err)
			}
		}
	})
	t.Run("no revision served yet", func(t *testing.T) {
		t.Parallel()
		g := New(Options{Metrics: h.g.o.Metrics})
		defer g.Close()
		if got, err := g.QuotaUsage(context.Background(), QuotaQuery{Key: "consumer:c"}); err != nil || len(got) != 0 {
			t.Errorf("usage %v, err %v; want none", got, err)
		}
		_, err := g.QuotaUsage(context.Background(), QuotaQuery{Route: "metered", Key: "consumer:c"})
		var nf *admin.QuotaNotFoundError
		if !errors.As(err, &nf) {
			t.Errorf("err = %v, want a QuotaNotFoundError", err)
		}
	})
}

// TestQuotaUsageAfterReload: a reload keeps the counts (the counter is
// shared by every revision) and the usage follows the new revision's
// routes.
func TestQuotaUsageAfterReload(t *testing.T) {
	t.Parallel()
	doc, gold, _ := quotaUsageConfig(t, "")
	h := newHarness(t, doc)
	h.do("GET", "/metered", map[string]string{"X-API-Key": gold}, "")
	h.apply(strings.Replace(doc, "limit: 2, plans: {gold: 10}", "limit: 2, plans: {gold: 20}", 1))
	got, err := h.g.QuotaUsage(context.Background(), QuotaQuery{Route: "metered", Quota: "daily", Key: "consumer:gold-app"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []usageRow{{"metered", "daily", "consumer:gold-app", 1, 20, "gold"}}; fmt.Sprint(rows(got)) != fmt.Sprint(want) {
		t.Errorf("after the reload: %v, want %v", rows(got), want)
	}
}

func TestQuotaUsageInRedis(t *testing.T) {
	t.Parallel()
	rc := redistest.Config(t)
	extra := "  - name: shared\n    paths: [\"/shared\"]\n    upstream: app\n    auth: {methods: [keys]}\n" +
		"    quotas: [{name: monthly, period: month, limit: 4, store: redis, plans: {gold: 40}}]\n" +
		"redis: {url: \"" + rc.URL + "\", key_prefix: \"" + rc.KeyPrefix + "\"}\n"
	doc, gold, _ := quotaUsageConfig(t, extra)
	a, b := newHarness(t, doc), newHarness(t, doc)
	for _, h := range []*harness{a, b} {
		if resp, body := h.do("GET", "/shared", map[string]string{"X-API-Key": gold}, ""); resp.StatusCode != 200 {
			t.Fatalf("request: %d %s", resp.StatusCode, body)
		}
	}
	// Either node reads the cluster's count.
	got, err := a.g.QuotaUsage(context.Background(), QuotaQuery{Route: "shared", Key: "consumer:gold-app"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Used != 2 || got[0].Limit != 40 || got[0].Plan != "gold" || got[0].Store != "redis" {
		t.Errorf("usage %+v, want 2 of 40 (plan gold) in redis", got)
	}
}
