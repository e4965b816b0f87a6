package sqlite

import (
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
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
	s := openTemp(t)
	if err := s.InsertAIUsage(t.Context(), []store.AIUsageRecord{fullAIRecord}); err != nil {
		t.Fatal(err)
	}
	var (
		r                         store.AIUsageRecord
		at, lat, ttft             int64
		stream, estimated, priced int64
	)
	err := s.r.QueryRowContext(t.Context(), `SELECT `+aiUsageColumns+` FROM ai_usage`).Scan(
		&at, &r.RequestID, &r.Route, &r.Revision, &r.ConsumerID, &r.TenantID, &r.CredentialID, &r.Op,
		&r.Model, &r.Provider, &r.ProviderModel, &stream, &r.Status, &r.Code, &r.InputTokens,
		&r.OutputTokens, &r.CachedTokens, &r.CacheWriteTokens, &estimated, &r.CostPico, &priced,
		&lat, &ttft, &r.Attempts)
	if err != nil {
		t.Fatal(err)
	}
	r.Time, r.Latency, r.TTFT = fromUnixNanos(at), time.Duration(lat), time.Duration(ttft)
	r.Stream, r.Estimated, r.Priced = stream == 1, estimated == 1, priced == 1
	if r != fullAIRecord {
		t.Errorf("stored\n%+v\nwant\n%+v", r, fullAIRecord)
	}
}
