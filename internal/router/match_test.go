package router

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// r is a test route whose Value is its name.
func r(name string, hosts, paths, methods []string) Route[string] {
	return Route[string]{Hosts: hosts, Paths: paths, Methods: methods, Value: name}
}

func l(s ...string) []string { return s }

// req is one request and what Match must answer.
type req struct {
	host, method, path string
	want               string // route name, "404", or "405 <Allow>"
	params             string // "name=value,..." when matched
}

func (q req) name() string { return fmt.Sprintf("%s_%s_%s", q.method, q.host, q.path) }

// outcome renders a Match result in the form req.want uses.
func outcome(m Match[string], n int, res Result, params []pipeline.Param) (string, string) {
	switch res {
	case Matched:
		ps := make([]string, n)
		for i := range n {
			ps[i] = params[i].Name + "=" + params[i].Value
		}
		return m.Value, strings.Join(ps, ",")
	case MethodNotAllowed:
		return "405 " + m.Allow, ""
	}
	return "404", ""
}

func runCases(t *testing.T, routes []Route[string], reqs []req) {
	t.Helper()
	tab, err := New(routes)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for _, q := range reqs {
		t.Run(q.name(), func(t *testing.T) {
			t.Parallel()
			var params [pipeline.MaxParams]pipeline.Param
			method := q.method
			if method == "" {
				method = "GET"
			}
			m, n, res := tab.Match(q.host, method, q.path, params[:])
			got, gotParams := outcome(m, n, res, params[:])
			if got != q.want || gotParams != q.params {
				t.Errorf("Match(%q, %s, %q) = %q [%s], want %q [%s]", q.host, method, q.path, got, gotParams, q.want, q.params)
			}
		})
	}
}

func TestHostPrecedence(t *testing.T) {
	t.Parallel()
	routes := []Route[string]{
		r("exact", l("api.example.com"), l("/a"), nil),
		r("wild", l("*.example.com"), l("/a", "/b"), nil),
		r("wild-long", l("*.b.example.com"), l("/a"), nil),
		r("any", nil, l("/a", "/b", "/c"), nil),
		r("star", l("*"), l("/s"), nil),
		r("upper", l("Mixed.Example.COM"), l("/u"), nil),
	}
	runCases(t, routes, []req{
		{host: "api.example.com", path: "/a", want: "exact"},
		{host: "API.Example.COM", path: "/a", want: "exact"},
		{host: "api.example.com.", path: "/a", want: "exact"},
		{host: "api.example.com", path: "/b", want: "wild"},        // falls through to the wildcard
		{host: "api.example.com", path: "/c", want: "any"},         // and then to any host
		{host: "x.example.com", path: "/a", want: "wild"},          // one label
		{host: "x.y.example.com", path: "/a", want: "wild"},        // several labels
		{host: "x.b.example.com", path: "/a", want: "wild-long"},   // longest wildcard suffix wins
		{host: "x.y.B.example.com", path: "/a", want: "wild-long"}, // case-insensitive
		{host: "x.b.example.com", path: "/b", want: "wild"},        // falls through to the shorter wildcard
		{host: "example.com", path: "/a", want: "any"},             // *.example.com needs a label in front
		{host: "b.example.com", path: "/a", want: "wild"},          // *.b.example.com needs a label in front
		{host: "notexample.com", path: "/a", want: "any"},          // suffix must start at a dot
		{host: "other.org", path: "/a", want: "any"},
		{host: "", path: "/s", want: "star"},                   // "*" is any host
		{host: "mixed.example.com", path: "/u", want: "upper"}, // host patterns are lower-cased
		{host: "other.org", path: "/d", want: "404"},
		{host: strings.Repeat("A", 300), path: "/a", want: "any"}, // over-long host: any-host only
		{host: strings.Repeat("a", 300), path: "/u", want: "404"},
		{host: "api.example.com", method: "POST", path: "/a", want: "exact"},
	})
}

func TestPathPrecedence(t *testing.T) {
	t.Parallel()
	routes := []Route[string]{
		r("me", nil, l("/users/me"), nil),
		r("id", nil, l("/users/{id}"), nil),
		r("rest", nil, l("/users/{rest...}"), nil),
		r("users-prefix", nil, l("/users/*"), nil),
		r("posts", nil, l("/users/{id}/posts"), nil),
		r("lit-param", nil, l("/a/b/{x}"), nil),
		r("param-lit", nil, l("/a/{x}/c"), nil),
		r("param-param", nil, l("/a/{x}/{y}"), nil),
		r("files", nil, l("/files/{path...}"), nil),
		r("files-special", nil, l("/files/special/{path...}"), nil),
		r("static", nil, l("/static/*"), nil),
		r("static-img", nil, l("/static/img/*"), nil),
		r("static-v", nil, l("/static/{v}/*"), nil),
		r("static-v-deep", nil, l("/static/{v}/deep/*"), nil),
		r("p-x", nil, l("/p/{x}/*"), nil),
		r("deep", nil, l("/{t}/{u}/{v}/z/*"), nil),
		r("t-exact", nil, l("/t/x"), nil),
		r("t-prefix", nil, l("/t/x/*"), nil),
		r("t-param", nil, l("/t/{p}"), nil),
	}
	runCases(t, routes, []req{
		{path: "/users/me", want: "me"},
		{path: "/users/7", want: "id", params: "id=7"},
		{path: "/users/", want: "rest", params: "rest="}, // {id} never matches an empty segment
		{path: "/users", want: "users-prefix"},
		{path: "/users/7/posts", want: "posts", params: "id=7"},
		{path: "/users/7/x/y", want: "rest", params: "rest=7/x/y"},
		{path: "/users/me/posts", want: "posts", params: "id=me"},
		{path: "/a/b/c", want: "lit-param", params: "x=c"},
		{path: "/a/z/c", want: "param-lit", params: "x=z"},
		{path: "/a/z/q", want: "param-param", params: "x=z,y=q"},
		{path: "/a/b/", want: "404"},
		{path: "/a//c", want: "404"},
		{path: "/files/a/b/c.txt", want: "files", params: "path=a/b/c.txt"},
		{path: "/files/", want: "files", params: "path="},
		{path: "/files", want: "404"},
		{path: "/files/special/x/y", want: "files-special", params: "path=x/y"},
		{path: "/static", want: "static"},
		{path: "/static/", want: "static"},
		{path: "/static/img", want: "static-img"},
		{path: "/static/img/a/b", want: "static-img"},
		{path: "/static/js/app.js", want: "static-v", params: "v=js"},
		{path: "/static/img/deep/x", want: "static-v-deep", params: "v=img"}, // longest prefix beats literal
		{path: "/staticx", want: "404"},
		// Regression: the search for a deeper prefix overwrote the winner's
		// captures ({t}=p over {x}=1) before the winner was returned.
		{path: "/p/1/2/3", want: "p-x", params: "x=1"},
		{path: "/q/1/2/z/9", want: "deep", params: "t=q,u=1,v=2"},
		{path: "/t/x", want: "t-exact"},
		{path: "/t/y", want: "t-param", params: "p=y"},
		{path: "/t/x/", want: "t-prefix"},
		{path: "/nothing", want: "404"},
		{path: "", want: "404"},
		{path: "users/me", want: "404"},
	})
}

func TestTrailingSlashAndRoot(t *testing.T) {
	t.Parallel()
	routes := []Route[string]{
		r("orders", nil, l("/orders"), nil),
		r("api", nil, l("/api/*"), nil),
		r("item-slash", nil, l("/items/{id}/"), nil),
		r("dir", nil, l("/dir/"), nil),
		r("root", nil, l("/"), nil),
		r("x-catch", nil, l("/x/{all...}"), nil),
	}
	runCases(t, routes, []req{
		{path: "/orders", want: "orders"},
		{path: "/orders/", want: "404"},
		{path: "/api", want: "api"},
		{path: "/api/", want: "api"},
		{path: "/api/x/y", want: "api"},
		{path: "/apix", want: "404"},
		{path: "/items/7/", want: "item-slash", params: "id=7"},
		{path: "/items/7", want: "404"},
		{path: "/dir/", want: "dir"},
		{path: "/dir", want: "404"},
		{path: "/", want: "root"},
		{path: "/x/", want: "x-catch", params: "all="},
	})
	runCases(t, []Route[string]{
		r("everything", nil, l("/*"), nil),
		r("root", nil, l("/"), nil),
		r("tenant", nil, l("/{tenant}/*"), nil),
	}, []req{
		{path: "/", want: "root"},
		{path: "/acme", want: "tenant", params: "tenant=acme"},
		{path: "/acme/orders/1", want: "tenant", params: "tenant=acme"},
	})
}

func TestMethods(t *testing.T) {
	t.Parallel()
	routes := []Route[string]{
		r("user-get", nil, l("/users/{id}"), l("GET")),
		r("users-any", nil, l("/users/*"), nil),
		r("orders-read", nil, l("/orders"), l("GET", "POST")),
		r("orders-put", nil, l("/orders"), l("PUT")),
		r("thing-get", nil, l("/things/{id}"), l("GET")),
		r("things-post", nil, l("/things/*"), l("POST")),
		r("h-get", nil, l("/h"), l("GET")),
		r("h-head", nil, l("/h"), l("HEAD")),
		r("purge", nil, l("/cache"), l("PURGE")),
		r("host-get", l("api.example.com"), l("/m"), l("GET")),
		r("any-post", nil, l("/m"), l("POST")),
		r("u-get", nil, l("/u/{id}"), l("GET")),
		r("u-delete", nil, l("/u/{uid}"), l("DELETE")),
		r("only-head", nil, l("/oh"), l("HEAD")),
	}
	runCases(t, routes, []req{
		{method: "GET", path: "/users/7", want: "user-get", params: "id=7"},
		{method: "HEAD", path: "/users/7", want: "user-get", params: "id=7"},
		{method: "DELETE", path: "/users/7", want: "users-any"}, // less specific path that allows the method
		{method: "DELETE", path: "/orders", want: "405 GET, HEAD, POST, PUT"},
		{method: "HEAD", path: "/orders", want: "orders-read"},
		{method: "PUT", path: "/orders", want: "orders-put"},
		{method: "OPTIONS", path: "/orders", want: "405 GET, HEAD, POST, PUT"}, // OPTIONS is never implicit
		{method: "POST", path: "/things/1", want: "things-post"},
		{method: "DELETE", path: "/things/1", want: "405 GET, HEAD"}, // Allow of the most specific path
		{method: "DELETE", path: "/things", want: "405 POST"},
		{method: "GET", path: "/h", want: "h-get"},
		{method: "HEAD", path: "/h", want: "h-head"}, // an explicit HEAD route beats HEAD-via-GET
		{method: "PURGE", path: "/cache", want: "purge"},
		{method: "GET", path: "/cache", want: "405 PURGE"},
		{method: "purge", path: "/cache", want: "405 PURGE"},                    // methods are case-sensitive
		{host: "api.example.com", method: "POST", path: "/m", want: "any-post"}, // falls through host groups
		{host: "api.example.com", method: "DELETE", path: "/m", want: "405 GET, HEAD"},
		{host: "other.org", method: "DELETE", path: "/m", want: "405 POST"},
		{method: "DELETE", path: "/u/5", want: "u-delete", params: "uid=5"}, // names follow the chosen route
		{method: "GET", path: "/u/5", want: "u-get", params: "id=5"},
		{method: "GET", path: "/oh", want: "405 HEAD"},
		{method: "DELETE", path: "/nothing", want: "404"},
	})
}

func TestMatchPatternAndPrefix(t *testing.T) {
	t.Parallel()
	routes := []Route[string]{
		r("api", nil, l("/api/*"), nil),
		r("user", nil, l("/users/{id}"), nil),
		r("tenant", nil, l("/{tenant}/orders"), nil),
		r("orders", nil, l("/orders"), nil),
		r("files", nil, l("/v1/files/{p...}"), nil),
		r("root", nil, l("/"), nil),
		r("deep", nil, l("/a/b/{c}/d/*"), l("GET")),
	}
	tab, err := New(routes)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path, pattern, prefix string
		res                           Result
	}{
		{"GET", "/api/x", "/api/*", "/api", Matched},
		{"GET", "/api", "/api/*", "/api", Matched},
		{"GET", "/users/1", "/users/{id}", "/users", Matched},
		{"GET", "/acme/orders", "/{tenant}/orders", "", Matched},
		{"GET", "/orders", "/orders", "/orders", Matched},
		{"GET", "/v1/files/a/b", "/v1/files/{p...}", "/v1/files", Matched},
		{"GET", "/", "/", "", Matched},
		{"GET", "/a/b/c/d/e", "/a/b/{c}/d/*", "/a/b", Matched},
		{"POST", "/a/b/c/d/e", "/a/b/{c}/d/*", "", MethodNotAllowed},
		{"GET", "/zzz/yyy", "", "", NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.path, func(t *testing.T) {
			t.Parallel()
			var params [pipeline.MaxParams]pipeline.Param
			m, _, res := tab.Match("h", tt.method, tt.path, params[:])
			if res != tt.res || m.Pattern != tt.pattern || m.Prefix != tt.prefix {
				t.Errorf("Match(%s %s) = %v pattern %q prefix %q, want %v %q %q", tt.method, tt.path, res, m.Pattern, m.Prefix, tt.res, tt.pattern, tt.prefix)
			}
		})
	}
}

func TestMatchParamsBuffer(t *testing.T) {
	t.Parallel()
	tab, err := New([]Route[string]{r("two", nil, l("/a/{x}/{y...}"), nil)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		size   int
		wantN  int
		params string
	}{
		{"full buffer", pipeline.MaxParams, 2, "x=1,y=2/3"},
		{"short buffer", 1, 1, "x=1"},
		{"no buffer", 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			params := make([]pipeline.Param, tt.size)
			m, n, res := tab.Match("", "GET", "/a/1/2/3", params)
			got, gotParams := outcome(m, n, res, params)
			if got != "two" || n != tt.wantN || gotParams != tt.params {
				t.Errorf("got %q n=%d [%s], want two n=%d [%s]", got, n, gotParams, tt.wantN, tt.params)
			}
		})
	}
}

func TestResultString(t *testing.T) {
	t.Parallel()
	for res, want := range map[Result]string{Matched: "matched", NotFound: "not_found", MethodNotAllowed: "method_not_allowed"} {
		if got := res.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", res, got, want)
		}
	}
}
