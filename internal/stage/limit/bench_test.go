package limit

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/redisconn/redistest"
	"github.com/pinpointgw/pinpoint/internal/stage/stagetest"
)

// benchExchanges are requests of n consumers, reused across iterations as
// the gateway reuses pooled exchanges.
func benchExchanges(n int) []*pipeline.Exchange {
	xs := make([]*pipeline.Exchange, n)
	for i := range xs {
		id := strconv.Itoa(i * 7919)
		xs[i] = &pipeline.Exchange{
			Request:        httptest.NewRequest("GET", "/orders", nil),
			ClientIP:       netip.MustParseAddr("192.0.2.1"),
			ResponseHeader: http.Header{},
			Identity:       pipeline.Identity{Authenticated: true, CredentialID: "k_" + id, ConsumerID: "c_" + id},
			Trace:          make([]pipeline.Step, 0, 4),
		}
	}
	return xs
}

func runHandle(b *testing.B, s *Stage, xs []*pipeline.Exchange) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		x := xs[i%len(xs)]
		x.Trace = x.Trace[:0]
		if d := s.Handle(x); d.Denied() {
			b.Fatalf("refused: %s", d.Denial.Reason)
		}
	}
}

// BenchmarkHandleTwoLimits is the stage with two local rate limits
// (per second and per hour, by consumer) over 10k consumers, on the real
// clock: key hashing, the atomic decision, the headers and the trace.
func BenchmarkHandleTwoLimits(b *testing.B) {
	n := newNode(b, stagetest.NewClock(t0))
	deps := n.deps()
	deps.Clock, deps.Observer = nil, nil // time.Now; metrics are the gateway's cost
	s, err := New("orders", []config.RateLimit{
		{Name: "per-second", Rate: "1000000/s", Key: "consumer"},
		{Name: "per-hour", Rate: "1000000000/h", Key: "consumer"},
	}, nil, deps)
	if err != nil {
		b.Fatal(err)
	}
	runHandle(b, s, benchExchanges(10000))
}

// BenchmarkHandleLimitAndQuota adds a local monthly quota to a limit.
func BenchmarkHandleLimitAndQuota(b *testing.B) {
	n := newNode(b, stagetest.NewClock(t0))
	deps := n.deps()
	deps.Clock, deps.Observer = nil, nil
	s, err := New("orders", []config.RateLimit{{Name: "per-second", Rate: "1000000/s", Key: "consumer"}},
		[]config.Quota{{Name: "monthly", Period: "month", Limit: 1 << 40}}, deps)
	if err != nil {
		b.Fatal(err)
	}
	xs := benchExchanges(10000)
	for _, x := range xs { // read every counter from the store once
		s.Handle(x)
	}
	runHandle(b, s, xs)
}

// BenchmarkHandleRedis is one request's round trip to Redis on loopback
// (one rate limit and one quota, one script call); it reports the p50
// and p99 latency of Handle.
func BenchmarkHandleRedis(b *testing.B) {
	n := newNode(b, stagetest.NewClock(t0))
	n.redis = redistest.Client(b)
	deps := n.deps()
	deps.Clock, deps.Observer = nil, nil
	s, err := New("orders", []config.RateLimit{{Name: "per-second", Rate: "1000000/s", Key: "consumer", Store: "redis"}},
		[]config.Quota{{Name: "monthly", Period: "month", Limit: 1 << 40, Store: "redis"}}, deps)
	if err != nil {
		b.Fatal(err)
	}
	xs := benchExchanges(1000)
	lat := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		x := xs[i%len(xs)]
		x.Trace = x.Trace[:0]
		start := time.Now()
		if d := s.Handle(x); d.Denied() {
			b.Fatalf("refused: %s", d.Denial.Reason)
		}
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(start))
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	}
}
