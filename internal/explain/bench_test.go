package explain_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/explain"
	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
)

// BenchmarkExplainLargeCallLog explains random requests from a SQLite call
// log of PINPOINT_BENCH_CALLS rows (default 10,000,000; one in ten refused
// with a full trace, the rest allowed with none, as in production). The
// lookup goes through the request_id index. Building the log takes minutes,
// so it is kept in PINPOINT_BENCH_DIR (default the OS temp directory) and
// reused by later runs:
//
//	go test ./internal/explain -run '^$' -bench ExplainLargeCallLog -benchtime 2000x
func BenchmarkExplainLargeCallLog(b *testing.B) {
	n := 10_000_000
	if v := os.Getenv("PINPOINT_BENCH_CALLS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("PINPOINT_BENCH_CALLS=%q: want a positive number", v)
		}
	}
	dir := os.Getenv("PINPOINT_BENCH_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	ctx := context.Background()
	st, err := benchLog(ctx, b, filepath.Join(dir, fmt.Sprintf("pinpoint-explain-bench-%d.db", n)), n)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	e := &explain.Explainer{Calls: st, Revisions: st}
	// A fixed sequence of ids spread over the whole log, refused and allowed.
	ids := make([]string, 4096)
	for i := range ids {
		ids[i] = benchID((i * 2654435761) % n)
	}
	b.Run("lookup", func(b *testing.B) {
		i := 0
		for b.Loop() {
			id := ids[i%len(ids)]
			calls, err := st.QueryCalls(ctx, store.CallQuery{RequestID: id, Limit: 1})
			if err != nil || len(calls) != 1 {
				b.Fatalf("query %s: %v", id, err)
			}
			i++
		}
		b.ReportMetric(float64(n), "rows")
	})
	b.Run("explain", func(b *testing.B) {
		i := 0
		for b.Loop() {
			id := ids[i%len(ids)]
			x, err := e.Explain(ctx, id)
			if err != nil || x.RequestID != id {
				b.Fatalf("explain %s: %v", id, err)
			}
			i++
		}
		b.ReportMetric(float64(n), "rows")
	})
}

func benchID(i int) string { return fmt.Sprintf("bench-%09d", i) }

// benchLog opens the call log at path, filling it with n records when it
// does not hold them yet.
func benchLog(ctx context.Context, b *testing.B, path string, n int) (*sqlite.Store, error) {
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	if last, err := st.QueryCalls(ctx, store.CallQuery{RequestID: benchID(n - 1), Limit: 1}); err == nil && len(last) == 1 {
		return st, nil
	}
	doc, err := os.ReadFile("testdata/gateway.yaml")
	if err != nil {
		return nil, err
	}
	rev, err := st.AppendRevision(ctx, store.Revision{Author: "bench", Source: "bench", Document: doc})
	if err != nil {
		return nil, err
	}
	b.Logf("building a call log of %d rows in %s (once)", n, path)
	trace := with(authed, step("authz", "deny", "authz.scope_missing", "scopes", "credential lacks scope orders:write"))
	start := time.Now()
	const batch = 20000
	calls := make([]store.Call, 0, batch)
	for i := 0; i < n; i++ {
		c := store.Call{Time: t0.Add(time.Duration(i) * time.Millisecond), RequestID: benchID(i), Route: "orders",
			Method: "GET", Host: "api.example.com", Path: "/orders/" + strconv.Itoa(i%1000), Status: 200,
			ClientIP: "203.0.113.7", ConsumerID: "orders-app", CredentialID: "pp_live_ordr0000ordr",
			Latency: time.Millisecond, Revision: rev.Number}
		if i%10 == 0 {
			c.Status, c.Code, c.Layer, c.Stage, c.Trace = 403, "authz.scope_missing", "gateway", "authz", trace
		}
		calls = append(calls, c)
		if len(calls) == batch || i == n-1 {
			if err := st.InsertCalls(ctx, calls); err != nil {
				return nil, err
			}
			calls = calls[:0]
		}
	}
	b.Logf("built in %s", time.Since(start).Round(time.Second))
	return st, nil
}
