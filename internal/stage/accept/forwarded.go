package accept

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// ForwardedElement is one hop of an RFC 7239 Forwarded header, with its
// parameter values unquoted; a parameter the hop did not send is "".
// Extension parameters are accepted and ignored.
type ForwardedElement struct {
	// For is the node that made the request to the proxy that wrote this
	// element: "192.0.2.60", "[2001:db8::1]:4711", "unknown" or "_hidden".
	For string
	// By is the proxy's own interface that received the request.
	By string
	// Host is the Host header the proxy received.
	Host string
	// Proto is the scheme the request arrived with, "http" or "https".
	Proto string
	// Malformed is set by ParseForwarded on an element that did not parse;
	// its other fields are empty.
	Malformed bool
}

// String formats e as one Forwarded element, quoting values that are not
// tokens, e.g. `for="[2001:db8::1]:4711";proto=https`. Bytes that cannot
// appear in a quoted string (control characters other than tab) are dropped.
func (e ForwardedElement) String() string {
	var b strings.Builder
	for _, p := range [...]struct{ name, value string }{
		{"for", e.For}, {"by", e.By}, {"host", e.Host}, {"proto", e.Proto},
	} {
		if p.value == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(';')
		}
		b.WriteString(p.name)
		b.WriteByte('=')
		if isToken(p.value) {
			b.WriteString(p.value)
			continue
		}
		b.WriteByte('"')
		for i := 0; i < len(p.value); i++ {
			c := p.value[i]
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c == '\t' || c >= ' ' && c != 0x7f:
				b.WriteByte(c)
			}
		}
		b.WriteByte('"')
	}
	return b.String()
}

// ParseForwarded parses the lines of a Forwarded header (RFC 7239) into its
// elements, first (the client's side) to last (the nearest proxy). Lines are
// joined as one comma-separated list; empty list elements are skipped.
//
// Parsing is strict about quoting but lenient about unquoted values: a
// value may be any run of visible characters other than `,;"\`, so a proxy
// that forgets to quote "192.0.2.1:80" is still understood.
//
// An element that does not parse is returned with Malformed set and parsing
// resumes after the next comma; the error describes the first such element.
// Resuming matters for security: a client that sends a broken element cannot
// hide the element a trusted proxy appends after it.
func ParseForwarded(values []string) ([]ForwardedElement, error) {
	var out []ForwardedElement
	var first error
	sc := fwdScanner{values: values}
	for {
		el, ok, err := sc.next()
		if !ok {
			return out, first
		}
		if err != nil && first == nil {
			first = err
		}
		out = append(out, el)
	}
}

// fwdScanner yields the elements of Forwarded header lines one at a time
// without allocating (unless a quoted value holds backslash escapes).
type fwdScanner struct {
	values []string
	line   int
	pos    int
}

// next returns the next element. ok is false at the end. On a syntax error
// it returns a Malformed element, the error, and resumes after the next comma.
func (sc *fwdScanner) next() (el ForwardedElement, ok bool, err error) {
	for sc.line < len(sc.values) {
		s := sc.values[sc.line]
		for sc.pos < len(s) && (s[sc.pos] == ',' || isOWS(s[sc.pos])) {
			sc.pos++
		}
		if sc.pos >= len(s) {
			sc.line++
			sc.pos = 0
			continue
		}
		start := sc.pos
		el, n, end, err := parseElement(s, start)
		if err != nil {
			// Resume at the first comma after the element's start: every
			// comma is a possible element boundary, and the walk from the
			// right must still see what proxies appended after the damage.
			if i := strings.IndexByte(s[start:], ','); i >= 0 {
				sc.pos = start + i + 1
			} else {
				sc.pos = len(s)
			}
			return ForwardedElement{Malformed: true}, true,
				fmt.Errorf("forwarded header line %d, byte %d: %w", sc.line+1, start+1, err)
		}
		sc.pos = end
		if n == 0 { // only semicolons: an empty element
			continue
		}
		return el, true, nil
	}
	return ForwardedElement{}, false, nil
}

var (
	errPairName  = errors.New("expected a parameter name")
	errPairEq    = errors.New("expected '=' after the parameter name")
	errPairValue = errors.New("expected a parameter value")
	errQuote     = errors.New("unterminated quoted string")
	errPairEnd   = errors.New("expected ';' or ',' after a parameter")
	errDuplicate = errors.New("parameter repeated in one element")
)

// parseElement parses the element starting at s[pos] up to the next
// top-level comma or the end of s. It returns the element, the number of
// pairs it held, and the offset just past it.
func parseElement(s string, pos int) (el ForwardedElement, pairs int, end int, err error) {
	var seen uint8
	for {
		for pos < len(s) && isOWS(s[pos]) {
			pos++
		}
		if pos >= len(s) || s[pos] == ',' {
			return el, pairs, pos, nil
		}
		if s[pos] == ';' {
			pos++
			continue
		}
		nameStart := pos
		for pos < len(s) && isTchar(s[pos]) {
			pos++
		}
		name := s[nameStart:pos]
		if name == "" {
			return el, 0, pos, errPairName
		}
		if pos >= len(s) || s[pos] != '=' {
			return el, 0, pos, errPairEq
		}
		pos++
		var value string
		if pos < len(s) && s[pos] == '"' {
			value, pos, err = parseQuoted(s, pos)
			if err != nil {
				return el, 0, pos, err
			}
		} else {
			vs := pos
			for pos < len(s) && isValueChar(s[pos]) {
				pos++
			}
			if pos == vs {
				return el, 0, pos, errPairValue
			}
			value = s[vs:pos]
		}
		var bit uint8
		var field *string
		switch {
		case strings.EqualFold(name, "for"):
			bit, field = 1, &el.For
		case strings.EqualFold(name, "by"):
			bit, field = 2, &el.By
		case strings.EqualFold(name, "host"):
			bit, field = 4, &el.Host
		case strings.EqualFold(name, "proto"):
			bit, field = 8, &el.Proto
		}
		if field != nil {
			if seen&bit != 0 {
				return el, 0, pos, errDuplicate
			}
			seen |= bit
			*field = value
		}
		pairs++
		for pos < len(s) && isOWS(s[pos]) {
			pos++
		}
		if pos < len(s) && s[pos] != ';' && s[pos] != ',' {
			return el, 0, pos, errPairEnd
		}
	}
}

// parseQuoted parses the quoted-string starting at s[pos] == '"' and returns
// its unescaped content and the offset just past the closing quote.
func parseQuoted(s string, pos int) (string, int, error) {
	pos++
	start := pos
	escaped := false
	for pos < len(s) {
		c := s[pos]
		switch {
		case c == '"':
			v := s[start:pos]
			if escaped {
				v = unescapeQuoted(v)
			}
			return v, pos + 1, nil
		case c == '\\':
			if pos+1 >= len(s) || !isQuotedChar(s[pos+1]) && s[pos+1] != '"' && s[pos+1] != '\\' {
				return "", pos, errQuote
			}
			escaped = true
			pos += 2
		case isQuotedChar(c):
			pos++
		default:
			return "", pos, errQuote
		}
	}
	return "", pos, errQuote
}

// unescapeQuoted removes the backslashes of quoted-pairs from a quoted
// string's validated content.
func unescapeQuoted(v string) string {
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' {
			i++
		}
		b = append(b, v[i])
	}
	return string(b)
}

// isOWS reports optional whitespace (RFC 9110): space or tab.
func isOWS(c byte) bool { return c == ' ' || c == '\t' }

// isTchar reports an RFC 9110 token character.
func isTchar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return true
}

// isValueChar reports a byte allowed in an unquoted value: a visible ASCII
// character other than the separators `,;"\`.
func isValueChar(c byte) bool {
	return c > ' ' && c < 0x7f && c != ',' && c != ';' && c != '"' && c != '\\'
}

// isQuotedChar reports qdtext: tab, space and visible characters other than
// '"' and '\', plus obs-text.
func isQuotedChar(c byte) bool {
	return c == '\t' || c == ' ' || c == '!' || c >= '#' && c <= '[' || c >= ']' && c != 0x7f
}

// nodeKind classifies a forwarding hop's node identifier.
type nodeKind uint8

const (
	nodeIP         nodeKind = iota // an IP address, with or without a port
	nodeUnknown                    // "unknown": the proxy does not know
	nodeObfuscated                 // "_hidden": deliberately hidden
	nodeMalformed                  // anything else
)

func (k nodeKind) String() string {
	switch k {
	case nodeIP:
		return "address"
	case nodeUnknown:
		return "unknown hop"
	case nodeObfuscated:
		return "obfuscated hop"
	}
	return "malformed hop"
}

// parseNode parses a node identifier as found in Forwarded for= values and
// X-Forwarded-For elements: "192.0.2.1", "192.0.2.1:8080", "2001:db8::1",
// "[2001:db8::1]", "[2001:db8::1]:4711", with a numeric or obfuscated port.
// IPv4-mapped IPv6 addresses are unmapped; zones are refused.
func parseNode(v string) (netip.Addr, nodeKind) {
	switch {
	case v == "":
		return netip.Addr{}, nodeMalformed
	case strings.EqualFold(v, "unknown"):
		return netip.Addr{}, nodeUnknown
	case v[0] == '_':
		return netip.Addr{}, nodeObfuscated
	case v[0] == '[':
		end := strings.IndexByte(v, ']')
		if end < 0 {
			return netip.Addr{}, nodeMalformed
		}
		a, err := netip.ParseAddr(v[1:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return netip.Addr{}, nodeMalformed
		}
		if rest := v[end+1:]; rest != "" && (rest[0] != ':' || !validNodePort(rest[1:])) {
			return netip.Addr{}, nodeMalformed
		}
		return a.Unmap(), nodeIP
	}
	if a, err := netip.ParseAddr(v); err == nil {
		if a.Zone() != "" {
			return netip.Addr{}, nodeMalformed
		}
		return a.Unmap(), nodeIP
	}
	i := strings.LastIndexByte(v, ':')
	if i < 0 || !validNodePort(v[i+1:]) {
		return netip.Addr{}, nodeMalformed
	}
	a, err := netip.ParseAddr(v[:i])
	if err != nil || !a.Is4() {
		return netip.Addr{}, nodeMalformed
	}
	return a, nodeIP
}

// validNodePort reports a port: a number up to 65535, or an obfuscated port
// ("_" followed by letters, digits, ".", "_" or "-").
func validNodePort(p string) bool {
	if p == "" {
		return false
	}
	if p[0] == '_' {
		for i := 1; i < len(p); i++ {
			c := p[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
				return false
			}
		}
		return len(p) > 1
	}
	if len(p) > 5 {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n <= 65535
}

// ParseXFF parses the lines of an X-Forwarded-For header, joined in order as
// one comma-separated list, into one address per non-empty element (first
// is the client's side). An element that is not an IP address (with an
// optional port, IPv6 optionally in brackets) is returned as the zero Addr,
// so a caller walking from the right knows where to stop. IPv4-mapped IPv6
// addresses are unmapped.
func ParseXFF(values []string) []netip.Addr {
	var out []netip.Addr
	for _, line := range values {
		for line != "" {
			el := line
			if i := strings.IndexByte(line, ','); i >= 0 {
				el, line = line[:i], line[i+1:]
			} else {
				line = ""
			}
			el = trimOWS(el)
			if el == "" {
				continue
			}
			a, kind := parseNode(el)
			if kind != nodeIP {
				a = netip.Addr{}
			}
			out = append(out, a)
		}
	}
	return out
}

// trimOWS trims spaces and tabs from both ends of s.
func trimOWS(s string) string {
	for s != "" && isOWS(s[0]) {
		s = s[1:]
	}
	for s != "" && isOWS(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}
