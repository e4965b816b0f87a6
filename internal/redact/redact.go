// Package redact is the one redaction policy every operator-facing output
// shares: the call log, explain, simulate, traces and webhooks. It hides
// the values of secret-bearing headers, query parameters and JSON fields,
// and anything that looks like a credential in free text.
//
// Names are matched case-insensitively and ignoring '-', '_' and '.'
// ("X-Api-Key", "api_key" and "apiKey" are one name), against the
// built-in lists, the config's redact block, and words that mark a secret
// wherever they appear in a name ("password", "secret", "apikey", …; for
// query and JSON names also a name ending in "token"). A Pinpoint API key
// keeps its prefix id ("pp_live_k7f3a9c2d1e0_redacted"): the id is safe to
// show and is what explain and the call log name the credential by.
package redact

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// Mask replaces every hidden value.
const Mask = "redacted"

// Built-in names, always hidden (normalized: lower case, no '-', '_', '.').
var (
	builtinHeaders = []string{
		"authorization", "proxyauthorization", "cookie", "setcookie",
		"xapikey", "apikey", "xauthtoken", "xaccesstoken", "xamzsecuritytoken",
		"xcsrftoken", "xxsrftoken", "pinpointdebugtoken", "xhubsignature", "xhubsignature256",
		"signature", "xsignature", "xwebhooksignature",
	}
	builtinQuery = []string{
		"apikey", "key", "token", "accesstoken", "refreshtoken", "idtoken",
		"clientsecret", "password", "passwd", "pwd", "secret", "signature", "sig", "code", "auth",
		"xamzsignature", "xamzcredential", "xamzsecuritytoken",
	}
	builtinJSON = []string{
		"password", "passwd", "pwd", "secret", "token", "apikey", "accesstoken",
		"refreshtoken", "idtoken", "clientsecret", "authorization", "privatekey", "credential",
		"credentials", "cookie",
	}
	// secretWords hide a header, query parameter or JSON field whose
	// normalized name contains one of them.
	secretWords = []string{"password", "passwd", "secret", "apikey", "privatekey", "accesskey", "credential", "authorization"}
	// headerWords also hide headers: every header naming a token, session or
	// signature carries one.
	headerWords = []string{"token", "session", "signature", "cookie"}
	// shown are names the words above would hide that hold no secret: a
	// decision token is sealed for the operator and made to be handed
	// around (it is in every refusal's body).
	shown = map[string]bool{"decisiontoken": true, "pinpointdecisiontoken": true}
)

// Policy decides what is hidden. Use New or Default; a Policy is immutable
// and safe for concurrent use.
type Policy struct {
	// clean are common header names, as net/http spells them, known to
	// hold no secret under this policy: looked up before any matching.
	clean    map[string]bool
	headers  map[string]bool
	query    map[string]bool
	json     map[string]bool
	allQuery bool
}

// Default is the built-in policy with every query value hidden.
func Default() *Policy { return New(config.Redact{}, true, nil) }

// New builds the policy from the config's redact block. allQuery hides
// every query value (gateway.call_log.redact_query); extraHeaders are the
// headers the config's authenticators read credentials from.
func New(c config.Redact, allQuery bool, extraHeaders []string) *Policy {
	p := &Policy{headers: set(builtinHeaders), query: set(builtinQuery), json: set(builtinJSON), allQuery: allQuery}
	for _, h := range c.Headers {
		p.headers[normalize(h)] = true
	}
	for _, h := range extraHeaders {
		p.headers[normalize(h)] = true
	}
	for _, q := range c.QueryParams {
		p.query[normalize(q)] = true
	}
	for _, f := range c.JSONFields {
		p.json[normalize(f)] = true
	}
	p.clean = make(map[string]bool, len(cleanHeaders))
	for _, h := range cleanHeaders {
		if !p.headers[normalize(h)] {
			p.clean[h] = true
		}
	}
	return p
}

// cleanHeaders are the headers most requests carry that hold no secret
// (unless the config's redact block names one).
var cleanHeaders = []string{
	"Accept", "Accept-Encoding", "Accept-Language", "Cache-Control", "Connection", "Content-Encoding",
	"Content-Length", "Content-Type", "Date", "Etag", "Forwarded", "Host", "Idempotency-Key",
	"If-Match", "If-Modified-Since", "If-None-Match", "Last-Modified", "Location", "Origin", "Pragma",
	"Referer", "Server", "Traceparent", "Tracestate", "User-Agent", "Vary", "Via",
	"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip", "X-Request-Id",
	"Access-Control-Request-Method", "Access-Control-Request-Headers",
	"Sec-Fetch-Dest", "Sec-Fetch-Mode", "Sec-Fetch-Site", "Upgrade-Insecure-Requests",
}

func set(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// normalize lower-cases name and drops '-', '_' and '.'.
func normalize(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '-' || c == '_' || c == '.':
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// normalizedBuf normalizes name into buf when it fits, to look names up
// without allocating.
func normalizedBuf(buf *[64]byte, name string) ([]byte, bool) {
	n := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '-' || c == '_' || c == '.':
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		if n == len(buf) {
			return nil, false
		}
		buf[n] = c
		n++
	}
	return buf[:n], true
}

// hidden reports whether name is in list or holds one of words (and, with
// tokenSuffix, ends in "token"). Names in shown never are.
func hidden(list map[string]bool, name string, words []string, tokenSuffix bool) bool {
	var buf [64]byte
	var n []byte
	if b, ok := normalizedBuf(&buf, name); ok {
		n = b
	} else {
		n = []byte(normalize(name))
	}
	// Map lookups with a converted []byte do not allocate.
	if list[string(n)] {
		return true
	}
	if shown[string(n)] {
		return false
	}
	for _, w := range secretWords {
		if bytes.Contains(n, []byte(w)) {
			return true
		}
	}
	for _, w := range words {
		if bytes.Contains(n, []byte(w)) {
			return true
		}
	}
	return tokenSuffix && bytes.HasSuffix(n, []byte("token"))
}

// Header reports whether the values of header name are hidden.
func (p *Policy) Header(name string) bool {
	return !p.clean[name] && hidden(p.headers, name, headerWords, false)
}

// QueryParam reports whether the value of query parameter name (decoded)
// is hidden even when not every query value is.
func (p *Policy) QueryParam(name string) bool { return hidden(p.query, name, nil, true) }

// JSONField reports whether the value of a JSON member called name is
// hidden.
func (p *Policy) JSONField(name string) bool { return hidden(p.json, name, nil, true) }

// Headers returns a copy of h with hidden values masked and every other
// value passed through Text.
func (p *Policy) Headers(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		c := make([]string, len(vs))
		hide := p.Header(k)
		for i, v := range vs {
			if hide {
				c[i] = Mask
			} else {
				c[i] = p.Text(v)
			}
		}
		out[k] = c
	}
	return out
}

// Query hides the values of a raw query: all of them when the policy says
// so, else those of secret-bearing parameters (names compared decoded, as
// the gateway's authenticators read them) and values that look like a
// credential. Keys and order are kept; values that are kept are not
// decoded.
func (p *Policy) Query(raw string) string { return p.query1(raw, p.allQuery, nil) }

// query1 is Query; extra names (normalized) are hidden too.
func (p *Policy) query1(raw string, all bool, extra map[string]bool) string {
	if raw == "" || !strings.Contains(raw, "=") {
		return raw
	}
	var b strings.Builder
	b.Grow(len(raw))
	for i, pair := range strings.Split(raw, "&") {
		if i > 0 {
			b.WriteByte('&')
		}
		key, value, ok := strings.Cut(pair, "=")
		b.WriteString(key)
		if !ok {
			continue
		}
		b.WriteByte('=')
		name := key
		if strings.ContainsAny(key, "%+") {
			if k, err := url.QueryUnescape(key); err == nil {
				name = k
			}
		}
		switch {
		case value == "":
		case all || p.QueryParam(name) || (extra != nil && extra[normalize(name)]):
			b.WriteString(Mask)
		default:
			plain := value
			if strings.ContainsAny(value, "%+") {
				if v, err := url.QueryUnescape(value); err == nil {
					plain = v
				}
			}
			if p.Text(plain) != plain {
				b.WriteString(Mask)
			} else {
				b.WriteString(value)
			}
		}
	}
	return b.String()
}

// URL hides the secrets of a URL an operator described or reads (the
// upstream URL of a simulated request): the values of secret-bearing query
// parameters and credential-shaped values, and a password in its user
// information. Unlike Query it keeps the other query values even when the
// policy hides every query value of the call log. Text that is not a URL
// goes through Text.
func (p *Policy) URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return p.Text(raw)
	}
	if _, hasPass := u.User.Password(); hasPass {
		u.User = url.User(Mask)
	}
	u.RawQuery = p.query1(u.RawQuery, false, nil)
	return u.String()
}

// JSON returns body with the values of hidden fields masked at any depth
// and every other string passed through Text. A body that is not one JSON
// value is redacted as a form (application/x-www-form-urlencoded) when it
// parses as one, else returned masked whole when it looks like it holds a
// credential, else unchanged.
func (p *Policy) JSON(body []byte) []byte {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	if err == nil && len(bytes.TrimSpace(body[d.InputOffset():])) > 0 {
		err = errTrailing
	}
	if err != nil {
		if looksLikeForm(body) {
			return []byte(p.query1(string(body), false, p.json))
		}
		if t := p.Text(string(body)); t != string(body) {
			return []byte(Mask)
		}
		return body
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p.value(v)); err != nil {
		return []byte(Mask)
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n"))
}

var errTrailing = errors.New("data after the JSON value")

// looksLikeForm reports whether body is name=value pairs joined by '&',
// without spaces or line breaks.
func looksLikeForm(body []byte) bool {
	if len(body) == 0 || !bytes.Contains(body, []byte("=")) || bytes.ContainsAny(body, " \t\r\n{}[]\"<>") {
		return false
	}
	_, err := url.ParseQuery(string(body))
	return err == nil
}

func (p *Policy) value(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if p.JSONField(k) {
				t[k] = Mask
			} else {
				t[k] = p.value(e)
			}
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = p.value(e)
		}
		return t
	case string:
		return p.Text(t)
	}
	return v
}

// Credential-shaped text.
var (
	// A Pinpoint API key, pp_<env>_<id>_<secret>: the prefix id is kept.
	apiKeyRE = regexp.MustCompile(`(pp_[a-z0-9]{1,16}_[a-z0-9]{4,32})_[A-Za-z0-9]{16,}`)
	// An Authorization-style credential after its scheme.
	schemeRE = regexp.MustCompile(`(?i)\b(bearer|basic|digest|hmac|negotiate|ntlm)\s+[A-Za-z0-9._~+/=:-]{8,}`)
	// A JWT (or any JWS/JWE in compact form).
	jwtRE = regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?`)
	// Credentials in a URL: scheme://user:password@host.
	userinfoRE = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@`)
	// name=value and "name": "value" pairs of secret-bearing names.
	pairRE = regexp.MustCompile(`(?i)\b((?:[a-z0-9]+[_-])*(?:password|passwd|pwd|secret|api[_-]?key|apikey|token|credential|private[_-]?key|access[_-]?key|signature|sig|session|sessionid))("?\s*[=:]\s*"?)([^\s&"',;}]+)`)
)

// Needles that credential-shaped text contains (lower case), by the
// regexp they announce; text without any is returned as it is, without
// running a regexp. schemeWords need no separator; pairWords only count
// when the text holds '=' or ':'.
var (
	schemeWords = needleTable("bearer", "basic", "digest", "hmac", "negotiate", "ntlm")
	pairWords   = needleTable("pass", "pwd", "secret", "api", "key", "token", "credential", "private", "access", "sig", "session")
)

// needleTable indexes words by their first byte, in both cases.
func needleTable(words ...string) *[256][]string {
	var t [256][]string
	for _, w := range words {
		t[w[0]] = append(t[w[0]], w)
		t[w[0]-'a'+'A'] = append(t[w[0]-'a'+'A'], w)
	}
	return &t
}

// Text hides credential-shaped substrings of free text: Pinpoint API keys
// (keeping the prefix id), bearer/basic and other scheme credentials,
// JWTs, passwords in URLs and secret=value pairs.
func (p *Policy) Text(s string) string {
	if !hasNeedle(s) {
		return s
	}
	s = apiKeyRE.ReplaceAllString(s, "${1}_"+Mask)
	s = schemeRE.ReplaceAllStringFunc(s, maskSchemeCredential)
	s = jwtRE.ReplaceAllString(s, Mask)
	s = userinfoRE.ReplaceAllString(s, "${1}"+Mask+"@")
	return pairRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := pairRE.FindStringSubmatch(m)
		if sub[3] == Mask || strings.HasSuffix(sub[3], "_"+Mask) || shown[normalize(sub[1])] {
			return m
		}
		return sub[1] + sub[2] + Mask
	})
}

// maskSchemeCredential masks the credential of a schemeRE match, unless it
// is a plain lower-case word: prose such as "the basic subscription plan"
// is left alone, while base64, hex and token credentials (which carry
// digits, capitals or punctuation) are hidden.
func maskSchemeCredential(m string) string {
	i := strings.IndexAny(m, " \t\r\n\f\v")
	scheme, cred := m[:i], strings.TrimLeft(m[i:], " \t\r\n\f\v")
	plain := true
	for j := 0; j < len(cred); j++ {
		if c := cred[j]; c < 'a' || c > 'z' {
			plain = false
			break
		}
	}
	if plain {
		return m
	}
	return scheme + " " + Mask
}

// hasNeedle reports whether s may hold credential-shaped text, without
// allocating: the exact markers are found with strings.Contains, the words
// ignoring ASCII case through a first-byte table.
func hasNeedle(s string) bool {
	if strings.Contains(s, "pp_") || strings.Contains(s, "eyJ") ||
		(strings.Contains(s, "://") && strings.IndexByte(s, '@') >= 0) {
		return true
	}
	if hasWord(s, schemeWords) {
		return true
	}
	return (strings.IndexByte(s, '=') >= 0 || strings.IndexByte(s, ':') >= 0) && hasWord(s, pairWords)
}

// hasWord reports whether s contains a word of t, ignoring ASCII case.
func hasWord(s string, t *[256][]string) bool {
	for i := 0; i < len(s); i++ {
		for _, w := range t[s[i]] {
			if len(s)-i >= len(w) && foldEqual(s[i+1:i+len(w)], w[1:]) {
				return true
			}
		}
	}
	return false
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func foldEqual(s, lowerNeedle string) bool {
	for i := 0; i < len(s); i++ {
		if lower(s[i]) != lowerNeedle[i] {
			return false
		}
	}
	return true
}
