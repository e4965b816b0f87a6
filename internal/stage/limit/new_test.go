package limit

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/stage/limit/gcra"
	"github.com/pinpointgw/pinpoint/internal/stage/stagetest"
)

func TestNewWithoutLimits(t *testing.T) {
	t.Parallel()
	s, err := New("orders", nil, nil, Deps{})
	if s != nil || err != nil {
		t.Fatalf("New with nothing to enforce = %v, %v; want nil, nil", s, err)
	}
}

// Construction errors name the field, relative to the route, so the
// gateway can position them in the config file.
func TestNewErrors(t *testing.T) {
	t.Parallel()
	n := newNode(t, stagetest.NewClock(t0))
	_, err := New("orders", []config.RateLimit{
		{Name: "ok", Rate: "10/s"},
		{Name: "bad-rate", Rate: "ten per second"},
		{Name: "too-fast", Rate: "2000000/s"},
		{Name: "bad-key", Rate: "1/s", Key: "user"},
		{Name: "ok", Rate: "1/s"},
		{Name: "bad-mode", Rate: "1/s", Mode: "audit", Store: "disk", OnStoreError: "ignore"},
		{Rate: "1/s"},
	}, []config.Quota{
		{Name: "q1", Period: "week", Limit: 1},
		{Name: "q2", Period: "day", Limit: 1, TimeZone: "Mars/Olympus"},
		{Name: "q3", Period: "day"},
		{Name: "q4", Period: "day", Limit: 1, Key: "ip", Plans: map[string]int64{"free": 0}},
	}, n.deps())
	if err == nil {
		t.Fatal("no error")
	}
	var paths []string
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, inner := range j.Unwrap() {
				walk(inner)
			}
			return
		}
		var fe *config.FieldError
		if !errors.As(e, &fe) {
			t.Errorf("not a FieldError: %v", e)
			return
		}
		paths = append(paths, fe.Path)
	}
	walk(err)
	want := []string{
		"rate_limits[1].rate", "rate_limits[2].rate", "rate_limits[3].key", "rate_limits[4].name",
		"rate_limits[5].store", "rate_limits[5].on_store_error", "rate_limits[5].mode", "rate_limits[6].name",
		"quotas[0].period", "quotas[1].time_zone", "quotas[2].limit", "quotas[3].plans.free", "quotas[3].key",
	}
	if !slices.Equal(paths, want) {
		t.Errorf("error paths\n%v\nwant\n%v\n(%v)", paths, want, err)
	}
}

func TestNewNeedsItsDeps(t *testing.T) {
	t.Parallel()
	n := newNode(t, stagetest.NewClock(t0))
	if _, err := New("orders", []config.RateLimit{{Name: "l", Rate: "1/s"}}, nil, Deps{}); err == nil {
		t.Error("rate limits without Deps.Rates accepted")
	}
	if _, err := New("orders", nil, []config.Quota{{Name: "q", Period: "day", Limit: 1}}, Deps{}); err == nil {
		t.Error("local quotas without Deps.Quotas accepted")
	}
	_, err := New("orders", []config.RateLimit{{Name: "l", Rate: "1/s", Store: "redis"}}, nil, n.deps())
	var fe *config.FieldError
	if !errors.As(err, &fe) || !strings.Contains(fe.Message, "redis block") {
		t.Errorf("store: redis without a client: %v", err)
	}
}

// A reload (a new stage from the same config on the same stores) keeps
// counting; a changed rate starts fresh.
func TestReloadKeepsCounts(t *testing.T) {
	t.Parallel()
	n := newNode(t, stagetest.NewClock(t0))
	cfg := []config.RateLimit{{Name: "per-key", Rate: "2/m", Key: "credential"}}
	rev1 := n.stage(t, cfg, nil)
	for range 2 {
		if a := handle(rev1, Who{Credential: "k1"}); a.code() != "" {
			t.Fatal(a.code())
		}
	}
	rev2 := n.stage(t, cfg, nil)
	if a := handle(rev2, Who{Credential: "k1"}); a.code() != "ratelimit.exceeded" {
		t.Fatalf("after a reload of the same config: %q, want the count kept", a.code())
	}
	rev3 := n.stage(t, []config.RateLimit{{Name: "per-key", Rate: "3/m", Key: "credential"}}, nil)
	if a := handle(rev3, Who{Credential: "k1"}); a.code() != "" {
		t.Fatalf("after a rate change: %q, want a fresh count", a.code())
	}
	other := n.stage(t, []config.RateLimit{{Name: "per-key2", Rate: "2/m", Key: "credential"}}, nil)
	if a := handle(other, Who{Credential: "k1"}); a.code() != "" {
		t.Fatalf("another limit name shares the count: %q", a.code())
	}
}

func TestObserver(t *testing.T) {
	t.Parallel()
	n := newNode(t, stagetest.NewClock(t0))
	s := n.stage(t, []config.RateLimit{
		{Name: "fast", Rate: "10/s", Key: "ip"},
		{Name: "slow", Rate: "1/m", Key: "ip"},
		{Name: "trial", Rate: "1/h", Key: "ip", Mode: "report_only"},
	}, []config.Quota{{Name: "daily", Period: "day", Limit: 100}})
	handle(s, Who{})
	_, d := n.obs.take()
	want := []string{"orders/fast=pass", "orders/slow=pass", "orders/trial=pass", "orders/daily=pass"}
	if !slices.Equal(d, want) {
		t.Errorf("admitted: %v, want %v", d, want)
	}
	handle(s, Who{})
	_, d = n.obs.take()
	want = []string{"orders/fast=skip", "orders/slow=deny", "orders/trial=would_deny", "orders/daily=skip"}
	if !slices.Equal(d, want) {
		t.Errorf("refused: %v, want %v", d, want)
	}
}

// The quota stage survives a restart: counts flushed at Close are read
// back by the next process's counter, through the gateway's SQLite store.
func TestQuotaRestart(t *testing.T) {
	t.Parallel()
	clock := stagetest.NewClock(t0)
	n := newNode(t, clock)
	q := []config.Quota{{Name: "monthly", Period: "month", Limit: 3}}
	s1 := n.stage(t, nil, q)
	for range 2 {
		if a := handle(s1, Who{Consumer: "c1", Credential: "k1"}); a.code() != "" {
			t.Fatal(a.code())
		}
	}
	if err := n.quotas.Close(); err != nil {
		t.Fatal(err)
	}
	// The next process: new stores in memory, the same database.
	n2 := &node{rates: gcra.NewStore(), store: n.store, clock: clock, obs: &observer{}, quotas: quotaCounter(t, n.store, clock)}
	s2 := n2.stage(t, nil, q)
	if a := handle(s2, Who{Consumer: "c1", Credential: "k1"}); a.code() != "" {
		t.Fatalf("3rd request after the restart: %q", a.code())
	}
	if a := handle(s2, Who{Consumer: "c1", Credential: "k1"}); a.code() != "quota.exceeded" {
		t.Fatalf("4th request after the restart: %q, want quota.exceeded (the restart reset the quota)", a.code())
	}
	u, err := s2.QuotaUsage(t.Context(), "monthly", "consumer:c1", "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if u.Used != 3 || u.Limit != 3 || u.Store != "local" || u.Key != "consumer:c1" ||
		!u.Period.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) || !u.Reset.Equal(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("usage %+v", u)
	}
}

func TestQuotaUsage(t *testing.T) {
	t.Parallel()
	n := newNode(t, stagetest.NewClock(t0))
	s := n.stage(t, nil, []config.Quota{
		{Name: "monthly", Period: "month", Limit: 10, Plans: map[string]int64{"pro": 100}, TimeZone: "Europe/Berlin"},
		{Name: "daily", Period: "day", Limit: 5},
	})
	handle(s, Who{Consumer: "c1", Credential: "k1", Metadata: map[string]string{"plan": "pro"}})
	handle(s, Who{Consumer: "c1", Credential: "k1", Metadata: map[string]string{"plan": "pro"}})
	handle(s, Who{IP: "2001:db8::7"})
	u, err := s.QuotaUsage(t.Context(), "monthly", "consumer:c1", "pro", time.Time{})
	if err != nil || u.Used != 2 || u.Limit != 100 || u.Plan != "pro" || !u.Period.Equal(time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("consumer usage %+v, %v", u, err)
	}
	// Unflushed counts are included; so are flushed ones.
	if err := n.quotas.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if u, err := s.QuotaUsage(t.Context(), "daily", "ip:2001:db8::7", "", time.Time{}); err != nil || u.Used != 1 || u.Limit != 5 {
		t.Errorf("ip usage %+v, %v", u, err)
	}
	if u, _ := s.QuotaUsage(t.Context(), "daily", "consumer:c1", "", t0.Add(24*time.Hour)); u.Used != 0 {
		t.Errorf("next day's usage %d", u.Used)
	}
	if _, err := s.QuotaUsage(t.Context(), "weekly", "consumer:c1", "", time.Time{}); !errors.Is(err, ErrUnknownQuota) {
		t.Errorf("unknown quota: %v", err)
	}
	for _, bad := range []string{"c1", "user:c1", "ip:nope", "consumer:"} {
		if _, err := s.QuotaUsage(t.Context(), "daily", bad, "", time.Time{}); err == nil {
			t.Errorf("caller %q accepted", bad)
		}
	}
	if names := s.QuotaNames(); !slices.Equal(names, []string{"monthly", "daily"}) {
		t.Errorf("QuotaNames %v", names)
	}
}

// Concurrent requests through one stage admit exactly what the limits
// allow, and refusals charge nothing.
func TestConcurrentHandle(t *testing.T) {
	t.Parallel()
	n := newNode(t, stagetest.NewClock(t0))
	s := n.stage(t, []config.RateLimit{
		{Name: "shared", Rate: "300/s", Key: "route"},
		{Name: "per-key", Rate: "1000/s", Key: "credential"},
	}, []config.Quota{{Name: "daily", Period: "day", Limit: 250, Key: "tenant"}})
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := Who{Consumer: "c" + string(rune('a'+g)), Credential: "k" + string(rune('a'+g)), Tenant: "acme"}
			for range 100 {
				if a := handle(s, w); a.code() == "" {
					admitted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if got := admitted.Load(); got != 250 {
		t.Errorf("admitted %d of 800, want the quota's 250", got)
	}
	// The 50 requests the quota refused after the rate limit admitted them
	// gave their tokens back: 50 more fit the shared limit now.
	extra := 0
	for range 100 {
		if a := handle(s, Who{IP: "192.0.2.200"}); a.code() == "" {
			extra++
		}
	}
	if extra != 50 {
		t.Errorf("the shared limit had room for %d more, want 50", extra)
	}
}
