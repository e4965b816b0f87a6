package storetest

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// aiDay is the UTC midnight the AI usage records straddle.
var aiDay = time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)

// sampleAIUsage is six calls on both sides of aiDay's midnight, from two
// consumers and an unauthenticated caller, to two models through three
// providers, three of them failed or refused (429, 502 and 400).
func sampleAIUsage() []store.AIUsageRecord {
	rec := func(at time.Duration, consumer, tenant, cred, model, provider, route string, status int,
		in, out, cached, cost int64) store.AIUsageRecord {
		r := store.AIUsageRecord{
			Time: aiDay.Add(at), RequestID: fmt.Sprintf("req-%d", at), Route: route, Revision: 7,
			ConsumerID: consumer, TenantID: tenant, CredentialID: cred, Op: "chat", Model: model,
			Provider: provider, ProviderModel: model + "-2026", Status: status,
			InputTokens: in, OutputTokens: out, CachedTokens: cached, CostPico: cost, Priced: true,
			Latency: 800 * time.Millisecond, TTFT: 120 * time.Millisecond, Attempts: 1,
		}
		if status >= 400 {
			r.Code = "ai.provider_unavailable"
		}
		return r
	}
	return []store.AIUsageRecord{
		rec(-2*time.Hour, "acme-app", "acme", "k1", "gpt-4o", "openai", "chat", 200, 100, 20, 10, 1_000_000),
		rec(-time.Microsecond, "acme-app", "acme", "k1", "claude", "anthropic", "chat", 200, 200, 40, 0, 2_500_000),
		rec(0, "acme-app", "acme", "k2", "gpt-4o", "azure", "chat", 429, 0, 0, 0, 0),
		rec(time.Hour, "globex", "globex", "k3", "gpt-4o", "openai", "summarize", 200, 50, 5, 0, 300_000),
		rec(2*time.Hour, "", "", "", "gpt-4o", "openai", "public", 502, 10, 0, 0, 40_000),
		rec(3*time.Hour, "globex", "globex", "k3", "claude", "anthropic", "summarize", 400, 0, 0, 0, 0),
	}
}

// group is an AIUsageGroup with keys given as alternating names and values.
func group(kv []string, calls, errors, in, out, cached, cost int64) store.AIUsageGroup {
	keys := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		keys[kv[i]] = kv[i+1]
	}
	return store.AIUsageGroup{Keys: keys, Calls: calls, Errors: errors, InputTokens: in,
		OutputTokens: out, CachedTokens: cached, CostPico: cost}
}

func kv(s ...string) []string { return s }

func runAIUsage(t *testing.T, open func(t *testing.T) store.Store) {
	// filled is a store holding sampleAIUsage.
	filled := func(t *testing.T) store.Store {
		s := open(t)
		if err := s.InsertAIUsage(ctx(t), sampleAIUsage()); err != nil {
			t.Fatal(err)
		}
		return s
	}
	report := func(t *testing.T, s store.Store, q store.AIUsageQuery) []store.AIUsageGroup {
		t.Helper()
		got, err := s.AIUsageReport(ctx(t), q)
		if err != nil {
			t.Fatalf("AIUsageReport(%+v): %v", q, err)
		}
		return got
	}

	t.Run("ReportByConsumerAndModel", func(t *testing.T) {
		t.Parallel()
		s := filled(t)
		got := report(t, s, store.AIUsageQuery{GroupBy: []string{"consumer", "model"}})
		// Ascending by consumer, then model, bytewise: "" first.
		checkGroups(t, got, []store.AIUsageGroup{
			group(kv("consumer", "", "model", "gpt-4o"), 1, 1, 10, 0, 0, 40_000),
			group(kv("consumer", "acme-app", "model", "claude"), 1, 0, 200, 40, 0, 2_500_000),
			group(kv("consumer", "acme-app", "model", "gpt-4o"), 2, 1, 100, 20, 10, 1_000_000),
			group(kv("consumer", "globex", "model", "claude"), 1, 1, 0, 0, 0, 0),
			group(kv("consumer", "globex", "model", "gpt-4o"), 1, 0, 50, 5, 0, 300_000),
		})
	})

	t.Run("ReportKeysInTheOrderGiven", func(t *testing.T) {
		t.Parallel()
		s := filled(t)
		got := report(t, s, store.AIUsageQuery{GroupBy: []string{"model", "tenant"}})
		checkGroups(t, got, []store.AIUsageGroup{
			group(kv("model", "claude", "tenant", "acme"), 1, 0, 200, 40, 0, 2_500_000),
			group(kv("model", "claude", "tenant", "globex"), 1, 1, 0, 0, 0, 0),
			group(kv("model", "gpt-4o", "tenant", ""), 1, 1, 10, 0, 0, 40_000),
			group(kv("model", "gpt-4o", "tenant", "acme"), 2, 1, 100, 20, 10, 1_000_000),
			group(kv("model", "gpt-4o", "tenant", "globex"), 1, 0, 50, 5, 0, 300_000),
		})
		got = report(t, s, store.AIUsageQuery{GroupBy: []string{"credential", "provider", "route"}})
		checkGroups(t, got, []store.AIUsageGroup{
			group(kv("credential", "", "provider", "openai", "route", "public"), 1, 1, 10, 0, 0, 40_000),
			group(kv("credential", "k1", "provider", "anthropic", "route", "chat"), 1, 0, 200, 40, 0, 2_500_000),
			group(kv("credential", "k1", "provider", "openai", "route", "chat"), 1, 0, 100, 20, 10, 1_000_000),
			group(kv("credential", "k2", "provider", "azure", "route", "chat"), 1, 1, 0, 0, 0, 0),
			group(kv("credential", "k3", "provider", "anthropic", "route", "summarize"), 1, 1, 0, 0, 0, 0),
			group(kv("credential", "k3", "provider", "openai", "route", "summarize"), 1, 0, 50, 5, 0, 300_000),
		})
	})

	t.Run("ReportByDayAcrossUTCMidnight", func(t *testing.T) {
		t.Parallel()
		s := filled(t)
		// The record a microsecond before midnight counts on the 14th, the
		// one at midnight on the 15th.
		got := report(t, s, store.AIUsageQuery{GroupBy: []string{"day"}})
		checkGroups(t, got, []store.AIUsageGroup{
			group(kv("day", "2026-03-14"), 2, 0, 300, 60, 10, 3_500_000),
			group(kv("day", "2026-03-15"), 4, 3, 60, 5, 0, 340_000),
		})
		got = report(t, s, store.AIUsageQuery{GroupBy: []string{"day", "provider"}})
		checkGroups(t, got, []store.AIUsageGroup{
			group(kv("day", "2026-03-14", "provider", "anthropic"), 1, 0, 200, 40, 0, 2_500_000),
			group(kv("day", "2026-03-14", "provider", "openai"), 1, 0, 100, 20, 10, 1_000_000),
			group(kv("day", "2026-03-15", "provider", "anthropic"), 1, 1, 0, 0, 0, 0),
			group(kv("day", "2026-03-15", "provider", "azure"), 1, 1, 0, 0, 0, 0),
			group(kv("day", "2026-03-15", "provider", "openai"), 2, 1, 60, 5, 0, 340_000),
		})
	})

	t.Run("ReportFilters", func(t *testing.T) {
		t.Parallel()
		s := filled(t)
		tests := []struct {
			name  string
			q     store.AIUsageQuery
			calls int64
		}{
			{"none", store.AIUsageQuery{}, 6},
			{"from is inclusive", store.AIUsageQuery{From: aiDay}, 4},
			{"to is exclusive", store.AIUsageQuery{To: aiDay}, 2},
			{"from and to", store.AIUsageQuery{From: aiDay.Add(-time.Microsecond), To: aiDay.Add(time.Hour)}, 2},
			{"consumer", store.AIUsageQuery{ConsumerID: "acme-app"}, 3},
			{"tenant", store.AIUsageQuery{TenantID: "globex"}, 2},
			{"model", store.AIUsageQuery{Model: "claude"}, 2},
			{"route", store.AIUsageQuery{Route: "summarize"}, 2},
			{"provider", store.AIUsageQuery{Provider: "openai"}, 3},
			{"consumer and model", store.AIUsageQuery{ConsumerID: "acme-app", Model: "gpt-4o"}, 2},
			{"every filter", store.AIUsageQuery{From: aiDay, To: aiDay.Add(2 * time.Hour), ConsumerID: "globex",
				TenantID: "globex", Model: "gpt-4o", Route: "summarize", Provider: "openai"}, 1},
			{"exact match only", store.AIUsageQuery{Model: "GPT-4o"}, 0},
			{"no such consumer", store.AIUsageQuery{ConsumerID: "acme"}, 0},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				got := report(t, s, tt.q)
				var calls int64
				for _, g := range got {
					calls += g.Calls
				}
				if calls != tt.calls {
					t.Errorf("%d calls, want %d: %+v", calls, tt.calls, got)
				}
				if tt.calls == 0 && len(got) != 0 {
					t.Errorf("no matching record, yet groups %+v", got)
				}
				if tt.calls > 0 && len(got) != 1 {
					t.Errorf("without GroupBy: %d groups, want one with the totals", len(got))
				}
			})
		}
	})

	t.Run("ReportTotalsWithoutGroups", func(t *testing.T) {
		t.Parallel()
		s := filled(t)
		got := report(t, s, store.AIUsageQuery{})
		checkGroups(t, got, []store.AIUsageGroup{group(nil, 6, 3, 360, 65, 10, 3_840_000)})
		b, err := json.Marshal(got[0])
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `"keys":{}`) {
			t.Errorf("a group without keys encodes as %s, want \"keys\":{}", b)
		}
	})

	t.Run("ErrorsAreStatus400AndAbove", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		var rows []store.AIUsageRecord
		for _, status := range []int{200, 201, 399, 400, 401, 429, 499, 500, 503} {
			rows = append(rows, store.AIUsageRecord{Time: aiDay, Model: "m", Status: status})
		}
		if err := s.InsertAIUsage(ctx(t), rows); err != nil {
			t.Fatal(err)
		}
		got := report(t, s, store.AIUsageQuery{GroupBy: []string{"model"}})
		checkGroups(t, got, []store.AIUsageGroup{group(kv("model", "m"), 9, 6, 0, 0, 0, 0)})
	})

	t.Run("ReportRefusesUnknownAndRepeatedKeys", func(t *testing.T) {
		t.Parallel()
		s := filled(t)
		_, err := s.AIUsageReport(ctx(t), store.AIUsageQuery{GroupBy: []string{"consumer", "colour"}})
		if err == nil {
			t.Fatal("GroupBy colour accepted")
		}
		for _, want := range append([]string{`"colour"`}, store.AIUsageGroupKeys...) {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
		}
		if _, err := s.AIUsageReport(ctx(t), store.AIUsageQuery{GroupBy: []string{"day", "model", "day"}}); err == nil {
			t.Error("GroupBy with day twice accepted")
		}
	})

	t.Run("EmptyReportIsAnEmptyList", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		for _, by := range [][]string{{"consumer", "model"}, nil} {
			got, err := s.AIUsageReport(ctx(t), store.AIUsageQuery{GroupBy: by})
			if err != nil {
				t.Fatal(err)
			}
			if got == nil || len(got) != 0 {
				t.Fatalf("GroupBy %v on an empty store: %#v, want an empty, non-nil slice", by, got)
			}
			if b, _ := json.Marshal(got); string(b) != "[]" {
				t.Errorf("GroupBy %v: JSON %s, want []", by, b)
			}
		}
	})

	t.Run("InsertLargeBatch", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		// More than one statement's worth of rows, not a multiple of it.
		rows := make([]store.AIUsageRecord, 101)
		for i := range rows {
			rows[i] = store.AIUsageRecord{Time: aiDay.Add(time.Duration(i) * time.Second), ConsumerID: "bulk",
				Model: "m", Status: 200, InputTokens: int64(i), OutputTokens: 1, CostPico: 7}
		}
		if err := s.InsertAIUsage(ctx(t), rows); err != nil {
			t.Fatal(err)
		}
		if err := s.InsertAIUsage(ctx(t), nil); err != nil {
			t.Fatalf("empty batch: %v", err)
		}
		got := report(t, s, store.AIUsageQuery{GroupBy: []string{"consumer"}})
		checkGroups(t, got, []store.AIUsageGroup{group(kv("consumer", "bulk"), 101, 0, 100*101/2, 101, 0, 707)})
	})

	t.Run("AISpendPerCallerAndDay", func(t *testing.T) {
		t.Parallel()
		s := filled(t)
		got, err := s.AISpend(ctx(t), aiDay.Add(-24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		prev := aiDay.Add(-24 * time.Hour)
		checkSpend(t, got, []store.AISpendRow{
			{ConsumerID: "acme-app", TenantID: "acme", CredentialID: "k1", Day: prev, CostPico: 3_500_000, Tokens: 360},
			{Day: aiDay, CostPico: 40_000, Tokens: 10},
			{ConsumerID: "acme-app", TenantID: "acme", CredentialID: "k2", Day: aiDay},
			{ConsumerID: "globex", TenantID: "globex", CredentialID: "k3", Day: aiDay, CostPico: 300_000, Tokens: 55},
		})
		// since is inclusive and cuts inside a day: the day stays midnight.
		got, err = s.AISpend(ctx(t), aiDay.Add(2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		checkSpend(t, got, []store.AISpendRow{
			{Day: aiDay, CostPico: 40_000, Tokens: 10},
			{ConsumerID: "globex", TenantID: "globex", CredentialID: "k3", Day: aiDay},
		})
		got, err = s.AISpend(ctx(t), aiDay.Add(24*time.Hour))
		if err != nil || len(got) != 0 {
			t.Errorf("AISpend after the last record = %+v, %v; want none", got, err)
		}
	})

	t.Run("DeleteBefore", func(t *testing.T) {
		t.Parallel()
		s := filled(t)
		n, err := s.DeleteAIUsageBefore(ctx(t), aiDay)
		if err != nil || n != 2 {
			t.Fatalf("DeleteAIUsageBefore(midnight) = %d, %v; want 2", n, err)
		}
		got := report(t, s, store.AIUsageQuery{GroupBy: []string{"day"}})
		checkGroups(t, got, []store.AIUsageGroup{group(kv("day", "2026-03-15"), 4, 3, 60, 5, 0, 340_000)})
		if n, err := s.DeleteAIUsageBefore(ctx(t), aiDay); err != nil || n != 0 {
			t.Errorf("deleting again = %d, %v; want 0", n, err)
		}
		if n, err := s.DeleteAIUsageBefore(ctx(t), time.Time{}); err != nil || n != 0 {
			t.Errorf("DeleteAIUsageBefore(zero) = %d, %v; want 0", n, err)
		}
		if n, err := s.DeleteAIUsageBefore(ctx(t), aiDay.Add(3*time.Hour+time.Microsecond)); err != nil || n != 4 {
			t.Errorf("deleting the rest = %d, %v; want 4", n, err)
		}
		if got := report(t, s, store.AIUsageQuery{}); len(got) != 0 {
			t.Errorf("after deleting everything: %+v", got)
		}
	})
}

func checkGroups(t *testing.T, got, want []store.AIUsageGroup) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d groups, want %d:\ngot  %+v\nwant %+v", len(got), len(want), got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if !maps.Equal(g.Keys, w.Keys) || g.Keys == nil || g.Calls != w.Calls || g.Errors != w.Errors ||
			g.InputTokens != w.InputTokens || g.OutputTokens != w.OutputTokens ||
			g.CachedTokens != w.CachedTokens || g.CostPico != w.CostPico {
			t.Errorf("group %d:\ngot  %+v\nwant %+v", i, g, w)
		}
	}
}

func checkSpend(t *testing.T, got, want []store.AISpendRow) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d spend rows, want %d:\ngot  %+v\nwant %+v", len(got), len(want), got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ConsumerID != w.ConsumerID || g.TenantID != w.TenantID || g.CredentialID != w.CredentialID ||
			!g.Day.Equal(w.Day) || g.Day.Location() != time.UTC || g.CostPico != w.CostPico || g.Tokens != w.Tokens {
			t.Errorf("spend row %d:\ngot  %+v\nwant %+v", i, g, w)
		}
	}
}
