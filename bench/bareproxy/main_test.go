package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
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
