package admin_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// benchHandler is the admin handler of a fixture, served without a network.
func benchHandler(b *testing.B, f *fixture) http.Handler {
	b.Helper()
	return admin.NewHandler(admin.Options{Control: f.ctl, Store: f.st})
}

func benchGet(b *testing.B, h http.Handler, path, token string, want int) {
	b.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			b.Fatalf("status %d, want %d: %s", rec.Code, want, rec.Body)
		}
	}
}

// BenchmarkHealthz is the probe path: no token, no store.
func BenchmarkHealthz(b *testing.B) {
	f := newFixture(b)
	benchGet(b, benchHandler(b, f), "/healthz", "", http.StatusOK)
}

// BenchmarkUnauthorized is the cost of refusing a request without a token.
func BenchmarkUnauthorized(b *testing.B) {
	f := newFixture(b)
	benchGet(b, benchHandler(b, f), "/admin/revisions", "", http.StatusUnauthorized)
}

// BenchmarkCurrentRevision is an authenticated read: token hash lookup plus
// one revision with its document.
func BenchmarkCurrentRevision(b *testing.B) {
	f := newFixture(b)
	if _, err := f.client.Apply(b.Context(), "valid.yaml", []byte("version: 1\nroutes: [{name: r, paths: [/r], upstream: u}]\nupstreams: [{name: u, targets: [{url: 'http://127.0.0.1:9'}]}]\n"), false); err != nil {
		b.Fatal(err)
	}
	benchGet(b, benchHandler(b, f), "/admin/revisions/current", testToken, http.StatusOK)
}

// BenchmarkListCalls reads a page of 100 call records out of 5000, with and
// without a filter.
func BenchmarkListCalls(b *testing.B) {
	for _, path := range []string{"/admin/calls?limit=100", "/admin/calls?status=4xx&limit=100"} {
		b.Run(path, func(b *testing.B) { benchListCalls(b, path) })
	}
}

func benchListCalls(b *testing.B, path string) {
	f := newFixture(b)
	calls := make([]store.Call, 5000)
	t0 := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	for i := range calls {
		calls[i] = store.Call{RequestID: "r" + strconv.Itoa(i), Time: t0.Add(time.Duration(i) * time.Second), Method: "GET",
			Host: "api.test", Path: "/orders", Status: 404, Code: "route.not_found", ClientIP: "192.0.2.1",
			Trace: []byte(`[{"stage":"route","outcome":"deny"}]`)}
	}
	if err := f.st.InsertCalls(b.Context(), calls); err != nil {
		b.Fatal(err)
	}
	benchGet(b, benchHandler(b, f), path, testToken, http.StatusOK)
}
