package router

import (
	"cmp"
	"slices"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// refResult is the slow reference matcher's answer.
type refResult struct {
	res     Result
	value   string
	pattern string
	allow   string
	params  []pipeline.Param
}

// refCand is one (route, path) pair that matches the request's host and path.
type refCand struct {
	route   int
	pattern string
	shape   string // the pattern with parameter names erased
	class   int    // 0 exact, 1 parameters, 2 prefix
	depth   int    // prefix: segments before "*"
	kinds   []int  // per segment: 0 literal, 1 {param}, 2 {name...}
	params  []pipeline.Param
}

// refMatch answers like Table.Match by brute force: it tries every route,
// sorts the candidates by the documented precedence and applies the method
// rules. It shares no code with the table.
func refMatch(routes []Route[string], host, method, path string) refResult {
	if !strings.HasPrefix(path, "/") {
		return refResult{res: NotFound}
	}
	host = asciiLower(strings.TrimSuffix(host, "."))
	if len(host) > maxHostLen {
		host = "" // documented: an over-long host only reaches any-host routes
	}
	// Host groups, most specific first.
	type hostRank struct {
		pat  string
		rank [2]int
	}
	var groups []hostRank
	seen := map[string]bool{}
	for _, rt := range routes {
		for _, h := range refHosts(rt.Hosts) {
			if seen[h] {
				continue
			}
			seen[h] = true
			switch {
			case h == "*":
				groups = append(groups, hostRank{h, [2]int{2, 0}})
			case strings.HasPrefix(h, "*."):
				s := h[1:]
				if strings.HasSuffix(host, s) && len(host) > len(s) {
					groups = append(groups, hostRank{h, [2]int{1, -len(s)}})
				}
			case h == host:
				groups = append(groups, hostRank{h, [2]int{0, 0}})
			}
		}
	}
	slices.SortFunc(groups, func(a, b hostRank) int {
		return cmp.Or(cmp.Compare(a.rank[0], b.rank[0]), cmp.Compare(a.rank[1], b.rank[1]))
	})

	var first *refResult
	for _, g := range groups {
		var cands []refCand
		for i, rt := range routes {
			if !slices.Contains(refHosts(rt.Hosts), g.pat) {
				continue
			}
			for _, p := range rt.Paths {
				if c, ok := refPath(p, path); ok {
					c.route = i
					cands = append(cands, c)
				}
			}
		}
		slices.SortStableFunc(cands, func(a, b refCand) int {
			if a.class != b.class {
				return cmp.Compare(a.class, b.class)
			}
			if a.depth != b.depth {
				return cmp.Compare(b.depth, a.depth)
			}
			return slices.Compare(a.kinds, b.kinds)
		})
		for i := 0; i < len(cands); {
			j := i
			for j < len(cands) && cands[j].shape == cands[i].shape {
				j++
			}
			same := cands[i:j]
			if c, ok := refPickMethod(routes, same, method); ok {
				return refResult{res: Matched, value: routes[c.route].Value, pattern: c.pattern, params: c.params}
			}
			if first == nil {
				first = &refResult{res: MethodNotAllowed, pattern: same[0].pattern, allow: refAllow(routes, same)}
			}
			i = j
		}
	}
	if first != nil {
		return *first
	}
	return refResult{res: NotFound}
}

func refPickMethod(routes []Route[string], same []refCand, method string) (refCand, bool) {
	for _, c := range same {
		ms := routes[c.route].Methods
		if len(ms) == 0 || slices.Contains(ms, method) {
			return c, true
		}
	}
	if method == "HEAD" {
		for _, c := range same {
			if slices.Contains(routes[c.route].Methods, "GET") {
				return c, true
			}
		}
	}
	return refCand{}, false
}

func refAllow(routes []Route[string], same []refCand) string {
	var all []string
	for _, c := range same {
		all = append(all, routes[c.route].Methods...)
	}
	if slices.Contains(all, "GET") {
		all = append(all, "HEAD")
	}
	slices.Sort(all)
	return strings.Join(slices.Compact(all), ", ")
}

func refHosts(hs []string) []string {
	if len(hs) == 0 {
		return []string{"*"}
	}
	out := make([]string, len(hs))
	for i, h := range hs {
		if h == "" {
			h = "*"
		}
		out[i] = asciiLower(h)
	}
	return out
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// refPath matches one pattern against path by splitting both on "/".
func refPath(pat, path string) (refCand, bool) {
	c := refCand{pattern: pat}
	if pat == "/" {
		c.shape = "/"
		return c, path == "/"
	}
	ps := strings.Split(pat[1:], "/")
	segs := strings.Split(path[1:], "/")
	var shape []string
	tail := ""
	switch last := ps[len(ps)-1]; {
	case last == "*":
		c.class, tail, ps = 2, "*", ps[:len(ps)-1]
		c.depth = len(ps)
		if len(segs) < len(ps) {
			return c, false
		}
	case strings.HasSuffix(last, "...}"):
		c.class, tail, ps = 1, "{...}", ps[:len(ps)-1]
		if len(segs) <= len(ps) {
			return c, false
		}
	default:
		if len(segs) != len(ps) {
			return c, false
		}
	}
	for i, p := range ps {
		if strings.HasPrefix(p, "{") {
			if segs[i] == "" {
				return c, false
			}
			c.class = max(c.class, 1)
			c.kinds = append(c.kinds, 1)
			c.params = append(c.params, pipeline.Param{Name: p[1 : len(p)-1], Value: segs[i]})
			shape = append(shape, "{}")
			continue
		}
		if p != segs[i] {
			return c, false
		}
		c.kinds = append(c.kinds, 0)
		shape = append(shape, p)
	}
	if tail == "{...}" {
		last := pat[strings.LastIndex(pat, "{")+1 : len(pat)-4]
		c.kinds = append(c.kinds, 2)
		c.params = append(c.params, pipeline.Param{Name: last, Value: strings.Join(segs[len(ps):], "/")})
	}
	if tail != "" {
		shape = append(shape, tail)
	}
	c.shape = "/" + strings.Join(shape, "/")
	return c, true
}
