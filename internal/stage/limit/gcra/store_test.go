package gcra

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// t0 is the tests' time: an arbitrary instant in Unix nanoseconds.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano()

func mustLimit(t testing.TB, count int, per time.Duration, burst int) Limit {
	t.Helper()
	l, err := NewLimit(count, per, burst)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestNewLimit(t *testing.T) {
	t.Parallel()
	l := mustLimit(t, 10, time.Second, 0)
	if l.Interval != int64(100*time.Millisecond) || l.Burst != 10 || l.Tolerance() != time.Second {
		t.Errorf("10/s: %+v, tolerance %v", l, l.Tolerance())
	}
	if l := mustLimit(t, 3, time.Second, 1); l.Interval != 333333333 {
		t.Errorf("3/s interval %d, want 333333333 (rounded)", l.Interval)
	}
	for _, c := range []struct {
		count int
		per   time.Duration
		burst int
	}{
		{0, time.Second, 0},
		{10, 0, 0},
		{10, time.Second, -1},
		{2_000_000, time.Second, 0},          // faster than 1/µs
		{1, 24 * time.Hour, 1 << 40},         // burst × interval overflows
		{1_000_000_000, time.Hour * 1000, 0}, // fine: 3.6µs
		{1, time.Millisecond, 1 << 60},       // overflows
	} {
		_, err := NewLimit(c.count, c.per, c.burst)
		ok := c.count == 1_000_000_000
		if (err == nil) != ok {
			t.Errorf("NewLimit(%d, %v, %d) error %v", c.count, c.per, c.burst, err)
		}
	}
}

func TestStateBurstAndRefill(t *testing.T) {
	t.Parallel()
	s := NewStore()
	id := s.LimitID("orders", "per-key", "10/s")
	l := mustLimit(t, 10, time.Second, 0)
	k := s.Key(id, 1, "c_1")
	take := func(now int64) (Request, bool) {
		r := [1]Request{{Key: k, Limit: l, Enforce: true}}
		ok := s.Take(now, r[:])
		return r[0], ok
	}
	for i := range 10 {
		r, ok := take(t0)
		if !ok || !r.Charged {
			t.Fatalf("request %d of the burst refused", i+1)
		}
		st := l.State(r.TAT, t0)
		wait := time.Duration(0)
		if i == 9 {
			wait = 100 * time.Millisecond // the burst is used up
		}
		if st.Remaining != int64(9-i) || st.Reset != time.Duration(i+1)*100*time.Millisecond || st.RetryAfter != wait {
			t.Fatalf("after %d: %+v", i+1, st)
		}
	}
	r, ok := take(t0)
	if ok || r.Fits || r.Charged {
		t.Fatal("11th request at once admitted")
	}
	st := l.State(r.TAT, t0)
	if st.Remaining != 0 || st.RetryAfter != 100*time.Millisecond || st.Reset != time.Second {
		t.Fatalf("refused state %+v", st)
	}
	if _, ok := take(t0 + int64(99*time.Millisecond)); ok {
		t.Fatal("admitted before one interval passed")
	}
	if _, ok := take(t0 + int64(100*time.Millisecond)); !ok {
		t.Fatal("refused after one interval")
	}
	// After a full tolerance of silence the whole burst is back.
	later := t0 + int64(3*time.Second)
	for i := range 10 {
		if _, ok := take(later); !ok {
			t.Fatalf("request %d of the second burst refused", i+1)
		}
	}
}

// A request must fit every limit; when one refuses, the others are not
// charged.
func TestTakeAllOrNone(t *testing.T) {
	t.Parallel()
	s := NewStore()
	fast := mustLimit(t, 100, time.Second, 0)
	slow := mustLimit(t, 2, time.Minute, 0)
	kf := s.Key(s.LimitID("r", "fast", "100/s"), 1, "c")
	ks := s.Key(s.LimitID("r", "slow", "2/m"), 1, "c")
	req := func() []Request {
		return []Request{{Key: kf, Limit: fast, Enforce: true}, {Key: ks, Limit: slow, Enforce: true}}
	}
	for range 2 {
		if !s.Take(t0, req()) {
			t.Fatal("refused within both limits")
		}
	}
	for range 5 {
		r := req()
		if s.Take(t0, r) {
			t.Fatal("admitted beyond the slow limit")
		}
		if !r[0].Fits || r[0].Charged || r[1].Fits {
			t.Fatalf("fast fits %v charged %v, slow fits %v", r[0].Fits, r[0].Charged, r[1].Fits)
		}
	}
	// The fast limit was charged only twice: 98 more fit at once.
	n := 0
	for s.Take(t0, []Request{{Key: kf, Limit: fast, Enforce: true}}) {
		n++
	}
	if n != 98 {
		t.Errorf("fast limit had room for %d more, want 98 (refused requests were charged)", n)
	}
}

// A report_only limit that does not fit refuses nothing and is not charged.
func TestTakeReportOnly(t *testing.T) {
	t.Parallel()
	s := NewStore()
	l := mustLimit(t, 1, time.Second, 0)
	enforced := mustLimit(t, 100, time.Second, 0)
	kr := s.Key(s.LimitID("r", "trial", "1/s"), 1, "c")
	ke := s.Key(s.LimitID("r", "main", "100/s"), 1, "c")
	for i := range 5 {
		r := []Request{{Key: kr, Limit: l}, {Key: ke, Limit: enforced, Enforce: true}}
		if !s.Take(t0, r) {
			t.Fatalf("request %d refused by a report_only limit", i+1)
		}
		if r[0].Fits != (i == 0) || r[0].Charged != (i == 0) {
			t.Fatalf("request %d: report_only fits %v charged %v", i+1, r[0].Fits, r[0].Charged)
		}
	}
	// Uncharged would-denies leave the report_only limit exactly one
	// interval ahead: it fits again after 1s.
	if r := []Request{{Key: kr, Limit: l}}; !s.Take(t0+int64(time.Second), r) || !r[0].Charged {
		t.Fatal("report_only limit still exhausted after its interval")
	}
}

func TestReturn(t *testing.T) {
	t.Parallel()
	s := NewStore()
	l := mustLimit(t, 2, time.Second, 0)
	k := s.Key(s.LimitID("r", "l", "2/s"), 1, "c")
	r := []Request{{Key: k, Limit: l, Enforce: true}}
	s.Take(t0, r)
	s.Return(r)
	if r[0].Charged {
		t.Error("still marked charged after Return")
	}
	s.Return(r) // a second Return gives nothing back
	for i := range 2 {
		if !s.Take(t0, []Request{{Key: k, Limit: l, Enforce: true}}) {
			t.Fatalf("request %d refused after the charge was returned", i+1)
		}
	}
	if s.Take(t0, []Request{{Key: k, Limit: l, Enforce: true}}) {
		t.Fatal("admitted beyond the burst: Return gave back more than it took")
	}
}

func TestKeysDistinct(t *testing.T) {
	t.Parallel()
	s := NewStore()
	a, b := s.LimitID("ab", "c"), s.LimitID("a", "bc")
	if a == b {
		t.Fatal("limit ids ignore part boundaries")
	}
	if s.Key(a, 1, "x") == s.Key(a, 2, "x") || s.Key(a, 1, "x") == s.Key(b, 1, "x") {
		t.Fatal("kind or limit not in the key")
	}
	long := string(make([]byte, 500))
	if s.Key(a, 1, long) == s.Key(a, 1, long[:499]) || s.Key(a, 1, long) != s.Key(a, 1, long) {
		t.Fatal("long values not hashed stably and completely")
	}
	if s.Key(a, 3, "\x7f\x00\x00\x01") != s.KeyBytes(a, 3, []byte{0x7f, 0, 0, 1}) {
		t.Fatal("Key and KeyBytes differ on the same bytes")
	}
	if s2 := NewStore(); s2.Key(s2.LimitID("ab", "c"), 1, "x") == s.Key(a, 1, "x") {
		t.Fatal("two stores share seeds")
	}
}

// Keys whose first 64 bits collide must still be two counters.
func TestFirstHalfCollision(t *testing.T) {
	t.Parallel()
	s := NewStore()
	l := mustLimit(t, 1, time.Hour, 0)
	k1 := Key{Hi: 0xabcdef0123456789, Lo: 1}
	k2 := Key{Hi: 0xabcdef0123456789, Lo: 2}
	if !s.Take(t0, []Request{{Key: k1, Limit: l, Enforce: true}}) {
		t.Fatal("first key refused")
	}
	if !s.Take(t0, []Request{{Key: k2, Limit: l, Enforce: true}}) {
		t.Fatal("colliding key shares the first key's counter")
	}
	for _, k := range []Key{k1, k2} {
		if s.Take(t0, []Request{{Key: k, Limit: l, Enforce: true}}) {
			t.Fatalf("key %v: second request admitted", k)
		}
	}
	r := []Request{{Key: k2, Limit: l, Enforce: true}}
	s.Take(t0+int64(time.Hour), r)
	s.Return(r)
	if !s.Take(t0+int64(time.Hour), []Request{{Key: k2, Limit: l, Enforce: true}}) {
		t.Fatal("Return on the overflow key gave nothing back")
	}
	if s.Len() != 2 {
		t.Errorf("Len %d, want 2", s.Len())
	}
}

// Memory stays bounded: keys whose TAT has passed are dropped as new keys
// arrive.
func TestSweepBoundsMemory(t *testing.T) {
	t.Parallel()
	s := NewStore()
	l := mustLimit(t, 10, time.Second, 0) // a key is live for 100ms after one request
	id := s.LimitID("r", "l", "10/s")
	now := t0
	for i := range 200_000 {
		now += int64(10 * time.Microsecond) // 100k new callers a second
		s.Take(now, []Request{{Key: s.Key(id, 1, strconv.Itoa(i)), Limit: l, Enforce: true}})
	}
	// About 10k keys are live at any time (100ms × 100k/s).
	if n := s.Len(); n > 3*10_000+shardCount*minSweep {
		t.Errorf("store holds %d keys for about 10k live ones", n)
	}
}

// Under concurrent requests for one key, exactly the burst is admitted at
// one instant, and the refusals cost nothing.
func TestConcurrentTake(t *testing.T) {
	t.Parallel()
	s := NewStore()
	l := mustLimit(t, 500, time.Second, 0)
	other := mustLimit(t, 1_000_000, time.Second, 0)
	k := s.Key(s.LimitID("r", "l", "500/s"), 1, "shared")
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ko := s.Key(s.LimitID("r", "o", "1000000/s"), 1, strconv.Itoa(g))
			for range 200 {
				if s.Take(t0, []Request{{Key: ko, Limit: other, Enforce: true}, {Key: k, Limit: l, Enforce: true}}) {
					admitted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := admitted.Load(); n != 500 {
		t.Errorf("admitted %d of 1600 concurrent requests, want exactly the burst of 500", n)
	}
}
