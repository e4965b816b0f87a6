package router

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Route is one entry of the table: the hosts, paths and methods it answers
// and the Value that Match returns for it (the gateway's compiled route).
type Route[T any] struct {
	// Hosts the route answers for: exact ("api.example.com"), a leading
	// wildcard ("*.example.com", one or more labels), or "*". Empty: any host.
	Hosts []string
	// Paths the route answers for, in the pattern grammar of ValidatePath
	// ("/orders", "/orders/{id}", "/files/{path...}", "/api/*"). Required.
	Paths []string
	// Methods the route accepts, upper-case ("GET", "POST"). Empty: every
	// method. Listing GET also accepts HEAD.
	Methods []string
	// Value is returned by Match when this route serves the request.
	Value T
}

// Result says how Match ended.
type Result uint8

const (
	// NotFound: no route matches the host and path (404 route.not_found).
	// It is the zero Result, so an unset Result never claims a match.
	NotFound Result = iota
	// Matched: a route serves the request; Match.Value is set.
	Matched
	// MethodNotAllowed: the path matches but no route there accepts the
	// method (405 route.method_not_allowed); Match.Allow is set.
	MethodNotAllowed
)

// String returns "matched", "not_found" or "method_not_allowed".
func (r Result) String() string {
	switch r {
	case Matched:
		return "matched"
	case MethodNotAllowed:
		return "method_not_allowed"
	}
	return "not_found"
}

// Match is what Table.Match found.
type Match[T any] struct {
	// Value is the matched route's Value (zero unless Matched).
	Value T
	// Pattern is the path pattern that matched as the route wrote it
	// ("/orders/{id}"), for logs and metric labels. Also set on
	// MethodNotAllowed.
	Pattern string
	// Prefix is the literal part of Pattern before its first parameter or
	// wildcard, without a trailing slash ("/api" for "/api/*"), which
	// strip_prefix removes from the upstream path.
	Prefix string
	// Allow lists the methods accepted at the path, sorted and
	// comma-separated ("GET, HEAD, POST"); set on MethodNotAllowed.
	Allow string
}

// Table is an immutable route table. Build it with New; Match is safe for
// concurrent use.
type Table[T any] struct {
	exactHosts map[string]*group
	wildHosts  map[string]*group // keyed by the suffix after "*."
	wildLens   [4]uint64         // bit n set: some wildHosts key is n bytes long
	anyHost    *group
	exactPaths map[string][]exactLeaf
	segIDs     map[string]int32 // ids of the literal segments of large child sets
	entries    []entry[T]
	routes     int
}

// entry is one (route, path) pair.
type entry[T any] struct {
	value   T
	route   int
	pattern string
	prefix  string
	names   []string
}

// RouteError reports a route New refused on its own: a missing or invalid
// path, host or method. Index is the route's position in New's argument.
type RouteError struct {
	Index int
	Err   error
}

// Error returns "route <index>: <what is wrong>".
func (e *RouteError) Error() string { return fmt.Sprintf("route %d: %v", e.Index, e.Err) }

// Unwrap returns the underlying error.
func (e *RouteError) Unwrap() error { return e.Err }

// ConflictError reports two routes that would answer the same requests: the
// same host pattern, the same path pattern (up to parameter names) and a
// method in common. First and Second are the routes' positions in New's
// argument (equal when one route lists the same pattern twice).
type ConflictError struct {
	First, Second         int
	Host                  string // the shared host pattern; "*" for any host
	FirstPath, SecondPath string // the two spellings of the shared pattern
	Method                string // a shared method; "" when one route accepts every method
}

// Error names both routes, the host, the path pattern and a shared method.
func (e *ConflictError) Error() string {
	path := fmt.Sprintf("path %q", e.FirstPath)
	if e.SecondPath != e.FirstPath {
		path = fmt.Sprintf("paths %q and %q (the same pattern)", e.FirstPath, e.SecondPath)
	}
	method := "method " + e.Method
	if e.Method == "" {
		method = "every method"
	}
	if e.First == e.Second {
		return fmt.Sprintf("route %d lists %s twice for host %q", e.First, path, e.Host)
	}
	return fmt.Sprintf("routes %d and %d conflict: both answer host %q, %s, %s", e.First, e.Second, e.Host, path, method)
}

// New builds a table from routes. It refuses invalid patterns and methods
// (*RouteError) and routes that would answer the same requests
// (*ConflictError).
func New[T any](routes []Route[T]) (*Table[T], error) {
	t := &Table[T]{routes: len(routes), segIDs: map[string]int32{}}
	b := builder{groups: map[string]*group{}, refs: map[*leaf][]leafRef{}}
	for i, r := range routes {
		methods, err := normMethods(r.Methods)
		if err != nil {
			return nil, &RouteError{Index: i, Err: err}
		}
		hosts, err := normHosts(r.Hosts)
		if err != nil {
			return nil, &RouteError{Index: i, Err: err}
		}
		if len(r.Paths) == 0 {
			return nil, &RouteError{Index: i, Err: errors.New("no paths")}
		}
		for j, raw := range r.Paths {
			if slices.Contains(r.Paths[:j], raw) {
				continue
			}
			p, err := parsePattern(raw)
			if err != nil {
				return nil, &RouteError{Index: i, Err: err}
			}
			e := int32(len(t.entries))
			t.entries = append(t.entries, entry[T]{value: r.Value, route: i, pattern: raw, prefix: p.prefix, names: p.paramNames()})
			for _, h := range hosts {
				if err := b.add(h, p, leafRef{entry: e, route: i, path: raw, methods: methods}); err != nil {
					return nil, err
				}
			}
		}
	}
	for l, refs := range b.refs {
		sets := make([][]string, len(refs))
		for i, r := range refs {
			sets[i] = r.methods
		}
		l.computeAllow(sets)
	}
	// Sorted, so that segment ids do not depend on map order.
	for _, h := range slices.Sorted(maps.Keys(b.groups)) {
		g := b.groups[h]
		g.root.finish(0, t.segIDs)
		for path, l := range g.exact {
			if t.exactPaths == nil {
				t.exactPaths = map[string][]exactLeaf{}
			}
			t.exactPaths[path] = append(t.exactPaths[path], exactLeaf{g: g, l: l})
		}
		g.exact = nil
		switch {
		case h == "*":
			t.anyHost = g
		case strings.HasPrefix(h, "*."):
			if t.wildHosts == nil {
				t.wildHosts = map[string]*group{}
			}
			t.wildHosts[h[2:]] = g
			t.wildLens[len(h[2:])/64] |= 1 << (len(h[2:]) % 64)
		default:
			if t.exactHosts == nil {
				t.exactHosts = map[string]*group{}
			}
			t.exactHosts[h] = g
		}
	}
	return t, nil
}

// Len returns the number of routes the table was built from.
func (t *Table[T]) Len() int { return t.routes }

// builder holds what New needs only while building.
type builder struct {
	groups map[string]*group // by normalized host pattern
	refs   map[*leaf][]leafRef
}

type leafRef struct {
	entry   int32
	route   int
	path    string
	methods []string // nil: every method
}

// add puts ref under host pattern h and path pattern p, refusing overlaps.
func (b *builder) add(h string, p *pattern, ref leafRef) error {
	g := b.groups[h]
	if g == nil {
		g = &group{}
		b.groups[h] = g
	}
	l := g.leafFor(p)
	for _, old := range b.refs[l] {
		if m, ok := overlap(old.methods, ref.methods); ok || old.route == ref.route {
			return &ConflictError{First: old.route, Second: ref.route, Host: h,
				FirstPath: old.path, SecondPath: ref.path, Method: m}
		}
	}
	b.refs[l] = append(b.refs[l], ref)
	l.add(ref.entry, ref.methods)
	return nil
}

// overlap reports whether two method sets share a method and names one
// ("" when either set is every method).
func overlap(a, b []string) (string, bool) {
	if a == nil || b == nil {
		return "", true
	}
	for _, m := range a {
		if slices.Contains(b, m) {
			return m, true
		}
	}
	return "", false
}

// normMethods checks and deduplicates methods; nil means every method.
func normMethods(ms []string) ([]string, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		if m == "" {
			return nil, errors.New("empty method")
		}
		for i := 0; i < len(m); i++ {
			c := m[i]
			if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
				return nil, fmt.Errorf("method %q: methods are upper-case tokens such as GET or POST", m)
			}
		}
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out, nil
}

// normHosts checks, lower-cases and deduplicates hosts; "*" stands for any.
func normHosts(hs []string) ([]string, error) {
	if len(hs) == 0 {
		return []string{"*"}, nil
	}
	out := make([]string, 0, len(hs))
	for _, h := range hs {
		if h == "" {
			h = "*"
		}
		if err := ValidateHost(h); err != nil {
			return nil, err
		}
		h = strings.ToLower(h)
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out, nil
}
