package gcra

import (
	"testing"
	"time"
)

// TestPeekDecidesLikeTakeAndChargesNothing: a peek answers what a take
// would, and leaves the counter for the real requests.
func TestPeekDecidesLikeTakeAndChargesNothing(t *testing.T) {
	t.Parallel()
	s := NewStore()
	l := mustLimit(t, 2, time.Minute, 0)
	id := s.LimitID("route", "per-ip")
	req := func() []Request { return []Request{{Key: s.Key(id, 1, "192.0.2.1"), Limit: l, Enforce: true}} }
	for range 5 {
		r := req()
		if !s.Peek(t0, r) || !r[0].Fits || !r[0].Charged || r[0].TAT != t0+l.Interval {
			t.Fatalf("peek on a fresh key: %+v", r[0])
		}
	}
	if s.Len() != 0 {
		t.Fatalf("peek stored %d keys", s.Len())
	}
	for i := range 2 {
		if r := req(); !s.Take(t0, r) {
			t.Fatalf("take %d refused after peeks", i+1)
		}
	}
	r := req()
	if s.Peek(t0, r) || r[0].Fits || r[0].Charged || r[0].TAT != t0+2*l.Interval {
		t.Fatalf("peek of a used-up limit: %+v", r[0])
	}
	// Unpeek gives back only what the peek would have charged.
	ok := req()
	s.Peek(t0+l.Interval, ok)
	tat := ok[0].TAT
	Unpeek(ok)
	if ok[0].Charged || ok[0].TAT != tat-l.Interval {
		t.Fatalf("unpeek: %+v", ok[0])
	}
	if r := req(); s.Take(t0, r) {
		t.Fatal("peeks and unpeeks changed the stored TAT")
	}
}
