package redislimit

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/redisconn"
	"github.com/pinpointgw/pinpoint/internal/redisconn/redistest"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func rate(key string, interval time.Duration, burst int64) Rate {
	return Rate{Key: key, Interval: int64(interval), Burst: burst, Enforce: true}
}

func TestRateBurstAndRefill(t *testing.T) {
	t.Parallel()
	s := New(redistest.Client(t))
	k := s.RateKey("lim1", "consumer", "c_1")
	// One a second, ten at once: keys live up to 10s, as Redis expires
	// them in real time while the test's clock stands still.
	for i := range 10 {
		r := []Rate{rate(k, time.Second, 10)}
		ok, err := s.Take(t.Context(), now, r, nil)
		if err != nil || !ok || !r[0].Fits {
			t.Fatalf("request %d: ok %v err %v", i+1, ok, err)
		}
		if want := now.UnixNano() + int64(i+1)*int64(time.Second); r[0].TAT != want {
			t.Fatalf("request %d: TAT %d, want %d", i+1, r[0].TAT, want)
		}
	}
	r := []Rate{rate(k, time.Second, 10)}
	if ok, err := s.Take(t.Context(), now, r, nil); err != nil || ok || r[0].Fits {
		t.Fatalf("11th request: ok %v fits %v err %v", ok, r[0].Fits, err)
	}
	if r[0].TAT != now.UnixNano()+int64(10*time.Second) {
		t.Errorf("refused request moved the TAT to %d", r[0].TAT)
	}
	if ok, _ := s.Take(t.Context(), now.Add(time.Second), []Rate{rate(k, time.Second, 10)}, nil); !ok {
		t.Error("refused one interval later")
	}
	// The key vanishes when its TAT passes.
	pttl, err := s.c.PTTL(t.Context(), k).Result()
	if err != nil || pttl <= 0 || pttl > 10*time.Second+2*time.Millisecond {
		t.Errorf("PTTL %v, %v: want at most the 10s tolerance", pttl, err)
	}
}

// Every limit and quota of a request is decided together: one refusal and
// nothing is charged or counted.
func TestAllOrNone(t *testing.T) {
	t.Parallel()
	s := New(redistest.Client(t))
	fast, slow := s.RateKey("fast", "ip", "192.0.2.1"), s.RateKey("slow", "ip", "192.0.2.1")
	period := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	q := s.QuotaKey("q1", "ip", "192.0.2.1", period)
	end := period.AddDate(0, 1, 0)
	req := func() ([]Rate, []Quota) {
		// fast's key lives 2s (its TAT ahead of now): long enough for the
		// test, since Redis expires keys in real time.
		return []Rate{rate(fast, time.Second, 100), rate(slow, 30*time.Second, 2)},
			[]Quota{{Key: q, Limit: 100, End: end, Enforce: true}}
	}
	for range 2 {
		if ok, err := s.Take(t.Context(), now, nil, nil); err != nil || !ok {
			t.Fatalf("empty request: %v %v", ok, err)
		}
		r, qs := req()
		if ok, err := s.Take(t.Context(), now, r, qs); err != nil || !ok {
			t.Fatalf("within every limit: ok %v err %v", ok, err)
		}
	}
	r, qs := req()
	ok, err := s.Take(t.Context(), now, r, qs)
	if err != nil || ok || !r[0].Fits || r[1].Fits || !qs[0].Fits || qs[0].Used != 2 {
		t.Fatalf("beyond slow: ok %v err %v rates %+v quota %+v", ok, err, r, qs)
	}
	if n, _ := s.Used(t.Context(), q); n != 2 {
		t.Errorf("quota counted %d, want 2 (the refused request counted)", n)
	}
	if tat, _ := s.c.Get(t.Context(), fast).Int64(); tat != (now.UnixNano()+2*int64(time.Second))/1000 {
		t.Errorf("fast TAT %d µs: the refused request charged it", tat)
	}
	pttl, _ := s.c.PTTL(t.Context(), q).Result()
	if want := end.Add(QuotaSlack).Sub(now); pttl <= 0 || pttl > want || pttl < want-time.Minute {
		t.Errorf("quota PTTL %v, want about %v (period end + slack)", pttl, want)
	}
}

func TestQuotaLimitAndReportOnly(t *testing.T) {
	t.Parallel()
	s := New(redistest.Client(t))
	period := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	enforced := s.QuotaKey("daily", "consumer", "c", period)
	trial := s.QuotaKey("trial", "consumer", "c", period)
	for i := range 5 {
		qs := []Quota{{Key: enforced, Limit: 3, End: period.Add(24 * time.Hour), Enforce: true}, {Key: trial, Limit: 1, End: period.Add(24 * time.Hour)}}
		ok, err := s.Take(t.Context(), now, nil, qs)
		if err != nil {
			t.Fatal(err)
		}
		if ok != (i < 3) || qs[0].Fits != (i < 3) || qs[1].Fits != (i == 0) {
			t.Fatalf("request %d: ok %v quotas %+v", i+1, ok, qs)
		}
	}
	// The report_only quota counted the three admitted requests.
	if n, _ := s.Used(t.Context(), trial); n != 3 {
		t.Errorf("report_only quota counted %d, want 3", n)
	}
	if n, err := s.Used(t.Context(), s.QuotaKey("none", "consumer", "c", period)); n != 0 || err != nil {
		t.Errorf("absent quota: %d, %v", n, err)
	}
}

// Two stores on one Redis (two gateway nodes) share the limit.
func TestTwoNodesShare(t *testing.T) {
	t.Parallel()
	cfg := redistest.Config(t)
	var nodes [2]*Store
	for i := range nodes {
		c, err := redisconn.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		nodes[i] = New(c)
	}
	k := nodes[0].RateKey("shared", "route", "")
	admitted := 0
	for i := range 40 {
		if ok, err := nodes[i%2].Take(t.Context(), now, []Rate{rate(k, time.Second, 25)}, nil); err != nil {
			t.Fatal(err)
		} else if ok {
			admitted++
		}
	}
	if admitted != 25 {
		t.Errorf("two nodes admitted %d, want the shared burst of 25", admitted)
	}
}

// An unreachable Redis is an error, then ErrDown without a network call
// until Backoff passed.
func TestOutageBackoff(t *testing.T) {
	t.Parallel()
	c, err := redisconn.Open(redistest.DeadConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := New(c)
	r := []Rate{rate(s.RateKey("x", "route", ""), time.Second, 1)}
	if _, err := s.Take(context.Background(), now, r, nil); err == nil || errors.Is(err, ErrDown) {
		t.Fatalf("dead Redis: %v, want the connection error", err)
	}
	if _, err := s.Take(context.Background(), now.Add(Backoff/2), r, nil); !errors.Is(err, ErrDown) {
		t.Fatalf("within the backoff: %v, want ErrDown", err)
	}
	if _, err := s.Take(context.Background(), now.Add(Backoff), r, nil); err == nil || errors.Is(err, ErrDown) {
		t.Fatalf("after the backoff: %v, want a new attempt", err)
	}
}
