package router

import (
	"maps"
	"slices"
	"strings"
)

// Methods with a fixed slot in a leaf, so the common case is an array index
// rather than a string search.
const (
	mGET = iota
	mHEAD
	mPOST
	mPUT
	mPATCH
	mDELETE
	mOPTIONS
	mCONNECT
	mTRACE
	nStdMethods
)

// methodIndex returns the slot of a standard method, or -1.
func methodIndex(m string) int {
	switch m {
	case "GET":
		return mGET
	case "HEAD":
		return mHEAD
	case "POST":
		return mPOST
	case "PUT":
		return mPUT
	case "PATCH":
		return mPATCH
	case "DELETE":
		return mDELETE
	case "OPTIONS":
		return mOPTIONS
	case "CONNECT":
		return mCONNECT
	case "TRACE":
		return mTRACE
	}
	return -1
}

// leaf holds the routes of one host group that share one path pattern, as
// indices into Table.entries.
type leaf struct {
	pattern string // the first route's pattern text, the label of a 405
	any     int32  // entry of the route accepting every method, or -1
	std     [nStdMethods]int32
	custom  []customMethod
	allow   string // precomputed Allow header for a 405
}

type customMethod struct {
	method string
	entry  int32
}

func newLeaf(pattern string) *leaf {
	l := &leaf{pattern: pattern, any: -1}
	for i := range l.std {
		l.std[i] = -1
	}
	return l
}

// lookup returns the entry that serves method (whose slot is mi), or -1.
func (l *leaf) lookup(mi int, method string) int32 {
	if l.any >= 0 {
		return l.any
	}
	if mi >= 0 {
		if e := l.std[mi]; e >= 0 || mi != mHEAD {
			return e
		}
		return l.std[mGET]
	}
	for _, c := range l.custom {
		if c.method == method {
			return c.entry
		}
	}
	return -1
}

// add registers entry e for methods (nil: every method). Conflicts have been
// ruled out by the caller.
func (l *leaf) add(e int32, methods []string) {
	if methods == nil {
		l.any = e
		return
	}
	for _, m := range methods {
		if mi := methodIndex(m); mi >= 0 {
			l.std[mi] = e
		} else {
			l.custom = append(l.custom, customMethod{method: m, entry: e})
		}
	}
}

// computeAllow fills l.allow from the method sets of its routes.
func (l *leaf) computeAllow(sets [][]string) {
	var all []string
	for _, ms := range sets {
		if ms == nil {
			l.allow = ""
			return
		}
		all = append(all, ms...)
	}
	if slices.Contains(all, "GET") {
		all = append(all, "HEAD")
	}
	slices.Sort(all)
	l.allow = strings.Join(slices.Compact(all), ", ")
}

// litSliceMax is the number of literal children up to which a node scans a
// slice of strings; above it, children are found by segment id, which costs
// one hash of the path segment per Match.
const litSliceMax = 8

// node is one segment position of the path trie. Exact literal patterns are
// not in the trie; they live in Table.exactPaths.
type node struct {
	lits     []litEdge        // literal children, when there are few
	slots    []idSlot         // literal children by segment id, when there are many
	litMap   map[string]*node // literal children while the table is built
	param    *node            // the {name} child
	end      *leaf            // parameter patterns ending at this node
	catchAll *leaf            // patterns ending with {name...} after this node
	prefix   *leaf            // patterns ending with "/*" after this node

	hasFull   bool  // end or catchAll somewhere in this subtree
	maxPrefix int32 // depth of the deepest prefix leaf in this subtree, or -1
}

type litEdge struct {
	text  string
	child *node
}

// idSlot is one entry of a node's open-addressing table of literal children,
// keyed by the table-wide segment id (see Table.segIDs).
type idSlot struct {
	id    int32
	child *node
}

// childByID returns the literal child whose segment id is id, or nil.
func (n *node) childByID(id int32) *node {
	mask := int32(len(n.slots) - 1)
	for i := id & mask; ; i = (i + 1) & mask {
		s := &n.slots[i]
		if s.child == nil || s.id == id {
			return s.child
		}
	}
}

// addChild returns the literal child for seg, creating it. While the table
// is built, children live in litMap; finish moves small sets to lits.
func (n *node) addChild(seg string) *node {
	if c := n.litMap[seg]; c != nil {
		return c
	}
	if n.litMap == nil {
		n.litMap = map[string]*node{}
	}
	c := &node{}
	n.litMap[seg] = c
	return c
}

// finish computes the pruning facts bottom-up and picks each node's literal
// lookup; depth is n's depth in segments. Segments of large child sets get
// ids in ids, shared by all groups, so that Match hashes each path segment
// once however many host groups it searches.
func (n *node) finish(depth int32, ids map[string]int32) {
	n.hasFull = n.end != nil || n.catchAll != nil
	n.maxPrefix = -1
	if n.prefix != nil {
		n.maxPrefix = depth
	}
	visit := func(c *node) {
		c.finish(depth+1, ids)
		n.hasFull = n.hasFull || c.hasFull
		n.maxPrefix = max(n.maxPrefix, c.maxPrefix)
	}
	texts := slices.Sorted(maps.Keys(n.litMap)) // sorted: ids must not depend on map order
	for _, text := range texts {
		visit(n.litMap[text])
	}
	if n.param != nil {
		visit(n.param)
	}
	if len(texts) <= litSliceMax {
		for _, text := range texts {
			n.lits = append(n.lits, litEdge{text: text, child: n.litMap[text]})
		}
		n.litMap = nil
		return
	}
	size := 1
	for size < 2*len(texts) {
		size *= 2
	}
	n.slots = make([]idSlot, size)
	for _, text := range texts {
		id, ok := ids[text]
		if !ok {
			id = int32(len(ids))
			ids[text] = id
		}
		i := id & int32(size-1)
		for n.slots[i].child != nil {
			i = (i + 1) & int32(size-1)
		}
		n.slots[i] = idSlot{id: id, child: n.litMap[text]}
	}
	n.litMap = nil
}

// group is the path table of one host pattern. Its exact paths are moved to
// Table.exactPaths when the table is finished, so that Match hashes the path
// once for all groups.
type group struct {
	exact map[string]*leaf
	root  node
}

// exactLeaf is one host group's leaf for an exact path.
type exactLeaf struct {
	g *group
	l *leaf
}

// leafFor returns the leaf of pattern p, creating it and its trie path.
func (g *group) leafFor(p *pattern) *leaf {
	slot := func(l **leaf) *leaf {
		if *l == nil {
			*l = newLeaf(p.raw)
		}
		return *l
	}
	if p.isExact() {
		if g.exact == nil {
			g.exact = map[string]*leaf{}
		}
		l := g.exact[p.raw]
		if l == nil {
			l = newLeaf(p.raw)
			g.exact[p.raw] = l
		}
		return l
	}
	n := &g.root
	for _, s := range p.segments {
		switch s.kind {
		case segLiteral:
			n = n.addChild(s.text)
		case segParam:
			if n.param == nil {
				n.param = &node{}
			}
			n = n.param
		case segCatchAll:
			return slot(&n.catchAll)
		case segPrefix:
			return slot(&n.prefix)
		}
	}
	return slot(&n.end)
}
