// Package basic is the "basic" authentication method: HTTP Basic
// (RFC 7617) against the user names and password hashes that consumers
// declare under basic (argon2id or bcrypt, in PHC form).
//
//	authenticators:
//	  - name: partners
//	    type: basic
//	    basic: {realm: partners}
//	consumers:
//	  - id: acme
//	    basic:
//	      - username: acme-ci
//	        password_hash: "$argon2id$v=19$m=65536,t=3,p=2$…"
//
// Password hashing is slow on purpose (argon2id at 64 MiB takes tens of
// milliseconds), so a successful verification is remembered for five
// minutes in a bounded in-memory cache; failures never are, so guessing
// stays slow. An unknown user costs the same hash computation as a wrong
// password, and both get the same answer (authn.basic_invalid), so callers
// cannot tell which user names exist; the trace tells the operator which
// it was. At most GOMAXPROCS verifications run at once, so a burst of bad
// logins cannot exhaust memory.
//
// Basic credentials carry no scopes: authorize such callers with
// authorize.groups (the consumer's groups) or a policy.
package basic

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/authn/credential"
)

// Kind is the authenticator type this package implements.
const Kind = "basic"

// dummyHash is verified for unknown users so that they cost as much as a
// wrong password (no user enumeration by timing). It hashes a random
// password nobody knows, with the default argon2id parameters.
const dummyHash = "$argon2id$v=19$m=65536,t=3,p=2$pPlJBa3lNS2xpKLDiaLt+w$ZLeSX8rr7puH/bZf/tqr6OFmX2/oKOmz5DnZQgnQw7A"

// maxDecoded bounds the decoded credential kept on the stack; longer ones
// are decoded on the heap.
const maxDecoded = 512

// Method verifies HTTP Basic credentials. It is built once per snapshot by
// New and is safe for concurrent use.
type Method struct {
	name      string
	challenge string
	cache     *cache
	slots     chan struct{} // bounds concurrent hash computations
	now       func() time.Time
	dummy     string // verified for unknown users (tests use a cheap one)

	// verifies counts hash computations (tests check cache hits with it).
	verifies atomic.Int64
}

// The authn stage's Method interface, restated so that this package does
// not import authn (which imports it).
var _ interface {
	Name() string
	Kind() string
	Challenge() string
	Authenticate(*pipeline.Exchange, *identity.Directory) (bool, *pipeline.Denial)
} = (*Method)(nil)

// New builds the basic method named name. c may be nil (all defaults).
func New(name string, c *config.BasicAuth) (*Method, error) {
	realm := credential.DefaultRealm
	if c != nil && c.Realm != "" {
		realm = c.Realm
	}
	for i := 0; i < len(realm); i++ {
		if realm[i] < 0x20 || realm[i] == 0x7f {
			return nil, config.Fieldf("realm", "realm must not contain control characters")
		}
	}
	return &Method{
		name:      name,
		challenge: credential.Challenge("Basic", "realm", realm, "charset", "UTF-8"),
		cache:     newCache(cacheSize, cacheTTL),
		slots:     make(chan struct{}, max(4, runtime.GOMAXPROCS(0))),
		now:       time.Now,
		dummy:     dummyHash,
	}, nil
}

// Name is the authenticator's configured name.
func (m *Method) Name() string { return m.name }

// Kind returns "basic".
func (m *Method) Kind() string { return Kind }

// Challenge returns `Basic realm="<realm>", charset="UTF-8"` (RFC 7617).
func (m *Method) Challenge() string { return m.challenge }

// Authenticate verifies an "Authorization: Basic" credential against
// dir. found is false when the request has no Basic credential.
func (m *Method) Authenticate(x *pipeline.Exchange, dir *identity.Directory) (found bool, d *pipeline.Denial) {
	scheme := credential.Scheme(x.Request.Header)
	if !strings.EqualFold(scheme, "Basic") {
		return false, nil
	}
	payload := strings.TrimSpace(x.Request.Header.Get("Authorization")[len(scheme):])

	var stack [maxDecoded]byte
	dec, problem := decode(payload, stack[:])
	defer clear(dec) // the password is in it
	if problem != "" {
		return true, m.malformed(problem)
	}
	i := bytes.IndexByte(dec, ':')
	if i < 0 {
		return true, m.malformed("it has no colon between user name and password")
	}
	user, password := dec[:i], dec[i+1:]

	cred := dir.Basic(string(user))
	if cred == nil {
		if d := m.wait(x); d != nil {
			return true, d
		}
		_, _ = verifyPassword(m.dummy, password)
		m.done()
		return true, m.invalid(fmt.Sprintf("basic authenticator %q: unknown user %q", m.name, credential.Display(string(user), 64)))
	}

	key := m.cache.key(user, password, cred.Hash)
	if !m.cache.hit(key, m.now()) {
		if d := m.wait(x); d != nil {
			return true, d
		}
		ok, err := verifyPassword(cred.Hash, password)
		m.done()
		if err != nil {
			return true, m.invalid(fmt.Sprintf("basic authenticator %q: user %q: %v", m.name, cred.Username, err))
		}
		if !ok {
			return true, m.invalid(fmt.Sprintf("basic authenticator %q: wrong password for user %q", m.name, cred.Username))
		}
		m.cache.add(key, m.now())
	}

	id := &x.Identity
	id.Authenticated = true
	id.Method = Kind
	id.Authenticator = m.name
	id.CredentialID = cred.Username
	id.ConsumerID = cred.ConsumerID
	return true, nil
}

// decode base64-decodes payload into buf when it fits (else onto the
// heap). problem is a client-safe reason when payload is not a credential.
func decode(payload string, buf []byte) (dec []byte, problem string) {
	if payload == "" {
		return nil, "it is empty"
	}
	enc := base64.StdEncoding
	if len(payload)%4 != 0 && !strings.HasSuffix(payload, "=") {
		enc = base64.RawStdEncoding // tolerate clients that drop the padding
	}
	if enc.DecodedLen(len(payload)) > len(buf) {
		buf = make([]byte, enc.DecodedLen(len(payload)))
	}
	// Decode reads a []byte: copy payload to the stack so that the common
	// case does not allocate.
	var src [maxDecoded * 4 / 3]byte
	var in []byte
	if len(payload) <= len(src) {
		in = src[:copy(src[:], payload)]
	} else {
		in = []byte(payload)
	}
	n, err := enc.Decode(buf, in)
	if err != nil {
		return buf[:n], "it is not base64"
	}
	return buf[:n], ""
}

// wait takes a verification slot, or gives up when the client goes away.
func (m *Method) wait(x *pipeline.Exchange) *pipeline.Denial {
	select {
	case m.slots <- struct{}{}:
		m.verifies.Add(1)
		return nil
	case <-x.Request.Context().Done():
		return m.invalid(fmt.Sprintf("basic authenticator %q: the client went away while waiting to verify a password", m.name))
	}
}

// done releases a verification slot.
func (m *Method) done() { <-m.slots }

func (m *Method) header() http.Header {
	return http.Header{"Www-Authenticate": {m.challenge}}
}

// invalid is the one answer for unknown users and wrong passwords.
func (m *Method) invalid(reason string) *pipeline.Denial {
	return &pipeline.Denial{Code: "authn.basic_invalid", Rule: m.name, Reason: reason, Header: m.header()}
}

func (m *Method) malformed(problem string) *pipeline.Denial {
	return &pipeline.Denial{
		Code:   "authn.credential_malformed",
		Rule:   m.name,
		Params: map[string]string{"kind": "Basic credential", "reason": problem},
		Reason: fmt.Sprintf("basic authenticator %q: Authorization: Basic header is malformed: %s", m.name, problem),
		Header: m.header(),
	}
}
