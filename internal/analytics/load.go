package analytics

import (
	"context"
	"fmt"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// Filter selects the requests a query reads. Zero fields do not filter
// (Since and Until are required).
type Filter struct {
	// Since and Until bound the range: rows whose period starts in
	// [Since, Until). Minute rows answer the edges, so the range is exact
	// to the minute.
	Since, Until time.Time
	// Route, Consumer, Code and Stage match exactly.
	Route, Consumer, Code, Stage string
}

// maxRange bounds a query's range (a little more than the default day retention).
const maxRange = 800 * day

// maxSpans is how many separate ranges of one level a load reads before
// it reads their hull once instead.
const maxSpans = 8

// span is a half-open time range.
type span struct{ from, to time.Time }

// load returns the rows of kind matching f over its range, reading day
// rows for the whole days inside it that have been compacted, hour rows
// for the remaining whole hours that have been, and minute rows for the
// rest. A period counts as compacted when it has rows of its level (for
// f): compaction replaces a period whole, so its rows then hold all the
// period's minute rows hold, and reading both would count twice. Rows of
// every node are returned as stored; callers merge them.
func load(ctx context.Context, rs store.Rollups, f Filter, kind string) ([]store.Rollup, error) {
	since, until := f.Since.UTC(), f.Until.UTC()
	if !until.After(since) {
		return nil, queryErrorf("until (%s) must be after since (%s)", until.Format(time.RFC3339), since.Format(time.RFC3339))
	}
	if until.Sub(since) > maxRange {
		return nil, queryErrorf("a range of at most %d days", int(maxRange/day))
	}
	q := store.RollupQuery{Kind: kind, Route: f.Route, Consumer: f.Consumer, Code: f.Code, Stage: f.Stage}
	var out []store.Rollup
	covered := map[int64]bool{} // hour starts covered by day or hour rows

	// Whole days.
	dayFrom, dayTo := ceil(since, day), until.Truncate(day)
	if dayTo.After(dayFrom) {
		rows, err := query(ctx, rs, q, store.LevelDay, []span{{dayFrom, dayTo}}, nil)
		if err != nil {
			return nil, err
		}
		for i := range rows {
			for h := rows[i].Bucket; h.Before(rows[i].Bucket.Add(day)); h = h.Add(time.Hour) {
				covered[h.UnixNano()] = true
			}
		}
		out = append(out, rows...)
	}
	// Whole hours not covered by days.
	hourFrom, hourTo := ceil(since, time.Hour), until.Truncate(time.Hour)
	if hourTo.After(hourFrom) {
		spans := uncovered(hourFrom, hourTo, covered)
		rows, err := query(ctx, rs, q, store.LevelHour, spans, covered)
		if err != nil {
			return nil, err
		}
		for i := range rows {
			covered[rows[i].Bucket.UnixNano()] = true
		}
		out = append(out, rows...)
	}
	// Minutes for the rest, including the partial hours at the edges.
	spans := uncovered(since.Truncate(time.Hour), ceil(until, time.Hour), covered)
	for i := range spans {
		spans[i].from = maxTime(spans[i].from, since)
		spans[i].to = minTime(spans[i].to, until)
	}
	rows, err := query(ctx, rs, q, store.LevelMinute, spans, covered)
	if err != nil {
		return nil, err
	}
	return append(out, rows...), nil
}

// query reads level rows over spans (their hull when there are many),
// leaving out rows whose hour is covered.
func query(ctx context.Context, rs store.Rollups, q store.RollupQuery, level string, spans []span, covered map[int64]bool) ([]store.Rollup, error) {
	if len(spans) > maxSpans {
		spans = []span{{spans[0].from, spans[len(spans)-1].to}}
	}
	q.Level = level
	var out []store.Rollup
	for _, s := range spans {
		if !s.to.After(s.from) {
			continue
		}
		q.Since, q.Until = s.from, s.to
		rows, err := rs.QueryRollups(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("analytics: reading %s roll-ups: %w", level, err)
		}
		for _, r := range rows {
			if covered == nil || !covered[r.Bucket.Truncate(time.Hour).UnixNano()] {
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// uncovered returns the runs of hours in [from, to) not in covered.
func uncovered(from, to time.Time, covered map[int64]bool) []span {
	var out []span
	for h := from; h.Before(to); h = h.Add(time.Hour) {
		if covered[h.UnixNano()] {
			continue
		}
		if n := len(out); n > 0 && out[n-1].to.Equal(h) {
			out[n-1].to = h.Add(time.Hour)
		} else {
			out = append(out, span{h, h.Add(time.Hour)})
		}
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
