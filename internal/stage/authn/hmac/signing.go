package hmac

import (
	"net/http"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// requestTarget is the pseudo-header that signs the method and target.
const requestTarget = "(request-target)"

// nextName returns the next header name of a space-separated headers
// parameter starting at i, and the index after it; name is "" at the end.
func nextName(list string, i int) (name string, next int) {
	for i < len(list) && (list[i] == ' ' || list[i] == '\t') {
		i++
	}
	start := i
	for i < len(list) && list[i] != ' ' && list[i] != '\t' {
		i++
	}
	return list[start:i], i
}

// listed reports whether name is in the headers list (case-insensitively).
func listed(list, name string) bool {
	for n, i := nextName(list, 0); n != ""; n, i = nextName(list, i) {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// alternatives are the signed headers that satisfy a requirement: a signed
// X-Date stands for Date (browsers cannot set Date), a signed
// Content-Digest (RFC 9530) for Digest.
func alternatives(required string) (string, string) {
	switch required {
	case "date":
		return "date", "x-date"
	case "digest":
		return "digest", "content-digest"
	}
	return required, ""
}

// present reports whether the request carries header name (lower case or
// not); the pseudo-header (request-target) is always present.
func present(r *http.Request, name string, scratch []byte) bool {
	switch {
	case strings.EqualFold(name, requestTarget):
		return true
	case strings.EqualFold(name, "host"):
		return r.Host != ""
	}
	return len(r.Header[string(canonical(scratch[:0], name))]) > 0
}

// canonical appends the canonical MIME form of a header name ("x-date" →
// "X-Date") to dst, as net/http stores names. Map lookups through
// string(canonical(...)) do not allocate.
func canonical(dst []byte, name string) []byte {
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
		upper = c == '-'
	}
	return dst
}

// appendSigningString appends the draft-cavage signing string for the
// headers list to dst: one "name: value" line per listed header, names
// lower-cased, joined with "\n". missing is the first listed header the
// request lacks (dst is then incomplete); unsupported is a listed
// pseudo-header other than (request-target).
func appendSigningString(dst []byte, x *pipeline.Exchange, list string, key []byte) (out []byte, missing, unsupported string) {
	r := x.Request
	first := true
	for n, i := nextName(list, 0); n != ""; n, i = nextName(list, i) {
		if !first {
			dst = append(dst, '\n')
		}
		first = false
		dst = appendLower(dst, n)
		dst = append(dst, ':', ' ')
		switch {
		case strings.EqualFold(n, requestTarget):
			dst = appendLower(dst, r.Method)
			dst = append(dst, ' ')
			dst = appendTarget(dst, x)
		case n[0] == '(':
			return dst, "", n
		case strings.EqualFold(n, "host"):
			if r.Host == "" {
				return dst, n, ""
			}
			dst = append(dst, r.Host...)
		default:
			key = canonical(key[:0], n)
			vs := r.Header[string(key)]
			if len(vs) == 0 {
				return dst, n, ""
			}
			for j, v := range vs {
				if j > 0 {
					dst = append(dst, ',', ' ')
				}
				dst = append(dst, strings.TrimSpace(v)...)
			}
		}
	}
	return dst, "", ""
}

// appendTarget appends the request target as the client sent it, in
// origin form (path?query): the raw URI the gateway received, never the
// normalized path, which the client did not sign.
func appendTarget(dst []byte, x *pipeline.Exchange) []byte {
	t := x.RawURI
	if t == "" {
		t = x.Request.RequestURI
	}
	if t == "" {
		return append(dst, x.Request.URL.RequestURI()...)
	}
	if t[0] != '/' && t != "*" {
		// absolute form (a proxy request): drop scheme and authority
		if i := strings.Index(t, "://"); i >= 0 {
			t = t[i+3:]
			j := strings.IndexAny(t, "/?")
			if j < 0 {
				return append(dst, '/')
			}
			t = t[j:]
			if t[0] == '?' {
				dst = append(dst, '/')
			}
		}
	}
	return append(dst, t...)
}

func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
