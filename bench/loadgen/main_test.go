package main

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	ok := options{url: "http://127.0.0.1:1/", rate: 100, duration: time.Second, conns: 4, timeout: time.Second}
	for _, tc := range []struct {
		name    string
		edit    func(*options)
		wantErr string
	}{
		{"valid", func(*options) {}, ""},
		{"no url", func(o *options) { o.url = "" }, "-url"},
		{"https", func(o *options) { o.url = "https://127.0.0.1/" }, "https"},
		{"no host", func(o *options) { o.url = "/path" }, "-url"},
		{"zero rate", func(o *options) { o.rate = 0 }, "-rate"},
		{"negative duration", func(o *options) { o.duration = -time.Second }, "-duration"},
		{"no conns", func(o *options) { o.conns = 0 }, "-conns"},
		{"no timeout", func(o *options) { o.timeout = 0 }, "-timeout"},
		{"schedules nothing", func(o *options) { o.rate, o.duration = 1, 500*time.Millisecond }, "no request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := ok
			tc.edit(&o)
			err := validate(o)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("validate = %v, want nil", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("validate = %v, want an error naming %q", err, tc.wantErr)
			}
		})
	}
}

func TestRunSendsTheScheduleAndCountsFailures(t *testing.T) {
	t.Parallel()
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		if r.Host == "" || r.Method != http.MethodGet {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		switch r.URL.RequestURI() {
		case "/fail":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/close":
			w.Header().Set("Connection", "close")
			_, _ = w.Write([]byte("bye"))
		case "/chunked?x=1":
			_, _ = w.Write([]byte("part one, "))
			w.(http.Flusher).Flush()
			_, _ = w.Write([]byte("part two"))
		default:
			_, _ = w.Write([]byte("ok"))
		}
	}))
	t.Cleanup(srv.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	for _, tc := range []struct {
		name                 string
		url                  string
		wantErrors, wantNon2 bool
	}{
		{"all succeed", srv.URL + "/", false, false},
		{"server errors are non-2xx", srv.URL + "/fail", false, true},
		{"closed connections are reopened", srv.URL + "/close", false, false},
		{"chunked replies and queries", srv.URL + "/chunked?x=1", false, false},
		{"refused connections are errors", closed.URL + "/", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := options{url: tc.url, rate: 2000, duration: 50 * time.Millisecond, conns: 4, timeout: 5 * time.Second}
			before := served.Load()
			r, err := run(o)
			if err != nil {
				t.Fatal(err)
			}

			const want = 100 // 2000/s for 50ms
			if r.scheduled != want || len(r.latencies) != want {
				t.Fatalf("scheduled %d, measured %d; want %d of each", r.scheduled, len(r.latencies), want)
			}
			if got := r.errors == want; got != tc.wantErrors {
				t.Errorf("errors = %d of %d, want all failed: %v", r.errors, want, tc.wantErrors)
			}
			if got := r.non2xx == want; got != tc.wantNon2 {
				t.Errorf("non_2xx = %d of %d, want all non-2xx: %v", r.non2xx, want, tc.wantNon2)
			}
			if !tc.wantErrors && r.errors != 0 {
				t.Errorf("errors = %d, want 0", r.errors)
			}
			if !tc.wantErrors && served.Load()-before < want {
				t.Errorf("server saw %d requests, want at least %d", served.Load()-before, want)
			}
			for i := 1; i < len(r.latencies); i++ {
				if r.latencies[i] < r.latencies[i-1] {
					t.Fatalf("latencies not sorted at %d", i)
				}
			}
		})
	}
}

func TestReportPrintsEveryField(t *testing.T) {
	t.Parallel()
	o := options{rate: 100}
	r := result{
		latencies: []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond},
		elapsed:   time.Second,
		errors:    1,
	}
	var b strings.Builder
	if err := report(&b, o, r); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			t.Fatalf("line %q is not \"name value\"", sc.Text())
		}
		got[name] = value
	}
	for name, want := range map[string]string{
		"target_rps": "100.0", "achieved_rps": "3.0", "requests": "3", "errors": "1", "non_2xx": "0",
		"p50_ms": "2.000", "p90_ms": "3.000", "p99_ms": "3.000", "p999_ms": "3.000", "max_ms": "3.000",
	} {
		if got[name] != want {
			t.Errorf("%s = %q, want %q", name, got[name], want)
		}
	}
}
