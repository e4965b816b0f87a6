package sqlite

import (
	"fmt"
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
