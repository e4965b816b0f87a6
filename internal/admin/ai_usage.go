package admin

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/ai/pricing"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// AI usage query defaults and bounds.
const (
	defaultAIUsageFrom = 24 * time.Hour
	maxAIUsageFilter   = 256
)

// DefaultAIUsageGroupBy is the grouping of GET /admin/ai/usage without a
// group_by parameter.
var DefaultAIUsageGroupBy = []string{"consumer", "model"}

// AIUsageReport is the body of GET /admin/ai/usage: the AI calls of
// [From, To) summed per group of GroupBy, and over all of them.
//
//	{"from": "2026-03-14T00:00:00Z", "to": "2026-03-15T00:00:00Z",
//	 "group_by": ["consumer", "model"],
//	 "groups": [{"keys": {"consumer": "acme-app", "model": "fast"}, "calls": 120,
//	             "errors": 2, "input_tokens": 48210, "output_tokens": 9120,
//	             "cached_tokens": 12000, "cost_usd": "0.0412"}],
//	 "total": {"calls": 120, ...}}
type AIUsageReport struct {
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	GroupBy []string  `json:"group_by"`
	// Groups are in ascending order of their keys, as GroupBy lists them.
	// Empty when no call matched; one group with empty keys when GroupBy
	// is empty.
	Groups []AIUsageGroup `json:"groups"`
	Total  AIUsageSums    `json:"total"`
}

// AIUsageGroup is one group of an AIUsageReport.
type AIUsageGroup struct {
	// Keys holds the group's value of each group_by key; "" for calls
	// without it (a route without auth has no consumer). "day" is a UTC
	// date, 2006-01-02.
	Keys map[string]string `json:"keys"`
	AIUsageSums
}

// AIUsageSums are the sums of a group or of the whole report.
type AIUsageSums struct {
	Calls int64 `json:"calls"`
	// Errors counts the calls answered with a status of 400 or more,
	// refusals by the gateway included.
	Errors       int64 `json:"errors"`
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
	// CachedTokens are the part of InputTokens read from a provider cache.
	CachedTokens int64 `json:"cached_tokens"`
	// CostUSD is the exact cost in USD as a decimal string ("0.012"): a
	// JSON number would be rounded to a double by most readers.
	CostUSD string `json:"cost_usd"`
}

// aiUsage serves GET /admin/ai/usage?from=&to=&consumer=&tenant=&model=&route=&provider=&group_by=.
func (h *handler) aiUsage(w http.ResponseWriter, r *http.Request) {
	q, err := parseAIUsageQuery(r.URL.Query(), time.Now())
	if err != nil {
		badRequest(w, r, err.Error())
		return
	}
	groups, err := h.Store.AIUsageReport(r.Context(), q)
	if err != nil {
		h.storeFailure(w, r, "ai usage report", err)
		return
	}
	writeJSON(w, http.StatusOK, aiUsageView(q, groups))
}

// aiUsageView turns the store's groups into the answer, adding the total.
func aiUsageView(q store.AIUsageQuery, groups []store.AIUsageGroup) AIUsageReport {
	out := AIUsageReport{From: q.From, To: q.To, GroupBy: q.GroupBy, Groups: make([]AIUsageGroup, len(groups))}
	if out.GroupBy == nil {
		out.GroupBy = []string{}
	}
	var total store.AIUsageGroup
	cost := pricing.Money{}
	for i, g := range groups {
		keys := g.Keys
		if keys == nil {
			keys = map[string]string{}
		}
		out.Groups[i] = AIUsageGroup{Keys: keys, AIUsageSums: aiUsageSums(g, pricing.FromPicodollars(g.CostPico))}
		total.Calls += g.Calls
		total.Errors += g.Errors
		total.InputTokens += g.InputTokens
		total.OutputTokens += g.OutputTokens
		total.CachedTokens += g.CachedTokens
		cost = cost.Add(pricing.FromPicodollars(g.CostPico))
	}
	out.Total = aiUsageSums(total, cost)
	return out
}

func aiUsageSums(g store.AIUsageGroup, cost pricing.Money) AIUsageSums {
	return AIUsageSums{Calls: g.Calls, Errors: g.Errors, InputTokens: g.InputTokens,
		OutputTokens: g.OutputTokens, CachedTokens: g.CachedTokens, CostUSD: cost.String()}
}

// parseAIUsageQuery reads the GET /admin/ai/usage parameters:
//
//	from=24h | 7d | 2026-03-01T00:00:00Z   start of the range, inclusive (default 24h ago)
//	to=...                                 end of the range, exclusive (default now)
//	consumer=ID tenant=ID model=M route=R provider=P   exact filters
//	group_by=consumer,model                keys to group by (default consumer,model;
//	                                       empty: one group with the totals)
func parseAIUsageQuery(v url.Values, now time.Time) (store.AIUsageQuery, error) {
	q := store.AIUsageQuery{From: now.Add(-defaultAIUsageFrom), To: now}
	var err error
	if s := v.Get("from"); s != "" {
		if q.From, err = ParseSince(s, now); err != nil {
			return q, errors.New("from: " + err.Error())
		}
	}
	if s := v.Get("to"); s != "" {
		if q.To, err = ParseSince(s, now); err != nil {
			return q, errors.New("to: " + err.Error())
		}
	}
	if !q.To.After(q.From) {
		return q, errors.New("to must be after from")
	}
	q.From, q.To = q.From.UTC(), q.To.UTC()
	for _, p := range []struct {
		name string
		to   *string
	}{
		{"consumer", &q.ConsumerID}, {"tenant", &q.TenantID}, {"model", &q.Model},
		{"route", &q.Route}, {"provider", &q.Provider},
	} {
		s := v.Get(p.name)
		if len(s) > maxAIUsageFilter {
			return q, errors.New(p.name + ": at most " + strconv.Itoa(maxAIUsageFilter) + " bytes")
		}
		*p.to = s
	}
	q.GroupBy, err = parseAIGroupBy(v)
	return q, err
}

// parseAIGroupBy reads group_by: absent, the default; empty, no grouping;
// else a comma-separated list of distinct store.AIUsageGroupKeys.
func parseAIGroupBy(v url.Values) ([]string, error) {
	if !v.Has("group_by") {
		return slices.Clone(DefaultAIUsageGroupBy), nil
	}
	s := v.Get("group_by")
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	accepted := strings.Join(store.AIUsageGroupKeys, ", ")
	var keys []string
	for k := range strings.SplitSeq(s, ",") {
		k = strings.TrimSpace(k)
		switch {
		case !slices.Contains(store.AIUsageGroupKeys, k):
			return nil, errors.New("group_by: unknown key " + strconv.Quote(truncate(k, 32)) + "; accepted: " + accepted)
		case slices.Contains(keys, k):
			return nil, errors.New("group_by: " + strconv.Quote(k) + " given twice")
		}
		keys = append(keys, k)
	}
	return keys, nil
}
