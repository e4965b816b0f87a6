package analytics

import (
	"context"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store/postgres"
	"github.com/pinpointgw/pinpoint/internal/store/postgres/pgtest"
)

// The whole path on PostgreSQL: two nodes flush into one store
// concurrently, every node compacts, and the reader counts each request
// once across levels.
func TestPostgresRollupsEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := postgres.Open(ctx, pgtest.FreshSchemaDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	events := traffic(3000, t0, 30*time.Second) // 25 hours
	end := t0.Add(25 * time.Hour)

	// Both nodes flush the same keys at the same time.
	done := make(chan error, 2)
	for n, node := range []string{"gw-1", "gw-2"} {
		go func() {
			a := New(Options{Node: node, Store: st})
			for i, e := range events {
				if i%2 == n {
					a.Record(e)
				}
				if i%500 == 499 {
					if err := a.Flush(ctx); err != nil {
						done <- err
						return
					}
				}
			}
			done <- a.Flush(ctx)
		}()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	r := &Reader{Store: st}
	checkSummary(t, r, events, Filter{Since: t0, Until: end})

	// Two nodes compact at once; the result is the same as one.
	now := end.Add(10 * time.Minute)
	for range 2 {
		go func() {
			_, err := NewCompactor(CompactorOptions{Store: st}).Compact(ctx, now)
			done <- err
		}()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	checkSummary(t, r, events, Filter{Since: t0, Until: end})
	checkSummary(t, r, events, Filter{Since: t0.Add(14 * time.Hour), Until: t0.Add(38 * time.Hour)})
	checkSummary(t, r, events, Filter{Since: t0.Add(31 * time.Minute), Until: end.Add(-29 * time.Minute), Route: "users"})
}

// BenchmarkFlushPostgres is BenchmarkFlush against PostgreSQL.
func BenchmarkFlushPostgres(b *testing.B) {
	st, err := postgres.Open(context.Background(), pgtest.FreshSchemaDSN(b))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	benchmarkFlush(b, st)
}
