package router

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

func TestNewConflicts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		routes   []Route[string]
		conflict *ConflictError // nil: New must succeed
	}{
		{"same host path method", []Route[string]{
			r("a", l("api.example.com"), l("/x"), l("GET")),
			r("b", l("api.example.com"), l("/x"), l("POST", "GET")),
		}, &ConflictError{First: 0, Second: 1, Host: "api.example.com", FirstPath: "/x", SecondPath: "/x", Method: "GET"}},
		{"param names differ", []Route[string]{
			r("a", nil, l("/u/{id}"), l("GET")),
			r("b", nil, l("/other"), nil),
			r("c", nil, l("/u/{uid}"), l("GET")),
		}, &ConflictError{First: 0, Second: 2, Host: "*", FirstPath: "/u/{id}", SecondPath: "/u/{uid}", Method: "GET"}},
		{"catch-all names differ", []Route[string]{
			r("a", nil, l("/f/{p...}"), nil),
			r("b", nil, l("/f/{q...}"), nil),
		}, &ConflictError{First: 0, Second: 1, Host: "*", FirstPath: "/f/{p...}", SecondPath: "/f/{q...}"}},
		{"any method overlaps all", []Route[string]{
			r("a", nil, l("/api/*"), nil),
			r("b", nil, l("/api/*"), l("DELETE")),
		}, &ConflictError{First: 0, Second: 1, Host: "*", FirstPath: "/api/*", SecondPath: "/api/*"}},
		{"empty and star hosts are the same", []Route[string]{
			r("a", nil, l("/x"), nil),
			r("b", l("*"), l("/x"), nil),
		}, &ConflictError{First: 0, Second: 1, Host: "*", FirstPath: "/x", SecondPath: "/x"}},
		{"host case", []Route[string]{
			r("a", l("API.example.com"), l("/x"), nil),
			r("b", l("api.example.com"), l("/x"), nil),
		}, &ConflictError{First: 0, Second: 1, Host: "api.example.com", FirstPath: "/x", SecondPath: "/x"}},
		{"one route lists a pattern twice", []Route[string]{
			r("a", nil, l("/u/{id}", "/u/{uid}"), l("GET")),
		}, &ConflictError{First: 0, Second: 0, Host: "*", FirstPath: "/u/{id}", SecondPath: "/u/{uid}", Method: "GET"}},
		{"disjoint methods", []Route[string]{
			r("a", nil, l("/x"), l("GET")),
			r("b", nil, l("/x"), l("POST")),
			r("c", nil, l("/x"), l("HEAD")),
		}, nil},
		{"different hosts", []Route[string]{
			r("a", l("a.example.com"), l("/x"), nil),
			r("b", l("*.example.com"), l("/x"), nil),
			r("c", nil, l("/x"), nil),
		}, nil},
		{"different pattern kinds", []Route[string]{
			r("a", nil, l("/f/{p...}"), nil),
			r("b", nil, l("/f/*"), nil),
			r("c", nil, l("/f/{x}"), nil),
			r("d", nil, l("/f/x"), nil),
			r("e", nil, l("/f/"), nil),
		}, nil},
		{"duplicates inside one route", []Route[string]{
			r("a", l("a.com", "A.com"), l("/x", "/x"), l("GET", "GET")),
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tab, err := New(tt.routes)
			if tt.conflict == nil {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if tab.Len() != len(tt.routes) {
					t.Errorf("Len() = %d, want %d", tab.Len(), len(tt.routes))
				}
				return
			}
			var ce *ConflictError
			if !errors.As(err, &ce) {
				t.Fatalf("New error = %v, want a *ConflictError", err)
			}
			if *ce != *tt.conflict {
				t.Errorf("conflict = %+v, want %+v", *ce, *tt.conflict)
			}
		})
	}
}

func TestConflictErrorMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  ConflictError
		want string
	}{
		{ConflictError{First: 2, Second: 5, Host: "api.example.com", FirstPath: "/x", SecondPath: "/x", Method: "GET"},
			`routes 2 and 5 conflict: both answer host "api.example.com", path "/x", method GET`},
		{ConflictError{First: 0, Second: 3, Host: "*", FirstPath: "/u/{id}", SecondPath: "/u/{uid}"},
			`routes 0 and 3 conflict: both answer host "*", paths "/u/{id}" and "/u/{uid}" (the same pattern), every method`},
		{ConflictError{First: 1, Second: 1, Host: "*", FirstPath: "/u/{id}", SecondPath: "/u/{uid}", Method: "GET"},
			`route 1 lists paths "/u/{id}" and "/u/{uid}" (the same pattern) twice for host "*"`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewRouteErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		route Route[string]
		want  string // substring of the message
	}{
		{"no paths", r("x", nil, nil, nil), "no paths"},
		{"relative path", r("x", nil, l("orders"), nil), `must start with "/"`},
		{"star in the middle", r("x", nil, l("/a/*/b"), nil), `only allowed as the last segment`},
		{"catch-all in the middle", r("x", nil, l("/a/{p...}/b"), nil), `only allowed as the last segment`},
		{"bad param name", r("x", nil, l("/a/{1x}"), nil), "invalid parameter name"},
		{"repeated param", r("x", nil, l("/a/{x}/{x}"), nil), "appears twice"},
		{"mixed segment", r("x", nil, l("/a/x{y}"), nil), "mixes literal text"},
		{"dot segment", r("x", nil, l("/a/../b"), nil), "dot segments"},
		{"empty segment", r("x", nil, l("/a//b"), nil), "empty segment"},
		{"bad host", r("x", l("a.*.com"), l("/a"), nil), "wildcard is only allowed"},
		{"host with port", r("x", l("a.com:8080"), l("/a"), nil), "port"},
		{"lower-case method", r("x", nil, l("/a"), l("get")), "upper-case"},
		{"empty method", r("x", nil, l("/a"), l("")), "empty method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New([]Route[string]{r("ok", nil, l("/ok"), nil), tt.route})
			var re *RouteError
			if !errors.As(err, &re) {
				t.Fatalf("New error = %v, want a *RouteError", err)
			}
			if re.Index != 1 || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "route 1: ") {
				t.Errorf("error = %q (index %d), want route 1 and %q", err, re.Index, tt.want)
			}
		})
	}
}

func TestNewEmpty(t *testing.T) {
	t.Parallel()
	tab, err := New[int](nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, res := tab.Match("a.com", "GET", "/", nil); res != NotFound || tab.Len() != 0 {
		t.Errorf("empty table: res %v, Len %d", res, tab.Len())
	}
}

// TestManyLiteralChildren covers nodes whose literal children are hashed.
func TestManyLiteralChildren(t *testing.T) {
	t.Parallel()
	var routes []Route[string]
	for _, c := range "abcdefghijklmnop" {
		routes = append(routes, r("r"+string(c), nil, l("/v/"+string(c)+"/{id}"), nil))
	}
	tab, err := New(routes)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range "abcdefghijklmnop" {
		var params [pipeline.MaxParams]pipeline.Param
		m, n, res := tab.Match("", "GET", "/v/"+string(c)+"/9", params[:])
		if res != Matched || m.Value != "r"+string(c) || n != 1 || params[0].Value != "9" {
			t.Errorf("/v/%c/9: %v %q n=%d", c, res, m.Value, n)
		}
	}
}

// TestSegmentIDCollisions covers large child sets whose slot tables hold
// segment ids of other groups' literals at the same index.
func TestSegmentIDCollisions(t *testing.T) {
	t.Parallel()
	var routes []Route[string]
	for i := range 60 {
		host := []string(nil) // most literals live in the any-host group...
		if i%6 == 0 {
			host = l("a.com") // ...and a few in a.com's, so their ids interleave
		}
		routes = append(routes, r(fmt.Sprintf("w%d", i), host, l(fmt.Sprintf("/v/w%d", i), fmt.Sprintf("/v/w%d/{x}", i)), nil))
	}
	tab, err := New(routes)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 70 {
		for _, host := range []string{"a.com", "b.com"} {
			path := fmt.Sprintf("/v/w%d/1", i)
			want := fmt.Sprintf("w%d", i)
			if i >= 60 || i%6 == 0 && host != "a.com" {
				want = ""
			}
			var params [pipeline.MaxParams]pipeline.Param
			if m, _, _ := tab.Match(host, "GET", path, params[:]); m.Value != want {
				t.Errorf("Match(%s, %s) = %q, want %q", host, path, m.Value, want)
			}
		}
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	// Not parallel: AllocsPerRun counts the whole process's allocations.
	routes := []Route[string]{
		r("exact", l("api.example.com"), l("/orders"), l("GET")),
		r("param", l("*.example.com"), l("/users/{id}/posts/{post}"), nil),
		r("catch", nil, l("/files/{path...}"), nil),
		r("prefix", nil, l("/static/{v}/*"), l("GET")),
		r("purge", nil, l("/cache"), l("PURGE")),
	}
	for i := range 20 { // enough children under /big for segment ids
		routes = append(routes, r(fmt.Sprint("big", i), l("api.example.com", "*"), l(fmt.Sprintf("/big/b%d/{x}", i)), nil))
	}
	tab, err := New(routes)
	if err != nil {
		t.Fatal(err)
	}
	reqs := []struct{ host, method, path string }{
		{"api.example.com", "GET", "/orders"},
		{"API.EXAMPLE.COM", "GET", "/orders"},
		{"api.example.com.", "GET", "/orders"},
		{"a.b.example.com", "GET", "/users/1/posts/2"},
		{"x.org", "GET", "/files/a/b/c"},
		{"x.org", "GET", "/static/v1/app.js"},
		{"x.org", "PURGE", "/cache"},
		{"api.example.com", "DELETE", "/orders"},
		{"x.org", "POST", "/static/v1/app.js"},
		{"X.ORG", "GET", "/nothing/here"},
		{"api.example.com", "GET", "/big/b7/1"},
		{"x.org", "GET", "/big/b7/1"},
		{"api.example.com", "GET", "/big/nope/1"},
		{"", "GET", ""},
	}
	var params [pipeline.MaxParams]pipeline.Param
	for _, q := range reqs {
		if a := testing.AllocsPerRun(100, func() { tab.Match(q.host, q.method, q.path, params[:]) }); a != 0 {
			t.Errorf("Match(%q, %s, %q) allocates %.1f times", q.host, q.method, q.path, a)
		}
	}
}
