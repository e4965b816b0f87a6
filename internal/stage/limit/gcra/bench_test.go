package gcra

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// benchKeys are the callers a benchmark spreads its requests over.
func benchKeys(n int) []string {
	ks := make([]string, n)
	for i := range ks {
		ks[i] = "c_" + strconv.Itoa(i*7919)
	}
	return ks
}

// decide is one whole local decision as the limit stage makes it: hash the
// limit and the caller, then check and charge.
func decide(s *Store, lim Limit, id LimitID, consumer string, now int64) bool {
	r := [1]Request{{Key: s.Key(id, 1, consumer), Limit: lim, Enforce: true}}
	return s.Take(now, r[:])
}

// BenchmarkLocalDecision measures one decision (key hashing included) over
// 10k callers on one core. Target: ≤ 200 ns/op, 0 allocs/op.
func BenchmarkLocalDecision(b *testing.B) {
	s := NewStore()
	lim, _ := NewLimit(1000, time.Second, 0)
	keys := benchKeys(10000)
	id := s.LimitID("orders", "per-key", "1000/s")
	now := time.Now().UnixNano()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		decide(s, lim, id, keys[i%len(keys)], now+int64(i)*1000)
	}
}

// BenchmarkLocalDecisionParallel is BenchmarkLocalDecision from every core
// at once, on one shared store.
func BenchmarkLocalDecisionParallel(b *testing.B) {
	s := NewStore()
	lim, _ := NewLimit(1000, time.Second, 0)
	keys := benchKeys(10000)
	id := s.LimitID("orders", "per-key", "1000/s")
	start := time.Now().UnixNano()
	var seq atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seq.Add(1)) * 1237
		for pb.Next() {
			i++
			decide(s, lim, id, keys[i%len(keys)], start+int64(i)*1000)
		}
	})
}

// BenchmarkLocalDecisionTwoLimits decides two limits of one request
// atomically (two shards locked in order).
func BenchmarkLocalDecisionTwoLimits(b *testing.B) {
	s := NewStore()
	l1, _ := NewLimit(1000, time.Second, 0)
	l2, _ := NewLimit(100000, time.Hour, 0)
	id1, id2 := s.LimitID("orders", "per-second", "1000/s"), s.LimitID("orders", "per-hour", "100000/h")
	keys := benchKeys(10000)
	now := time.Now().UnixNano()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		r := [2]Request{
			{Key: s.Key(id1, 1, keys[i%len(keys)]), Limit: l1, Enforce: true},
			{Key: s.Key(id2, 1, keys[i%len(keys)]), Limit: l2, Enforce: true},
		}
		s.Take(now+int64(i)*1000, r[:])
	}
}
