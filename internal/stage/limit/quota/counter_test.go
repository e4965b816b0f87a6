package quota

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pinpointgw/pinpoint/internal/stage/stagetest"
	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
)

var march = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// sqliteStore opens a fresh SQLite store (the gateway's own) in the test's
// directory.
func sqliteStore(t *testing.T) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pinpoint.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// flakyStore is a store.Quotas over a map whose calls fail while fail is
// set: the store outage the counter must survive.
type flakyStore struct {
	mu    sync.Mutex
	m     map[string]int64
	fail  atomic.Bool
	reads atomic.Int64
}

func newFlaky() *flakyStore { return &flakyStore{m: map[string]int64{}} }

var errDown = errors.New("store down")

func flakyKey(route, quota, key string, period time.Time) string {
	return route + "|" + quota + "|" + key + "|" + strconv.FormatInt(period.Unix(), 10)
}

func (f *flakyStore) AddQuotaUsage(_ context.Context, ds []store.QuotaDelta) error {
	if f.fail.Load() {
		return errDown
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range ds {
		f.m[flakyKey(d.Route, d.Quota, d.Key, d.Period)] += d.N
	}
	return nil
}

func (f *flakyStore) QuotaUsage(_ context.Context, route, quota, key string, period time.Time) (int64, error) {
	f.reads.Add(1)
	if f.fail.Load() {
		return 0, errDown
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[flakyKey(route, quota, key, period)], nil
}

func (f *flakyStore) ListQuotaUsage(context.Context, store.QuotaFilter) ([]store.QuotaUsage, error) {
	return nil, errors.New("not used by the counter")
}

func (f *flakyStore) DeleteQuotaUsageBefore(context.Context, time.Time) (int64, error) {
	return 0, errors.New("not used by the counter")
}

func (f *flakyStore) get(r Ref) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[flakyKey(r.Route, r.Quota, r.Key(), r.Period)]
}

func ref(id string) Ref {
	return Ref{Route: "orders", Quota: "monthly", Kind: "consumer", ID: id, Period: march}
}

func take(c *Counter, limit int64, enforce bool, refs ...Ref) ([]Item, bool) {
	items := make([]Item, len(refs))
	for i, r := range refs {
		items[i] = Item{Ref: r, Limit: limit, Enforce: enforce}
	}
	ok := c.Take(context.Background(), items)
	return items, ok
}

func newCounter(t *testing.T, st store.Quotas, clock *stagetest.Clock) *Counter {
	t.Helper()
	c := NewCounter(st, Options{FlushEvery: -1, Clock: clock.Now, Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestTakeUpToLimit(t *testing.T) {
	t.Parallel()
	st, _ := sqliteStore(t)
	c := newCounter(t, st, stagetest.NewClock(march))
	for i := range 3 {
		items, ok := take(c, 3, true, ref("c_1"))
		if !ok || items[0].Used != int64(i+1) || !items[0].Loaded {
			t.Fatalf("request %d: ok %v, %+v", i+1, ok, items[0])
		}
	}
	items, ok := take(c, 3, true, ref("c_1"))
	if ok || items[0].Fits || items[0].Charged || items[0].Used != 3 {
		t.Fatalf("4th request of 3: ok %v, %+v", ok, items[0])
	}
	if _, ok := take(c, 3, true, ref("c_2")); !ok {
		t.Fatal("another consumer shares c_1's quota")
	}
}

// A request must fit every quota; a refusal counts in none.
func TestTakeAllOrNone(t *testing.T) {
	t.Parallel()
	c := newCounter(t, newFlaky(), stagetest.NewClock(march))
	daily := Ref{Route: "orders", Quota: "daily", Kind: "consumer", ID: "c", Period: march}
	monthly := ref("c")
	for range 2 {
		if !c.Take(context.Background(), []Item{{Ref: daily, Limit: 2, Enforce: true}, {Ref: monthly, Limit: 10, Enforce: true}}) {
			t.Fatal("refused within both quotas")
		}
	}
	items := []Item{{Ref: daily, Limit: 2, Enforce: true}, {Ref: monthly, Limit: 10, Enforce: true}}
	if c.Take(context.Background(), items) {
		t.Fatal("admitted beyond the daily quota")
	}
	if !items[1].Fits || items[1].Charged || items[1].Used != 2 {
		t.Fatalf("monthly after a daily refusal: %+v", items[1])
	}
	c.Return(items) // returning uncharged items changes nothing
	if u, _ := c.Usage(context.Background(), monthly); u != 2 {
		t.Fatalf("monthly usage %d, want 2", u)
	}
}

func TestReportOnlyCountsEverything(t *testing.T) {
	t.Parallel()
	c := newCounter(t, newFlaky(), stagetest.NewClock(march))
	for i := range 5 {
		items, ok := take(c, 2, false, ref("c"))
		if !ok || !items[0].Charged || items[0].Fits != (i < 2) || items[0].Used != int64(i+1) {
			t.Fatalf("request %d: ok %v %+v", i+1, ok, items[0])
		}
	}
}

func TestReturn(t *testing.T) {
	t.Parallel()
	st := newFlaky()
	c := newCounter(t, st, stagetest.NewClock(march))
	items, _ := take(c, 1, true, ref("c"))
	c.Return(items)
	if items[0].Charged {
		t.Fatal("still charged")
	}
	if _, ok := take(c, 1, true, ref("c")); !ok {
		t.Fatal("the returned request still counts")
	}
	// A return after the count was flushed is flushed too.
	items, _ = take(c, 5, true, ref("c"))
	if err := c.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	c.Return(items)
	if err := c.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if v := st.get(ref("c")); v != 1 {
		t.Errorf("stored %d, want 1", v)
	}
}

// A restart (a new counter on the same store) must not reset a quota.
func TestPersistAcrossRestart(t *testing.T) {
	t.Parallel()
	st, path := sqliteStore(t)
	clock := stagetest.NewClock(march.Add(36 * time.Hour))
	c := NewCounter(st, Options{FlushEvery: -1, Clock: clock.Now})
	for range 7 {
		take(c, 10, true, ref("c_1"))
	}
	take(c, 10, true, ref("c_2"))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st2, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	c2 := NewCounter(st2, Options{FlushEvery: -1, Clock: clock.Now})
	defer c2.Close()
	for i := range 3 {
		items, ok := take(c2, 10, true, ref("c_1"))
		if !ok || items[0].Used != int64(8+i) {
			t.Fatalf("after restart, request %d: ok %v used %d", i+1, ok, items[0].Used)
		}
	}
	if _, ok := take(c2, 10, true, ref("c_1")); ok {
		t.Fatal("quota reset by the restart")
	}
	if u, err := c2.Usage(t.Context(), ref("c_2")); err != nil || u != 1 {
		t.Fatalf("c_2 usage %d, %v", u, err)
	}
	// The next period starts from zero.
	next := ref("c_1")
	next.Period = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	if items, ok := take(c2, 10, true, next); !ok || items[0].Used != 1 {
		t.Fatalf("new period: ok %v used %d", ok, items[0].Used)
	}
}

// The background flusher writes counts every FlushEvery without being
// asked, and Close writes the rest.
func TestBackgroundFlush(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		st := newFlaky()
		c := NewCounter(st, Options{FlushEvery: time.Second})
		take(c, 10, true, ref("c"))
		time.Sleep(time.Second / 2)
		synctest.Wait()
		if v := st.get(ref("c")); v != 0 {
			t.Fatalf("flushed %d before FlushEvery", v)
		}
		time.Sleep(time.Second / 2)
		synctest.Wait()
		if v := st.get(ref("c")); v != 1 {
			t.Fatalf("stored %d after FlushEvery, want 1", v)
		}
		take(c, 10, true, ref("c"))
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if v := st.get(ref("c")); v != 2 {
			t.Fatalf("stored %d after Close, want 2", v)
		}
	})
}

// While the store is down nothing is lost: reads are retried, counts stay
// pending and are flushed once it is back.
func TestStoreOutage(t *testing.T) {
	t.Parallel()
	st := newFlaky()
	clock := stagetest.NewClock(march)
	c := newCounter(t, st, clock)
	st.m[flakyKey("orders", "monthly", "consumer:c", march)] = 5 // from before the restart

	st.fail.Store(true)
	items, ok := take(c, 6, true, ref("c"))
	if !ok || items[0].Loaded || items[0].Used != 1 {
		t.Fatalf("store down: ok %v %+v (want admitted, counted locally from 0)", ok, items[0])
	}
	reads := st.reads.Load()
	take(c, 6, true, ref("c"))
	if st.reads.Load() != reads {
		t.Error("the read was retried before RetryLoad passed")
	}
	if err := c.Flush(t.Context()); err != nil {
		t.Fatalf("flush of unloaded counters must not fail: %v", err)
	}

	st.fail.Store(false)
	clock.Advance(DefaultRetryLoad)
	items, ok = take(c, 6, true, ref("c"))
	if ok || !items[0].Loaded || items[0].Used != 7 {
		t.Fatalf("store back: ok %v %+v (want refused at 5 stored + 2 counted)", ok, items[0])
	}
	st.fail.Store(true)
	if err := c.Flush(t.Context()); err == nil {
		t.Fatal("flush against a dead store reported success")
	}
	st.fail.Store(false)
	if err := c.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if v := st.get(ref("c")); v != 7 {
		t.Errorf("stored %d after the outage, want 7", v)
	}
}

// Idle counters leave memory once flushed and are read back when used.
func TestIdleEviction(t *testing.T) {
	t.Parallel()
	st := newFlaky()
	clock := stagetest.NewClock(march)
	c := newCounter(t, st, clock)
	for i := range 100 {
		take(c, 10, true, ref(strconv.Itoa(i)))
	}
	clock.Advance(DefaultIdleAfter + time.Second)
	if err := c.Flush(t.Context()); err != nil { // writes the counts
		t.Fatal(err)
	}
	if err := c.Flush(t.Context()); err != nil { // drops the idle counters
		t.Fatal(err)
	}
	if n := c.Len(); n != 0 {
		t.Fatalf("%d idle counters kept", n)
	}
	if items, _ := take(c, 10, true, ref("7")); items[0].Used != 2 {
		t.Fatalf("evicted counter read back as %d, want 2", items[0].Used)
	}
}

// Concurrent requests for one counter admit exactly the limit, with
// flushes running alongside.
func TestConcurrentTake(t *testing.T) {
	t.Parallel()
	st := newFlaky()
	c := newCounter(t, st, stagetest.NewClock(march))
	var admitted atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				_ = c.Flush(context.Background())
			}
		}
	}()
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if _, ok := take(c, 500, true, ref("shared"), ref("other")); ok {
					admitted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	if n := admitted.Load(); n != 500 {
		t.Errorf("admitted %d of 800, want exactly 500", n)
	}
	if err := c.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if v := st.get(ref("shared")); v != 500 {
		t.Errorf("stored %d, want 500", v)
	}
}
