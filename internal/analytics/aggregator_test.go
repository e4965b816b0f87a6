package analytics

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/store"
)

func TestRecordFlushWritesMinuteRows(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	a := New(Options{Node: "gw-1", Store: st})
	ctx := context.Background()
	// Two minutes; the second flush adds to the rows the first wrote.
	events := traffic(600, t0, 200*time.Millisecond)
	for _, e := range events[:300] {
		a.Record(e)
	}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, e := range events[300:] {
		a.Record(e)
	}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rows := allRows(t, st, store.LevelMinute)
	var requests, wouldDeny int64
	buckets := map[time.Time]bool{}
	for i := range rows {
		r := &rows[i]
		if r.Node != "gw-1" || r.Level != store.LevelMinute {
			t.Fatalf("row %+v: want node gw-1, level minute", r)
		}
		if !r.Bucket.Equal(r.Bucket.Truncate(time.Minute)) {
			t.Fatalf("bucket %v is not a minute", r.Bucket)
		}
		buckets[r.Bucket] = true
		switch r.Kind {
		case store.RollupRequest:
			requests += r.Count
			if got := latencyCount(t, r); got != uint64(r.Count) {
				t.Errorf("row %s/%s: sketch holds %d values, count is %d", r.Route, r.Code, got, r.Count)
			}
		case store.RollupWouldDeny:
			wouldDeny += r.Count
			if r.Code != "authz.scope_missing" || r.Stage != "authz" || r.Rule != "orders-write" || r.Latency != nil {
				t.Errorf("would_deny row %+v: want the step's code, stage and rule, no sketch", r)
			}
		}
	}
	want := expected(events)
	if requests != want.Requests || wouldDeny != want.WouldDeny {
		t.Fatalf("stored %d requests and %d would-deny, want %d and %d", requests, wouldDeny, want.Requests, want.WouldDeny)
	}
	if len(buckets) != 2 {
		t.Fatalf("%d minute buckets, want 2", len(buckets))
	}
	// One (route, consumer, code) combination, checked exactly: the 403s
	// of acme-app on orders in the first minute.
	var n int64
	for _, e := range events {
		if e.Time.Before(t0.Add(time.Minute)) && e.Route == "orders" && e.Consumer == "acme-app" && e.Code == "authz.scope_missing" {
			n++
		}
	}
	r := find(rowsAt(rows, t0), store.RollupRequest, "orders", "acme-app", "authz.scope_missing")
	if n == 0 || r == nil || r.Count != n || r.StatusClass != 4 || r.Stage != "authz" || r.Rule != "orders-write" || r.Layer != "gateway" {
		t.Fatalf("orders/acme-app 403 row %+v, want count %d, class 4", r, n)
	}
}

func rowsAt(rows []store.Rollup, bucket time.Time) []store.Rollup {
	var out []store.Rollup
	for _, r := range rows {
		if r.Bucket.Equal(bucket) {
			out = append(out, r)
		}
	}
	return out
}

func TestMaxKeysOverflowIntoOther(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	reg := prometheus.NewRegistry()
	a := New(Options{Node: "gw-1", Store: st, MaxKeys: 100, Registerer: reg})
	ctx := context.Background()
	record := func(from, to int) {
		for i := from; i < to; i++ {
			a.Record(Event{Time: t0.Add(time.Second), Route: "orders", Consumer: fmt.Sprintf("c%03d", i), Status: 200, Latency: time.Millisecond})
		}
	}
	record(0, 80)
	// The cap holds per minute across flushes.
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	record(80, 150)
	record(0, 10) // known consumers stay themselves
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rows := allRows(t, st, store.LevelMinute)
	if len(rows) != 101 {
		t.Fatalf("%d rows, want 100 consumers and (other)", len(rows))
	}
	other := find(rows, store.RollupRequest, "orders", OtherConsumer, "")
	if other == nil || other.Count != 50 {
		t.Fatalf("(other) row %+v, want count 50", other)
	}
	if c := find(rows, store.RollupRequest, "orders", "c005", ""); c == nil || c.Count != 2 {
		t.Fatalf("c005 row %+v, want count 2", c)
	}
	if got := a.Stats().Overflow; got != 50 {
		t.Fatalf("overflow %d, want 50", got)
	}
	if got := counterValue(t, reg, "pinpoint_analytics_overflow_total"); got != 50 {
		t.Fatalf("pinpoint_analytics_overflow_total = %v, want 50", got)
	}
	// A new minute starts with a fresh cap.
	a.Record(Event{Time: t0.Add(time.Minute), Route: "orders", Consumer: "c149", Status: 200})
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if r := find(rowsAt(allRows(t, st, store.LevelMinute), t0.Add(time.Minute)), store.RollupRequest, "orders", "c149", ""); r == nil {
		t.Fatal("the next minute counted c149 under (other)")
	}
}

// counterValue gathers reg and returns the counter called name.
func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

func TestFailedFlushIsRetried(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	a := New(Options{Node: "gw-1", Store: st})
	events := traffic(200, t0, 100*time.Millisecond)
	for _, e := range events[:100] {
		a.Record(e)
	}
	// A store that cannot be reached in time refuses the rows...
	dead, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.Flush(dead); err == nil {
		t.Fatal("flush with a cancelled context succeeded")
	}
	if n := len(allRows(t, st, store.LevelMinute)); n != 0 {
		t.Fatalf("%d rows stored by a failed flush", n)
	}
	// ...and the next flush stores them with the new ones, once.
	for _, e := range events[100:] {
		a.Record(e)
	}
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var requests int64
	for _, r := range allRows(t, st, store.LevelMinute) {
		if r.Kind == store.RollupRequest {
			requests += r.Count
			if got := latencyCount(t, &r); got != uint64(r.Count) {
				t.Fatalf("sketch of %d values for a count of %d", got, r.Count)
			}
		}
	}
	if requests != 200 {
		t.Fatalf("%d requests stored, want 200", requests)
	}
	if s := a.Stats(); s.FlushErrors != 1 || s.Dropped != 0 {
		t.Fatalf("stats %+v: want 1 flush error, 0 dropped", s)
	}
}

func TestCloseFlushesWhatIsLeft(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	a := New(Options{Node: "gw-1", Store: st, FlushInterval: time.Hour})
	a.Start(context.Background(), 0)
	for _, e := range traffic(50, t0, time.Second) {
		a.Record(e)
	}
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, r := range allRows(t, st, store.LevelMinute) {
		if r.Kind == store.RollupRequest {
			n += r.Count
		}
	}
	if n != 50 {
		t.Fatalf("%d requests stored at close, want 50", n)
	}
}

// TestKeepsUpWith20kPerSecondOnOneCore drives 20,000 events a second for
// three seconds on one core while the aggregator flushes to SQLite every
// 100 ms, and checks that every event was stored. The rate reached, and
// the rate of an unpaced burst, are reported, not asserted.
func TestKeepsUpWith20kPerSecondOnOneCore(t *testing.T) {
	if testing.Short() {
		t.Skip("drives traffic for three seconds")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	st := openSQLite(t)
	a := New(Options{Node: "gw-1", Store: st, FlushInterval: 100 * time.Millisecond})
	a.Start(context.Background(), 0)
	const rate, seconds = 20000, 3
	events := traffic(1000, time.Time{}, 0)
	start := time.Now()
	total := rate * seconds
	for i := 0; i < total; i++ {
		// Pace: event i is due at start + i/rate.
		if due := start.Add(time.Duration(i) * time.Second / rate); time.Until(due) > time.Millisecond {
			time.Sleep(time.Until(due))
		}
		e := events[i%len(events)]
		e.Time = time.Now()
		a.Record(e)
	}
	elapsed := time.Since(start)
	// An unpaced burst on the same core, flushes still running.
	const burst = 200000
	bstart := time.Now()
	for i := range burst {
		e := events[i%len(events)]
		e.Time = bstart
		a.Record(e)
	}
	burstRate := burst / time.Since(bstart).Seconds()
	total += burst
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, r := range allRows(t, st, store.LevelMinute) {
		if r.Kind == store.RollupRequest {
			n += r.Count
		}
	}
	if n != int64(total) {
		t.Fatalf("%d of %d events stored", n, total)
	}
	s := a.Stats()
	if s.Dropped != 0 || s.Overflow != 0 {
		t.Fatalf("stats %+v: nothing may be dropped", s)
	}
	t.Logf("one core: %d events in %v (%.0f/s, offered at %d/s), then an unpaced burst at %.0f/s; %d rows flushed, %d flush errors",
		rate*seconds, elapsed.Round(time.Millisecond), float64(rate*seconds)/elapsed.Seconds(), rate, burstRate, s.Flushed, s.FlushErrors)
}

func TestStatusClass(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]int{200: 2, 204: 2, 301: 3, 403: 4, 499: 4, 502: 5, 0: 0, 99: 0, 600: 0} {
		if got := StatusClass(status); got != want {
			t.Errorf("StatusClass(%d) = %d, want %d", status, got, want)
		}
	}
}

// benchEvents is a realistic mix: 3 routes × 3 consumers × a few
// outcomes, one in thirteen with a would-deny step.
func benchEvents() []Event {
	ev := traffic(1000, time.Time{}, 0)
	now := time.Now()
	for i := range ev {
		ev[i].Time = now
	}
	return ev
}

func BenchmarkRecord(b *testing.B) {
	a := New(Options{Node: "gw-1", Store: openSQLite(b)})
	ev := benchEvents()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		a.Record(ev[i%len(ev)])
	}
}

func BenchmarkRecordParallel(b *testing.B) {
	a := New(Options{Node: "gw-1", Store: openSQLite(b)})
	ev := benchEvents()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			a.Record(ev[i%len(ev)])
			i++
		}
	})
}

// BenchmarkFlush measures one flush of 1000 distinct rows (with latency
// sketches of 20 values each) to SQLite, new rows every time.
func BenchmarkFlush(b *testing.B) { benchmarkFlush(b, openSQLite(b)) }

func benchmarkFlush(b *testing.B, st store.Rollups) {
	a := New(Options{Node: "gw-1", Store: st})
	minute := t0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		minute = minute.Add(time.Minute)
		for c := range 1000 {
			for j := range 20 {
				a.Record(Event{Time: minute, Route: "orders", Consumer: "c" + strings.Repeat("x", c%7) + fmt.Sprint(c),
					Status: 200, Latency: time.Duration(1+j) * time.Millisecond,
					Trace: []pipeline.Step{{Stage: "route", Outcome: pipeline.OutcomePass}}})
			}
		}
		b.StartTimer()
		if err := a.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
