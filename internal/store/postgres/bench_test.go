package postgres

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// BenchmarkInsertCalls measures the call log's write path: batches of 500
// records written with COPY, as the gateway's call-log writer sends them.
func BenchmarkInsertCalls(b *testing.B) {
	s := openTest(b)
	const batch = 500
	calls := make([]store.Call, batch)
	base := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	for i := range calls {
		calls[i] = store.Call{Time: base.Add(time.Duration(i) * time.Millisecond), RequestID: fmt.Sprintf("req-%06d", i),
			Route: "orders", Method: "GET", Host: "api.example.com", Path: "/orders/42", Status: 200,
			ClientIP: "203.0.113.7", Target: "10.0.0.1:8080", Attempts: 1, Latency: 3 * time.Millisecond,
			UpstreamLatency: 2 * time.Millisecond, BytesIn: 120, BytesOut: 2048, Revision: 7,
			ConsumerID: "orders-app", CredentialID: "pp_live_abcdabcdabcd"}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := s.InsertCalls(b.Context(), calls); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "rows/s")
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
// request id, on a call log of 10 million records in ten daily partitions,
// against explain's target of 50 ms. It runs only with PINPOINT_BENCH_10M=1,
// in a schema of its own that is dropped afterwards.
func BenchmarkCallByRequestID10M(b *testing.B) {
	if os.Getenv(bench10MEnv) != "1" {
		b.Skip("fills a 10-million-row call log (minutes, ~3 GB); set PINPOINT_BENCH_10M=1 to run")
	}
	s := openTest(b)
	ctx := b.Context()
	first := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	const days = 10
	start := time.Now()
	err := s.parts.ensure(ctx, s.pool, func(yield func(time.Time) bool) {
		for d := range days {
			if !yield(first.AddDate(0, 0, d)) {
				return
			}
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	// One INSERT ... SELECT generate_series fills every partition inside
	// the server; the secondary indexes are built afterwards, once per
	// partition, which beats maintaining them row by row.
	perRow := (days * 24 * time.Hour) / bench10MRows
	fill := []string{
		`DROP INDEX calls_request_id`,
		`DROP INDEX calls_time`,
		fmt.Sprintf(`INSERT INTO calls (`+callColumns+`)
SELECT i, '%s'::timestamptz + i * interval '%d microseconds', '01JD' || lpad(i::text, 22, '0'),
  (ARRAY['orders', 'users', 'billing'])[i %% 3 + 1], 'GET', 'api.example.com', '/orders/' || (i %% 1000),
  CASE WHEN i %% 10 = 0 THEN 403 ELSE 200 END, CASE WHEN i %% 10 = 0 THEN 'authz.scope_missing' ELSE '' END,
  CASE WHEN i %% 10 = 0 THEN 'gateway' ELSE '' END, CASE WHEN i %% 10 = 0 THEN 'authz' ELSE '' END,
  '203.0.113.' || (i %% 250), '10.0.0.1:8080', 1, 850000, 600000, 512, 2048, 42,
  CASE WHEN i %% 10 = 0 THEN convert_to('[{"stage":"authz","outcome":"deny","rule":"orders-write","duration_ns":1200}]', 'UTF8') END,
  'consumer-' || (i %% 5000), 'pp_live_' || (i %% 20000),
  CASE WHEN i %% 10 = 0 THEN convert_to('{"method":"GET","url":"/orders","headers":{"Authorization":["[redacted]"]}}', 'UTF8') END
FROM generate_series(1, %d) AS i`, first.Format(time.RFC3339), perRow.Microseconds(), bench10MRows),
		fmt.Sprintf(`UPDATE call_counter SET last = %d`, bench10MRows),
		`CREATE INDEX calls_time ON calls (time)`,
		`CREATE INDEX calls_request_id ON calls (request_id)`,
	}
	for _, q := range fill {
		if _, err := s.pool.Exec(ctx, q); err != nil {
			b.Fatalf("%.40s: %v", q, err)
		}
	}
	if _, err := s.pool.Exec(ctx, `ANALYZE calls`); err != nil {
		b.Fatal(err)
	}
	b.Logf("filled %d records in %v", bench10MRows, time.Since(start).Round(time.Millisecond))

	rng := rand.New(rand.NewPCG(1, 2))
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		id := benchRequestID(1 + rng.IntN(bench10MRows))
		t0 := time.Now()
		got, err := s.QueryCalls(ctx, store.CallQuery{RequestID: id})
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

// BenchmarkAddRollups measures AddRollups of 500 rows whose keys are
// already stored (the steady state within a minute: every flush merges),
// each with a 256-byte sketch.
func BenchmarkAddRollups(b *testing.B) {
	s := openTest(b)
	bucket := time.Date(2026, 3, 14, 15, 9, 0, 0, time.UTC)
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
