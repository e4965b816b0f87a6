package analytics

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/pinpointgw/pinpoint/internal/analytics/sketch"
	"github.com/pinpointgw/pinpoint/internal/problem"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// Reader answers analytics queries from the stored roll-ups: every node's
// rows merged, and the coarsest compacted level used where it covers the
// range (see Filter).
type Reader struct {
	// Store holds the roll-ups. Required.
	Store store.Rollups
}

// Latency holds latency percentiles in milliseconds, from the merged
// sketches (within 1 %), and the exact mean.
type Latency struct {
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	Mean float64 `json:"mean_ms"`
}

// Totals are the counts of a range (or of one point of a series).
type Totals struct {
	// Requests counts finished requests.
	Requests int64 `json:"requests"`
	// Status counts them by status class: "2xx", "4xx", ...
	Status map[string]int64 `json:"status"`
	// Denied counts the refusals the gateway wrote (answers it labelled
	// as the upstream's, such as upstream.denied, are not refusals).
	Denied int64 `json:"denied"`
	// DenialShare is Denied/Requests (0 without requests).
	DenialShare float64 `json:"denial_share"`
	// UpstreamErrors counts requests whose upstream failed or answered 5xx.
	UpstreamErrors int64 `json:"upstream_errors"`
	// WouldDeny counts the refusals report_only rules would have made
	// (one request can count more than once), kept apart from Denied.
	WouldDeny int64   `json:"would_deny"`
	Latency   Latency `json:"latency"`
}

// Top is one entry of a top-N list.
type Top struct {
	// Name is the route, reason code, consumer id ("" for anonymous
	// callers), stage or rule.
	Name string `json:"name"`
	// Count is what the list ranks by: requests for routes, refusals for
	// codes, consumers and stages, would-be refusals for would_deny lists.
	Count int64 `json:"count"`
	// Share is Count over the list's total (all requests, all refusals or
	// all would-be refusals of the range).
	Share float64 `json:"share"`
	// Requests and Denied are the entry's requests and refusals (routes
	// and consumers).
	Requests int64 `json:"requests,omitempty"`
	Denied   int64 `json:"denied,omitempty"`
}

// Summary is GET /admin/stats/summary: the totals of a range and its top lists.
type Summary struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	Totals
	// TopRoutes ranks routes by requests.
	TopRoutes []Top `json:"top_routes"`
	// TopCodes, TopConsumers and TopStages rank refusals.
	TopCodes     []Top `json:"top_codes"`
	TopConsumers []Top `json:"top_consumers"`
	TopStages    []Top `json:"top_stages"`
	// TopWouldDeny ranks would-be refusals by rule ("code rule" pairs
	// appear as separate entries per rule).
	TopWouldDeny []WouldDenyTop `json:"top_would_deny"`
}

// WouldDenyTop is one rule's would-be refusals.
type WouldDenyTop struct {
	Rule  string  `json:"rule"`
	Code  string  `json:"code"`
	Stage string  `json:"stage"`
	Count int64   `json:"count"`
	Share float64 `json:"share"`
}

// Summary returns the totals and top-n lists (n ≤ 0: 10) of f's range.
func (r *Reader) Summary(ctx context.Context, f Filter, n int) (*Summary, error) {
	if n <= 0 {
		n = 10
	}
	req, err := load(ctx, r.Store, f, store.RollupRequest)
	if err != nil {
		return nil, err
	}
	wd, err := load(ctx, r.Store, wouldDenyFilter(f), store.RollupWouldDeny)
	if err != nil {
		return nil, err
	}
	s := &Summary{Since: f.Since.UTC(), Until: f.Until.UTC()}
	s.Totals = totals(req, wd)
	s.TopRoutes = top(req, n, byRoute, false)
	s.TopCodes = top(req, n, byCode, true)
	s.TopConsumers = top(req, n, byConsumer, true)
	s.TopStages = top(req, n, byStage, true)
	s.TopWouldDeny = topWouldDeny(wd, n)
	return s, nil
}

// wouldDenyFilter is f for would_deny rows: their code and stage are the
// would-be refusal's, so only route and consumer filter them.
func wouldDenyFilter(f Filter) Filter {
	f.Code, f.Stage = "", ""
	return f
}

// denied reports whether a request row counts refusals the gateway wrote.
func denied(r *store.Rollup) bool {
	return r.Code != "" && r.Layer != problem.LayerUpstream
}

// totals sums request rows and would_deny rows.
func totals(req, wd []store.Rollup) Totals {
	t := Totals{Status: map[string]int64{}}
	var sk *sketch.Sketch
	var sum time.Duration
	for i := range req {
		row := &req[i]
		t.Requests += row.Count
		t.Status[statusLabel(row.StatusClass)] += row.Count
		if denied(row) {
			t.Denied += row.Count
		}
		t.UpstreamErrors += row.UpstreamErrors
		sum += row.LatencySum
		if len(row.Latency) > 0 {
			if d, err := sketch.Decode(row.Latency); err == nil {
				if sk == nil {
					sk = d
				} else {
					sk.Merge(d)
				}
			}
		}
	}
	for i := range wd {
		t.WouldDeny += wd[i].Count
	}
	if t.Requests > 0 {
		t.DenialShare = float64(t.Denied) / float64(t.Requests)
		t.Latency.Mean = ms(float64(sum) / float64(t.Requests))
	}
	if sk != nil {
		t.Latency.P50, t.Latency.P90, t.Latency.P99 = ms(sk.Quantile(0.5)), ms(sk.Quantile(0.9)), ms(sk.Quantile(0.99))
	}
	return t
}

func ms(ns float64) float64 { return ns / 1e6 }

// statusLabel names a status class: "2xx"; "other" for class 0.
func statusLabel(class int) string {
	if class < 1 || class > 5 {
		return "other"
	}
	return strconv.Itoa(class) + "xx"
}

// Dimensions of top lists.
const (
	byRoute    = "route"
	byCode     = "code"
	byConsumer = "consumer"
	byStage    = "stage"
	byRule     = "rule"
)

// TopBy lists the dimensions GET /admin/stats/top accepts.
var TopBy = []string{byRoute, byCode, byConsumer, byStage, byRule}

func dimension(r *store.Rollup, by string) string {
	switch by {
	case byRoute:
		return r.Route
	case byCode:
		return r.Code
	case byConsumer:
		return r.Consumer
	case byStage:
		return r.Stage
	}
	return r.Rule
}

// top ranks request rows by by: by requests, or (refusals) by the refusals
// the gateway wrote, leaving out entries without any. Route and consumer
// entries also carry their requests and refusals.
func top(rows []store.Rollup, n int, by string, refusals bool) []Top {
	at := map[string]int{}
	var list []Top
	var total int64
	for i := range rows {
		row := &rows[i]
		if refusals && !denied(row) {
			continue
		}
		name := dimension(row, by)
		j, ok := at[name]
		if !ok {
			j = len(list)
			at[name] = j
			list = append(list, Top{Name: name})
		}
		list[j].Count += row.Count
		total += row.Count
	}
	if by == byRoute || by == byConsumer {
		for i := range rows {
			row := &rows[i]
			if j, ok := at[dimension(row, by)]; ok {
				list[j].Requests += row.Count
				if denied(row) {
					list[j].Denied += row.Count
				}
			}
		}
	}
	return rank(list, total, n)
}

// rank sorts by count (then name), keeps n and computes shares.
func rank(list []Top, total int64, n int) []Top {
	slices.SortFunc(list, func(a, b Top) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	if len(list) > n {
		list = list[:n]
	}
	for j := range list {
		if total > 0 {
			list[j].Share = float64(list[j].Count) / float64(total)
		}
	}
	if list == nil {
		list = []Top{}
	}
	return list
}

// topWouldDeny ranks would_deny rows by rule (and code, stage).
func topWouldDeny(rows []store.Rollup, n int) []WouldDenyTop {
	type key struct{ rule, code, stage string }
	at := map[key]int{}
	list := []WouldDenyTop{}
	var total int64
	for i := range rows {
		k := key{rows[i].Rule, rows[i].Code, rows[i].Stage}
		j, ok := at[k]
		if !ok {
			j = len(list)
			at[k] = j
			list = append(list, WouldDenyTop{Rule: k.rule, Code: k.code, Stage: k.stage})
		}
		list[j].Count += rows[i].Count
		total += rows[i].Count
	}
	slices.SortFunc(list, func(a, b WouldDenyTop) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Code, b.Code), cmp.Compare(a.Stage, b.Stage))
	})
	if len(list) > n {
		list = list[:n]
	}
	for j := range list {
		list[j].Share = float64(list[j].Count) / float64(total)
	}
	return list
}

// TopList is GET /admin/stats/top: one ranked list.
type TopList struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// By is the dimension: route, code, consumer, stage or rule.
	By string `json:"by"`
	// Kind is "request" or "would_deny".
	Kind string `json:"kind"`
	// Total is what the shares are of.
	Total int64 `json:"total"`
	Top   []Top `json:"top"`
}

// Top ranks the range's requests (kind "request": routes by requests,
// the other dimensions by refusals) or would-be refusals (kind
// "would_deny", every dimension by would-be refusals) by by, n entries.
func (r *Reader) Top(ctx context.Context, f Filter, by, kind string, n int) (*TopList, error) {
	if !slices.Contains(TopBy, by) {
		return nil, queryErrorf("by %q: want one of route, code, consumer, stage or rule", by)
	}
	if kind == "" {
		kind = store.RollupRequest
	}
	if kind != store.RollupRequest && kind != store.RollupWouldDeny {
		return nil, queryErrorf("kind %q: want request or would_deny", kind)
	}
	if n <= 0 {
		n = 10
	}
	out := &TopList{Since: f.Since.UTC(), Until: f.Until.UTC(), By: by, Kind: kind}
	if kind == store.RollupWouldDeny {
		rows, err := load(ctx, r.Store, f, kind)
		if err != nil {
			return nil, err
		}
		list := []Top{}
		at := map[string]int{}
		for i := range rows {
			name := dimension(&rows[i], by)
			j, ok := at[name]
			if !ok {
				j = len(list)
				at[name] = j
				list = append(list, Top{Name: name})
			}
			list[j].Count += rows[i].Count
			out.Total += rows[i].Count
		}
		out.Top = rank(list, out.Total, n)
		return out, nil
	}
	rows, err := load(ctx, r.Store, f, kind)
	if err != nil {
		return nil, err
	}
	refusals := by != byRoute
	out.Top = top(rows, n, by, refusals)
	for i := range rows {
		if !refusals || denied(&rows[i]) {
			out.Total += rows[i].Count
		}
	}
	return out, nil
}
