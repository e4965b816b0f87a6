package idempotency

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/redisconn"
	"github.com/pinpointgw/pinpoint/internal/redisconn/redistest"
	"github.com/pinpointgw/pinpoint/internal/stage/stagetest"
	"github.com/pinpointgw/pinpoint/internal/store"
)

const key = "Idempotency-Key"

func TestFirstUseThenReplay(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		r := newRig(t, k.open(t), config.Idempotency{})
		first := r.do("POST", "/orders?src=web", `{"item":"tea"}`, key, "k-1")
		if first.status != 201 || string(first.body) != `call 1: {"item":"tea"}` {
			t.Fatalf("first: %d %q", first.status, first.body)
		}
		if got := first.header.Get(ReplayedHeader); got != "" {
			t.Errorf("first response has %s: %s", ReplayedHeader, got)
		}
		if n := first.notes(); !strings.HasPrefix(n, "pass: first use | pass: stored for replay: status 201, 22 body bytes") {
			t.Errorf("first trace: %s", n)
		}

		again := r.do("POST", "/orders?src=web", `{"item":"tea"}`, key, "k-1")
		if r.hits.Load() != 1 {
			t.Fatalf("the repeat reached the backend (%d hits)", r.hits.Load())
		}
		if again.status != first.status || !bytes.Equal(again.body, first.body) {
			t.Errorf("replay %d %q, want %d %q", again.status, again.body, first.status, first.body)
		}
		if again.header.Get(ReplayedHeader) != "true" {
			t.Errorf("replay lacks %s: true: %v", ReplayedHeader, again.header)
		}
		for _, h := range []string{"Content-Type", "Content-Length", "Location", "Vary", "Pinpoint-Layer"} {
			if g, w := again.header.Values(h), first.header.Values(h); strings.Join(g, ",") != strings.Join(w, ",") || len(w) == 0 {
				t.Errorf("replayed %s = %q, original %q", h, g, w)
			}
		}
		if got := again.header.Values("Vary"); strings.Join(got, ",") != "Origin,Accept" {
			t.Errorf("Vary %q: the gateway's value, then the upstream's", got)
		}
		if again.header.Get("Set-Cookie") != "" || first.header.Get("Set-Cookie") == "" {
			t.Errorf("Set-Cookie: original %q, replay %q (never replayed)", first.header.Get("Set-Cookie"), again.header.Get("Set-Cookie"))
		}
		if got := again.header.Values("X-Request-Id"); len(got) != 1 || got[0] != "req-2" {
			t.Errorf("replay X-Request-Id %q, want the replaying request's own", got)
		}
		if n := again.notes(); n != "pass: replayed" {
			t.Errorf("replay trace: %s", n)
		}
	})
}

func TestConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	const n = 8
	eachStore(t, func(t *testing.T, k storeKind) {
		t.Run("while the first is held", func(t *testing.T) {
			r := newRig(t, k.open(t), config.Idempotency{})
			r.hold = make(chan struct{})
			replies := make(chan reply, n)
			for range n {
				go func() { replies <- r.do("POST", "/orders", "same", key, "dup") }()
			}
			for range n - 1 {
				rep := <-replies
				if rep.status != http.StatusConflict {
					t.Fatalf("a duplicate got %d %s, want 409", rep.status, rep.body)
				}
				stagetest.Denial(t, rep.denial, "idempotency.in_progress", 409)
				if rep.header.Get("Retry-After") != "1" {
					t.Errorf("Retry-After %q, want 1", rep.header.Get("Retry-After"))
				}
				if note := rep.notes(); !strings.HasPrefix(note, "deny: the first request with this key started") {
					t.Errorf("duplicate trace: %s", note)
				}
			}
			close(r.hold)
			if rep := <-replies; rep.status != 201 || string(rep.body) != "call 1: same" {
				t.Errorf("the first request got %d %q", rep.status, rep.body)
			}
			if r.hits.Load() != 1 {
				t.Errorf("%d requests reached the backend, want 1", r.hits.Load())
			}
			if rep := r.do("POST", "/orders", "same", key, "dup"); rep.header.Get(ReplayedHeader) != "true" {
				t.Errorf("after the first completed: %d %q", rep.status, rep.body)
			}
		})
		t.Run("free running", func(t *testing.T) {
			r := newRig(t, k.open(t), config.Idempotency{})
			var wg sync.WaitGroup
			replies := make(chan reply, n)
			for range n {
				wg.Go(func() { replies <- r.do("POST", "/orders", "same", key, "free") })
			}
			wg.Wait()
			close(replies)
			for rep := range replies {
				switch {
				case rep.status == http.StatusConflict:
				case rep.status == 201 && string(rep.body) == "call 1: same":
				default:
					t.Errorf("got %d %q, want 409, the response or its replay", rep.status, rep.body)
				}
			}
			if r.hits.Load() != 1 {
				t.Errorf("%d requests reached the backend, want 1", r.hits.Load())
			}
		})
	})
}

func TestKeyReused(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		r := newRig(t, k.open(t), config.Idempotency{Methods: []string{"POST", "PUT"}})
		r.do("POST", "/orders?a=1", "alpha-secret", key, "k")
		for _, c := range []struct{ name, method, path, body string }{
			{"another body", "POST", "/orders?a=1", "beta-secret"},
			{"another query", "POST", "/orders?a=2", "alpha-secret"},
			{"another path", "POST", "/orders/1?a=1", "alpha-secret"},
			{"another method", "PUT", "/orders?a=1", "alpha-secret"},
		} {
			rep := r.do(c.method, c.path, c.body, key, "k")
			if rep.status != 422 {
				t.Errorf("%s: %d %q, want 422", c.name, rep.status, rep.body)
				continue
			}
			stagetest.Denial(t, rep.denial, "idempotency.key_reused", 422, "alpha-secret", "beta-secret", "/orders")
		}
		if r.hits.Load() != 1 {
			t.Errorf("%d backend hits, want 1", r.hits.Load())
		}
	})
}

// TestKeyReusedWhileInFlight: a different request under a key in flight is
// a reuse (422), not a duplicate to wait for (409).
func TestKeyReusedWhileInFlight(t *testing.T) {
	t.Parallel()
	g := newGate(t, newMemStore(), config.Idempotency{}, nil)
	if tx, d := g.Begin(exchange("POST", "/orders", "one", key, "k")); tx == nil || d.Ends() {
		t.Fatalf("first: %v %+v", tx, d)
	}
	_, d := g.Begin(exchange("POST", "/orders", "two", key, "k"))
	stagetest.Denial(t, d.Denial, "idempotency.key_reused", 422)
}

func TestCallersAreIndependent(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		r := newRig(t, k.open(t), config.Idempotency{})
		callers := [][]string{
			{"X-Test-Consumer", "alice"},
			{"X-Test-Consumer", "bob"},
			{"X-Test-Credential", "jwt/alice"},
			{"X-Test-Credential", "basic/alice"},
			{"X-Test-IP", "198.51.100.7"},
			{"X-Test-IP", "2001:db8::7"},
			{},
		}
		for i, c := range callers {
			rep := r.do("POST", "/orders", "same body", append([]string{key, "shared"}, c...)...)
			if want := "call " + strconv.Itoa(i+1) + ": same body"; rep.status != 201 || string(rep.body) != want {
				t.Errorf("caller %v: %d %q, want a first use (%q)", c, rep.status, rep.body, want)
			}
		}
		for _, c := range callers {
			rep := r.do("POST", "/orders", "same body", append([]string{key, "shared"}, c...)...)
			if rep.header.Get(ReplayedHeader) != "true" {
				t.Errorf("caller %v: repeat not replayed: %d %q", c, rep.status, rep.body)
			}
		}
	})
}

func TestTTLExpiry(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		r := newRig(t, k.open(t), config.Idempotency{TTL: config.Duration(time.Hour)})
		r.do("POST", "/orders", "x", key, "k")
		r.clock.Advance(time.Hour - time.Second)
		if rep := r.do("POST", "/orders", "x", key, "k"); rep.header.Get(ReplayedHeader) != "true" {
			t.Fatalf("within the TTL: %d %q", rep.status, rep.body)
		}
		r.clock.Advance(time.Second)
		rep := r.do("POST", "/orders", "x", key, "k")
		if rep.status != 201 || string(rep.body) != "call 2: x" || rep.header.Get(ReplayedHeader) != "" {
			t.Fatalf("after the TTL: %d %q, want a first use", rep.status, rep.body)
		}
		// After expiry the key may even name another request.
		r.clock.Advance(time.Hour)
		if rep := r.do("POST", "/orders", "y", key, "k"); rep.status != 201 || string(rep.body) != "call 3: y" {
			t.Errorf("new request under an expired key: %d %q", rep.status, rep.body)
		}
	})
}

func TestServerErrorReleases(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		r := newRig(t, k.open(t), config.Idempotency{})
		rep := r.do("POST", "/orders", "x", key, "k", "X-Want-Status", "503")
		if rep.status != 503 || string(rep.body) != "call 1: x" {
			t.Fatalf("5xx not passed through: %d %q", rep.status, rep.body)
		}
		if n := rep.notes(); n != "pass: first use | pass: released, a retry runs again: status 503" {
			t.Errorf("trace: %s", n)
		}
		// The retry (same fingerprint: the status switch is a header) runs.
		if rep := r.do("POST", "/orders", "x", key, "k"); rep.status != 201 || string(rep.body) != "call 2: x" {
			t.Fatalf("retry after 5xx: %d %q", rep.status, rep.body)
		}
		if rep := r.do("POST", "/orders", "x", key, "k"); rep.header.Get(ReplayedHeader) != "true" {
			t.Errorf("third: %d %q, want the replay of the retry", rep.status, rep.body)
		}
	})
}

func TestClientErrorsAreStored(t *testing.T) {
	t.Parallel()
	r := newRig(t, newMemStore(), config.Idempotency{})
	r.do("POST", "/orders", "x", key, "k", "X-Want-Status", "409")
	rep := r.do("POST", "/orders", "x", key, "k")
	if rep.status != 409 || rep.header.Get(ReplayedHeader) != "true" || string(rep.body) != "call 1: x" {
		t.Errorf("a 4xx answer is the operation's result and is replayed: %d %q", rep.status, rep.body)
	}
}

func TestOversizeResponsePassesAndReleases(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"content-length", "chunked"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			eachStore(t, func(t *testing.T, k storeKind) {
				r := newRig(t, k.open(t), config.Idempotency{MaxResponseBytes: 1000})
				hdr := []string{key, "k", "X-Want-Size", "1001"}
				if mode == "chunked" {
					hdr = append(hdr, "X-Want-Chunks", "1")
				}
				rep := r.do("POST", "/orders", "x", hdr...)
				if rep.status != 201 || len(rep.body) != 1001 || !strings.HasPrefix(string(rep.body), "call 1: x...") {
					t.Fatalf("oversize response not passed through whole: %d, %d bytes", rep.status, len(rep.body))
				}
				if n := rep.notes(); n != "pass: first use | pass: released, a retry runs again: the response body is over max_response_bytes (1000)" {
					t.Errorf("trace: %s", n)
				}
				if rep := r.do("POST", "/orders", "x", hdr...); !strings.HasPrefix(string(rep.body), "call 2: x") {
					t.Errorf("repeat after an oversize response: %q…, want it to run again", rep.body[:min(20, len(rep.body))])
				}
				// Exactly max_response_bytes is kept.
				hdr[1], hdr[3] = "k2", "1000"
				r.do("POST", "/orders", "x", hdr...)
				if rep := r.do("POST", "/orders", "x", hdr...); rep.header.Get(ReplayedHeader) != "true" || len(rep.body) != 1000 {
					t.Errorf("a 1000-byte body was not stored: %d, %d bytes", rep.status, len(rep.body))
				}
			})
		})
	}
}

func TestBrokenResponseReleases(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		r := newRig(t, k.open(t), config.Idempotency{})
		rep := r.do("POST", "/orders", "x", key, "k", "X-Want-Break", "1")
		if n := rep.notes(); n != "pass: first use | pass: released, a retry runs again: the response broke off" {
			t.Errorf("trace: %s", n)
		}
		if rep := r.do("POST", "/orders", "x", key, "k"); rep.status != 201 || string(rep.body) != "call 2: x" {
			t.Errorf("retry after a broken response: %d %q", rep.status, rep.body)
		}
	})
}

func TestUpstreamFailureReleases(t *testing.T) {
	t.Parallel()
	st := newMemStore()
	r := newRig(t, st, config.Idempotency{})
	r.backend.Close()
	for i := range 2 {
		rep := r.do("POST", "/orders", "x", key, "k")
		if rep.status != 502 || rep.denial == nil || rep.denial.Code != "upstream.connect_failed" {
			t.Fatalf("attempt %d: %d %q", i, rep.status, rep.body)
		}
		if n := rep.notes(); n != "pass: first use | pass: released, a retry runs again: the upstream failed without a response" {
			t.Errorf("attempt %d trace: %s", i, n)
		}
	}
	if st.len() != 0 {
		t.Errorf("%d records left after failed attempts", st.len())
	}
}

func TestStoreUnreachable(t *testing.T) {
	t.Parallel()
	dead := func(t *testing.T) store.Idempotency {
		c, err := redisconn.Open(redistest.DeadConfig())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return NewRedisStore(c)
	}
	t.Run("fail_open", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, dead(t), config.Idempotency{Store: "redis"})
		for i := range 2 {
			rep := r.do("POST", "/orders", "x", key, "k")
			if want := "call " + strconv.Itoa(i+1) + ": x"; rep.status != 201 || string(rep.body) != want {
				t.Fatalf("request %d: %d %q, want %q from the backend", i, rep.status, rep.body, want)
			}
			steps := rep.steps()
			if len(steps) != 1 || steps[0].Outcome != pipeline.OutcomeError || steps[0].Rule != ruleStore ||
				!strings.Contains(steps[0].Note, "fail_open, so the request runs without idempotency") {
				t.Errorf("request %d trace: %+v", i, steps)
			}
		}
		if got := r.observed(); len(got) != 2 || !strings.HasPrefix(got[0], "begin: redis idempotency begin: ") {
			t.Errorf("observer heard %q", got)
		}
	})
	t.Run("fail_closed", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, dead(t), config.Idempotency{Store: "redis", OnStoreError: "fail_closed"})
		rep := r.do("POST", "/orders", "x", key, "k")
		if rep.status != 503 || r.hits.Load() != 0 {
			t.Fatalf("%d %q, %d hits; want 503 and no backend call", rep.status, rep.body, r.hits.Load())
		}
		stagetest.Denial(t, rep.denial, "idempotency.unavailable", 503)
		if rep.header.Get("Retry-After") == "" || !strings.Contains(string(rep.body), `"code":"idempotency.unavailable"`) {
			t.Errorf("problem: %v %s", rep.header, rep.body)
		}
		if got := r.observed(); len(got) != 1 {
			t.Errorf("observer heard %q", got)
		}
	})
}

// TestFinishStoreFailures: failures after the response leave it untouched,
// and are traced and observed.
func TestFinishStoreFailures(t *testing.T) {
	t.Parallel()
	boom := errors.New("disk full")
	t.Run("complete", func(t *testing.T) {
		t.Parallel()
		st := newMemStore()
		st.failComplete = boom
		r := newRig(t, st, config.Idempotency{})
		rep := r.do("POST", "/orders", "x", key, "k")
		if rep.status != 201 || string(rep.body) != "call 1: x" {
			t.Fatalf("%d %q", rep.status, rep.body)
		}
		if n := rep.notes(); n != "pass: first use | error: storing the response failed, so the key stays locked until its lock lapses: disk full" {
			t.Errorf("trace: %s", n)
		}
		if got := r.observed(); len(got) != 1 || got[0] != "complete: disk full" {
			t.Errorf("observer heard %q", got)
		}
	})
	t.Run("release", func(t *testing.T) {
		t.Parallel()
		st := newMemStore()
		st.failRelease = boom
		r := newRig(t, st, config.Idempotency{})
		rep := r.do("POST", "/orders", "x", key, "k", "X-Want-Status", "500")
		if rep.status != 500 {
			t.Fatalf("%d %q", rep.status, rep.body)
		}
		if n := rep.notes(); !strings.Contains(n, "error: releasing the key (status 500) failed") {
			t.Errorf("trace: %s", n)
		}
		if got := r.observed(); len(got) != 1 || got[0] != "release: disk full" {
			t.Errorf("observer heard %q", got)
		}
	})
	t.Run("lock lapsed", func(t *testing.T) {
		t.Parallel()
		st := newMemStore()
		r := newRig(t, st, config.Idempotency{})
		r.hold = make(chan struct{})
		done := make(chan reply)
		go func() { done <- r.do("POST", "/orders", "x", key, "k") }()
		// The record goes while the backend works (its lock lapsed and a
		// sweep removed it).
		for st.len() == 0 {
			time.Sleep(time.Millisecond)
		}
		if n, _ := st.DeleteExpiredIdempotency(context.Background(), t0.Add(time.Hour)); n != 1 {
			t.Fatalf("swept %d", n)
		}
		close(r.hold)
		rep := <-done
		if rep.status != 201 {
			t.Fatalf("%d %q", rep.status, rep.body)
		}
		if n := rep.notes(); !strings.HasSuffix(n, "error: not stored: the key's lock lapsed before the response was complete (the record is gone, or another request holds the key)") {
			t.Errorf("trace: %s", n)
		}
		if got := r.observed(); len(got) != 1 || got[0] != "complete: "+store.ErrNotFound.Error() {
			t.Errorf("observer heard %q", got)
		}
	})
}

// TestLockExpiresAfterCrash: a node that began a key and died never
// finishes it; the key is locked until the lock lapses, then runs anew.
func TestLockExpiresAfterCrash(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		r := newRig(t, k.open(t), config.Idempotency{})
		x := exchange("POST", "/orders", "x", key, "k")
		x.ClientIP = netip.MustParseAddr("192.0.2.1")
		if tx, d := r.gate.Begin(x); tx == nil || d.Ends() {
			t.Fatalf("crashing node's begin: %v %+v", tx, d)
		}
		// The crashed node never calls Finish.
		lock := 10*time.Second + LockMargin
		r.clock.Advance(lock - time.Millisecond)
		if rep := r.do("POST", "/orders", "x", key, "k"); rep.status != 409 {
			t.Fatalf("before the lock lapsed: %d %q", rep.status, rep.body)
		}
		r.clock.Advance(time.Millisecond)
		if rep := r.do("POST", "/orders", "x", key, "k"); rep.status != 201 || string(rep.body) != "call 1: x" {
			t.Fatalf("after the lock lapsed: %d %q", rep.status, rep.body)
		}
		if rep := r.do("POST", "/orders", "x", key, "k"); rep.header.Get(ReplayedHeader) != "true" {
			t.Errorf("then: %d %q, want a replay", rep.status, rep.body)
		}
	})
}

// TestLateFinishAfterTakeover: a request whose lock lapsed while its
// upstream was slow, and whose key a repeat then took, finishes late. Its
// Finish must neither store its response over the new holder's record nor
// release it (regression: without holder tokens the late request completed
// the repeat's record, and the repeat's own Finish found it done).
func TestLateFinishAfterTakeover(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		status string // the slow request's upstream answer
		notes  string // its trace
		heard  []string
	}{
		{name: "a late complete", status: "201",
			notes: "pass: first use | error: not stored: the key's lock lapsed before the response was complete (the record is gone, or another request holds the key)",
			heard: []string{"complete: " + store.ErrNotFound.Error()}},
		{name: "a late release", status: "503",
			notes: "pass: first use | pass: released, a retry runs again: status 503"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			eachStore(t, func(t *testing.T, k storeKind) {
				r := newRig(t, k.open(t), config.Idempotency{})
				r.hold = make(chan struct{})
				slow := make(chan reply)
				go func() { slow <- r.do("POST", "/orders", "x", key, "k", "X-Want-Status", c.status) }()
				for r.hits.Load() == 0 {
					time.Sleep(time.Millisecond)
				}
				// The slow request's lock lapses; a repeat takes the key.
				r.clock.Advance(10*time.Second + LockMargin)
				x := exchange("POST", "/orders", "x", key, "k")
				repeat, d := r.gate.Begin(x)
				if repeat == nil || d.Ends() {
					t.Fatalf("the repeat after the lock lapsed: %v %+v, want a first use", repeat, d)
				}
				close(r.hold)
				rep := <-slow
				if n := rep.notes(); n != c.notes {
					t.Errorf("slow request's trace: %s\nwant %s", n, c.notes)
				}
				if got := r.observed(); !slices.Equal(got, c.heard) {
					t.Errorf("observer heard %q, want %q", got, c.heard)
				}
				// The repeat still holds the key.
				if rep := r.do("POST", "/orders", "x", key, "k"); rep.status != http.StatusConflict {
					t.Fatalf("while the repeat is in flight: %d %q, want 409", rep.status, rep.body)
				}
				w := repeat.Wrap(httptest.NewRecorder())
				w.WriteHeader(http.StatusAccepted)
				_, _ = w.Write([]byte("the repeat's"))
				repeat.Finish(context.Background(), false)
				if n := stepNotes(x.Trace); !strings.HasPrefix(n, "pass: first use | pass: stored for replay: status 202") {
					t.Errorf("the repeat's trace: %s", n)
				}
				rep = r.do("POST", "/orders", "x", key, "k")
				if rep.status != http.StatusAccepted || string(rep.body) != "the repeat's" || rep.header.Get(ReplayedHeader) != "true" {
					t.Errorf("then: %d %q, want the repeat's response replayed", rep.status, rep.body)
				}
				if n := r.hits.Load(); n != 1 {
					t.Errorf("%d backend hits, want 1", n)
				}
			})
		})
	}
}

// TestNilTx: the gateway may call Wrap and Finish on whatever Begin
// returned.
func TestNilTx(t *testing.T) {
	t.Parallel()
	var tx *Tx
	w := httptest.NewRecorder()
	if got := tx.Wrap(w); got != w {
		t.Errorf("nil Tx wrapped the writer")
	}
	tx.Finish(context.Background(), false)
}

// TestFinishOnce: a second Finish (a deferred one after an explicit one)
// does not touch the store again.
func TestFinishOnce(t *testing.T) {
	t.Parallel()
	st := newMemStore()
	g := newGate(t, st, config.Idempotency{}, nil)
	x := exchange("POST", "/orders", "x", key, "k")
	tx, _ := g.Begin(x)
	w := tx.Wrap(httptest.NewRecorder())
	w.WriteHeader(201)
	tx.Finish(context.Background(), false)
	st.failComplete = errors.New("called again")
	tx.Finish(context.Background(), true)
	if n := len(x.Trace); n != 2 {
		t.Errorf("%d steps, want 2: %+v", n, x.Trace)
	}
}

func newGate(t testing.TB, st store.Idempotency, cfg config.Idempotency, clock func() time.Time) *Gate {
	t.Helper()
	applyDefaults(&cfg)
	if clock == nil {
		clock = stagetest.NewClock(t0).Now
	}
	g, err := New(Options{Route: "orders", Config: &cfg, MaxBodyBytes: 1 << 10, Store: st, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// exchange builds an anonymous exchange; hdr alternates names and values.
func exchange(method, path, body string, hdr ...string) *pipeline.Exchange {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	return &pipeline.Exchange{Request: req, Path: req.URL.Path, Route: "orders", ClientIP: netip.MustParseAddr("192.0.2.1")}
}
