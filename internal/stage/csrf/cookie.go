package csrf

import (
	"net/http"
	"net/textproto"
	"strings"
)

// cookieValue returns the value of the first valid cookie called name in
// h's Cookie lines, as (*http.Request).Cookie would, without allocating:
// the pass path of a double-submit check reads one cookie per request and
// should not parse them all into *http.Cookie values.
func cookieValue(h http.Header, name string) (string, bool) {
	for _, line := range h["Cookie"] {
		line = textproto.TrimString(line)
		var part string
		for len(line) > 0 {
			part, line, _ = strings.Cut(line, ";")
			part = textproto.TrimString(part)
			if part == "" {
				continue
			}
			n, v, _ := strings.Cut(part, "=")
			if textproto.TrimString(n) != name {
				continue
			}
			if v, ok := cookieText(v); ok {
				return v, true
			}
		}
	}
	return "", false
}

// cookieText strips optional double quotes from a cookie value and
// reports whether it holds only cookie-octets (RFC 6265 §4.1.1, as net/http
// relaxes them: space and comma allowed).
func cookieText(v string) (string, bool) {
	if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < 0x20 || b >= 0x7f || b == '"' || b == ';' || b == '\\' {
			return "", false
		}
	}
	return v, true
}

// isToken reports whether s is an RFC 9110 token (header and cookie names).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}
