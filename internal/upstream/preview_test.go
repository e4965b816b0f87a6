package upstream

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// TestPreviewDoesNotAdvanceTheBalancer: a preview names the target the
// next real request gets, as often as it is asked, and sends nothing.
func TestPreviewDoesNotAdvanceTheBalancer(t *testing.T) {
	t.Parallel()
	u := newUpstream(t, []string{"http://10.0.0.1:1", "http://10.0.0.2:1/base"}, nil)
	r := httptest.NewRequest("GET", "/orders/7?x=1", nil)
	for range 3 {
		x := exchange(r)
		p, d := u.Preview(x, &Forward{Route: "orders", Path: "/v2/orders/7"})
		if d != nil {
			t.Fatal(d.Code)
		}
		if p.Upstream != "svc" || p.Target != "http://10.0.0.1:1" || p.URL != "http://10.0.0.1:1/v2/orders/7?x=1" ||
			p.Balance != BalanceRoundRobin || len(p.Candidates) != 2 || p.Circuit != "disabled" {
			t.Fatalf("preview %+v", p)
		}
		if len(x.Trace) != 1 || x.Trace[0].Stage != "upstream" || x.Attempts != 0 || x.Target != "" {
			t.Fatalf("exchange %+v", x)
		}
	}
	// The real pick is the one previewed; the preview after it, the next.
	if got := u.bal.pick(exchange(r), time.Now().UnixNano(), nil); got.display != "http://10.0.0.1:1" {
		t.Fatalf("real pick %s", got.display)
	}
	if p, _ := u.Preview(exchange(r), nil); p.Target != "http://10.0.0.2:1/base" || p.URL != "http://10.0.0.2:1/base/orders/7?x=1" {
		t.Fatalf("preview after a pick %+v", p)
	}
}

func TestPreviewRefusesLikeServe(t *testing.T) {
	t.Parallel()
	u := newUpstream(t, []string{"http://10.0.0.1:1"}, nil)
	u.targets[0].ejectedUntil.Store(time.Now().Add(time.Hour).UnixNano())
	x := exchange(httptest.NewRequest("GET", "/", nil))
	if _, d := u.Preview(x, &Forward{Route: "orders"}); d == nil || d.Code != codeNoHealthy || d.Header.Get("Retry-After") == "" {
		t.Fatalf("no healthy target: %+v", d)
	}

	cb := newUpstream(t, []string{"http://10.0.0.1:1"}, func(c *config.Upstream) {
		c.CircuitBreaker = config.CircuitBreaker{Enabled: true}
	})
	cb.breaker.mu.Lock()
	cb.breaker.transition(circuitOpen, time.Now())
	cb.breaker.mu.Unlock()
	x = exchange(httptest.NewRequest("GET", "/", nil))
	if p, d := cb.Preview(x, nil); d == nil || d.Code != codeCircuitOpen || p.Circuit != "open" {
		t.Fatalf("open circuit: %+v %+v", p, d)
	}
	if state, _ := cb.Circuit(); state != "open" {
		t.Fatalf("the preview changed the circuit to %s", state)
	}
}
