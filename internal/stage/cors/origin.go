package cors

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// origins is the compiled allow_origins list.
type origins struct {
	any      bool                // "*": every origin
	null     bool                // an explicit "null" entry
	exact    map[string]struct{} // lower-case "scheme://host[:port]"
	patterns []pattern
}

// pattern is a subdomain pattern "scheme://*.domain[:port]".
type pattern struct {
	scheme, domain, port string // lower-case; port "" when absent
}

// add parses one allow_origins entry into o.
func (o *origins) add(entry string) error {
	switch entry {
	case "*":
		o.any = true
		return nil
	case "null":
		o.null = true
		return nil
	}
	scheme, host, port, err := parseOrigin(entry)
	if err != nil {
		return err
	}
	if domain, ok := strings.CutPrefix(host, "*."); ok {
		if strings.IndexByte(domain, '*') >= 0 || !isHostname(domain) {
			return fmt.Errorf("origin pattern %q: want scheme://*.domain[:port], e.g. https://*.example.com", entry)
		}
		if strings.IndexByte(domain, '.') < 0 && domain != "localhost" {
			return fmt.Errorf("origin pattern %q would match every host under a top-level domain; name a registered domain", entry)
		}
		o.patterns = append(o.patterns, pattern{scheme: scheme, domain: domain, port: port})
		return nil
	}
	if strings.IndexByte(host, '*') >= 0 {
		return fmt.Errorf("origin %q: a wildcard may only stand for whole leading labels, as in https://*.example.com", entry)
	}
	if a, ok := ipLiteral(host); ok {
		host = "[" + a.String() + "]" // as browsers serialize it: [::1], not [0:0::1]
	} else if !isHostname(host) {
		return fmt.Errorf("origin %q: %q is not a host name or IP address", entry, host)
	}
	if o.exact == nil {
		o.exact = make(map[string]struct{})
	}
	s := scheme + "://" + host
	if port != "" {
		s += ":" + port
	}
	o.exact[s] = struct{}{}
	return nil
}

// parseOrigin splits a configured origin "scheme://host[:port]" into its
// lower-cased scheme and host and its port, refusing anything a browser
// would never send as an Origin: a path (even "/"), a query, user info, a
// default port, a port out of range.
func parseOrigin(s string) (scheme, host, port string, err error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || !isScheme(scheme) {
		return "", "", "", fmt.Errorf("origin %q: want \"*\", \"null\", scheme://host[:port] or scheme://*.domain[:port]", s)
	}
	scheme = strings.ToLower(scheme)
	if i := strings.IndexAny(rest, "/?#@\\"); i >= 0 {
		if rest[i] == '/' && i == len(rest)-1 {
			return "", "", "", fmt.Errorf("origin %q: drop the trailing slash; browsers send %q", s, s[:len(s)-1])
		}
		return "", "", "", fmt.Errorf("origin %q: an origin has no path, query or user info; write scheme://host[:port]", s)
	}
	host = rest
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return "", "", "", fmt.Errorf("origin %q: unterminated IPv6 literal", s)
		}
		host, rest = rest[:end+1], rest[end+1:]
		if rest != "" && rest[0] != ':' {
			return "", "", "", fmt.Errorf("origin %q: unexpected %q after the IPv6 literal", s, rest)
		}
		port = strings.TrimPrefix(rest, ":")
	} else if h, p, ok := strings.Cut(rest, ":"); ok {
		host, port = h, p
	}
	if host == "" {
		return "", "", "", fmt.Errorf("origin %q: host is required", s)
	}
	host = strings.ToLower(host)
	if port != "" || strings.HasSuffix(rest, ":") {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '0' {
			return "", "", "", fmt.Errorf("origin %q: port %q is not a number from 1 to 65535", s, port)
		}
		if port == defaultPort(scheme) {
			return "", "", "", fmt.Errorf("origin %q: browsers omit the default port; write %q", s, scheme+"://"+host)
		}
	}
	return scheme, host, port, nil
}

// match reports whether a request's Origin is allowed. It does not
// allocate. "null" (sandboxed frames, file: pages, some redirects) matches
// only an explicit "null" entry or "*": it is the origin of every opaque
// context, so allowing it allows them all.
func (o *origins) match(origin string) bool {
	if o.any {
		return true
	}
	if origin == "null" {
		return o.null
	}
	if _, ok := o.exact[origin]; ok {
		return true
	}
	if hasUpper(origin) {
		// Browsers send lower case; compare others without allocating.
		for e := range o.exact {
			if equalFold(origin, e) {
				return true
			}
		}
	}
	if len(o.patterns) == 0 {
		return false
	}
	scheme, host, port, ok := splitOrigin(origin)
	if !ok {
		return false
	}
	for i := range o.patterns {
		if o.patterns[i].match(scheme, host, port) {
			return true
		}
	}
	return false
}

// match reports whether the split origin is under p: same scheme and port,
// and a host of one or more valid labels followed by "." and p.domain.
func (p *pattern) match(scheme, host, port string) bool {
	if port != p.port || !equalFold(scheme, p.scheme) {
		return false
	}
	n := len(host) - len(p.domain) - 1
	if n < 1 || host[n] != '.' || !equalFold(host[n+1:], p.domain) {
		return false
	}
	return isHostname(host[:n])
}

// splitOrigin splits a request's Origin "scheme://host[:port]" without
// validating the parts; the matchers do that.
func splitOrigin(s string) (scheme, host, port string, ok bool) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return "", "", "", false
	}
	host, port, colon := strings.Cut(rest, ":")
	return scheme, host, port, !colon || port != ""
}

// isScheme reports whether s is a URI scheme (RFC 3986 §3.1).
func isScheme(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && !isDigit(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// isHostname reports whether s is one or more dot-separated labels of
// letters, digits, '-' and '_'.
func isHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	label := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
		case isLetter(c) || isDigit(c) || c == '-' || c == '_':
			label++
			if label > 63 {
				return false
			}
		default:
			return false
		}
	}
	return label > 0
}

// ipLiteral parses an IPv6 literal in brackets ("[::1]").
func ipLiteral(s string) (netip.Addr, bool) {
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s[1 : len(s)-1])
	return a, err == nil && a.Is6() && a.Zone() == ""
}

func defaultPort(scheme string) string {
	switch scheme {
	case "https", "wss":
		return "443"
	case "http", "ws":
		return "80"
	}
	return ""
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// equalFold compares ASCII case-insensitively. Unlike strings.EqualFold it
// never folds non-ASCII runes (the Kelvin sign is not a "k"), so a match
// is always a byte-for-byte variant of a validated entry.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// errNoOrigins is the error for an empty allow_origins.
var errNoOrigins = errors.New(`required: list the origins allowed to call, e.g. ["https://app.example.com"]`)
