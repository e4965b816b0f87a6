package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// usageAt is the UTC midnight the usage fixture's AI calls straddle.
var usageAt = time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)

// newUsageCLIFixture is newCLIFixture with five AI calls: acme-app calls
// fast twice (one refused with 429) and smart once, globex calls fast once,
// and an unauthenticated caller gets a 502 from fast.
func newUsageCLIFixture(t *testing.T) *cliFixture {
	t.Helper()
	f := newCLIFixture(t)
	rec := func(at time.Duration, consumer, tenant, model, provider string, status int, in, out, cached, cost int64) store.AIUsageRecord {
		return store.AIUsageRecord{Time: usageAt.Add(at), Route: "chat", ConsumerID: consumer, TenantID: tenant,
			Op: "chat", Model: model, Provider: provider, Status: status, InputTokens: in, OutputTokens: out,
			CachedTokens: cached, CostPico: cost, Priced: true, Attempts: 1}
	}
	rows := []store.AIUsageRecord{
		rec(-time.Hour, "acme-app", "acme", "fast", "openai", 200, 1000, 200, 400, 1_234_500_000),
		rec(-time.Minute, "acme-app", "acme", "smart", "anthropic", 200, 2000, 500, 0, 10_500_000_000),
		rec(time.Minute, "acme-app", "acme", "fast", "openai", 429, 0, 0, 0, 0),
		rec(time.Hour, "globex", "globex", "fast", "azure", 200, 300, 30, 0, 1),
		rec(2*time.Hour, "", "", "fast", "openai", 502, 10, 0, 0, 0),
	}
	if err := f.st.InsertAIUsage(t.Context(), rows); err != nil {
		t.Fatal(err)
	}
	return f
}

// usageRangeArgs select the whole fixture.
var usageRangeArgs = []string{"--from", "2026-03-14T00:00:00Z", "--to", "2026-03-16T00:00:00Z"}

func TestUsageTable(t *testing.T) {
	t.Parallel()
	f := newUsageCLIFixture(t)
	tests := []struct {
		golden string
		args   []string
	}{
		{"usage", nil},
		{"usage_by_day_provider", []string{"--by", "day,provider"}},
		{"usage_total_only", []string{"--by", ""}},
		{"usage_filtered", []string{"--consumer", "acme-app", "--model", "fast", "--by", "tenant"}},
		{"usage_none", []string{"--tenant", "initech"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			r := f.run(t, append(append([]string{"usage"}, usageRangeArgs...), tt.args...)...)
			wantCode(t, r, 0)
			checkGolden(t, tt.golden, r.stdout)
		})
	}
}

func TestUsageJSONAndFilters(t *testing.T) {
	t.Parallel()
	f := newUsageCLIFixture(t)
	for _, tt := range []struct {
		args  []string
		calls int64
		cost  string
	}{
		{nil, 5, "0.011734500001"},
		{[]string{"--consumer", "acme-app"}, 3, "0.0117345"},
		{[]string{"--tenant", "globex"}, 1, "0.000000000001"},
		{[]string{"--model", "smart"}, 1, "0.0105"},
		{[]string{"--provider", "openai"}, 3, "0.0012345"},
		{[]string{"--route", "elsewhere"}, 0, "0"},
		{[]string{"--to", "2026-03-15T00:00:00Z"}, 2, "0.0117345"},
	} {
		args := append(append([]string{"usage", "-o", "json"}, usageRangeArgs...), tt.args...)
		r := f.run(t, args...)
		wantCode(t, r, 0)
		var rep admin.AIUsageReport
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("%v: %v\n%s", tt.args, err, r.stdout)
		}
		if rep.Total.Calls != tt.calls || rep.Total.CostUSD != tt.cost || rep.Groups == nil {
			t.Errorf("%v: total %+v, groups %v; want %d calls costing %s", tt.args, rep.Total, rep.Groups, tt.calls, tt.cost)
		}
		if strings.Join(rep.GroupBy, ",") != "consumer,model" {
			t.Errorf("%v: group_by %v, want the default consumer,model", tt.args, rep.GroupBy)
		}
	}
}

func TestUsageDefaultRangeIsTheLastDay(t *testing.T) {
	t.Parallel()
	f := newCLIFixture(t)
	now := time.Now()
	rows := []store.AIUsageRecord{
		{Time: now.Add(-time.Hour), ConsumerID: "acme-app", Model: "fast", Status: 200, CostPico: 5},
		{Time: now.Add(-30 * time.Hour), ConsumerID: "acme-app", Model: "fast", Status: 200, CostPico: 7},
	}
	if err := f.st.InsertAIUsage(t.Context(), rows); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		cost string
	}{
		{nil, "0.000000000005"},
		{[]string{"--since", "2d"}, "0.000000000012"},
		{[]string{"--from", "2d", "--to", "1d"}, "0.000000000007"},
	} {
		r := f.run(t, append([]string{"usage", "-o", "json"}, tt.args...)...)
		wantCode(t, r, 0)
		var rep admin.AIUsageReport
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Total.CostUSD != tt.cost {
			t.Errorf("%v: cost %s, want %s", tt.args, rep.Total.CostUSD, tt.cost)
		}
	}
}

func TestUsageRefusesBadFlags(t *testing.T) {
	t.Parallel()
	f := newUsageCLIFixture(t)
	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--since", "soon"}, `--since "soon"`},
		{[]string{"--from", "yesterday"}, `--from "yesterday"`},
		{[]string{"--to", "later"}, `--to "later"`},
		{[]string{"--since", "1h", "--to", "2h"}, "--to must be after the start of the range"},
		{[]string{"--since", "1h", "--from", "2h"}, "--since and --from"},
		{[]string{"--by", "consumer,colour"}, `--by: unknown key "colour"; want consumer, tenant, credential, model, provider, route, day`},
		{[]string{"--by", "day,day"}, `--by: "day" given twice`},
		{[]string{"extra"}, "unknown command"},
	} {
		r := f.run(t, append([]string{"usage"}, tt.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.msg) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, r.code, r.stderr, tt.msg)
		}
	}
}

func TestUsageReportsAPIErrors(t *testing.T) {
	t.Parallel()
	f := newUsageCLIFixture(t)
	r := f.runCtx(t.Context(), t, nil, "--admin", f.srv.URL, "--token", "ppadm_not-the-right-token-000000000000", "usage")
	if r.code != 1 || !strings.Contains(r.stderr, "admin.unauthorized") {
		t.Errorf("wrong token: exit %d, stderr %q", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "acme") {
		t.Errorf("refused, yet printed usage: %s", r.stdout)
	}
}
