package router

import (
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// fuzzRoutes is a fixed table with every pattern kind and host kind.
var fuzzRoutes = []Route[string]{
	r("exact", l("api.example.com"), l("/orders", "/orders/"), l("GET", "POST")),
	r("param", l("*.example.com"), l("/users/{id}", "/users/{id}/posts/{post}"), nil),
	r("catch", nil, l("/files/{path...}"), l("GET")),
	r("prefix", nil, l("/api/*", "/{tenant}/v1/*"), nil),
	r("root", nil, l("/"), l("HEAD")),
	r("purge", l("*.a.example.com"), l("/cache/{key}"), l("PURGE")),
}

// FuzzMatch checks that Match never panics, that captures are substrings of
// the path, and that it agrees with the reference matcher.
func FuzzMatch(f *testing.F) {
	tab, err := New(fuzzRoutes)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("api.example.com", "GET", "/orders")
	f.Add("b.a.example.com", "PURGE", "/cache/k1")
	f.Add("x.example.com", "GET", "/users/1/posts/2")
	f.Add("", "GET", "/files/a//b")
	f.Add("API.EXAMPLE.COM.", "DELETE", "/acme/v1/x")
	f.Add("h", "GET", "")
	f.Add("h", "GET", "//")
	f.Fuzz(func(t *testing.T, host, method, path string) {
		var params [pipeline.MaxParams]pipeline.Param
		m, n, res := tab.Match(host, method, path, params[:])
		if n < 0 || n > len(params) || (res != Matched && n != 0) {
			t.Fatalf("n = %d with result %v", n, res)
		}
		for _, p := range params[:n] {
			if !strings.Contains(path, p.Value) || p.Name == "" {
				t.Fatalf("capture %q=%q is not part of path %q", p.Name, p.Value, path)
			}
		}
		if res == Matched && m.Value == "" || res == MethodNotAllowed && m.Allow == "" {
			t.Fatalf("inconsistent match %+v (%v)", m, res)
		}
		if d := compareWithReference(fuzzRoutes, tab, host, method, path); d != "" {
			t.Fatalf("Match(%q, %q, %q): %s", host, method, path, d)
		}
	})
}
