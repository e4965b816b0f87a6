package sqlite

import (
	"bytes"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// BenchmarkInsertCalls measures batched call-log inserts, the way the
// call-log writer flushes them.
func BenchmarkInsertCalls(b *testing.B) {
	const batchSize = 256
	s := openTemp(b)
	batch := make([]store.Call, batchSize)
	trace := []byte(`[{"stage":"authz","outcome":"deny","rule":"orders-write","duration_ns":1200}]`)
	for i := range batch {
		batch[i] = store.Call{
			Time: time.Now(), RequestID: fmt.Sprintf("01JD%022d", i), Route: "orders",
			Method: "POST", Host: "api.example.com", Path: "/orders?id=redacted", Status: 403,
			Code: "authz.scope_missing", Layer: "gateway", Stage: "authz", ClientIP: "203.0.113.7",
			Latency: 850 * time.Microsecond, BytesIn: 512, BytesOut: 310, Revision: 42, Trace: trace,
		}
	}
	for b.Loop() {
		if err := s.InsertCalls(b.Context(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batchSize)/b.Elapsed().Seconds(), "rows/s")
}

// bench10MEnv gates the 10-million-row benchmarks: filling the table takes
// minutes and gigabytes, so they never run by accident (or in CI).
const bench10MEnv = "PINPOINT_BENCH_10M"

// bench10MRows is the size of the call log explain's lookup target names.
const bench10MRows = 10_000_000

// benchRequestID is the request id of the i-th generated record (1-based),
// in the gateway's format: 26 characters like a ULID.
func benchRequestID(i int) string { return fmt.Sprintf("01JD%022d", i) }

// BenchmarkCallByRequestID10M measures explain's lookup, QueryCalls by
// request id, on a call log of 10 million records, against explain's
// target of 50 ms. It runs only with PINPOINT_BENCH_10M=1.
func BenchmarkCallByRequestID10M(b *testing.B) {
	if os.Getenv(bench10MEnv) != "1" {
		b.Skip("fills a 10-million-row call log (minutes, ~3 GB); set PINPOINT_BENCH_10M=1 to run")
	}
	s := openTemp(b)
	ctx := b.Context()
	start := time.Now()
	// Fill in one statement: a recursive CTE generates the rows inside
	// SQLite, and the indexes are built once afterwards (sorting), which is
	// far faster than maintaining them row by row.
	fill := []string{
		`DROP INDEX calls_request_id`,
		`DROP INDEX calls_time`,
		fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
INSERT INTO calls (`+callColumns+`)
SELECT 1773446400000000000 + i * 86400000, printf('01JD%%022d', i), CASE i %% 3 WHEN 0 THEN 'orders' WHEN 1 THEN 'users' ELSE 'billing' END,
  'GET', 'api.example.com', '/orders/' || (i %% 1000), CASE WHEN i %% 10 = 0 THEN 403 ELSE 200 END,
  CASE WHEN i %% 10 = 0 THEN 'authz.scope_missing' ELSE '' END, CASE WHEN i %% 10 = 0 THEN 'gateway' ELSE '' END,
  CASE WHEN i %% 10 = 0 THEN 'authz' ELSE '' END, '203.0.113.' || (i %% 250), '10.0.0.1:8080', 1, 850000, 600000,
  512, 2048, 42,
  CASE WHEN i %% 10 = 0 THEN CAST('[{"stage":"authz","outcome":"deny","rule":"orders-write","duration_ns":1200}]' AS BLOB) END,
  'consumer-' || (i %% 5000), 'pp_live_' || (i %% 20000),
  CASE WHEN i %% 10 = 0 THEN CAST('{"method":"GET","url":"/orders","headers":{"Authorization":["[redacted]"]}}' AS BLOB) END
FROM n`, bench10MRows),
		`CREATE INDEX calls_time ON calls (time)`,
		`CREATE INDEX calls_request_id ON calls (request_id)`,
		`ANALYZE`,
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		for _, q := range fill {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%.40s: %w", q, err)
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	b.Logf("filled %d records in %v", bench10MRows, time.Since(start).Round(time.Millisecond))
	benchLookups(b, s)
}

// benchLookups times QueryCalls by random request ids and reports the
// slowest and the 99th percentile next to the mean.
func benchLookups(b *testing.B, s *Store) {
	rng := rand.New(rand.NewPCG(1, 2))
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		id := benchRequestID(1 + rng.IntN(bench10MRows))
		t0 := time.Now()
		got, err := s.QueryCalls(b.Context(), store.CallQuery{RequestID: id})
		lat = append(lat, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != 1 || got[0].RequestID != id {
			b.Fatalf("lookup of %s found %d records", id, len(got))
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}

// sketchMerge stands in for the analytics sketch merge: fixed-size
// counters added bytewise, so rows do not grow with every merge.
func sketchMerge(old, new []byte) []byte {
	out := slices.Clone(old)
	for i := range min(len(out), len(new)) {
		out[i] += new[i]
	}
	return out
}

// benchRollups is a roll-up writer's flush: 500 rows of one minute, one
// row per route, consumer and outcome, each with a 256-byte sketch.
func benchRollups(bucket time.Time) []store.Rollup {
	rows := make([]store.Rollup, 500)
	for i := range rows {
		r := store.Rollup{Level: store.LevelMinute, Bucket: bucket, Node: "gw-1", Kind: store.RollupRequest,
			Route: fmt.Sprint("route-", i%25), Consumer: fmt.Sprint("consumer-", i/25), StatusClass: 2,
			Count: 40, LatencySum: 40 * time.Millisecond, Latency: bytes.Repeat([]byte{1}, 256)}
		if i%5 == 0 {
			r.Code, r.Stage, r.Layer, r.StatusClass = "authz.scope_missing", "authz", "gateway", 4
		}
		rows[i] = r
	}
	return rows
}

// BenchmarkAddRollups measures AddRollups of 500 rows whose keys are
// already stored (the steady state within a minute: every flush merges).
func BenchmarkAddRollups(b *testing.B) {
	s := openTemp(b)
	rows := benchRollups(time.Date(2026, 3, 14, 15, 9, 0, 0, time.UTC))
	if err := s.AddRollups(b.Context(), rows, sketchMerge); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := s.AddRollups(b.Context(), rows, sketchMerge); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(rows))/b.Elapsed().Seconds(), "rows/s")
}
