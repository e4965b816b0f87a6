package analytics

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// cluster records events on two nodes (alternating) and flushes both.
func cluster(t testing.TB, rs store.Rollups, events []Event) {
	t.Helper()
	nodes := []*Aggregator{New(Options{Node: "gw-1", Store: rs}), New(Options{Node: "gw-2", Store: rs})}
	for i, e := range events {
		nodes[i%2].Record(e)
		if i%5000 == 4999 {
			for _, n := range nodes {
				if err := n.Flush(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, n := range nodes {
		if err := n.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func between(events []Event, since, until time.Time) []Event {
	var out []Event
	for _, e := range events {
		if !e.Time.Before(since) && e.Time.Before(until) {
			out = append(out, e)
		}
	}
	return out
}

// exactQuantile is the latency of rank floor(q·(n-1)), in ms.
func exactQuantile(events []Event, q float64) float64 {
	var l []float64
	for _, e := range events {
		l = append(l, float64(e.Latency))
	}
	slices.Sort(l)
	return l[int(q*float64(len(l)-1))] / 1e6
}

// checkSummary compares a summary of [since, until) with the events.
func checkSummary(t *testing.T, r *Reader, events []Event, f Filter) {
	t.Helper()
	s, err := r.Summary(context.Background(), f, 10)
	if err != nil {
		t.Fatal(err)
	}
	in := between(events, f.Since, f.Until)
	if f.Route != "" {
		var keep []Event
		for _, e := range in {
			if e.Route == f.Route {
				keep = append(keep, e)
			}
		}
		in = keep
	}
	what := f.Since.Format("01-02 15:04") + ".." + f.Until.Format("01-02 15:04") + " " + f.Route
	sameCounts(t, what, s.Totals, expected(in))
	for _, q := range []struct {
		q   float64
		got float64
	}{{0.5, s.Latency.P50}, {0.9, s.Latency.P90}, {0.99, s.Latency.P99}} {
		if want := exactQuantile(in, q.q); math.Abs(q.got-want) > 0.01*want {
			t.Errorf("%s: p%v = %v ms, want %v ms ± 1%%", what, q.q*100, q.got, want)
		}
	}
}

func TestCompactionKeepsEveryCount(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	ctx := context.Background()
	// 50 hours of traffic from 2026-11-30 10:00, one request every 30 s
	// per node.
	events := traffic(6000, t0, 30*time.Second)
	end := t0.Add(50 * time.Hour)
	cluster(t, st, events)
	r := &Reader{Store: st}
	ranges := []Filter{
		{Since: t0, Until: end},
		{Since: t0.Add(17 * time.Minute), Until: end.Add(-17 * time.Minute)},          // ragged edges
		{Since: t0.Add(14 * time.Hour), Until: t0.Add(38 * time.Hour)},                // exactly one day
		{Since: t0.Add(3 * time.Hour), Until: t0.Add(5 * time.Hour), Route: "orders"}, // two whole hours, one route
	}
	for _, f := range ranges {
		checkSummary(t, r, events, f)
	}

	c := NewCompactor(CompactorOptions{Store: st, Retention: func() Retention { return Retention{Minute: 72 * time.Hour} }})
	now := end.Add(10 * time.Minute)
	res, err := c.Compact(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	// Hours 10:00 on 11-30 to 11:00 on 12-02 (closed 12:05), days 11-30 and 12-01.
	if len(res.Hours) != 50 || len(res.Days) != 2 {
		t.Fatalf("compacted %d hours and %d days, want 50 and 2", len(res.Hours), len(res.Days))
	}
	hours := allRows(t, st, store.LevelHour)
	days := allRows(t, st, store.LevelDay)
	for _, rows := range [][]store.Rollup{hours, days} {
		for _, row := range rows {
			if row.Node != "" {
				t.Fatalf("compacted row of node %q, want none", row.Node)
			}
		}
	}
	// The hour rows of 11-30 14:00 hold both nodes' requests of that hour.
	var n int64
	for _, row := range rowsAt(hours, t0.Add(4*time.Hour)) {
		if row.Kind == store.RollupRequest {
			n += row.Count
		}
	}
	if want := int64(len(between(events, t0.Add(4*time.Hour), t0.Add(5*time.Hour)))); n != want {
		t.Fatalf("hour row count %d, want %d", n, want)
	}
	// Reading across levels counts every request once.
	for _, f := range ranges {
		checkSummary(t, r, events, f)
	}

	// Compacting again, or on another node, changes nothing.
	again := NewCompactor(CompactorOptions{Store: st, Retention: func() Retention { return Retention{Minute: 72 * time.Hour} }})
	if res, err := again.Compact(ctx, now); err != nil || len(res.Hours) != 0 || len(res.Days) != 0 {
		t.Fatalf("a second compactor redid %d hours, %d days (%v)", len(res.Hours), len(res.Days), err)
	}
	if _, err := c.Compact(ctx, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := allRows(t, st, store.LevelHour); !slices.EqualFunc(got, hours, sameRow) {
		t.Fatalf("hour rows changed by a repeated compaction")
	}

	// Retention: two days later the minute rows of the first day are
	// gone; the hour and day rows still answer.
	later := now.Add(49 * time.Hour)
	res, err = NewCompactor(CompactorOptions{Store: st}).Compact(ctx, later)
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted[store.LevelMinute] == 0 {
		t.Fatal("retention deleted no minute rows")
	}
	for _, row := range allRows(t, st, store.LevelMinute) {
		if row.Bucket.Before(later.Add(-DefaultRetentionMinute)) {
			t.Fatalf("minute row of %v survived retention", row.Bucket)
		}
	}
	checkSummary(t, r, events, Filter{Since: t0, Until: end})
	checkSummary(t, r, events, Filter{Since: t0.Add(14 * time.Hour), Until: t0.Add(38 * time.Hour)})
}

func sameRow(a, b store.Rollup) bool {
	return a.Key() == b.Key() && a.Count == b.Count && a.UpstreamErrors == b.UpstreamErrors &&
		a.LatencySum == b.LatencySum && slices.Equal(a.Latency, b.Latency)
}

func TestCompactionWaitsForGrace(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	cluster(t, st, traffic(120, t0, 30*time.Second)) // 10:00-11:00
	c := NewCompactor(CompactorOptions{Store: st})
	res, err := c.Compact(context.Background(), t0.Add(time.Hour+4*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hours) != 0 || len(allRows(t, st, store.LevelHour)) != 0 {
		t.Fatalf("hour compacted within its grace period: %v", res.Hours)
	}
	res, err = c.Compact(context.Background(), t0.Add(time.Hour+5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hours) != 1 || !res.Hours[0].Equal(t0) {
		t.Fatalf("compacted %v, want the 10:00 hour", res.Hours)
	}
}
