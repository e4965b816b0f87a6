package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestProxyForwardsToBackend(t *testing.T) {
	t.Parallel()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen-Path", r.URL.RequestURI())
		w.Header().Set("X-Seen-Forwarded-For", r.Header.Get("X-Forwarded-For"))
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, "from backend")
	}))
	t.Cleanup(backend.Close)
	target, err := url.Parse(backend.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(newProxy(target, 4))
	t.Cleanup(proxy.Close)

	for _, tc := range []struct {
		name, path, xff string
	}{
		{"root", "/", ""},
		{"path and query", "/orders/42?x=1", ""},
		{"client X-Forwarded-For is dropped", "/", "203.0.113.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(http.MethodGet, proxy.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.xff != "" {
				req.Header.Set("X-Forwarded-For", tc.xff)
			}
			resp, err := proxy.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusTeapot || string(got) != "from backend" {
				t.Errorf("got %d %q, want the backend's 418 %q", resp.StatusCode, got, "from backend")
			}
			if seen := resp.Header.Get("X-Seen-Path"); seen != tc.path {
				t.Errorf("backend saw %q, want %q", seen, tc.path)
			}
			if seen := resp.Header.Get("X-Seen-Forwarded-For"); seen != "" {
				t.Errorf("backend saw X-Forwarded-For %q; Rewrite without SetXForwarded must send none", seen)
			}
		})
	}
}

// Regression: without -full-duplex about one POST in a hundred whose reply
// streams was cut short, because the server closed the request body when
// the reply began while the Transport still read it (golang/go#40747). The
// race is too rare to catch in a test, so this checks its cause directly: a
// body stays readable after the reply has begun, and only with fullDuplex.
func TestFullDuplexKeepsBodyReadableWhileReplying(t *testing.T) {
	t.Parallel()
	readAfterReply := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		_ = http.NewResponseController(w).Flush()
		b, err := io.ReadAll(r.Body)
		if err != nil {
			_, _ = io.WriteString(w, "error: "+err.Error())
			return
		}
		_, _ = io.WriteString(w, "read: "+string(b))
	})
	for _, tc := range []struct {
		name    string
		handler http.Handler
		want    string
	}{
		{"with fullDuplex", fullDuplex(readAfterReply), "read: " + strings.Repeat("b", 64<<10)},
		{"without (the cause)", readAfterReply, "error: http: invalid Read on closed Body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tc.handler)
			t.Cleanup(srv.Close)
			// 64 KiB: more than the server reads ahead, so the body is
			// still unread when the reply begins.
			resp, err := srv.Client().Post(srv.URL, "application/json", strings.NewReader(strings.Repeat("b", 64<<10)))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("handler answered %.60q…, want %.60q…", got, tc.want)
			}
		})
	}
}
