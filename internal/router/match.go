package router

import (
	"strings"
	"unsafe"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// maxHostLen bounds the host names Match lower-cases on its stack; a longer
// name is not a valid host and can only match any-host routes.
const maxHostLen = 253

// Match finds the route for a request. host is the request host without
// port (matched case-insensitively), method the request method, and path the
// normalized request path. Captured parameters are written to params (pass
// the exchange's x.Params[:]); n says how many are valid, and their values are
// substrings of path. Match does not allocate.
//
// res is Matched with m.Value set, MethodNotAllowed with m.Allow set, or
// NotFound. See the package documentation for the precedence rules.
func (t *Table[T]) Match(host, method, path string, params []pipeline.Param) (m Match[T], n int, res Result) {
	if path == "" || path[0] != '/' {
		return m, 0, NotFound
	}
	w := walker{path: path, method: method, mi: methodIndex(method), params: params, segIDs: t.segIDs}
	if t.exactPaths != nil {
		w.exact = t.exactPaths[path]
	}

	host = strings.TrimSuffix(host, ".")
	if hasUpper(host) {
		if len(host) > maxHostLen {
			host = ""
		} else {
			var buf [maxHostLen]byte // only zeroed on this rare path
			for i := 0; i < len(host); i++ {
				c := host[i]
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				buf[i] = c
			}
			host = unsafe.String(&buf[0], len(host))
		}
	}

	if g := t.exactHosts[host]; g != nil {
		if e, k := g.match(&w); e >= 0 {
			return t.found(e, k, params)
		}
	}
	if t.wildHosts != nil {
		// Each dot after the first label starts a suffix, longest first.
		for i := 1; i < len(host); i++ {
			// Skip suffixes of a length no wildcard has; keys are <= 253 bytes.
			sl := len(host) - i - 1
			if host[i] != '.' || sl >= 256 || t.wildLens[sl/64]&(1<<(sl%64)) == 0 {
				continue
			}
			if g := t.wildHosts[host[i+1:]]; g != nil {
				if e, k := g.match(&w); e >= 0 {
					return t.found(e, k, params)
				}
			}
		}
	}
	if t.anyHost != nil {
		if e, k := t.anyHost.match(&w); e >= 0 {
			return t.found(e, k, params)
		}
	}
	if w.first != nil {
		return Match[T]{Pattern: w.first.pattern, Allow: w.first.allow}, 0, MethodNotAllowed
	}
	return m, 0, NotFound
}

// found names the k captured parameters after entry e's pattern.
func (t *Table[T]) found(e int32, k int, params []pipeline.Param) (Match[T], int, Result) {
	en := &t.entries[e]
	k = min(k, len(params))
	for i := range k {
		params[i].Name = en.names[i]
	}
	return Match[T]{Value: en.value, Pattern: en.pattern, Prefix: en.prefix}, k, Matched
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// walker is the state of one Match. Leaves are tried most specific first;
// the first that matches the path but not the method is kept for the 405.
type walker struct {
	path   string
	method string
	mi     int
	params []pipeline.Param
	exact  []exactLeaf // the host groups' leaves for path as an exact pattern
	first  *leaf

	// The most specific prefix leaf of the group being searched.
	best      *leaf
	bestDepth int32
	bestK     int
	clobbered bool

	// Segment ids by depth, looked up once for all host groups.
	segIDs map[string]int32
	ids    [idCacheDepth]int32
	known  uint8 // bit d: ids[d] is set
}

// idCacheDepth is how many leading path segments keep their segment id.
const idCacheDepth = 8

// child returns n's literal child for seg, the segment at depth.
func (w *walker) child(n *node, seg string, depth int32) *node {
	if n.slots == nil {
		for i := range n.lits {
			if n.lits[i].text == seg {
				return n.lits[i].child
			}
		}
		return nil
	}
	var id int32
	if depth < idCacheDepth && w.known&(1<<depth) != 0 {
		id = w.ids[depth]
	} else {
		var ok bool
		if id, ok = w.segIDs[seg]; !ok {
			id = -1
		}
		if depth < idCacheDepth {
			w.ids[depth], w.known = id, w.known|1<<depth
		}
	}
	if id < 0 {
		return nil
	}
	return n.childByID(id)
}

// try returns the entry of l serving the method, or -1.
func (w *walker) try(l *leaf) int32 {
	e := l.lookup(w.mi, w.method)
	if e < 0 && w.first == nil {
		w.first = l
	}
	return e
}

// capture stores the k-th captured value. Overwriting one of w.best's
// captures is noted, so that they are recomputed if w.best wins.
func (w *walker) capture(k int, v string) {
	if k < w.bestK && w.best != nil {
		w.clobbered = true
	}
	if k < len(w.params) {
		w.params[k].Value = v
	}
}

// segment returns the path segment after the slash at pos and where it ends.
func (w *walker) segment(pos int) (string, int) {
	// Segments are short, so a plain loop does as well as strings.IndexByte.
	start, end := pos+1, pos+1
	for end < len(w.path) && w.path[end] != '/' {
		end++
	}
	return w.path[start:end], end
}

// match returns the entry serving w in g and the number of captures, or -1.
func (g *group) match(w *walker) (int32, int) {
	for _, x := range w.exact {
		if x.g == g {
			if e := w.try(x.l); e >= 0 {
				return e, 0
			}
			break
		}
	}
	w.best, w.bestDepth, w.clobbered = nil, -1, false
	if e, k := w.search(&g.root, 0, 0, 0); e >= 0 {
		return e, k
	}
	if w.best == nil {
		return -1, 0
	}
	if e := w.try(w.best); e >= 0 && !w.clobbered {
		return e, w.bestK
	}
	// The most specific prefix refuses the method, or a later branch
	// overwrote its captures: search in order from its depth.
	for d := w.bestDepth; d >= 0; d-- {
		if e, k := w.prefixAt(&g.root, 0, 0, d, 0); e >= 0 {
			return e, k
		}
	}
	return -1, 0
}

// search walks the trie once, depth-first, literal before {param} before
// {name...}, so the first parameter-pattern leaf reached is the most specific
// one; it returns the first that accepts the method. On the way it notes the
// most specific prefix leaf in w.best: the deepest, and among equally deep
// ones the first reached. pos is where the unconsumed path starts (at a "/"
// or the end), depth the segments consumed, k the captures so far.
func (w *walker) search(n *node, pos int, depth int32, k int) (int32, int) {
	if n.prefix != nil && depth > w.bestDepth {
		w.best, w.bestDepth, w.bestK, w.clobbered = n.prefix, depth, k, false
	}
	if pos == len(w.path) {
		if n.end != nil {
			if e := w.try(n.end); e >= 0 {
				return e, k
			}
		}
		return -1, 0
	}
	seg, end := w.segment(pos)
	if c := w.child(n, seg, depth); c != nil && (c.hasFull || c.maxPrefix > w.bestDepth) {
		if e, kk := w.search(c, end, depth+1, k); e >= 0 {
			return e, kk
		}
	}
	if c := n.param; c != nil && (c.hasFull || c.maxPrefix > w.bestDepth) && seg != "" {
		w.capture(k, seg)
		if e, kk := w.search(c, end, depth+1, k+1); e >= 0 {
			return e, kk
		}
	}
	if n.catchAll != nil {
		w.capture(k, w.path[pos+1:])
		if e := w.try(n.catchAll); e >= 0 {
			return e, k + 1
		}
	}
	return -1, 0
}

// prefixAt looks for prefix patterns exactly target segments deep, literal
// before {param}. Trying depths from the deepest down makes the longest
// prefix win; a depth is tried again only when its leaves refuse the method.
func (w *walker) prefixAt(n *node, pos int, depth, target int32, k int) (int32, int) {
	if depth == target {
		// pos is at a "/" or the end, so "/api/*" matches "/api" and "/api/x".
		if n.prefix != nil {
			if e := w.try(n.prefix); e >= 0 {
				return e, k
			}
		}
		return -1, 0
	}
	if pos == len(w.path) {
		return -1, 0
	}
	seg, end := w.segment(pos)
	if c := w.child(n, seg, depth); c != nil && c.maxPrefix >= target {
		if e, kk := w.prefixAt(c, end, depth+1, target, k); e >= 0 {
			return e, kk
		}
	}
	if c := n.param; c != nil && c.maxPrefix >= target && seg != "" {
		w.capture(k, seg)
		if e, kk := w.prefixAt(c, end, depth+1, target, k+1); e >= 0 {
			return e, kk
		}
	}
	return -1, 0
}
