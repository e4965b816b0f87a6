package admin_test

import (
	"bytes"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// seedCalls stores five records, oldest first, relative to now:
//
//	a  -2h   200 orders
//	b  -1h   404 route.not_found
//	c  -10m  403 authz.scope_missing orders (with a trace)
//	d  -5m   404 route.not_found
//	e  -1m   502 upstream.connect_failed orders
func seedCalls(t *testing.T, f *fixture) time.Time {
	t.Helper()
	now := time.Now().UTC()
	calls := []store.Call{
		{RequestID: "a", Time: now.Add(-2 * time.Hour), Status: 200, Route: "orders", Method: "GET", Host: "api.test", Path: "/orders"},
		{RequestID: "b", Time: now.Add(-time.Hour), Status: 404, Code: "route.not_found", Layer: "gateway", Stage: "route", Method: "GET", Host: "api.test", Path: "/nope"},
		{RequestID: "c", Time: now.Add(-10 * time.Minute), Status: 403, Code: "authz.scope_missing", Layer: "gateway", Stage: "authz", Route: "orders",
			Method: "POST", Host: "api.test", Path: "/orders", Trace: []byte(`[{"stage":"authz","outcome":"deny"}]`),
			Inputs: []byte(`{"method":"POST","path":"/orders"}`)},
		{RequestID: "d", Time: now.Add(-5 * time.Minute), Status: 404, Code: "route.not_found", Layer: "gateway", Stage: "route", Method: "GET", Host: "api.test", Path: "/x"},
		{RequestID: "e", Time: now.Add(-time.Minute), Status: 502, Code: "upstream.connect_failed", Layer: "gateway", Stage: "upstream", Route: "orders", Method: "GET", Host: "api.test", Path: "/orders/1"},
	}
	for i := range calls {
		calls[i].ClientIP = "192.0.2.1"
		calls[i].Latency = time.Duration(i+1) * time.Millisecond
	}
	if err := f.st.InsertCalls(t.Context(), calls); err != nil {
		t.Fatal(err)
	}
	return now
}

func TestCallFilters(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := seedCalls(t, f)
	all, err := f.client.Calls(t.Context(), admin.CallFilter{Ascending: true})
	if err != nil || len(all) != 5 {
		t.Fatalf("Calls() = %d records, %v", len(all), err)
	}
	seqOf := map[string]int64{}
	for _, c := range all {
		seqOf[c.RequestID] = c.Seq
	}
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"newest first by default", "", []string{"e", "d", "c", "b", "a"}},
		{"ascending", "order=asc", []string{"a", "b", "c", "d", "e"}},
		{"exact status", "status=404", []string{"d", "b"}},
		{"status class", "status=4xx", []string{"d", "c", "b"}},
		{"status class upper case", "status=5XX", []string{"e"}},
		{"code", "code=authz.scope_missing", []string{"c"}},
		{"route", "route=orders", []string{"e", "c", "a"}},
		{"request id", "request_id=d", []string{"d"}},
		{"since age", "since=15m", []string{"e", "d", "c"}},
		{"since days", "since=1d", []string{"e", "d", "c", "b", "a"}},
		{"since RFC 3339", "since=" + url.QueryEscape(now.Add(-90*time.Minute).Format(time.RFC3339)), []string{"e", "d", "c", "b"}},
		{"after seq ascending", "after=" + strconv.FormatInt(seqOf["c"], 10) + "&order=asc", []string{"d", "e"}},
		{"limit", "limit=2", []string{"e", "d"}},
		{"combined", "status=4xx&since=30m&route=orders", []string{"c"}},
		{"nothing matches", "code=waf.blocked", []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := f.do(t, "GET", "/admin/calls?"+tc.query, testToken, nil)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			q, _ := url.ParseQuery(tc.query)
			limit, _ := strconv.Atoi(q.Get("limit"))
			after, _ := strconv.ParseInt(q.Get("after"), 10, 64)
			calls, err := f.client.Calls(t.Context(), admin.CallFilter{
				Status: q.Get("status"), Code: q.Get("code"), Route: q.Get("route"), RequestID: q.Get("request_id"),
				Since: q.Get("since"), After: after, Limit: limit, Ascending: q.Get("order") == "asc",
			})
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, c := range calls {
				got = append(got, c.RequestID)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("request ids %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCallFilterErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, query := range []string{
		"status=99", "status=600", "status=4x", "status=abc",
		"since=yesterday", "since=-5m", "since=2026-13-01",
		"after=-1", "after=x", "limit=0", "limit=10001", "order=up",
	} {
		t.Run(query, func(t *testing.T) {
			t.Parallel()
			r := f.do(t, "GET", "/admin/calls?"+query, testToken, nil)
			if p := decodeProblem(t, r); r.status != http.StatusBadRequest || p.Code != "admin.bad_request" {
				t.Errorf("got %d %s, want 400 admin.bad_request", r.status, p.Code)
			}
		})
	}
}

func TestCallByRequestID(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	seedCalls(t, f)
	t.Run("trace and inputs are inline JSON", func(t *testing.T) {
		t.Parallel()
		r := f.do(t, "GET", "/admin/calls/c", testToken, nil)
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		if !bytes.Contains(r.body, []byte(`"trace":[{"stage":"authz","outcome":"deny"}]`)) ||
			!bytes.Contains(r.body, []byte(`"inputs":{"method":"POST","path":"/orders"}`)) {
			t.Errorf("trace or inputs not inline JSON: %s", r.body)
		}
		c, err := f.client.Call(t.Context(), "c")
		if err != nil {
			t.Fatal(err)
		}
		if c.Code != "authz.scope_missing" || c.Latency != 3*time.Millisecond || string(c.Trace) != `[{"stage":"authz","outcome":"deny"}]` ||
			string(c.Inputs) != `{"method":"POST","path":"/orders"}` {
			t.Errorf("Call(c) = %+v", c)
		}
	})
	t.Run("unknown id", func(t *testing.T) {
		t.Parallel()
		if _, err := f.client.Call(t.Context(), "no-such-request"); !admin.IsNotFound(err) {
			t.Errorf("err = %v, want 404", err)
		}
	})
}
