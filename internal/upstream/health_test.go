package upstream

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// fakeProbes replaces the HTTP probe with one whose answer the test flips.
type fakeProbes struct {
	fail  atomic.Bool
	count atomic.Int64
}

func (p *fakeProbes) probe(ctx context.Context, t *target) error {
	p.count.Add(1)
	if p.fail.Load() {
		return errors.New("connection refused")
	}
	return nil
}

func TestActiveHealthThresholds(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		u := newUpstream(t, []string{"http://10.0.0.1:8080", "http://10.0.0.2:8080"}, func(c *config.Upstream) {
			c.HealthCheck.Active = config.ActiveHealthCheck{Path: "/healthz", Interval: config.Duration(time.Second),
				HealthyThreshold: 2, UnhealthyThreshold: 3}
		})
		p := &fakeProbes{}
		u.probe = p.probe
		p.fail.Store(true)
		u.Start()
		u.Start() // idempotent: still one prober per target

		// First probes land within one interval (jitter), then one per second.
		time.Sleep(2 * time.Second)
		synctest.Wait()
		for _, s := range u.Status() {
			if !s.Healthy || s.CheckDown {
				t.Fatalf("marked down after two failed probes: %+v", s)
			}
		}
		time.Sleep(time.Second)
		synctest.Wait()
		for _, s := range u.Status() {
			if s.Healthy || !s.CheckDown || s.LastError == "" {
				t.Fatalf("still up after three failed probes: %+v", s)
			}
		}
		if n := p.count.Load(); n != 6 {
			t.Fatalf("%d probes, want 3 per target", n)
		}

		// Every target down: Serve refuses without touching the network and
		// says when to come back (one check interval).
		_, d, _ := serveDirect(u, httptest.NewRequest(http.MethodGet, "http://gw.example/", nil), &Forward{Route: "r"})
		if d == nil || d.Code != "upstream.no_healthy_target" || d.Header.Get("Retry-After") != "1" {
			t.Fatalf("denial %+v, want upstream.no_healthy_target with Retry-After 1", d)
		}

		p.fail.Store(false)
		time.Sleep(time.Second)
		synctest.Wait()
		if u.Status()[0].Healthy {
			t.Fatal("up again after one good probe; threshold is two")
		}
		time.Sleep(time.Second)
		synctest.Wait()
		for _, s := range u.Status() {
			if !s.Healthy {
				t.Fatalf("still down after two good probes: %+v", s)
			}
		}
		u.Close() // the bubble only ends when the probers have stopped
		n := p.count.Load()
		time.Sleep(time.Minute)
		if p.count.Load() != n {
			t.Fatal("probes continued after Close")
		}
	})
}

func TestActiveHealthOverHTTP(t *testing.T) {
	t.Parallel()
	var sick atomic.Bool
	be, _ := backend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" && sick.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	u := newUpstream(t, []string{be.URL}, func(c *config.Upstream) {
		c.HealthCheck.Active = config.ActiveHealthCheck{Path: "/healthz", Interval: config.Duration(10 * time.Millisecond),
			Timeout: config.Duration(time.Second), HealthyThreshold: 1, UnhealthyThreshold: 1}
	})
	u.Start()
	sick.Store(true)
	waitFor(t, "target marked down", func() bool { return u.Status()[0].CheckDown })
	_, d, _ := serveDirect(u, httptest.NewRequest(http.MethodGet, "http://gw.example/", nil), &Forward{Route: "r"})
	if d == nil || d.Code != "upstream.no_healthy_target" {
		t.Fatalf("denial %+v, want upstream.no_healthy_target", d)
	}
	sick.Store(false)
	waitFor(t, "target up again", func() bool { return u.Status()[0].Healthy })
	rec, d, _ := serveDirect(u, httptest.NewRequest(http.MethodGet, "http://gw.example/", nil), &Forward{Route: "r"})
	if d != nil || rec.Body.String() != "ok" {
		t.Fatalf("after recovery: %+v %q", d, rec.Body.String())
	}
}

func TestExpectedStatus(t *testing.T) {
	t.Parallel()
	cases := []struct {
		expected []int
		code     int
		want     bool
	}{
		{nil, 200, true}, {nil, 301, true}, {nil, 404, false}, {nil, 500, false},
		{[]int{204}, 200, false}, {[]int{200, 204}, 204, true},
	}
	for _, tc := range cases {
		h := newActiveHealth(config.ActiveHealthCheck{Path: "/h", ExpectedStatus: tc.expected})
		if got := h.statusOK(tc.code); got != tc.want {
			t.Errorf("expected %v, status %d: ok=%v, want %v", tc.expected, tc.code, got, tc.want)
		}
	}
}

func TestPassiveEjection(t *testing.T) {
	t.Parallel()
	bad := refusedURL(t)
	good, goodHits := okBackend(t, "ok")
	u := newUpstream(t, []string{bad, good.URL}, func(c *config.Upstream) {
		c.Retry.Attempts = -1
		c.HealthCheck.Passive = config.PassiveHealthCheck{ConsecutiveFailures: 2, EjectFor: config.Duration(time.Hour)}
	})
	failures := 0
	for range 4 { // round robin alternates: two failures on the bad target
		_, d, _ := serveDirect(u, httptest.NewRequest(http.MethodGet, "http://gw.example/", nil), &Forward{Route: "r"})
		if d != nil {
			failures++
		}
	}
	if failures != 2 {
		t.Fatalf("%d failures, want 2", failures)
	}
	s := u.Status()[0]
	if s.Healthy || s.EjectedUntil.IsZero() || s.LastError == "" {
		t.Fatalf("bad target not ejected: %+v", s)
	}
	before := goodHits.count()
	for range 10 {
		if _, d, _ := serveDirect(u, httptest.NewRequest(http.MethodGet, "http://gw.example/", nil), &Forward{Route: "r"}); d != nil {
			t.Fatalf("request failed while the bad target is ejected: %s", d.Reason)
		}
	}
	if goodHits.count()-before != 10 {
		t.Fatalf("good target served %d of 10", goodHits.count()-before)
	}
}

func TestPassiveEjectionEnds(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		u := newUpstream(t, []string{"http://10.0.0.1", "http://10.0.0.2"}, func(c *config.Upstream) {
			c.HealthCheck.Passive = config.PassiveHealthCheck{EjectFor: config.Duration(30 * time.Second)}
		})
		for _, tg := range u.targets {
			for range 4 {
				u.passiveFailure(tg, time.Now(), "reset")
			}
			if !u.Status()[tg.index].Healthy {
				t.Fatal("ejected before the fifth consecutive failure (default threshold)")
			}
		}
		u.passiveSuccess(u.targets[1]) // a success resets the count
		for _, tg := range u.targets {
			u.passiveFailure(tg, time.Now(), "reset")
		}
		if st := u.Status(); st[0].Healthy || !st[1].Healthy {
			t.Fatalf("status %+v, want only the first target ejected", st)
		}
		time.Sleep(10 * time.Second)
		for range 4 {
			u.passiveFailure(u.targets[1], time.Now(), "reset")
		}
		_, d, _ := serveDirect(u, httptest.NewRequest(http.MethodGet, "http://gw.example/", nil), &Forward{Route: "r"})
		if d == nil || d.Code != "upstream.no_healthy_target" || d.Header.Get("Retry-After") != "20" {
			t.Fatalf("denial %+v, want no_healthy_target with Retry-After 20 (earliest ejection end)", d)
		}
		time.Sleep(20 * time.Second)
		if st := u.Status(); !st[0].Healthy || st[1].Healthy {
			t.Fatalf("status %+v, want the first target back and the second still out", st)
		}
	})
}
