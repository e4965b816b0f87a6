package admin_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/problem"
)

// FuzzCallsQuery sends arbitrary query strings to GET /admin/calls: the
// answer is always a 200 list or a 400 admin.bad_request problem.
func FuzzCallsQuery(f *testing.F) {
	for _, seed := range []string{
		"", "status=404", "status=4xx", "since=15m", "since=7d", "since=2026-01-02T15:04:05Z",
		"after=10&order=asc", "limit=10001", "code=route.not_found&route=orders", "status=%ff", "since=9999999999h",
	} {
		f.Add(seed)
	}
	fx := newFixture(f)
	h := admin.NewHandler(admin.Options{Control: fx.ctl, Store: fx.st})
	f.Fuzz(func(t *testing.T, query string) {
		req := httptest.NewRequest("GET", "/admin/calls", nil)
		req.URL.RawQuery = query
		req.Header.Set("Authorization", "Bearer "+testToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			var body struct{ Calls []json.RawMessage }
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Calls == nil {
				t.Fatalf("200 with body %s (%v)", rec.Body, err)
			}
		case http.StatusBadRequest:
			var p problem.Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Code != "admin.bad_request" {
				t.Fatalf("400 with body %s (%v)", rec.Body, err)
			}
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, query, rec.Body)
		}
	})
}

// FuzzParseSince: never panics; an accepted age is never in the future.
func FuzzParseSince(f *testing.F) {
	for _, seed := range []string{"15m", "2h30m", "7d", "0d", "-1d", "2026-01-02T15:04:05Z", "1e9h", "99999999999d", ""} {
		f.Add(seed)
	}
	now := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := admin.ParseSince(s, now)
		if err != nil {
			return
		}
		if _, perr := time.Parse(time.RFC3339, s); perr != nil && got.After(now) {
			t.Fatalf("ParseSince(%q) = %v, after now", s, got)
		}
	})
}
