package accept

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// Why a path is refused with request.invalid_path. Each error's text is the
// operator-facing reason recorded in the trace.
var (
	ErrPathNotAbsolute  = errors.New("path does not start with /")
	ErrEncodedSlash     = errors.New("path contains an encoded slash (%2F)")
	ErrEncodedBackslash = errors.New("path contains an encoded backslash (%5C)")
	ErrBackslash        = errors.New("path contains a backslash")
	ErrEncodedDot       = errors.New("path contains an encoded dot segment (%2E)")
	ErrAboveRoot        = errors.New("path climbs above the root with ..")
	ErrControlChar      = errors.New("path contains a control character")
	ErrBadEscape        = errors.New("path contains invalid percent-encoding")
)

// NormalizePath returns the normalized form of a raw (still percent-encoded)
// request path, as every stage, the logs and the upstream see it:
//
//   - percent-encoded unreserved characters (A-Z a-z 0-9 - . _ ~) are
//     decoded ("/%7Euser" → "/~user");
//   - the hex digits of the remaining escapes are upper-cased ("%3f" → "%3F");
//     "%25" stays, so "%252F" is the literal text "%2F", not a slash;
//   - characters that are not allowed in a path (e.g. `"`, `{`, non-ASCII
//     bytes) are percent-encoded;
//   - duplicate slashes are collapsed ("//a//b" → "/a/b");
//   - "." and ".." segments are removed (RFC 3986 section 5.2.4); a trailing
//     slash is kept ("/a/b/.." → "/a/").
//
// It refuses, with one of the Err* errors above: a path not starting with
// "/", an encoded slash or backslash anywhere, a raw backslash (some
// backends treat it as a separator), a segment that is "." or ".." only
// after decoding %2E, a ".." above the root, control characters raw or
// encoded (%00-%1F, %7F), and invalid percent-encoding.
//
// A path that is already normal is returned as is, without allocating.
func NormalizePath(raw string) (string, error) {
	if raw == "" || raw[0] != '/' {
		return "", ErrPathNotAbsolute
	}
	if isNormalPath(raw) {
		return raw, nil
	}
	return normalizeSlow(raw)
}

// isNormalPath reports whether NormalizePath would return raw unchanged.
func isNormalPath(raw string) bool {
	seg := 1 // start of the current segment, after its slash
	for i := 1; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '/':
			if isDotOrEmpty(raw[seg:i]) {
				return false
			}
			seg = i + 1
		case c == '%':
			if i+2 >= len(raw) || !isUpperHex(raw[i+1]) || !isUpperHex(raw[i+2]) {
				return false
			}
			if v := unhex(raw[i+1])<<4 | unhex(raw[i+2]); keepEscaped[v] == 0 {
				return false
			}
			i += 2
		case charClass[c] != classPchar:
			return false
		}
	}
	s := raw[seg:]
	return s != "." && s != ".."
}

func isDotOrEmpty(s string) bool { return s == "" || s == "." || s == ".." }

// normalizeSlow builds the normalized path segment by segment.
func normalizeSlow(raw string) (string, error) {
	out := make([]byte, 1, len(raw)+8)
	out[0] = '/'
	pos := 1
	for {
		end := strings.IndexByte(raw[pos:], '/')
		last := end < 0
		if last {
			end = len(raw)
		} else {
			end += pos
		}
		mark := len(out)
		encodedDot := false
		for i := pos; i < end; i++ {
			c := raw[i]
			if c == '%' {
				if i+2 >= end || !isHex(raw[i+1]) || !isHex(raw[i+2]) {
					return "", ErrBadEscape
				}
				v := unhex(raw[i+1])<<4 | unhex(raw[i+2])
				i += 2
				switch {
				case v == '/':
					return "", ErrEncodedSlash
				case v == '\\':
					return "", ErrEncodedBackslash
				case v < 0x20 || v == 0x7f:
					return "", ErrControlChar
				case charClass[v] == classPchar && keepEscaped[v] == 0:
					// An unreserved character: decode it.
					encodedDot = encodedDot || v == '.'
					out = append(out, v)
				default:
					out = append(out, '%', upperHex[v>>4], upperHex[v&0x0f])
				}
				continue
			}
			switch charClass[c] {
			case classPchar:
				out = append(out, c)
			case classControl:
				return "", ErrControlChar
			case classBackslash:
				return "", ErrBackslash
			default:
				out = append(out, '%', upperHex[c>>4], upperHex[c&0x0f])
			}
		}
		seg := out[mark:]
		switch dots := string(seg) == "." || string(seg) == ".."; {
		case len(seg) == 0:
			// An empty segment ("//" or the trailing slash): out already
			// ends with a slash.
		case dots:
			if encodedDot {
				return "", ErrEncodedDot
			}
			up := len(seg) == 2
			out = out[:mark]
			if up {
				if mark == 1 {
					return "", ErrAboveRoot
				}
				out = out[:bytes.LastIndexByte(out[:mark-1], '/')+1]
			}
		default:
			if !last {
				out = append(out, '/')
			}
		}
		if last {
			return string(out), nil
		}
		pos = end + 1
	}
}

// pathFromRequest returns the raw path of r: the path part of the request
// line (origin form "/a?b", absolute form "http://h/a?b", or "*"), or the
// URL's escaped path for requests that were not read from a connection.
func pathFromRequest(r *http.Request) string {
	u := r.RequestURI
	if u == "" {
		return r.URL.EscapedPath()
	}
	if u[0] != '/' && u != "*" {
		// Absolute form: drop scheme and authority. An empty path with an
		// authority means "/" (RFC 3986 section 6.2.3).
		i := strings.Index(u, "://")
		if i < 0 {
			return u
		}
		u = u[i+3:]
		j := strings.IndexAny(u, "/?")
		if j < 0 || u[j] == '?' {
			return "/"
		}
		u = u[j:]
	}
	if i := strings.IndexByte(u, '?'); i >= 0 {
		u = u[:i]
	}
	return u
}

// setURLPath points r.URL at the normalized path p so that the proxy sends
// exactly p upstream: Path is its decoded form, RawPath p itself when the
// two differ.
func setURLPath(r *http.Request, p string) {
	if strings.IndexByte(p, '%') < 0 {
		r.URL.Path, r.URL.RawPath = p, ""
		return
	}
	dec, err := url.PathUnescape(p)
	if err != nil { // cannot happen for a normalized path
		dec = p
	}
	r.URL.Path, r.URL.RawPath = dec, p
}

// Character classes of raw path bytes.
const (
	classOther     = iota // allowed nowhere in a path: percent-encode it
	classPchar            // RFC 3986 pchar: unreserved, sub-delims, ":" and "@"
	classControl          // 0x00-0x1F and 0x7F: refuse
	classBackslash        // "\": refuse
)

// charClass classifies every byte; keepEscaped marks escape values that stay
// encoded (everything but unreserved characters).
var charClass, keepEscaped = func() (c, k [256]uint8) {
	for i := range 256 {
		b := byte(i)
		switch {
		case b < 0x20 || b == 0x7f:
			c[i] = classControl
		case b == '\\':
			c[i] = classBackslash
		case b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' ||
			strings.IndexByte("-._~!$&'()*+,;=:@", b) >= 0:
			c[i] = classPchar
		}
		unreserved := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' ||
			b == '-' || b == '.' || b == '_' || b == '~'
		// Escapes of separators and control characters are refused before
		// this table is consulted; mark them "not kept" so isNormalPath
		// sends them down the slow path that refuses them.
		if !unreserved && b != '/' && b != '\\' && b >= 0x20 && b != 0x7f {
			k[i] = 1
		}
	}
	return c, k
}()

const upperHex = "0123456789ABCDEF"

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isUpperHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// normalizeHost returns the Host header lower-cased, without its port, without
// the brackets of an IPv6 literal and without one trailing dot
// ("API.Example.com.:8443" → "api.example.com", "[::1]:80" → "::1"). ok is
// false when the value is not a valid host.
func normalizeHost(h string) (host string, ok bool) {
	if h == "" {
		return "", true
	}
	if h[0] == '[' {
		end := strings.IndexByte(h, ']')
		if end < 0 || !validPort(h[end+1:]) {
			return "", false
		}
		host = h[1:end]
		for i := 0; i < len(host); i++ {
			if c := host[i]; !isHex(c) && c != ':' && c != '.' {
				return "", false
			}
		}
		if !strings.Contains(host, ":") {
			return "", false
		}
	} else {
		host = h
		if i := strings.LastIndexByte(h, ':'); i >= 0 {
			if !validPort(h[i:]) {
				return "", false
			}
			host = h[:i]
		}
		if host != "." {
			host = strings.TrimSuffix(host, ".")
		}
		for i := 0; i < len(host); i++ {
			if c := host[i]; charClass[c] != classPchar && c != '%' || c == ':' || c == '@' {
				return "", false
			}
		}
	}
	if host == "" {
		return "", false
	}
	for i := 0; i < len(host); i++ {
		if c := host[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(host), true
		}
	}
	return host, true
}

// validPort reports "" or ":" followed by at most 5 digits.
func validPort(p string) bool {
	if p == "" {
		return true
	}
	if p[0] != ':' || len(p) > 6 {
		return false
	}
	for i := 1; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}
