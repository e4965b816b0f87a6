package validate

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// maxCaptures bounds the parameters of one path template; a document with
// more in one path is refused when the stage is built.
const maxCaptures = 16

// matcher finds the document path that a request path names. It is the
// stage's own rather than one of kin-openapi's routers because those
// match servers[].url against the request's scheme and host, which behind
// a gateway are the gateway's, not the document's; and because they
// allocate on every request, where this one does not.
//
// A request path matches when it starts with the path of one of the
// document's servers (the base path; none when the servers name none) and
// the rest matches a path template. Templates are compared segment by
// segment; at each segment a literal beats a templated segment, and a
// templated segment with more literal text ("{id}.json") beats a bare
// parameter ("{id}"), so /orders/search is found before /orders/{id} as the
// specification asks. A parameter matches a non-empty piece of a segment,
// never a "/".
type matcher struct {
	bases []string // server base paths without a trailing "/", longest first; "" is the root
	root  *node
}

// node is one segment position of the path templates.
type node struct {
	literals  map[string]*node
	templated []*templatedChild // most specific first
	path      *pathEntry        // a template ends here
}

type templatedChild struct {
	text  string // the segment as written in the document
	parts []part
	next  *node
}

// part is a literal piece of a templated segment or one parameter.
type part struct {
	literal string
	param   string // "" for a literal
}

// pathEntry is one path of the document and its operations.
type pathEntry struct {
	template   string
	operations map[string]*operation // by method
	methods    string                // "DELETE, GET", for the operator's reason
}

// captures are the path parameters a match found; values are substrings
// of the request path, still percent-encoded.
type captures struct {
	n      int
	names  [maxCaptures]string
	values [maxCaptures]string
}

// add inserts the template of e into the matcher.
func (m *matcher) add(e *pathEntry) error {
	if m.root == nil {
		m.root = &node{}
	}
	segs, err := splitTemplate(e.template)
	if err != nil {
		return err
	}
	n := m.root
	params := 0
	for _, s := range segs {
		if len(s.parts) == 1 && s.parts[0].param == "" {
			if n.literals == nil {
				n.literals = map[string]*node{}
			}
			next := n.literals[s.parts[0].literal]
			if next == nil {
				next = &node{}
				n.literals[s.parts[0].literal] = next
			}
			n = next
			continue
		}
		for _, p := range s.parts {
			if p.param != "" {
				params++
			}
		}
		i := slices.IndexFunc(n.templated, func(c *templatedChild) bool { return c.text == s.text })
		if i < 0 {
			n.templated = append(n.templated, &templatedChild{text: s.text, parts: s.parts, next: &node{}})
			slices.SortStableFunc(n.templated, moreSpecific)
			i = slices.IndexFunc(n.templated, func(c *templatedChild) bool { return c.text == s.text })
		}
		n = n.templated[i].next
	}
	if params > maxCaptures {
		return fmt.Errorf("path %s has %d parameters; at most %d are supported", e.template, params, maxCaptures)
	}
	if n.path != nil {
		return fmt.Errorf("paths %s and %s are the same path", n.path.template, e.template)
	}
	n.path = e
	return nil
}

// moreSpecific orders templated segments: more literal text first, then
// fewer parameters, then as written.
func moreSpecific(a, b *templatedChild) int {
	la, pa := specificity(a.parts)
	lb, pb := specificity(b.parts)
	switch {
	case la != lb:
		return lb - la
	case pa != pb:
		return pa - pb
	}
	return strings.Compare(a.text, b.text)
}

func specificity(parts []part) (literal, params int) {
	for _, p := range parts {
		if p.param != "" {
			params++
		} else {
			literal += len(p.literal)
		}
	}
	return literal, params
}

// find returns the document path that path names, and its parameters.
func (m *matcher) find(path string, c *captures) *pathEntry {
	if m.root == nil {
		return nil
	}
	for _, base := range m.bases {
		rest, ok := strings.CutPrefix(path, base)
		if !ok || rest != "" && rest[0] != '/' {
			continue
		}
		if rest == "" {
			rest = "/"
		}
		c.n = 0
		if e := m.root.match(rest, c); e != nil {
			return e
		}
	}
	return nil
}

// match matches path ("/seg/seg...") below n.
func (n *node) match(path string, c *captures) *pathEntry {
	if path == "" {
		return n.path
	}
	seg, rest := path[1:], ""
	if i := strings.IndexByte(seg, '/'); i >= 0 {
		seg, rest = seg[:i], seg[i:]
	}
	if next := n.literals[seg]; next != nil {
		if e := next.match(rest, c); e != nil {
			return e
		}
	}
	for _, t := range n.templated {
		mark := c.n
		if bindSegment(t.parts, seg, c) {
			if e := t.next.match(rest, c); e != nil {
				return e
			}
		}
		c.n = mark
	}
	return nil
}

// bindSegment matches one templated segment against seg and captures its
// parameters. A parameter followed by a literal ends at the literal's first
// occurrence, or, when that literal ends the segment, at its last; so
// "{name}.{ext}" takes "a.tar.gz" as name "a", ext "tar.gz".
func bindSegment(parts []part, seg string, c *captures) bool {
	for k, p := range parts {
		if p.param == "" {
			var ok bool
			if seg, ok = strings.CutPrefix(seg, p.literal); !ok {
				return false
			}
			continue
		}
		var value string
		switch {
		case k == len(parts)-1:
			value, seg = seg, ""
		case k == len(parts)-2:
			lit := parts[k+1].literal
			if len(seg) <= len(lit) || !strings.HasSuffix(seg, lit) {
				return false
			}
			value, seg = seg[:len(seg)-len(lit)], seg[len(seg)-len(lit):]
		default:
			i := strings.Index(seg[min(1, len(seg)):], parts[k+1].literal)
			if i < 0 {
				return false
			}
			value, seg = seg[:i+1], seg[i+1:]
		}
		if value == "" || c.n == maxCaptures {
			return false
		}
		c.names[c.n], c.values[c.n] = p.param, value
		c.n++
	}
	return seg == ""
}

// templateSegment is one "/"-separated segment of a path template.
type templateSegment struct {
	text  string
	parts []part
}

// splitTemplate splits a path template such as "/orders/{id}/items" into
// segments. Literal text is compared with the request path as the accept
// stage normalized it, so it is percent-encoded the same way here.
func splitTemplate(template string) ([]templateSegment, error) {
	if !strings.HasPrefix(template, "/") {
		return nil, fmt.Errorf("path %s does not start with /", template)
	}
	var segs []templateSegment
	for _, text := range strings.Split(template[1:], "/") {
		s := templateSegment{text: text}
		rest := text
		for rest != "" {
			open := strings.IndexByte(rest, '{')
			if open < 0 {
				s.parts = append(s.parts, part{literal: escapeSegment(rest)})
				break
			}
			if open > 0 {
				s.parts = append(s.parts, part{literal: escapeSegment(rest[:open])})
			}
			end := strings.IndexByte(rest[open:], '}')
			if end < 0 {
				return nil, fmt.Errorf("path %s has an unclosed {", template)
			}
			name := rest[open+1 : open+end]
			if name == "" || strings.ContainsAny(name, "{") {
				return nil, fmt.Errorf("path %s has an invalid parameter {%s}", template, name)
			}
			if n := len(s.parts); n > 0 && s.parts[n-1].param != "" {
				return nil, fmt.Errorf("path %s has parameters {%s}{%s} with nothing between them, which cannot be told apart", template, s.parts[n-1].param, name)
			}
			s.parts = append(s.parts, part{param: name})
			rest = rest[open+end+1:]
		}
		if len(s.parts) == 0 {
			s.parts = []part{{}} // an empty segment: "/" or a trailing slash
		}
		segs = append(segs, s)
	}
	return segs, nil
}

// escapeSegment percent-encodes literal template text like a normalized
// request path: characters that must be escaped in a path are, the others
// are left as they are.
func escapeSegment(s string) string {
	return (&url.URL{Path: s}).EscapedPath()
}

// pathParams decodes the captured parameters into the map kin-openapi
// reads them from.
func (c *captures) pathParams() map[string]string {
	m := make(map[string]string, c.n)
	for i := 0; i < c.n; i++ {
		v := c.values[i]
		if strings.IndexByte(v, '%') >= 0 {
			if u, err := url.PathUnescape(v); err == nil {
				v = u
			}
		}
		m[c.names[i]] = v
	}
	return m
}
