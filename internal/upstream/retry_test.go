package upstream

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

func TestRetryRules(t *testing.T) {
	t.Parallel()
	const body = `{"item":"book"}`
	type failing func(t *testing.T) (url string, count func() int64)
	resetting := func(t *testing.T) (string, func() int64) {
		srv, h := resetBackend(t)
		return srv.URL, h.count
	}
	refused := func(t *testing.T) (string, func() int64) {
		return refusedURL(t), func() int64 { return 0 }
	}
	unavailable := func(t *testing.T) (string, func() int64) {
		srv, h := backend(t, func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusServiceUnavailable)
		})
		return srv.URL, h.count
	}
	cases := []struct {
		name       string
		method     string
		key        string // the key header's value
		keyIn      string // the header the key is sent in; empty: Idempotency-Key
		keyHeader  string // Forward.KeyHeader
		idempotent bool   // route flag
		body       string
		bigBody    bool
		first      failing
		edit       func(*config.Upstream)
		exhaust    bool // use up the retry budget first
		wantRetry  bool
		wantStatus int    // response status when no denial
		wantCode   string // denial code when not retried
	}{
		{name: "GET after a reset goes to another target", method: "GET", first: resetting, wantRetry: true},
		{name: "GET after a refused connect goes to another target", method: "GET", first: refused, wantRetry: true},
		{name: "GET after a 503 goes to another target", method: "GET", first: unavailable, wantRetry: true},
		{name: "PUT after a reset is retried with its body", method: "PUT", body: body, first: resetting, wantRetry: true},
		{name: "PUT after a 503 is not retried", method: "PUT", body: body, first: unavailable, wantStatus: 503},
		{name: "POST is never retried", method: "POST", body: body, first: resetting, wantCode: "upstream.reset"},
		{name: "POST after a refused connect is not retried either", method: "POST", body: body, first: refused, wantCode: "upstream.connect_failed"},
		{name: "POST with Idempotency-Key is retried", method: "POST", key: "k-1", body: body, first: resetting, wantRetry: true},
		{name: "POST on an idempotent route is retried", method: "POST", idempotent: true, body: body, first: resetting, wantRetry: true},
		{name: "POST with Idempotency-Key and a large body is not retried", method: "POST", key: "k-2",
			bigBody: true, first: resetting, wantCode: "upstream.reset"},
		{name: "POST with an empty Idempotency-Key is not retried", method: "POST", key: "", keyIn: "Idempotency-Key",
			body: body, first: resetting, wantCode: "upstream.reset"},
		{name: "POST with the route's key header is retried", method: "POST", key: "k-3", keyIn: "X-Request-Key",
			keyHeader: "X-Request-Key", body: body, first: resetting, wantRetry: true},
		{name: "the route's key header is matched in any case", method: "POST", key: "k-4", keyIn: "X-Request-Key",
			keyHeader: "x-request-KEY", body: body, first: resetting, wantRetry: true},
		{name: "POST with Idempotency-Key is not retried when the route's key header is another", method: "POST", key: "k-5",
			keyHeader: "X-Request-Key", body: body, first: resetting, wantCode: "upstream.reset"},
		{name: "POST with the route's key header after a 503 is not retried", method: "POST", key: "k-6", keyIn: "X-Request-Key",
			keyHeader: "X-Request-Key", body: body, first: unavailable, wantStatus: 503},
		{name: "retries disabled", method: "GET", first: resetting,
			edit: func(c *config.Upstream) { c.Retry.Attempts = -1 }, wantCode: "upstream.reset"},
		{name: "budget exhausted", method: "GET", first: resetting, exhaust: true, wantCode: "upstream.reset"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			firstURL, firstCount := tc.first(t)
			gotBody := make(chan string, 4)
			good, goodHits := backend(t, func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				gotBody <- string(b)
				_, _ = io.WriteString(w, "ok")
			})
			u := newUpstream(t, []string{firstURL, good.URL}, tc.edit)
			if tc.exhaust {
				fixed := time.Now()
				u.budget.clock = func() time.Time { return fixed }
				for u.budget.tryRetry() {
				}
			}
			reqBody := tc.body
			if tc.bigBody {
				reqBody = strings.Repeat("x", maxReplayBody+1)
			}
			r := httptest.NewRequest(tc.method, "http://gw.example/cart", strings.NewReader(reqBody))
			if tc.key != "" || tc.keyIn != "" {
				in := tc.keyIn
				if in == "" {
					in = "Idempotency-Key"
				}
				r.Header.Set(in, tc.key)
			}
			rec, d, x := serveDirect(u, r, &Forward{Route: "cart", Idempotent: tc.idempotent, KeyHeader: tc.keyHeader})

			if tc.wantRetry {
				if d != nil {
					t.Fatalf("denial %s (%s), want a retry", d.Code, d.Reason)
				}
				if rec.Code != 200 || rec.Body.String() != "ok" || x.Attempts != 2 || goodHits.count() != 1 {
					t.Fatalf("got %d %q after %d attempts, good target hit %d times", rec.Code, rec.Body.String(), x.Attempts, goodHits.count())
				}
				if got := <-gotBody; got != reqBody {
					t.Fatalf("retried body %q, want %q", got, reqBody)
				}
				if len(x.Trace) != 2 || x.Trace[0].Outcome != pipeline.OutcomeError || x.Trace[1].Outcome != pipeline.OutcomePass {
					t.Fatalf("trace %+v, want a failed then a passed attempt", x.Trace)
				}
				if x.Target != hostOf(t, good.URL) {
					t.Fatalf("exchange target %s, want the good one", x.Target)
				}
				return
			}
			if goodHits.count() != 0 || x.Attempts != 1 {
				t.Fatalf("retried: good target hit %d times, %d attempts", goodHits.count(), x.Attempts)
			}
			if n := firstCount(); n > 1 {
				t.Fatalf("first target saw the request %d times, want at most once", n)
			}
			if tc.wantStatus != 0 {
				if d != nil || rec.Code != tc.wantStatus {
					t.Fatalf("got %d / %+v, want the target's %d passed through", rec.Code, d, tc.wantStatus)
				}
				return
			}
			if d == nil || d.Code != tc.wantCode {
				t.Fatalf("denial %+v, want %s", d, tc.wantCode)
			}
		})
	}
}

// Regression: a POST without Idempotency-Key reaches the backend exactly once
// even when the first target resets the connection after reading it.
func TestPOSTReachesBackendOnce(t *testing.T) {
	t.Parallel()
	first, firstHits := resetBackend(t)
	second, secondHits := okBackend(t, "ok")
	u := newUpstream(t, []string{first.URL, second.URL}, func(c *config.Upstream) { c.Retry.Attempts = 5 })
	_, d, _ := serveDirect(u, httptest.NewRequest(http.MethodPost, "http://gw.example/pay", strings.NewReader("amount=10")), &Forward{Route: "pay"})
	if d == nil || d.Code != "upstream.reset" {
		t.Fatalf("denial %+v, want upstream.reset", d)
	}
	if firstHits.count()+secondHits.count() != 1 {
		t.Fatalf("backends saw %d POSTs, want exactly 1", firstHits.count()+secondHits.count())
	}
}

func TestRetryNeverRepeatsATarget(t *testing.T) {
	t.Parallel()
	a, ha := resetBackend(t)
	b, hb := resetBackend(t)
	u := newUpstream(t, []string{a.URL, b.URL}, func(c *config.Upstream) { c.Retry.Attempts = 5 })
	_, d, x := serveDirect(u, httptest.NewRequest(http.MethodGet, "http://gw.example/", nil), &Forward{Route: "r"})
	if d == nil || d.Code != "upstream.reset" {
		t.Fatalf("denial %+v, want upstream.reset", d)
	}
	if x.Attempts != 2 || ha.count() != 1 || hb.count() != 1 {
		t.Fatalf("attempts %d, hits %d/%d: want each target tried once", x.Attempts, ha.count(), hb.count())
	}
	if x.Trace[0].Outcome != pipeline.OutcomeError || x.Trace[1].Outcome != pipeline.OutcomeDeny {
		t.Fatalf("trace %+v", x.Trace)
	}
}

// TestKeyLookupAllocs: looking up the key header on a POST costs no
// allocation, under the default name and a canonical configured one.
func TestKeyLookupAllocs(t *testing.T) {
	// Not parallel: AllocsPerRun counts the whole process's allocations.
	h := http.Header{"Content-Type": {"application/json"}, "X-Request-Key": {"k-1"}}
	var found int
	allocs := testing.AllocsPerRun(100, func() {
		found = 0
		if !carriesKey(h, "") {
			found++
		}
		if carriesKey(h, "X-Request-Key") {
			found++
		}
	})
	if found != 2 {
		t.Fatalf("lookups found %d of 2 expected results", found)
	}
	if allocs != 0 {
		t.Errorf("%v allocations per lookup pair, want 0", allocs)
	}
}
