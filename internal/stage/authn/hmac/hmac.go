// Package hmac is the "hmac" authentication method: requests signed with
// a shared secret in the draft-cavage HTTP Signatures form that Kong's and
// Tyk's hmac-auth accept:
//
//	Authorization: Signature keyId="k1",algorithm="hmac-sha256",headers="(request-target) host date digest",signature="<base64>"
//
// (the same parameters may come in a Signature header instead). The
// signing string has one "name: value" line per listed header, names in
// lower case, joined with "\n"; "(request-target)" is the lower-case
// method, a space, and the path and query exactly as sent. Algorithms:
// hmac-sha256, hmac-sha384, hmac-sha512, and hs2019 (or no algorithm),
// which means HMAC-SHA512 for an HMAC key. A missing headers parameter
// means "date", as in the draft.
//
// The signature must cover required_headers (default "(request-target)"
// and "date"; a signed X-Date stands for Date, for browsers) and, for
// every request with a body (Content-Length > 0 or chunked), "digest" (or
// "content-digest"), so that a body cannot be swapped under a valid
// signature. The signed Date (or X-Date) must be within clock_skew of the
// gateway's clock, which bounds replay; an operator who drops date from
// required_headers and a client who does not sign it get no replay bound.
// A Digest (RFC 3230, SHA-256 or SHA-512) or Content-Digest (RFC 9530) is
// checked against the body, which is read (up to Options.MaxBodyBytes) and
// put back for the upstream. Pseudo-headers other than (request-target),
// such as (created), are not supported.
//
// Signing keys carry no scopes: authorize such callers with
// authorize.groups (the consumer's groups) or a policy.
package hmac

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/authn/credential"
)

// Kind is the authenticator type this package implements.
const Kind = "hmac"

// Defaults.
const (
	DefaultClockSkew    = 5 * time.Minute
	DefaultMaxBodyBytes = 10 << 20
)

// maxMACPools bounds the per-key pools of keyed hashes; past it they are
// dropped and rebuilt (keys of old revisions must not pile up).
const maxMACPools = 4096

// Options are the gateway-side settings of the method.
type Options struct {
	// Now is the clock the signed Date is compared with. Default time.Now.
	Now func() time.Time
	// MaxBodyBytes bounds the body read to check a Digest; a larger body
	// is refused with request.body_too_large. Pass the route's body limit.
	// Default 10 MiB.
	MaxBodyBytes int64
}

// Method verifies HMAC-signed requests. It is built once per snapshot by
// New and is safe for concurrent use.
type Method struct {
	name      string
	skew      time.Duration
	skewText  string
	required  []string // lower case
	digestReq bool     // required lists digest already
	challenge string
	now       func() time.Time
	maxBody   int64

	macs    sync.Map // *identity.HMACKey → *macPools
	nmacs   atomic.Int64
	scratch sync.Pool // *scratch
}

// macPools holds keyed hashes of one key, per algorithm; hmac.New
// allocates several objects, Reset does not.
type macPools [len(hashes)]sync.Pool

// scratch holds one verification's buffers.
type scratch struct {
	line, name, b64, sig, sum []byte
}

// The authn stage's Method interface, restated so that this package does
// not import authn (which imports it).
var _ interface {
	Name() string
	Kind() string
	Challenge() string
	Authenticate(*pipeline.Exchange, *identity.Directory) (bool, *pipeline.Denial)
} = (*Method)(nil)

// New builds the hmac method named name. c may be nil (all defaults).
func New(name string, c *config.HMACAuth, o Options) (*Method, error) {
	m := &Method{name: name, skew: DefaultClockSkew, now: o.Now, maxBody: o.MaxBodyBytes}
	if m.now == nil {
		m.now = time.Now
	}
	if m.maxBody <= 0 {
		m.maxBody = DefaultMaxBodyBytes
	}
	var errs []error
	if c != nil {
		if c.ClockSkew < 0 {
			errs = append(errs, config.Fieldf("clock_skew", "must not be negative"))
		}
		if c.ClockSkew > 0 {
			m.skew = c.ClockSkew.D()
		}
		for i, h := range c.RequiredHeaders {
			lh := strings.ToLower(strings.TrimSpace(h))
			switch {
			case lh == "":
				errs = append(errs, config.Fieldf(fmt.Sprintf("required_headers[%d]", i), "must not be empty"))
			case lh[0] == '(' && lh != requestTarget:
				errs = append(errs, config.Fieldf(fmt.Sprintf("required_headers[%d]", i), "%q is not supported; the only pseudo-header is (request-target)", h))
			case lh[0] != '(' && !isToken(lh):
				errs = append(errs, config.Fieldf(fmt.Sprintf("required_headers[%d]", i), "%q is not a header name", h))
			case slices.Contains(m.required, lh):
				errs = append(errs, config.Fieldf(fmt.Sprintf("required_headers[%d]", i), "%q is listed twice", h))
			default:
				m.required = append(m.required, lh)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if c == nil || len(c.RequiredHeaders) == 0 {
		m.required = []string{requestTarget, "date"}
	}
	m.digestReq = slices.Contains(m.required, "digest")
	m.skewText = fmtDuration(m.skew)
	offered := slices.Clone(m.required)
	if !m.digestReq {
		offered = append(offered, "digest")
	}
	m.challenge = credential.Challenge("Signature", "realm", credential.DefaultRealm, "headers", strings.Join(offered, " "))
	m.scratch.New = func() any { return new(scratch) }
	return m, nil
}

// Name is the authenticator's configured name.
func (m *Method) Name() string { return m.name }

// Kind returns "hmac".
func (m *Method) Kind() string { return Kind }

// Challenge returns `Signature realm="pinpoint", headers="(request-target) date digest"`
// (the headers a signature must cover).
func (m *Method) Challenge() string { return m.challenge }

// Authenticate verifies the request's signature against dir. found is
// false when the request carries no Signature credential.
func (m *Method) Authenticate(x *pipeline.Exchange, dir *identity.Directory) (found bool, d *pipeline.Denial) {
	r := x.Request
	raw, ok := signatureParams(r.Header)
	if !ok {
		return false, nil
	}
	if len(r.Header["Signature-Input"]) > 0 {
		return true, m.malformed("it is an RFC 9421 signature, which this API does not accept; sign in the draft-cavage form")
	}
	p, problem := parseParams(raw)
	if problem != "" {
		return true, m.malformed(problem)
	}
	alg, ok := algorithm(p.algorithm)
	if !ok {
		return true, m.malformed(fmt.Sprintf("algorithm %q is not accepted (hmac-sha256, hmac-sha512 or hs2019)", credential.Display(p.algorithm, 32)))
	}
	list := p.headers
	if !p.hasHeaders {
		list = "date"
	}
	for n, i := nextName(list, 0); n != ""; n, i = nextName(list, i) {
		if n[0] == '(' && !strings.EqualFold(n, requestTarget) {
			return true, m.malformed(fmt.Sprintf("it signs %s, which is not supported; sign (request-target) and date", credential.Display(n, 32)))
		}
	}

	key := dir.HMACKey(p.keyID)
	if key == nil {
		return true, m.deny("authn.signature_key_unknown", map[string]string{"key_id": credential.Display(p.keyID, 64)},
			fmt.Sprintf("hmac authenticator %q: no consumer has the key id %q", m.name, credential.Display(p.keyID, 64)))
	}

	s := m.scratch.Get().(*scratch)
	defer m.putScratch(s)

	if d := m.checkRequired(x, list, s); d != nil {
		return true, d
	}
	if d := m.checkDate(x, list, p.keyID); d != nil {
		return true, d
	}
	if d := m.verify(x, key, alg, p, list, s); d != nil {
		return true, d
	}
	if d := m.checkDigest(x, p.keyID); d != nil {
		return true, d
	}

	id := &x.Identity
	id.Authenticated = true
	id.Method = Kind
	id.Authenticator = m.name
	id.CredentialID = key.ID
	id.ConsumerID = key.ConsumerID
	return true, nil
}

// signatureParams returns the parameters of "Authorization: Signature …",
// else of a Signature header (draft-cavage §4).
func signatureParams(h http.Header) (string, bool) {
	if scheme := credential.Scheme(h); strings.EqualFold(scheme, "Signature") {
		return strings.TrimSpace(h.Get("Authorization")[len(scheme):]), true
	}
	if vs := h["Signature"]; len(vs) > 0 && strings.TrimSpace(vs[0]) != "" {
		return vs[0], true
	}
	return "", false
}

func (m *Method) putScratch(s *scratch) {
	if cap(s.line) > 64<<10 || cap(s.b64) > 64<<10 {
		return // keep huge requests from pinning memory
	}
	m.scratch.Put(s)
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return s != ""
}
