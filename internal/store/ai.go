package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// AIUsage persists one record per AI gateway call: who called which model
// through which provider, the tokens the provider reported (or the
// gateway counted), and the exact cost. Budgets are read back from it at
// start, so a restart does not reset what a consumer has spent.
type AIUsage interface {
	// InsertAIUsage stores a batch in one transaction.
	InsertAIUsage(ctx context.Context, rows []AIUsageRecord) error
	// AIUsageReport sums the records that match q, grouped by q.GroupBy,
	// in ascending order of the group keys as GroupBy lists them (text
	// compared bytewise; "day" sorts by date). A GroupBy key not in
	// AIUsageGroupKeys, or one given twice, is an error naming it. No
	// matching record is an empty, non-nil slice (JSON []); a sum beyond
	// the int64 range is an error.
	AIUsageReport(ctx context.Context, q AIUsageQuery) ([]AIUsageGroup, error)
	// AISpend sums cost and input plus output tokens per consumer, tenant,
	// credential and UTC day for records at or after since, for rebuilding
	// budget and token counters; rows are ordered by day, then consumer,
	// tenant and credential.
	AISpend(ctx context.Context, since time.Time) ([]AISpendRow, error)
	// DeleteAIUsageBefore deletes records whose Time is before t (zero t:
	// none) and returns how many it deleted, also when ctx ends it early.
	DeleteAIUsageBefore(ctx context.Context, t time.Time) (int64, error)
}

// AIUsageRecord is one AI call.
type AIUsageRecord struct {
	// Time is when the call started.
	Time      time.Time `json:"time"`
	RequestID string    `json:"request_id"`
	Route     string    `json:"route"`
	Revision  int64     `json:"revision"`
	// ConsumerID, TenantID and CredentialID identify the caller ("" when
	// the route has no auth).
	ConsumerID   string `json:"consumer_id,omitempty"`
	TenantID     string `json:"tenant_id,omitempty"`
	CredentialID string `json:"credential_id,omitempty"`
	// Op is "chat", "embeddings" or "prompt".
	Op string `json:"op"`
	// Model is the model name the caller sent (an ai.models name).
	Model string `json:"model"`
	// Provider is the ai.providers name that served the call, and
	// ProviderModel the provider's model id ("" when no attempt succeeded).
	Provider      string `json:"provider,omitempty"`
	ProviderModel string `json:"provider_model,omitempty"`
	Stream        bool   `json:"stream,omitempty"`
	// Status is the HTTP status the caller got; Code the reason code of a
	// refusal or failure ("" for a success).
	Status int    `json:"status"`
	Code   string `json:"code,omitempty"`
	// Tokens. CachedTokens and CacheWriteTokens are parts of InputTokens.
	InputTokens      int64 `json:"input_tokens"`
	OutputTokens     int64 `json:"output_tokens"`
	CachedTokens     int64 `json:"cached_tokens,omitempty"`
	CacheWriteTokens int64 `json:"cache_write_tokens,omitempty"`
	// Estimated is true when the tokens were counted by the gateway's
	// tokenizer because the provider reported none (an interrupted stream).
	Estimated bool `json:"estimated,omitempty"`
	// CostPico is the cost in picodollars (10⁻¹² USD); 0 when the model has
	// no price.
	CostPico int64 `json:"cost_pico"`
	// Priced is false when the model had no price in the catalog.
	Priced bool `json:"priced"`
	// Latency is the whole call; TTFT the time to the first streamed token
	// (to the answer, for a call that was not streamed).
	Latency time.Duration `json:"latency_ns"`
	TTFT    time.Duration `json:"ttft_ns"`
	// Attempts is how many provider targets were tried.
	Attempts int `json:"attempts"`
}

// AIUsageQuery selects and groups usage records. Zero fields do not filter.
type AIUsageQuery struct {
	// From (inclusive) and To (exclusive) bound Time.
	From, To   time.Time
	ConsumerID string
	TenantID   string
	Model      string
	Route      string
	Provider   string
	// GroupBy lists the keys to group by, from "consumer", "tenant",
	// "credential", "model", "provider", "route" and "day" (UTC). Empty:
	// one group with the totals and empty Keys (none when nothing
	// matched).
	GroupBy []string
}

// AIUsageGroupKeys are the keys AIUsageQuery.GroupBy accepts.
var AIUsageGroupKeys = []string{"consumer", "tenant", "credential", "model", "provider", "route", "day"}

// AIUsageGroup is the sum of one group's records.
type AIUsageGroup struct {
	// Keys holds the group's value of each GroupBy key ("day" as
	// 2006-01-02).
	Keys  map[string]string `json:"keys"`
	Calls int64             `json:"calls"`
	// Errors counts the calls with Status 400 or more.
	Errors       int64 `json:"errors"`
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
	CachedTokens int64 `json:"cached_tokens"`
	CostPico     int64 `json:"cost_pico"`
}

// AISpendRow is one caller's usage on one UTC day.
type AISpendRow struct {
	ConsumerID   string
	TenantID     string
	CredentialID string
	// Day is midnight UTC of the day.
	Day      time.Time
	CostPico int64
	Tokens   int64
}

// Filters calls add with each filter of q as a condition with one "?"
// placeholder and its value, in a fixed order, so every store filters
// alike (like CallQuery.Filters); at converts times to the store's
// encoding.
func (q AIUsageQuery) Filters(at func(time.Time) any, add func(cond string, v any)) {
	if !q.From.IsZero() {
		add("time >= ?", at(q.From))
	}
	if !q.To.IsZero() {
		add("time < ?", at(q.To))
	}
	for _, f := range []struct{ col, v string }{
		{"consumer_id", q.ConsumerID}, {"tenant_id", q.TenantID}, {"model", q.Model},
		{"route", q.Route}, {"provider", q.Provider},
	} {
		if f.v != "" {
			add(f.col+" = ?", f.v)
		}
	}
}

// GroupColumns maps q.GroupBy to the stores' SQL for each key (columns
// names the SQL of every key in AIUsageGroupKeys). An unknown or repeated
// key is an error naming it.
func (q AIUsageQuery) GroupColumns(columns map[string]string) ([]string, error) {
	cols := make([]string, len(q.GroupBy))
	for i, k := range q.GroupBy {
		col, ok := columns[k]
		if !ok {
			return nil, fmt.Errorf("unknown group key %q (want %s)", k, strings.Join(AIUsageGroupKeys, ", "))
		}
		if slices.Contains(q.GroupBy[:i], k) {
			return nil, fmt.Errorf("group key %q given twice", k)
		}
		cols[i] = col
	}
	return cols, nil
}

// ScanGroup reads one row of an AI usage report, as the stores' report
// queries select it: the group key columns in q.GroupBy's order, then the
// calls, errors, input, output and cached tokens and cost sums. scan is
// the row's Scan.
func (q AIUsageQuery) ScanGroup(scan func(dest ...any) error) (AIUsageGroup, error) {
	var g AIUsageGroup
	keys := make([]string, len(q.GroupBy))
	dest := make([]any, 0, len(keys)+6)
	for i := range keys {
		dest = append(dest, &keys[i])
	}
	dest = append(dest, &g.Calls, &g.Errors, &g.InputTokens, &g.OutputTokens, &g.CachedTokens, &g.CostPico)
	if err := scan(dest...); err != nil {
		return g, err
	}
	g.Keys = make(map[string]string, len(keys))
	for i, k := range q.GroupBy {
		g.Keys[k] = keys[i]
	}
	return g, nil
}
