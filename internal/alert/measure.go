package alert

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// topN is how many reason codes, consumers and routes a notification lists.
const topN = 5

// Observation is one evaluation of a rule over its window.
type Observation struct {
	// Since and Until bound the window: minute buckets Since <= b < Until.
	Since, Until time.Time
	// Requests is how many requests of the rule's route and consumer the
	// window holds; Matched how many of them (or of the would-be refusals)
	// the rule counts.
	Requests, Matched int64
	// Value is the measure: Matched/Requests for a share, Matched for a count.
	Value float64
	// Firing is whether Value is above the threshold with at least
	// min_requests requests.
	Firing bool
	// TopCodes, TopConsumers and TopRoutes break the matching requests down.
	TopCodes, TopConsumers, TopRoutes []Top
}

// Top is one entry of a breakdown of the matching requests.
type Top struct {
	// Name is the reason code, consumer id or route ("" for requests
	// without one: not refused, or anonymous).
	Name  string `json:"name"`
	Count int64  `json:"count"`
	// Share is Count over the matching requests.
	Share float64 `json:"share"`
}

// window returns the minute buckets a rule's window covers at now: the
// window rounded out to whole minutes, up to and with the current one.
func window(now time.Time, w time.Duration) (since, until time.Time) {
	now = now.UTC()
	return now.Add(-w).Truncate(time.Minute), now.Truncate(time.Minute).Add(time.Minute)
}

// Measure evaluates r over the minute roll-ups of the window ending at
// now, summed over every node.
func Measure(ctx context.Context, rs store.Rollups, r *Rule, now time.Time) (Observation, error) {
	return newRowSource(rs, []*Rule{r}, now).measure(ctx, r)
}

// rowSource reads the minute roll-ups an evaluation needs once per kind,
// for the longest window of its rules (and their common route and
// consumer), and serves every rule from memory: one store query per kind
// and evaluation, however many rules there are.
type rowSource struct {
	rs    store.Rollups
	now   time.Time
	query store.RollupQuery
	rows  map[string][]store.Rollup
	// err is the first failed read; the evaluation's other rules fail
	// with it rather than asking a failing store again.
	err error
}

func newRowSource(rs store.Rollups, rules []*Rule, now time.Time) *rowSource {
	q := store.RollupQuery{Level: store.LevelMinute}
	for i, r := range rules {
		since, until := window(now, r.Config.Window.D())
		if i == 0 {
			q.Since, q.Until, q.Route, q.Consumer = since, until, r.Config.Route, r.Config.Consumer
			continue
		}
		q.Since = minTime(q.Since, since)
		if q.Route != r.Config.Route {
			q.Route = ""
		}
		if q.Consumer != r.Config.Consumer {
			q.Consumer = ""
		}
	}
	return &rowSource{rs: rs, now: now, query: q, rows: map[string][]store.Rollup{}}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// kind returns the rows of one roll-up kind.
func (s *rowSource) kind(ctx context.Context, kind string) ([]store.Rollup, error) {
	if rows, ok := s.rows[kind]; ok || s.err != nil {
		return rows, s.err
	}
	q := s.query
	q.Kind = kind
	rows, err := s.rs.QueryRollups(ctx, q)
	if err != nil {
		s.err = fmt.Errorf("reading roll-ups: %w", err)
		return nil, s.err
	}
	s.rows[kind] = rows
	return rows, nil
}

// measure evaluates r on the source's rows.
func (s *rowSource) measure(ctx context.Context, r *Rule) (Observation, error) {
	since, until := window(s.now, r.Config.Window.D())
	o := Observation{Since: since, Until: until}
	// Requests and would-be refusals are separate kinds; read both only
	// when the rule counts would-be refusals.
	kinds := []string{store.RollupRequest}
	if r.matchedKind() != store.RollupRequest {
		kinds = append(kinds, r.matchedKind())
	}
	codes, consumers, routes := map[string]int64{}, map[string]int64{}, map[string]int64{}
	for _, kind := range kinds {
		rows, err := s.kind(ctx, kind)
		if err != nil {
			return o, fmt.Errorf("alert rule %q: %w", r.Name(), err)
		}
		for i := range rows {
			row := &rows[i]
			if row.Bucket.Before(since) || !row.Bucket.Before(until) {
				continue
			}
			if row.Kind == store.RollupRequest && r.inScope(row) {
				o.Requests += row.Count
			}
			if n := r.matched(row); n > 0 {
				o.Matched += n
				codes[row.Code] += n
				consumers[row.Consumer] += n
				routes[row.Route] += n
			}
		}
	}
	switch r.Measure {
	case MeasureShare:
		if o.Requests > 0 {
			o.Value = float64(o.Matched) / float64(o.Requests)
		}
	default:
		o.Value = float64(o.Matched)
	}
	o.Firing = o.Value > r.Threshold && o.Requests >= int64(r.Config.MinRequests) &&
		(r.Measure == MeasureCount || o.Requests > 0)
	o.TopCodes, o.TopConsumers, o.TopRoutes = top(codes, o.Matched), top(consumers, o.Matched), top(routes, o.Matched)
	return o, nil
}

// top returns the largest counts, largest first (ties by name).
func top(counts map[string]int64, total int64) []Top {
	out := make([]Top, 0, len(counts))
	for name, n := range counts {
		t := Top{Name: name, Count: n}
		if total > 0 {
			t.Share = float64(n) / float64(total)
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b Top) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Name, b.Name)) })
	if len(out) > topN {
		out = out[:topN]
	}
	return out
}
