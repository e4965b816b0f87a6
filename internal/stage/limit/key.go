package limit

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/netip"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/limit/gcra"
)

// kind is what a limit counts requests by.
type kind uint8

const (
	kindRoute kind = iota + 1
	kindIP
	kindCredential
	kindConsumer
	kindTenant
	kindHeader
	kindCount
)

// kindNames are the kinds as written in config and in stored keys.
var kindNames = [kindCount]string{
	kindRoute: "route", kindIP: "ip", kindCredential: "credential",
	kindConsumer: "consumer", kindTenant: "tenant", kindHeader: "header",
}

// keySpec is a configured key: "consumer", "ip", "header:X-Org", ...
type keySpec struct {
	kind   kind
	header string // canonical header name, for kindHeader
}

// parseKey reads a key as configured ("" is "consumer"); allowed are the
// kinds this kind of limit accepts.
func parseKey(s string, allowed ...kind) (keySpec, bool) {
	if s == "" {
		s = "consumer"
	}
	var k keySpec
	if name, ok := strings.CutPrefix(s, "header:"); ok {
		if name == "" {
			return k, false
		}
		k = keySpec{kind: kindHeader, header: http.CanonicalHeaderKey(name)}
	} else {
		for i, n := range kindNames {
			if n == s && kind(i) != kindHeader {
				k.kind = kind(i)
			}
		}
	}
	for _, a := range allowed {
		if a == k.kind {
			return k, true
		}
	}
	return k, false
}

// caller is whom a request is counted for under a key.
type caller struct {
	kind kind
	id   string     // the consumer, tenant or credential id, or the header value
	ip   netip.Addr // for kindIP
}

// resolve finds the caller of x under k. A key that names an identity
// falls back along tenant → consumer → credential → client IP when the
// request lacks it (unauthenticated, a credential without consumer, a
// consumer without tenant), and a header key to the client IP when the
// header is absent, so no request goes uncounted; the note of the limit
// says which was used.
func (k keySpec) resolve(x *pipeline.Exchange) caller {
	id := &x.Identity
	switch k.kind {
	case kindRoute:
		return caller{kind: kindRoute}
	case kindHeader:
		if vs := x.Request.Header[k.header]; len(vs) > 0 && vs[0] != "" {
			return caller{kind: kindHeader, id: vs[0]}
		}
	case kindTenant:
		if id.Authenticated && id.TenantID != "" {
			return caller{kind: kindTenant, id: id.TenantID}
		}
		fallthrough
	case kindConsumer:
		if id.Authenticated && id.ConsumerID != "" {
			return caller{kind: kindConsumer, id: id.ConsumerID}
		}
		fallthrough
	case kindCredential:
		if id.Authenticated && id.CredentialID != "" {
			return caller{kind: kindCredential, id: id.CredentialID}
		}
	}
	return caller{kind: kindIP, ip: x.ClientIP.Unmap()}
}

// localKey is the caller's counter of limit id in the local store. It
// hashes the parts directly and does not allocate.
func (c caller) localKey(s *gcra.Store, id gcra.LimitID) gcra.Key {
	if c.kind == kindIP {
		a := c.ip.As16()
		return s.KeyBytes(id, byte(kindIP), a[:])
	}
	return s.Key(id, byte(c.kind), c.id)
}

// storedID is the caller as kept in Redis keys and quota counters. A
// header value is hashed: it may be anything the client sent, a secret
// included.
func (c caller) storedID() string {
	switch c.kind {
	case kindIP:
		if !c.ip.IsValid() {
			return "unknown"
		}
		return c.ip.String()
	case kindHeader:
		sum := sha256.Sum256([]byte(c.id))
		return hex.EncodeToString(sum[:16])
	}
	return c.id
}

// describe names the caller for an operator's reason: the kind and a
// short hash of the id, never the id itself.
func (c caller) describe() string {
	if c.kind == kindRoute {
		return "every caller of the route"
	}
	if c.kind == kindIP && !c.ip.IsValid() {
		return "ip (unknown address: one shared counter)"
	}
	v := c.id
	if c.kind == kindIP {
		v = c.ip.String()
	}
	sum := sha256.Sum256([]byte(v))
	return kindNames[c.kind] + " #" + hex.EncodeToString(sum[:4])
}

// fallbackNotes are the trace notes of a limit named name keyed by spec
// when a request is counted by another kind, indexed by the kind used.
func fallbackNotes(name string, spec keySpec) [kindCount]string {
	var n [kindCount]string
	switch spec.kind {
	case kindHeader:
		n[kindIP] = name + ": no " + spec.header + " header, counted by client IP"
	case kindTenant, kindConsumer, kindCredential:
		want := kindNames[spec.kind]
		n[kindIP] = name + ": no " + want + " (unauthenticated), counted by client IP"
		if spec.kind != kindCredential {
			n[kindCredential] = name + ": the credential has no " + want + ", counted by credential"
		}
		if spec.kind == kindTenant {
			n[kindConsumer] = name + ": the consumer has no tenant, counted by consumer"
		}
	}
	return n
}
