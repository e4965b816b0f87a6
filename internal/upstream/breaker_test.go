package upstream

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
)

func testBreaker() *breaker {
	return newBreaker(config.CircuitBreaker{
		Enabled:          true,
		FailureRatio:     0.5,
		MinRequests:      10,
		Window:           config.Duration(10 * time.Second),
		OpenFor:          config.Duration(30 * time.Second),
		HalfOpenRequests: 2,
	})
}

// run admits n requests and reports each with r.
func run(t *testing.T, b *breaker, n int, r result) {
	t.Helper()
	for range n {
		ok, tk, _ := b.allow(time.Now())
		if !ok {
			t.Fatal("request refused while the circuit should be closed")
		}
		b.done(time.Now(), tk, r)
	}
}

func state(b *breaker) string {
	s, _ := b.status(time.Now())
	return s
}

func TestBreakerOpensOnFailureRatio(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name                string
		successes, failures int
		wantOpen            bool
	}{
		{"too few requests to judge", 0, 9, false},
		{"ratio reached", 5, 5, true},
		{"ratio not reached", 6, 4, false},
		{"all failures", 0, 10, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				b := testBreaker()
				run(t, b, tc.successes, resultSuccess)
				run(t, b, tc.failures, resultFailure)
				if got := state(b) == "open"; got != tc.wantOpen {
					t.Fatalf("state %s, want open=%v", state(b), tc.wantOpen)
				}
			})
		})
	}
}

func TestBreakerWindowSlides(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := testBreaker()
		run(t, b, 9, resultFailure)
		time.Sleep(10 * time.Second) // the nine failures leave the window
		run(t, b, 9, resultFailure)
		if s := state(b); s != "closed" {
			t.Fatalf("state %s: failures older than the window counted", s)
		}
		run(t, b, 1, resultFailure)
		if s := state(b); s != "open" {
			t.Fatalf("state %s, want open after 10 failures inside the window", s)
		}
	})
}

func TestBreakerHalfOpenCycle(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := testBreaker()
		run(t, b, 10, resultFailure)
		ok, _, wait := b.allow(time.Now())
		if ok || wait != 30*time.Second {
			t.Fatalf("open circuit: allow=%v wait=%v, want refused for 30s", ok, wait)
		}
		time.Sleep(20 * time.Second)
		if _, _, wait := b.allow(time.Now()); wait != 10*time.Second {
			t.Fatalf("wait %v, want the 10s left", wait)
		}
		time.Sleep(10 * time.Second)

		// Half-open: two probes, the third request is refused.
		ok1, p1, _ := b.allow(time.Now())
		ok2, p2, _ := b.allow(time.Now())
		ok3, _, _ := b.allow(time.Now())
		if !ok1 || !ok2 || ok3 || !p1.probe || !p2.probe {
			t.Fatalf("half-open admitted %v %v %v, want two probes then a refusal", ok1, ok2, ok3)
		}
		// A probe that says nothing frees its slot.
		b.done(time.Now(), p2, resultNeutral)
		ok4, p4, _ := b.allow(time.Now())
		if !ok4 {
			t.Fatal("freed probe slot not reused")
		}
		b.done(time.Now(), p1, resultSuccess)
		if s := state(b); s != "half_open" {
			t.Fatalf("state %s after one of two probes succeeded", s)
		}
		b.done(time.Now(), p4, resultSuccess)
		if s := state(b); s != "closed" {
			t.Fatalf("state %s, want closed after the probes succeeded", s)
		}
		run(t, b, 9, resultFailure) // the old failures were forgotten
		if s := state(b); s != "closed" {
			t.Fatalf("state %s: failures from before the circuit closed still counted", s)
		}
	})
}

func TestBreakerProbeFailureReopens(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := testBreaker()
		_, old, _ := b.allow(time.Now()) // admitted while closed, finishes late
		run(t, b, 10, resultFailure)
		time.Sleep(30 * time.Second)
		_, probe, _ := b.allow(time.Now())
		b.done(time.Now(), old, resultSuccess) // stale: must not count as a probe
		if s := state(b); s != "half_open" {
			t.Fatalf("state %s after a stale success", s)
		}
		b.done(time.Now(), probe, resultFailure)
		ok, _, wait := b.allow(time.Now())
		if ok || wait != 30*time.Second {
			t.Fatalf("after a failed probe: allow=%v wait=%v, want open for another 30s", ok, wait)
		}
	})
}

func TestServeCircuitOpen(t *testing.T) {
	t.Parallel()
	u := newUpstream(t, []string{refusedURL(t)}, func(c *config.Upstream) {
		c.CircuitBreaker = config.CircuitBreaker{Enabled: true, MinRequests: 2, FailureRatio: 0.5,
			OpenFor: config.Duration(42 * time.Second)}
	})
	for i := range 2 {
		_, d, _ := serveDirect(u, httptest.NewRequest(http.MethodGet, "http://gw.example/", nil), &Forward{Route: "r"})
		if d == nil || d.Code != "upstream.connect_failed" {
			t.Fatalf("request %d: %+v, want upstream.connect_failed", i, d)
		}
	}
	rec, d, x := serveDirect(u, httptest.NewRequest(http.MethodGet, "http://gw.example/", nil), &Forward{Route: "r"})
	if d == nil || d.Code != "upstream.circuit_open" {
		t.Fatalf("denial %+v, want upstream.circuit_open", d)
	}
	assertNothingWritten(t, rec)
	// 42s minus the moments the two requests took, rounded up.
	if ra := d.Header.Get("Retry-After"); ra != "42" {
		t.Fatalf("Retry-After %q, want 42", ra)
	}
	if x.Attempts != 0 || x.Trace[0].Code != "upstream.circuit_open" {
		t.Fatalf("attempts %d, trace %+v", x.Attempts, x.Trace)
	}
	if s, at := u.Circuit(); s != "open" || at.IsZero() {
		t.Fatalf("Circuit() = %s, %v", s, at)
	}
}
