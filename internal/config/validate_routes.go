package config

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/router"
)

// routes checks every route. upstreams lists the declared upstream names,
// or is nil when references cannot be checked.
func (v *validator) routes(rs []Route, upstreams []string) {
	seen := map[string]string{}
	for i := range rs {
		r := &rs[i]
		path := index("routes", i)
		v.unique(path, r.Name, "route", seen)
		for j, h := range r.Hosts {
			if err := router.ValidateHost(h); err != nil {
				v.failValue(index(join(path, "hosts"), j), h, err.Error())
			}
		}
		valid := v.paths(path, r)
		for j, m := range r.Methods {
			if !isToken(m) {
				v.failValue(index(join(path, "methods"), j), m, fmt.Sprintf("invalid method %q", m))
				continue
			}
			r.Methods[j] = strings.ToUpper(m)
		}
		if r.AI != nil {
			if r.Upstream != "" {
				v.fail(join(path, "upstream"), "a route with an ai block is served by the AI gateway; remove upstream (or the ai block)")
			}
			if r.Idempotency != nil {
				v.fail(join(path, "idempotency"), "idempotency is not supported on ai routes")
			}
		} else {
			v.reference(join(path, "upstream"), r.Upstream, upstreams)
		}
		if r.Rewrite != "" && valid {
			v.rewrite(path, r)
		}
		v.headerOps(join(path, "headers.request"), r.Headers.Request)
		v.headerOps(join(path, "headers.response"), r.Headers.Response)
		if r.Sunset != "" {
			if _, err := time.Parse(time.RFC3339, r.Sunset); err != nil {
				v.failValue(join(path, "sunset"), r.Sunset, fmt.Sprintf(
					`invalid sunset %q: use an RFC 3339 time such as "2027-01-31T00:00:00Z"`, r.Sunset))
			}
		}
		v.limits(join(path, "limits"), r.Limits)
	}
	v.conflicts(rs)
}

// paths checks a route's path patterns and reports whether all are valid.
func (v *validator) paths(path string, r *Route) bool {
	pPath := join(path, "paths")
	if len(r.Paths) == 0 {
		v.required(pPath, `at least one path, e.g. "/orders"`)
		return false
	}
	valid := true
	for j, p := range r.Paths {
		if err := router.ValidatePath(p); err != nil {
			v.failValue(index(pPath, j), p, err.Error())
			valid = false
		}
	}
	return valid
}

// reference checks that a route names a declared upstream.
func (v *validator) reference(path, name string, upstreams []string) {
	switch {
	case name == "":
		v.required(path, "the name of the upstream that serves this route")
	case upstreams == nil || slices.Contains(upstreams, name):
	default:
		msg := fmt.Sprintf("unknown upstream %q", name)
		if s, ok := closest(name, upstreams); ok {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		v.failValue(path, name, msg)
	}
}

// rewrite checks that every {name} in the rewrite is captured by every path.
func (v *validator) rewrite(path string, r *Route) {
	rwPath := join(path, "rewrite")
	if !strings.HasPrefix(r.Rewrite, "/") {
		v.failValue(rwPath, r.Rewrite, fmt.Sprintf(`rewrite %q must start with "/"`, r.Rewrite))
		return
	}
	names, ok := placeholders(r.Rewrite)
	if !ok {
		v.failValue(rwPath, r.Rewrite, fmt.Sprintf(`rewrite %q has an unclosed "{"`, r.Rewrite))
		return
	}
	for _, name := range names {
		for j, p := range r.Paths {
			if !slices.Contains(pathParams(p), name) {
				shown := v.display(index(join(path, "paths"), j), p)
				v.failValue(rwPath, r.Rewrite, fmt.Sprintf("rewrite uses {%s}, which path %q does not capture", name, shown))
			}
		}
	}
}

// placeholders lists the {name} placeholders of a rewrite template.
func placeholders(s string) ([]string, bool) {
	var names []string
	for {
		open := strings.IndexByte(s, '{')
		if open < 0 {
			return names, true
		}
		end := strings.IndexByte(s[open:], '}')
		if end < 0 {
			return nil, false
		}
		names = append(names, strings.TrimSuffix(s[open+1:open+end], "..."))
		s = s[open+end+1:]
	}
}

// pathParams lists the parameters a valid path pattern captures.
func pathParams(p string) []string {
	var names []string
	for seg := range strings.SplitSeq(p, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			names = append(names, strings.TrimSuffix(seg[1:len(seg)-1], "..."))
		}
	}
	return names
}

// headerOps checks the header names a route adds, sets or removes.
func (v *validator) headerOps(path string, ops HeaderOps) {
	for _, m := range []struct {
		field string
		names map[string]string
	}{{"add", ops.Add}, {"set", ops.Set}} {
		keys := make([]string, 0, len(m.names))
		for k := range m.names {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v.headerKey(mapKey(join(path, m.field), k), k)
		}
	}
	for i, name := range ops.Remove {
		v.headerName(index(join(path, "remove"), i), name)
	}
}

// Params lists the path parameters that every path of the route captures
// (so a policy or ownership rule can rely on them).
func (r *Route) Params() []string {
	var out []string
	for i, p := range r.Paths {
		names := pathParams(p)
		if i == 0 {
			out = names
			continue
		}
		out = slices.DeleteFunc(out, func(n string) bool { return !slices.Contains(names, n) })
	}
	return out
}
