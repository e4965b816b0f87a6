// Package credential finds credentials in requests and writes the
// WWW-Authenticate challenges of 401 answers. It is shared by the authn
// stage and its methods (jwt, introspect, basic, hmac, mtls).
package credential

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/problem"
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

// IDPRetryAfter is the Retry-After, in seconds, of authn.idp_unavailable:
// the identity provider is down, the caller should come back soon.
const IDPRetryAfter = "5"

// BearerRefusal builds the denial of a bearer token with the headers its
// code needs: RFC 6750 `Bearer error="invalid_token"` with the code's
// catalog title as error_description for 401s (client-safe, and never
// varying with the token), Retry-After for authn.idp_unavailable.
func BearerRefusal(code, rule string, params map[string]string, reason string) *pipeline.Denial {
	d := &pipeline.Denial{Code: code, Rule: rule, Params: params, Reason: reason}
	c, ok := problem.Lookup(code)
	switch {
	case ok && c.Status == http.StatusServiceUnavailable:
		d.Header = http.Header{"Retry-After": {IDPRetryAfter}}
	case ok:
		d.Header = http.Header{"Www-Authenticate": {Bearer("", "invalid_token", c.Title)}}
	}
	return d
}

// StringList reads a claim holding a space-separated string ("a b c", the
// RFC 8693 scope form) or an array of strings. Other values yield nil.
func StringList(v any) []string {
	switch v := v.(type) {
	case string:
		return strings.Fields(v)
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
