package authn

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/authn/credential"
)

// DefaultKeyHeader is where API keys are read from by default.
const DefaultKeyHeader = "X-Api-Key"

// APIKey authenticates Pinpoint API keys (pp_<env>_<id>_<secret>) from a
// header, a bearer token or, when configured, a query parameter. Keys are
// looked up by their prefix id and their SHA-256 compared in constant time.
type APIKey struct {
	name      string
	header    string // canonical
	bearer    bool
	query     string
	env       string
	challenge string
	rule      string
	forward   bool
}

var _ Method = (*APIKey)(nil)

// NewAPIKey builds the api_key method named name for a gateway running as
// environment env. c may be nil (all defaults).
func NewAPIKey(name string, c *config.APIKeyAuth, env string) *APIKey {
	m := &APIKey{name: name, header: DefaultKeyHeader, bearer: true, env: env, rule: "authenticator:" + name}
	if c != nil {
		if c.Header != "" {
			m.header = textproto.CanonicalMIMEHeaderKey(c.Header)
		}
		if c.Bearer != nil {
			m.bearer = *c.Bearer
		}
		m.query = c.Query
		m.forward = c.Forward
	}
	m.challenge = credential.Challenge("APIKey", "header", m.header)
	return m
}

// Header is the canonical header name keys are read from.
func (m *APIKey) Header() string { return m.header }

// Name implements Method.
func (m *APIKey) Name() string { return m.name }

// Kind implements Method.
func (m *APIKey) Kind() string { return "api_key" }

// Challenge implements Method: `APIKey header="X-Api-Key"`.
func (m *APIKey) Challenge() string { return m.challenge }

// location of a presented key, for messages.
const (
	inHeader = iota
	inBearer
	inQuery
)

// Authenticate implements Method.
func (m *APIKey) Authenticate(x *pipeline.Exchange, dir *identity.Directory) (bool, *pipeline.Denial) {
	r := x.Request
	key, where, d := m.find(r)
	if d != nil {
		return true, d
	}
	if key == "" {
		return false, nil
	}
	bearer := where == inBearer
	p, err := identity.ParseKey(key)
	if err != nil {
		return true, m.deny(bearer, "authn.credential_malformed", map[string]string{"kind": "API key", "reason": err.Error()},
			"the presented key does not parse: "+err.Error())
	}
	if p.Env != m.env {
		prefix := identity.Prefix(p.Env, p.ID)
		return true, m.deny(bearer, "authn.key_wrong_environment",
			map[string]string{"key_id": prefix, "key_env": p.Env, "env": m.env},
			"key "+prefix+" is for environment "+p.Env+"; the gateway runs as "+m.env)
	}
	k := dir.Key(p.ID)
	if k == nil {
		prefix := identity.Prefix(p.Env, p.ID)
		return true, m.deny(bearer, "authn.key_unknown", map[string]string{"key_id": prefix},
			"no key with prefix id "+p.ID+" exists")
	}
	prefix := k.Prefix
	// Hash through a stack buffer: keys are ~53 bytes, and converting the
	// string would allocate on every request.
	var buf [128]byte
	sum := sha256.Sum256(append(buf[:0], key...))
	if subtle.ConstantTimeCompare(sum[:], k.Hash[:]) != 1 {
		return true, m.deny(bearer, "authn.key_unknown", map[string]string{"key_id": prefix},
			"key "+prefix+" exists but the secret does not match its stored SHA-256")
	}
	now := x.Start.UnixNano()
	if x.Start.IsZero() {
		now = time.Now().UnixNano()
	}
	if d := m.valid(k, now, bearer); d != nil {
		return true, d
	}
	if x.Simulation == nil {
		// A simulated request is not a use of the key.
		k.Touch(now)
	}
	if !m.forward {
		m.strip(r, where)
	}
	m.identify(x, k, bearer)
	return true, nil
}

// valid refuses a key that is revoked, not yet valid or expired at now.
func (m *APIKey) valid(k *identity.Key, now int64, bearer bool) *pipeline.Denial {
	prefix := k.Prefix
	if ex := k.Extra; ex != nil {
		if ex.RevokedAt != 0 {
			reason := "key " + prefix + " was revoked at " + rfc3339(ex.RevokedAt)
			if ex.RevokedReason != "" {
				reason += ": " + ex.RevokedReason
			}
			return m.deny(bearer, "authn.key_revoked", map[string]string{"key_id": prefix}, reason)
		}
		if ex.NotBefore != 0 && now < ex.NotBefore {
			return m.deny(bearer, "authn.key_not_yet_valid", map[string]string{"key_id": prefix, "not_before": rfc3339(ex.NotBefore)},
				"key "+prefix+" is not valid before "+rfc3339(ex.NotBefore))
		}
	}
	if k.ExpiresAt != 0 && now >= k.ExpiresAt {
		params := map[string]string{"key_id": prefix, "expired_at": rfc3339(k.ExpiresAt)}
		if k.Extra != nil && k.Extra.ReplacedBy != "" {
			return m.deny(bearer, "authn.key_rotated", params,
				"key "+prefix+" was rotated to "+k.Extra.ReplacedBy+"; its grace period ended at "+rfc3339(k.ExpiresAt))
		}
		return m.deny(bearer, "authn.key_expired", params, "key "+prefix+" expired at "+rfc3339(k.ExpiresAt))
	}
	return nil
}

// identify fills x.Identity for verified key k.
func (m *APIKey) identify(x *pipeline.Exchange, k *identity.Key, bearer bool) {
	id := &x.Identity
	id.Authenticated, id.Method, id.Authenticator = true, "api_key", m.name
	id.CredentialID, id.Bearer = k.Prefix, bearer
	id.ConsumerID, id.Scopes = k.ConsumerID, k.Scopes()
	if k.ExpiresAt != 0 {
		id.ExpiresAt = time.Unix(0, k.ExpiresAt)
	}
}

// find returns the presented key and where it was found ("" when none),
// or a denial for ambiguous or misplaced keys.
func (m *APIKey) find(r *http.Request) (key string, where int, d *pipeline.Denial) {
	if v := r.Header[m.header]; len(v) > 0 {
		if len(v) > 1 {
			return "", 0, m.ambiguous("the " + m.header + " header, twice")
		}
		key, where = strings.TrimSpace(v[0]), inHeader
	}
	if tok, ok := credential.BearerToken(r.Header); ok && identity.LooksLikeKey(tok) {
		if !m.bearer {
			if key == "" {
				return "", 0, m.misplaced("the Authorization header")
			}
		} else if key != "" && key != tok {
			return "", 0, m.ambiguous("the " + m.header + " header and a bearer token")
		} else if key == "" {
			key, where = tok, inBearer
		}
	}
	if q := r.URL.RawQuery; q != "" && strings.Contains(q, "=pp_") {
		v, name := queryKey(q, m.query)
		switch {
		case v == "":
		case m.query == "" || name != m.query:
			if key == "" {
				return "", 0, m.misplaced("the query string")
			}
		case key != "" && key != v:
			return "", 0, m.ambiguous("a key in the header and another in the query string")
		case key == "":
			key, where = v, inQuery
		}
	}
	return key, where, nil
}

// strip removes the verified key from the request, so the upstream never
// sees the gateway's credential.
func (m *APIKey) strip(r *http.Request, where int) {
	switch where {
	case inHeader:
		delete(r.Header, m.header)
	case inBearer:
		delete(r.Header, "Authorization")
	case inQuery:
		q := r.URL.Query()
		q.Del(m.query)
		r.URL.RawQuery = q.Encode()
	}
}

// queryKey returns the first query value that looks like a key and its
// parameter name; the configured parameter wins.
func queryKey(raw, want string) (value, name string) {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		n, v, _ := strings.Cut(pair, "=")
		if !strings.HasPrefix(v, "pp_") {
			continue
		}
		if want != "" && n == want {
			return v, n
		}
		if value == "" {
			value, name = v, n
		}
	}
	return value, name
}

func (m *APIKey) expected() string {
	e := "the " + m.header + " header"
	if m.bearer {
		e += " or as a bearer token"
	}
	if m.query != "" {
		e += " or in the " + m.query + " query parameter"
	}
	return e
}

func (m *APIKey) misplaced(found string) *pipeline.Denial {
	return &pipeline.Denial{Code: "authn.credential_wrong_location", Rule: m.rule,
		Params: map[string]string{"found": found, "expected": m.expected()},
		Header: http.Header{"Www-Authenticate": {m.challenge}},
		Reason: "an API key was sent in " + found + ", which authenticator " + m.name + " does not read"}
}

func (m *APIKey) ambiguous(found string) *pipeline.Denial {
	return &pipeline.Denial{Code: "authn.credential_ambiguous", Rule: m.rule,
		Params: map[string]string{"found": found},
		Header: http.Header{"Www-Authenticate": {m.challenge}},
		Reason: "several different API keys were presented: " + found}
}

// deny builds a 401 with the challenge that fits where the key came from:
// RFC 6750 invalid_token for bearer tokens, the APIKey scheme otherwise.
func (m *APIKey) deny(bearer bool, code string, params map[string]string, reason string) *pipeline.Denial {
	if bearer {
		return credential.BearerRefusal(code, m.rule, params, reason)
	}
	return &pipeline.Denial{Code: code, Rule: m.rule, Params: params, Reason: reason,
		Header: http.Header{"Www-Authenticate": {m.challenge}}}
}

func rfc3339(n int64) string { return time.Unix(0, n).UTC().Format(time.RFC3339) }
