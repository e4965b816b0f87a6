package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// usageDay is the UTC midnight the fixture's AI calls straddle.
var usageDay = time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)

// usageFixture is an admin API over a store holding five AI calls: acme-app
// calls fast twice (one refused with 429) and smart once, globex calls fast
// once, and an unauthenticated caller gets a 502 from fast.
func usageFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	rec := func(at time.Duration, consumer, tenant, model, provider, route string, status int, in, out, cached, cost int64) store.AIUsageRecord {
		return store.AIUsageRecord{Time: usageDay.Add(at), RequestID: "r" + at.String(), Route: route,
			ConsumerID: consumer, TenantID: tenant, Op: "chat", Model: model, Provider: provider, Status: status,
			InputTokens: in, OutputTokens: out, CachedTokens: cached, CostPico: cost, Priced: true, Attempts: 1}
	}
	rows := []store.AIUsageRecord{
		rec(-time.Hour, "acme-app", "acme", "fast", "openai", "chat", 200, 1000, 200, 400, 1_234_500_000),
		rec(-time.Minute, "acme-app", "acme", "smart", "anthropic", "chat", 200, 2000, 500, 0, 10_500_000_000),
		rec(time.Minute, "acme-app", "acme", "fast", "openai", "chat", 429, 0, 0, 0, 0),
		rec(time.Hour, "globex", "globex", "fast", "azure", "summarize", 200, 300, 30, 0, 1),
		rec(2*time.Hour, "", "", "fast", "openai", "public", 502, 10, 0, 0, 0),
	}
	if err := f.st.InsertAIUsage(t.Context(), rows); err != nil {
		t.Fatal(err)
	}
	return f
}

// usageRange selects the whole fixture.
var usageRange = url.Values{
	"from": {usageDay.Add(-24 * time.Hour).Format(time.RFC3339)},
	"to":   {usageDay.Add(24 * time.Hour).Format(time.RFC3339)},
}

func usagePath(extra url.Values) string {
	v := url.Values{}
	for k, vs := range usageRange {
		v[k] = vs
	}
	for k, vs := range extra {
		v[k] = vs
	}
	return "/admin/ai/usage?" + v.Encode()
}

func TestAIUsageByConsumerAndModel(t *testing.T) {
	t.Parallel()
	f := usageFixture(t)
	r := f.do(t, "GET", usagePath(nil), testToken, nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	// The wire form, exactly: costs are decimal strings, keys of callers
	// without auth are "".
	want := `{"from":"2026-03-14T00:00:00Z","to":"2026-03-16T00:00:00Z","group_by":["consumer","model"],"groups":[` +
		`{"keys":{"consumer":"","model":"fast"},"calls":1,"errors":1,"input_tokens":10,"output_tokens":0,"cached_tokens":0,"cost_usd":"0"},` +
		`{"keys":{"consumer":"acme-app","model":"fast"},"calls":2,"errors":1,"input_tokens":1000,"output_tokens":200,"cached_tokens":400,"cost_usd":"0.0012345"},` +
		`{"keys":{"consumer":"acme-app","model":"smart"},"calls":1,"errors":0,"input_tokens":2000,"output_tokens":500,"cached_tokens":0,"cost_usd":"0.0105"},` +
		`{"keys":{"consumer":"globex","model":"fast"},"calls":1,"errors":0,"input_tokens":300,"output_tokens":30,"cached_tokens":0,"cost_usd":"0.000000000001"}],` +
		`"total":{"calls":5,"errors":2,"input_tokens":3310,"output_tokens":730,"cached_tokens":400,"cost_usd":"0.011734500001"}}` + "\n"
	if string(r.body) != want {
		t.Errorf("body\n%s\nwant\n%s", r.body, want)
	}
}

func TestAIUsageGroupingAndFilters(t *testing.T) {
	t.Parallel()
	f := usageFixture(t)
	tests := []struct {
		name  string
		q     admin.AIUsageQuery
		keys  []map[string]string
		calls []int64
		total string
	}{
		{"by day across midnight", admin.AIUsageQuery{GroupBy: []string{"day"}},
			[]map[string]string{{"day": "2026-03-14"}, {"day": "2026-03-15"}}, []int64{2, 3}, "0.011734500001"},
		{"by tenant and provider", admin.AIUsageQuery{GroupBy: []string{"tenant", "provider"}},
			[]map[string]string{{"tenant": "", "provider": "openai"}, {"tenant": "acme", "provider": "anthropic"},
				{"tenant": "acme", "provider": "openai"}, {"tenant": "globex", "provider": "azure"}},
			[]int64{1, 1, 2, 1}, "0.011734500001"},
		{"totals only", admin.AIUsageQuery{GroupBy: []string{}}, []map[string]string{{}}, []int64{5}, "0.011734500001"},
		{"consumer", admin.AIUsageQuery{Consumer: "acme-app", GroupBy: []string{"route"}},
			[]map[string]string{{"route": "chat"}}, []int64{3}, "0.0117345"},
		{"tenant", admin.AIUsageQuery{Tenant: "globex"}, []map[string]string{{"consumer": "globex", "model": "fast"}}, []int64{1}, "0.000000000001"},
		{"model", admin.AIUsageQuery{Model: "smart", GroupBy: []string{"provider"}},
			[]map[string]string{{"provider": "anthropic"}}, []int64{1}, "0.0105"},
		{"route", admin.AIUsageQuery{Route: "public", GroupBy: []string{"credential"}},
			[]map[string]string{{"credential": ""}}, []int64{1}, "0"},
		{"provider", admin.AIUsageQuery{Provider: "openai", GroupBy: []string{"model"}},
			[]map[string]string{{"model": "fast"}}, []int64{3}, "0.0012345"},
		{"from inclusive, to exclusive", admin.AIUsageQuery{From: usageDay.Add(-time.Minute).Format(time.RFC3339),
			To: usageDay.Add(time.Hour).Format(time.RFC3339), GroupBy: []string{"model"}},
			[]map[string]string{{"model": "fast"}, {"model": "smart"}}, []int64{1, 1}, "0.0105"},
		{"nothing matches", admin.AIUsageQuery{Consumer: "initech"}, []map[string]string{}, []int64{}, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := tt.q
			if q.From == "" {
				q.From, q.To = usageRange.Get("from"), usageRange.Get("to")
			}
			rep, err := f.client.AIUsage(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Groups) != len(tt.keys) {
				t.Fatalf("%d groups, want %d: %+v", len(rep.Groups), len(tt.keys), rep.Groups)
			}
			var sum int64
			for i, g := range rep.Groups {
				if !equalKeys(g.Keys, tt.keys[i]) || g.Calls != tt.calls[i] {
					t.Errorf("group %d = %v %d calls, want %v %d", i, g.Keys, g.Calls, tt.keys[i], tt.calls[i])
				}
				sum += g.Calls
			}
			if rep.Total.Calls != sum || rep.Total.CostUSD != tt.total {
				t.Errorf("total %+v, want %d calls costing %s", rep.Total, sum, tt.total)
			}
		})
	}
}

func equalKeys(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range b {
		if w, ok := a[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestAIUsageDefaultsAndEmptyAnswer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := time.Now()
	// Only the call of an hour ago is within the default 24 hours.
	rows := []store.AIUsageRecord{
		{Time: now.Add(-time.Hour), ConsumerID: "acme-app", Model: "fast", Status: 200, CostPico: 5},
		{Time: now.Add(-48 * time.Hour), ConsumerID: "acme-app", Model: "fast", Status: 200, CostPico: 7},
	}
	if err := f.st.InsertAIUsage(t.Context(), rows); err != nil {
		t.Fatal(err)
	}
	rep, err := f.client.AIUsage(t.Context(), admin.AIUsageQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rep.GroupBy, ","); got != "consumer,model" {
		t.Errorf("default group_by %q", got)
	}
	if len(rep.Groups) != 1 || rep.Total.Calls != 1 || rep.Total.CostUSD != "0.000000000005" {
		t.Errorf("default range: %+v", rep)
	}
	if d := rep.To.Sub(rep.From); d != 24*time.Hour || rep.To.Before(now) || rep.To.Sub(now) > time.Minute {
		t.Errorf("default range %v to %v, want the 24h up to now", rep.From, rep.To)
	}
	// An age for to ends the range that long ago.
	rep, err = f.client.AIUsage(t.Context(), admin.AIUsageQuery{From: "3d", To: "30h"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total.Calls != 1 || rep.Total.CostUSD != "0.000000000007" {
		t.Errorf("from 3d to 30h: %+v", rep.Total)
	}

	// Nothing in range: empty lists, not null, and zero totals.
	r := f.do(t, "GET", "/admin/ai/usage?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z&group_by=", testToken, nil)
	want := `{"from":"2020-01-01T00:00:00Z","to":"2020-01-02T00:00:00Z","group_by":[],"groups":[],` +
		`"total":{"calls":0,"errors":0,"input_tokens":0,"output_tokens":0,"cached_tokens":0,"cost_usd":"0"}}` + "\n"
	if r.status != http.StatusOK || string(r.body) != want {
		t.Errorf("empty answer %d\n%s\nwant\n%s", r.status, r.body, want)
	}
}

func TestAIUsageRefusesBadParameters(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct{ query, detail string }{
		{"from=soon", "from: want an RFC 3339 time or an age"},
		{"to=tomorrow", "to: want an RFC 3339 time or an age"},
		{"from=1h&to=2h", "to must be after from"},
		{"from=2026-03-15T00:00:00Z&to=2026-03-15T00:00:00Z", "to must be after from"},
		{"group_by=consumer,colour", `group_by: unknown key "colour"; accepted: consumer, tenant, credential, model, provider, route, day`},
		{"group_by=consumer,,model", `group_by: unknown key ""`},
		{"group_by=day,model,day", `group_by: "day" given twice`},
		{"consumer=" + strings.Repeat("x", 257), "consumer: at most 256 bytes"},
		{"provider=" + strings.Repeat("x", 257), "provider: at most 256 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.query[:min(len(tt.query), 40)], func(t *testing.T) {
			t.Parallel()
			r := f.do(t, "GET", "/admin/ai/usage?"+tt.query, testToken, nil)
			p := decodeProblem(t, r)
			if r.status != http.StatusBadRequest || p.Code != "admin.bad_request" || !strings.HasPrefix(p.Detail, tt.detail) {
				t.Errorf("%d %s %q, want 400 admin.bad_request %q", r.status, p.Code, p.Detail, tt.detail)
			}
		})
	}
	// The client reports the problem as an *APIError.
	_, err := f.client.AIUsage(t.Context(), admin.AIUsageQuery{GroupBy: []string{"colour"}})
	var apiErr *admin.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest {
		t.Errorf("client error %v, want a 400 APIError", err)
	}
}

func TestAIUsageNeedsTheToken(t *testing.T) {
	t.Parallel()
	f := usageFixture(t)
	for _, token := range []string{"", "ppadm_this-token-is-not-stored-anywhere-00"} {
		r := f.do(t, "GET", usagePath(nil), token, nil)
		if p := decodeProblem(t, r); r.status != http.StatusUnauthorized || p.Code != "admin.unauthorized" {
			t.Errorf("token %q: %d %s, want 401 admin.unauthorized", token, r.status, p.Code)
		}
		if strings.Contains(string(r.body), "acme") {
			t.Errorf("a refused request saw usage: %s", r.body)
		}
	}
	r := f.do(t, "POST", "/admin/ai/usage", testToken, nil)
	if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d, Allow %q; want 405 with GET, HEAD", r.status, r.header.Get("Allow"))
	}
}

// failingUsage is a store whose usage reports fail.
type failingUsage struct{ store.Store }

func (failingUsage) AIUsageReport(context.Context, store.AIUsageQuery) ([]store.AIUsageGroup, error) {
	return nil, errors.New("sqlite: ai usage report: disk I/O error at /var/lib/pinpoint/pinpoint.db")
}

func TestAIUsageStoreFailureIsNotDisclosed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *admin.Options) { o.Store = failingUsage{o.Store} })
	r := f.do(t, "GET", "/admin/ai/usage", testToken, nil)
	p := decodeProblem(t, r)
	if r.status != http.StatusServiceUnavailable || p.Code != "admin.store_unavailable" {
		t.Errorf("%d %s, want 503 admin.store_unavailable", r.status, p.Code)
	}
	if strings.Contains(string(r.body), "pinpoint.db") {
		t.Errorf("the answer discloses the store's error: %s", r.body)
	}
}

func TestAIUsageReportJSONRoundTrips(t *testing.T) {
	t.Parallel()
	f := usageFixture(t)
	r := f.do(t, "GET", usagePath(url.Values{"group_by": {"day,consumer"}}), testToken, nil)
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"from", "to", "group_by", "groups", "total"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("answer lacks %s: %s", k, r.body)
		}
	}
	var rep admin.AIUsageReport
	if err := json.Unmarshal(r.body, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Groups) != 4 || rep.Groups[0].Keys["day"] != "2026-03-14" || rep.Groups[0].Keys["consumer"] != "acme-app" ||
		rep.Groups[3].Keys["consumer"] != "globex" || rep.Groups[3].CostUSD != "0.000000000001" {
		t.Errorf("groups %+v", rep.Groups)
	}
}
