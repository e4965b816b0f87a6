package analytics

import (
	"context"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// countBy counts events by a dimension, only those keep selects.
func countBy(events []Event, dim func(Event) string, keep func(Event) bool) map[string]int64 {
	out := map[string]int64{}
	for _, e := range events {
		if keep(e) {
			out[dim(e)]++
		}
	}
	return out
}

func isDenied(e Event) bool { return e.Code != "" && e.Layer != "upstream" }

func checkTop(t *testing.T, what string, got []Top, want map[string]int64) {
	t.Helper()
	var total int64
	for _, v := range want {
		total += v
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d entries %+v, want %d %v", what, len(got), got, len(want), want)
	}
	for i, e := range got {
		if e.Count != want[e.Name] {
			t.Errorf("%s: %q count %d, want %d", what, e.Name, e.Count, want[e.Name])
		}
		if share := float64(want[e.Name]) / float64(total); e.Share != share {
			t.Errorf("%s: %q share %v, want %v", what, e.Name, e.Share, share)
		}
		if i > 0 && got[i-1].Count < e.Count {
			t.Errorf("%s: not ranked by count: %+v", what, got)
		}
	}
}

func TestSummaryTopLists(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	events := traffic(3000, t0, time.Second)
	cluster(t, st, events)
	r := &Reader{Store: st}
	f := Filter{Since: t0, Until: t0.Add(time.Hour)}
	s, err := r.Summary(context.Background(), f, 10)
	if err != nil {
		t.Fatal(err)
	}
	all := func(Event) bool { return true }
	checkTop(t, "routes", s.TopRoutes, countBy(events, func(e Event) string { return e.Route }, all))
	checkTop(t, "codes", s.TopCodes, countBy(events, func(e Event) string { return e.Code }, isDenied))
	checkTop(t, "consumers", s.TopConsumers, countBy(events, func(e Event) string { return e.Consumer }, isDenied))
	checkTop(t, "stages", s.TopStages, countBy(events, func(e Event) string { return e.Stage }, isDenied))
	// Consumers carry their requests too; upstream answers are not refusals.
	reqs := countBy(events, func(e Event) string { return e.Consumer }, all)
	for _, c := range s.TopConsumers {
		if c.Requests != reqs[c.Name] || c.Denied != c.Count {
			t.Errorf("consumer %q: requests %d denied %d, want %d and %d", c.Name, c.Requests, c.Denied, reqs[c.Name], c.Count)
		}
	}
	for _, c := range s.TopCodes {
		if c.Name == "upstream.error" {
			t.Errorf("upstream.error listed among refusals")
		}
	}
	if len(s.TopWouldDeny) != 1 || s.TopWouldDeny[0].Rule != "orders-write" || s.TopWouldDeny[0].Count != s.WouldDeny || s.WouldDeny == 0 {
		t.Errorf("top would-deny %+v, total %d", s.TopWouldDeny, s.WouldDeny)
	}

	// A code filter narrows the requests to those refused with it.
	byCode, err := r.Summary(context.Background(), Filter{Since: f.Since, Until: f.Until, Code: "limit.rate_exceeded"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := countBy(events, func(Event) string { return "" }, func(e Event) bool { return e.Code == "limit.rate_exceeded" })[""]
	if byCode.Requests != want || byCode.Denied != want || byCode.DenialShare != 1 {
		t.Errorf("code filter: %d requests, %d denied, want %d", byCode.Requests, byCode.Denied, want)
	}

	// The top endpoint's lists agree with the summary's.
	tl, err := r.Top(context.Background(), f, "consumer", store.RollupRequest, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Top) != 2 || tl.Top[0] != s.TopConsumers[0] || tl.Total != s.Denied {
		t.Errorf("top consumers %+v (total %d), summary %+v (denied %d)", tl.Top, tl.Total, s.TopConsumers, s.Denied)
	}
	wd, err := r.Top(context.Background(), f, "route", store.RollupWouldDeny, 10)
	if err != nil {
		t.Fatal(err)
	}
	checkTop(t, "would-deny routes", wd.Top, countBy(events, func(e Event) string { return e.Route }, func(e Event) bool { return e.Trace != nil }))
	if _, err := r.Top(context.Background(), f, "tenant", "", 10); err == nil {
		t.Error("top by tenant accepted")
	}
}

func TestSeriesPointsAddUpToTotals(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	events := traffic(4000, t0, 3*time.Second) // 3h20m
	cluster(t, st, events)
	r := &Reader{Store: st}
	f := Filter{Since: t0, Until: t0.Add(4 * time.Hour)}
	s, err := r.Series(context.Background(), f, 0)
	if err != nil {
		t.Fatal(err)
	}
	if s.StepNs != 5*time.Minute || len(s.Points) != 48 {
		t.Fatalf("auto step %v with %d points, want 5m and 48", s.Step, len(s.Points))
	}
	var sum Totals
	sum.Status = map[string]int64{}
	for i, p := range s.Points {
		if !p.Time.Equal(t0.Add(time.Duration(i) * 5 * time.Minute)) {
			t.Fatalf("point %d at %v", i, p.Time)
		}
		want := expected(between(events, p.Time, p.Time.Add(5*time.Minute)))
		sameCounts(t, "point "+p.Time.Format("15:04"), p.Totals, want)
		sum.Requests += p.Requests
	}
	if sum.Requests != int64(len(events)) {
		t.Fatalf("points add up to %d requests, want %d", sum.Requests, len(events))
	}
	// The last 40 minutes have no traffic: empty points, not missing ones.
	if last := s.Points[47]; last.Requests != 0 || last.Status == nil {
		t.Fatalf("last point %+v, want an empty one", last)
	}
	// After compaction an hour-step series reads hour rows and agrees.
	if _, err := NewCompactor(CompactorOptions{Store: st}).Compact(context.Background(), t0.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	h, err := r.Series(context.Background(), f, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range h.Points {
		sameCounts(t, "hour "+p.Time.Format("15:04"), p.Totals, expected(between(events, p.Time, p.Time.Add(time.Hour))))
	}
}

func TestParseStepAndAutoStep(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"": 0, "minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour,
		"5m": 5 * time.Minute, "6h": 6 * time.Hour, "7d": 7 * 24 * time.Hour} {
		if got, err := ParseStep(in); err != nil || got != want {
			t.Errorf("ParseStep(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"30s", "90s", "0m", "-5m", "xd", "1.5d", "soon"} {
		if _, err := ParseStep(bad); err == nil {
			t.Errorf("ParseStep(%q) accepted", bad)
		}
	}
	for d, want := range map[time.Duration]time.Duration{time.Hour: time.Minute, 24 * time.Hour: 30 * time.Minute,
		7 * 24 * time.Hour: 3 * time.Hour, 400 * 24 * time.Hour: 7 * 24 * time.Hour} {
		if got := AutoStep(d, 60); got != want {
			t.Errorf("AutoStep(%v) = %v, want %v", d, got, want)
		}
	}
}

func TestQueryRangeErrors(t *testing.T) {
	t.Parallel()
	r := &Reader{Store: openSQLite(t)}
	ctx := context.Background()
	if _, err := r.Summary(ctx, Filter{Since: t0, Until: t0}, 10); err == nil {
		t.Error("empty range accepted")
	}
	if _, err := r.Summary(ctx, Filter{Since: t0.Add(-900 * 24 * time.Hour), Until: t0}, 10); err == nil {
		t.Error("900-day range accepted")
	}
	if _, err := r.Series(ctx, Filter{Since: t0.Add(-30 * 24 * time.Hour), Until: t0}, time.Minute); err == nil {
		t.Error("43200 points accepted")
	}
	s, err := r.Summary(ctx, Filter{Since: t0, Until: t0.Add(time.Hour)}, 10)
	if err != nil || s.Requests != 0 || s.TopRoutes == nil || s.TopWouldDeny == nil {
		t.Errorf("empty store: %+v, %v (lists must be [] not null)", s, err)
	}
}
