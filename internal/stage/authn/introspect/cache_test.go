package introspect

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
)

func TestCacheHit(t *testing.T) {
	t.Parallel()
	srv := newIDPServer(t)
	clk := newClock()
	m := newMethod(t, srv, clk)
	srv.answer("opaque-Zq81", 200, active(time.Hour, map[string]any{"client_id": "orders-app"}))
	for i := range 3 {
		if _, d := authenticate(m, "opaque-Zq81"); d != nil {
			t.Fatalf("call %d: %s", i, d.Reason)
		}
	}
	if n := srv.callsFor("opaque-Zq81"); n != 1 {
		t.Fatalf("%d introspection calls, want 1", n)
	}
	clk.Advance(defaultCacheTTL + time.Second)
	if _, d := authenticate(m, "opaque-Zq81"); d != nil {
		t.Fatal(d.Reason)
	}
	if n := srv.callsFor("opaque-Zq81"); n != 2 {
		t.Fatalf("%d introspection calls after cache_ttl, want 2", n)
	}
}

func TestCacheNeverOutlivesExp(t *testing.T) {
	t.Parallel()
	srv := newIDPServer(t)
	clk := newClock()
	m := newMethod(t, srv, clk)
	srv.answer("opaque-Zq81", 200, active(10*time.Second, nil))
	if _, d := authenticate(m, "opaque-Zq81"); d != nil {
		t.Fatal(d.Reason)
	}
	clk.Advance(11 * time.Second)
	srv.answer("opaque-Zq81", 200, `{"active":false}`)
	_, d := authenticate(m, "opaque-Zq81")
	checkDenial(t, d, codeInactive, "opaque-Zq81")
	if n := srv.callsFor("opaque-Zq81"); n != 2 {
		t.Fatalf("%d calls: an answer was used past the token's exp", n)
	}
}

func TestInactiveCachedTenSeconds(t *testing.T) {
	t.Parallel()
	srv := newIDPServer(t)
	clk := newClock()
	m := newMethod(t, srv, clk)
	srv.answer("opaque-Zq81", 200, `{"active":false}`)
	for range 2 {
		_, d := authenticate(m, "opaque-Zq81")
		checkDenial(t, d, codeInactive, "opaque-Zq81")
	}
	if n := srv.callsFor("opaque-Zq81"); n != 1 {
		t.Fatalf("%d calls, want 1", n)
	}
	clk.Advance(inactiveTTL + time.Second)
	authenticate(m, "opaque-Zq81")
	if n := srv.callsFor("opaque-Zq81"); n != 2 {
		t.Fatalf("%d calls after 10s, want 2", n)
	}
}

func TestCachedAnswerServesThroughAnOutage(t *testing.T) {
	t.Parallel()
	srv := newIDPServer(t)
	clk := newClock()
	m := newMethod(t, srv, clk)
	srv.answer("opaque-Zq81", 200, active(time.Hour, nil))
	if _, d := authenticate(m, "opaque-Zq81"); d != nil {
		t.Fatal(d.Reason)
	}
	srv.answer("opaque-Zq81", 500, "down")
	clk.Advance(defaultCacheTTL + time.Second)
	if _, d := authenticate(m, "opaque-Zq81"); d != nil {
		t.Fatalf("endpoint down with a cached answer: %s", d.Code)
	}
	clk.Advance(defaultCacheTTL)
	_, d := authenticate(m, "opaque-Zq81")
	checkDenial(t, d, codeIDPUnavailable, "opaque-Zq81")
}

func TestConcurrentLookupsCollapse(t *testing.T) {
	t.Parallel()
	srv := newIDPServer(t)
	m := newMethod(t, srv, newClock())
	srv.answer("opaque-Zq81", 200, active(time.Hour, map[string]any{"client_id": "orders-app"}))
	release := srv.holdRequests()
	var wg sync.WaitGroup
	codes := make(chan string, 100)
	for range 100 {
		wg.Go(func() {
			if _, d := authenticate(m, "opaque-Zq81"); d != nil {
				codes <- d.Code
			}
		})
	}
	key := keyOf("opaque-Zq81")
	deadline := time.Now().Add(20 * time.Second)
	for m.flights.waiting(key) < 100 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d callers joined the call", m.flights.waiting(key))
		}
		time.Sleep(time.Millisecond)
	}
	release()
	wg.Wait()
	close(codes)
	for c := range codes {
		t.Errorf("refused with %s", c)
	}
	if n := srv.callsFor("opaque-Zq81"); n != 1 {
		t.Fatalf("%d introspection calls for 100 concurrent requests, want 1", n)
	}
}

func TestLRUBound(t *testing.T) {
	t.Parallel()
	srv := newIDPServer(t)
	m := newMethod(t, srv, newClock(), func(c *config.IntrospectionAuth) { c.CacheSize = 3 })
	tok := func(i int) string { return "tok-" + strconv.Itoa(i) }
	for i := range 10 {
		srv.answer(tok(i), 200, active(time.Hour, nil))
		authenticate(m, tok(i))
		if n := m.cache.len(); n > 3 {
			t.Fatalf("cache holds %d answers, bound 3", n)
		}
	}
	authenticate(m, tok(7)) // 7 becomes the most recent; 8 the least
	authenticate(m, tok(10))
	for _, c := range []struct {
		i     int
		calls int
	}{{7, 1}, {9, 1}, {10, 1}, {8, 2}, {0, 2}} {
		authenticate(m, tok(c.i))
		if n := srv.callsFor(tok(c.i)); n != c.calls {
			t.Errorf("token %d: %d calls, want %d", c.i, n, c.calls)
		}
	}
}

// Regression: the cache must key answers by a hash, never the token.
func TestCacheDoesNotHoldTokens(t *testing.T) {
	t.Parallel()
	srv := newIDPServer(t)
	m := newMethod(t, srv, newClock())
	srv.answer("secret-token-value", 200, active(time.Hour, nil))
	authenticate(m, "secret-token-value")
	m.cache.mu.Lock()
	defer m.cache.mu.Unlock()
	for k := range m.cache.items {
		if strings.Contains(string(k[:]), "secret-token-value") {
			t.Fatal("cache key holds the token")
		}
	}
	if _, ok := m.cache.items[keyOf("secret-token-value")]; !ok {
		t.Fatal("answer not cached under the token's SHA-256")
	}
}

func TestCancelledRequestStopsTheCall(t *testing.T) {
	t.Parallel()
	srv := newIDPServer(t)
	release := srv.holdRequests()
	t.Cleanup(release)
	m := newMethod(t, srv, newClock())
	ctx, cancel := context.WithCancel(context.Background())
	x := exchange("Bearer opaque-Zq81")
	x.Request = x.Request.WithContext(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, d := m.Authenticate(x, testDirectory)
		checkDenial(t, d, codeIDPUnavailable, "opaque-Zq81")
	}()
	for srv.callsFor("opaque-Zq81") == 0 { // the call reached the endpoint
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	deadline := time.Now().Add(20 * time.Second)
	for srv.cancelled.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the endpoint call went on after its only caller left")
		}
		time.Sleep(time.Millisecond)
	}
}

func keyOf(tok string) tokenKey {
	return tokenKey(sha256Sum(tok))
}
