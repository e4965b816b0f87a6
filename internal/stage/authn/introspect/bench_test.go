package introspect

import (
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// BenchmarkCacheHit is a request whose token's answer is cached.
func BenchmarkCacheHit(b *testing.B) {
	srv := newIDPServer(b)
	m := newMethod(b, srv, newClock())
	srv.answer("2YotnFZFEjr1zCsicMWpAA", 200, active(time.Hour, map[string]any{"client_id": "orders-app", "scope": "a b"}))
	x := exchange("Bearer 2YotnFZFEjr1zCsicMWpAA")
	if _, d := m.Authenticate(x, testDirectory); d != nil {
		b.Fatal(d.Reason)
	}
	b.ReportAllocs()
	for b.Loop() {
		x.Identity = pipeline.Identity{}
		if _, d := m.Authenticate(x, testDirectory); d != nil {
			b.Fatal(d.Code)
		}
	}
	if n := srv.callsFor("2YotnFZFEjr1zCsicMWpAA"); n != 1 {
		b.Fatalf("%d calls", n)
	}
}

// BenchmarkCacheHitParallel measures the cache's lock under contention.
func BenchmarkCacheHitParallel(b *testing.B) {
	srv := newIDPServer(b)
	m := newMethod(b, srv, newClock())
	srv.answer("2YotnFZFEjr1zCsicMWpAA", 200, active(time.Hour, map[string]any{"client_id": "orders-app"}))
	if _, d := authenticate(m, "2YotnFZFEjr1zCsicMWpAA"); d != nil {
		b.Fatal(d.Reason)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		x := exchange("Bearer 2YotnFZFEjr1zCsicMWpAA")
		for pb.Next() {
			if _, d := m.Authenticate(x, testDirectory); d != nil {
				b.Fatal(d.Code)
			}
		}
	})
}
