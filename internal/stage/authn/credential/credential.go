// Package credential finds credentials in requests and writes the
// WWW-Authenticate challenges of 401 answers. It is shared by the authn
// stage and its methods (jwt, introspect, basic, hmac, mtls).
package credential

import (
	"net/http"
	"strings"
	"unicode/utf8"
)

// DefaultRealm is the realm of challenges when an authenticator sets none.
const DefaultRealm = "pinpoint"

// BearerToken returns the token of an "Authorization: Bearer <token>"
// header (the scheme is case-insensitive, RFC 9110 §11.1). ok is false
// when the request has no bearer token.
func BearerToken(h http.Header) (token string, ok bool) {
	v := h.Get("Authorization")
	if len(v) < 7 || !strings.EqualFold(v[:7], "Bearer ") {
		return "", false
	}
	token = strings.TrimSpace(v[7:])
	return token, token != ""
}

// Scheme returns the auth-scheme of the Authorization header ("Basic",
// "Signature", ...), or "".
func Scheme(h http.Header) string {
	v := h.Get("Authorization")
	if i := strings.IndexByte(v, ' '); i > 0 {
		return v[:i]
	}
	return v
}

// Challenge builds a WWW-Authenticate challenge: scheme followed by
// name="value" parameters given as pairs, values quoted per RFC 9110
// (backslash and quote escaped, control characters dropped).
//
//	Challenge("Bearer", "realm", "pinpoint", "error", "invalid_token")
//	// Bearer realm="pinpoint", error="invalid_token"
func Challenge(scheme string, pairs ...string) string {
	var b strings.Builder
	b.WriteString(scheme)
	for i := 0; i+1 < len(pairs); i += 2 {
		if i == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteString(", ")
		}
		b.WriteString(pairs[i])
		b.WriteByte('=')
		b.WriteString(Quote(pairs[i+1]))
	}
	return b.String()
}

// Bearer builds an RFC 6750 challenge. errCode ("invalid_token",
// "insufficient_scope", "invalid_request") and description may be empty:
// a request without any credential gets the bare challenge (RFC 6750 §3.1).
func Bearer(realm, errCode, description string) string {
	if realm == "" {
		realm = DefaultRealm
	}
	pairs := []string{"realm", realm}
	if errCode != "" {
		pairs = append(pairs, "error", errCode)
	}
	if description != "" {
		pairs = append(pairs, "error_description", description)
	}
	return Challenge("Bearer", pairs...)
}

// Quote returns s as an RFC 9110 quoted-string.
func Quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			// dropped: not allowed in a quoted-string
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Display makes a client-supplied value safe to echo in a problem detail:
// control characters are dropped and it is cut to max bytes.
func Display(s string, max int) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			clean = false
			break
		}
	}
	if !clean {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x20 && s[i] != 0x7f {
				b.WriteByte(s[i])
			}
		}
		s = b.String()
	}
	if len(s) > max {
		for max > 0 && !utf8.RuneStart(s[max]) {
			max--
		}
		s = s[:max] + "…"
	}
	return s
}
