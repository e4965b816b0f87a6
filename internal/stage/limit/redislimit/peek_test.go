package redislimit

import (
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/redisconn/redistest"
)

// TestPeekWritesNothing: the peek script answers like decide and leaves
// every key as it was.
func TestPeekWritesNothing(t *testing.T) {
	t.Parallel()
	s := New(redistest.Client(t))
	k := s.RateKey("peek", "consumer", "c_1")
	period := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	q := s.QuotaKey("peekq", "consumer", "c_1", period)
	quota := func() []Quota { return []Quota{{Key: q, Limit: 2, End: period.AddDate(0, 1, 0), Enforce: true}} }
	for range 3 {
		r := []Rate{rate(k, time.Second, 2)}
		qs := quota()
		ok, err := s.Peek(t.Context(), now, r, qs)
		if err != nil || !ok || !r[0].Fits || r[0].TAT != now.UnixNano()+int64(time.Second) || qs[0].Used != 1 {
			t.Fatalf("peek: ok %v err %v %+v %+v", ok, err, r[0], qs[0])
		}
	}
	if n, err := s.c.Exists(t.Context(), k, q).Result(); err != nil || n != 0 {
		t.Fatalf("peek created %d keys (%v)", n, err)
	}
	for range 2 {
		if ok, err := s.Take(t.Context(), now, []Rate{rate(k, time.Second, 2)}, quota()); err != nil || !ok {
			t.Fatalf("take: %v %v", ok, err)
		}
	}
	r, qs := []Rate{rate(k, time.Second, 2)}, quota()
	if ok, err := s.Peek(t.Context(), now, r, qs); err != nil || ok || r[0].Fits || qs[0].Fits || qs[0].Used != 2 {
		t.Fatalf("peek of used-up limits: ok %v err %v %+v %+v", ok, err, r[0], qs[0])
	}
	if used, err := s.Used(t.Context(), q); err != nil || used != 2 {
		t.Fatalf("quota count %d (%v), want 2", used, err)
	}
}
