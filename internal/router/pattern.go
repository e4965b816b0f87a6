package router

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// Path pattern grammar (see config.Route.Paths):
//
//	pattern  = "/" | 1*( "/" segment ) [ "/*" ]
//	segment  = literal | "{" name "}" | "{" name "...}"   ; "{name...}" only last
//	name     = ( ALPHA / "_" ) *( ALPHA / DIGIT / "_" )
//
// "/api/*" matches "/api" and everything below it. A literal segment may not
// contain "{", "}" or "*", and "." and ".." segments are refused because
// request paths are normalized before matching.

// ValidatePath checks a path pattern and returns a user-facing error.
func ValidatePath(p string) error {
	_, err := parsePattern(p)
	return err
}

// ValidateHost checks a host pattern: "*", an exact host name, or
// "*.example.com". Ports are not part of host patterns.
func ValidateHost(h string) error {
	if h == "" {
		return errors.New("host must not be empty")
	}
	if h == "*" {
		return nil
	}
	name := strings.TrimPrefix(h, "*.")
	if strings.ContainsAny(name, "*") {
		return fmt.Errorf("host %q: a wildcard is only allowed as the whole first label (\"*.example.com\")", h)
	}
	if strings.Contains(name, ":") {
		return fmt.Errorf("host %q: host patterns do not include a port", h)
	}
	if len(name) > 253 {
		return fmt.Errorf("host %q is longer than 253 characters", h)
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("host %q: each label must be 1 to 63 characters", h)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
			if !ok {
				return fmt.Errorf("host %q: invalid character %q", h, c)
			}
		}
	}
	return nil
}

// segKind is the kind of one pattern segment.
type segKind uint8

const (
	segLiteral  segKind = iota
	segParam            // {name}
	segCatchAll         // {name...}
	segPrefix           // trailing /*
)

type segment struct {
	kind segKind
	text string // literal text or parameter name
}

type pattern struct {
	raw      string
	segments []segment
	// prefix is the literal part before the first parameter or wildcard,
	// without a trailing slash ("/api" for "/api/*", "/users" for "/users/{id}").
	prefix string
}

func parsePattern(p string) (*pattern, error) {
	if p == "" || p[0] != '/' {
		return nil, fmt.Errorf("path %q must start with \"/\"", p)
	}
	pat := &pattern{raw: p}
	if p == "/" {
		pat.prefix = ""
		return pat, nil
	}
	parts := strings.Split(p[1:], "/")
	names := map[string]bool{}
	literalDone := false
	var prefix strings.Builder
	for i, s := range parts {
		last := i == len(parts)-1
		switch {
		case s == "*":
			if !last {
				return nil, fmt.Errorf("path %q: \"*\" is only allowed as the last segment", p)
			}
			pat.segments = append(pat.segments, segment{kind: segPrefix})
			literalDone = true
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
			name := s[1 : len(s)-1]
			kind := segParam
			if strings.HasSuffix(name, "...") {
				if !last {
					return nil, fmt.Errorf("path %q: {%s} is only allowed as the last segment", p, name)
				}
				name, kind = strings.TrimSuffix(name, "..."), segCatchAll
			}
			if !validName(name) {
				return nil, fmt.Errorf("path %q: invalid parameter name %q (letters, digits and _; not starting with a digit)", p, name)
			}
			if names[name] {
				return nil, fmt.Errorf("path %q: parameter {%s} appears twice", p, name)
			}
			names[name] = true
			if len(names) > pipeline.MaxParams {
				return nil, fmt.Errorf("path %q: at most %d parameters", p, pipeline.MaxParams)
			}
			pat.segments = append(pat.segments, segment{kind: kind, text: name})
			literalDone = true
		default:
			if s == "" && !last {
				return nil, fmt.Errorf("path %q: empty segment (\"//\")", p)
			}
			if s == "." || s == ".." {
				return nil, fmt.Errorf("path %q: dot segments are not allowed", p)
			}
			if strings.ContainsAny(s, "{}*") {
				return nil, fmt.Errorf("path %q: segment %q mixes literal text with \"{\", \"}\" or \"*\"", p, s)
			}
			pat.segments = append(pat.segments, segment{kind: segLiteral, text: s})
			if !literalDone {
				prefix.WriteByte('/')
				prefix.WriteString(s)
			}
		}
	}
	pat.prefix = strings.TrimSuffix(prefix.String(), "/")
	return pat, nil
}

func validName(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// isExact reports whether p is all literal segments, so it matches exactly
// one path (its own text).
func (p *pattern) isExact() bool {
	for _, s := range p.segments {
		if s.kind != segLiteral {
			return false
		}
	}
	return true
}

// paramNames lists p's parameter names in the order Match captures them.
func (p *pattern) paramNames() []string {
	var names []string
	for _, s := range p.segments {
		if s.kind == segParam || s.kind == segCatchAll {
			names = append(names, s.text)
		}
	}
	return names
}
