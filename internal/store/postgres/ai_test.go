package postgres

import (
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/store/postgres/pgtest"
)

// fullAIRecord has every field set to a distinct, non-zero value.
var fullAIRecord = store.AIUsageRecord{
	Time: time.Date(2026, 3, 14, 23, 59, 59, 999999000, time.UTC), RequestID: "req-1", Route: "chat",
	Revision: 12, ConsumerID: "acme-app", TenantID: "acme", CredentialID: "k7f3a9c2d1e0", Op: "chat",
	Model: "fast", Provider: "openai-eu", ProviderModel: "gpt-4o-mini", Stream: true, Status: 502,
	Code: "ai.provider_unavailable", InputTokens: 1200, OutputTokens: 345, CachedTokens: 1000,
	CacheWriteTokens: 100, Estimated: true, CostPico: 123_456_789, Priced: true,
	Latency: 1500 * time.Millisecond, TTFT: 250 * time.Millisecond, Attempts: 3,
}

func TestAIUsageStoresEveryField(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	if err := s.InsertAIUsage(t.Context(), []store.AIUsageRecord{fullAIRecord}); err != nil {
		t.Fatal(err)
	}
	var (
		r                store.AIUsageRecord
		lat, ttft        int64
		status, attempts int32
	)
	err := s.pool.QueryRow(t.Context(), `SELECT time, request_id, route, revision, consumer_id, tenant_id,
credential_id, op, model, provider, provider_model, stream, status, code, input_tokens, output_tokens,
cached_tokens, cache_write_tokens, estimated, cost_pico, priced, latency_ns, ttft_ns, attempts FROM ai_usage`).Scan(
		&r.Time, &r.RequestID, &r.Route, &r.Revision, &r.ConsumerID, &r.TenantID, &r.CredentialID, &r.Op,
		&r.Model, &r.Provider, &r.ProviderModel, &r.Stream, &status, &r.Code, &r.InputTokens,
		&r.OutputTokens, &r.CachedTokens, &r.CacheWriteTokens, &r.Estimated, &r.CostPico, &r.Priced,
		&lat, &ttft, &attempts)
	if err != nil {
		t.Fatal(err)
	}
	r.Time, r.Latency, r.TTFT = r.Time.UTC(), time.Duration(lat), time.Duration(ttft)
	r.Status, r.Attempts = int(status), int(attempts)
	if r != fullAIRecord {
		t.Errorf("stored\n%+v\nwant\n%+v", r, fullAIRecord)
	}
}

// Days are UTC dates whatever the session's time zone: at +13:00 the
// record a microsecond before UTC midnight is already on the next day.
func TestAIUsageDaysAreUTCInAnyTimeZone(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), pgtest.WithParam(t, schemaDSN(t), "timezone", "Pacific/Auckland"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var tz string
	if err := s.pool.QueryRow(t.Context(), `SHOW TimeZone`).Scan(&tz); err != nil || tz != "Pacific/Auckland" {
		t.Fatalf("session time zone %q, %v: the test needs a non-UTC one", tz, err)
	}
	if err := s.InsertAIUsage(t.Context(), []store.AIUsageRecord{fullAIRecord}); err != nil {
		t.Fatal(err)
	}
	groups, err := s.AIUsageReport(t.Context(), store.AIUsageQuery{GroupBy: []string{"day"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 || groups[0].Keys["day"] != "2026-03-14" {
		t.Errorf("groups %+v, want one on 2026-03-14", groups)
	}
	spend, err := s.AISpend(t.Context(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC); len(spend) != 1 || !spend[0].Day.Equal(want) {
		t.Errorf("spend %+v, want one row on %v", spend, want)
	}
}
