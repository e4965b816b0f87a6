package postgres

import (
	"fmt"
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
