package hmac

import (
	stdhmac "crypto/hmac"
	"encoding/base64"
	"fmt"
	"hash"
	"slices"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/authn/credential"
)

// verify recomputes the signature over the listed headers.
func (m *Method) verify(x *pipeline.Exchange, key *identity.HMACKey, alg uint8, p params, list string, s *scratch) *pipeline.Denial {
	fail := func(why string) *pipeline.Denial {
		return m.deny("authn.signature_invalid", nil,
			fmt.Sprintf("hmac authenticator %q: key %q: %s (%s over %s)", m.name, key.ID, why, algNames[alg], credential.Display(list, 200)))
	}
	if len(key.Secret) == 0 {
		return fail("the key has an empty secret")
	}
	var missing string
	s.line, missing, _ = appendSigningString(s.line[:0], x, list, s.name)
	if missing != "" {
		return fail(fmt.Sprintf("the signed header %s is not in the request", credential.Display(missing, 64)))
	}
	enc := base64.StdEncoding
	if len(p.signature)%4 != 0 && !strings.HasSuffix(p.signature, "=") {
		enc = base64.RawStdEncoding
	}
	s.b64 = append(s.b64[:0], p.signature...)
	s.sig = slices.Grow(s.sig[:0], enc.DecodedLen(len(s.b64)))[:enc.DecodedLen(len(s.b64))]
	n, err := enc.Decode(s.sig, s.b64)
	if err != nil {
		return fail("the signature is not base64")
	}
	pool := &m.pools(key)[alg]
	mac := pool.Get().(hash.Hash)
	mac.Reset()
	mac.Write(s.line)
	s.sum = mac.Sum(s.sum[:0])
	pool.Put(mac)
	if !stdhmac.Equal(s.sum, s.sig[:n]) {
		return fail("the signature does not verify")
	}
	return nil
}

// pools returns the keyed-hash pools of key.
func (m *Method) pools(key *identity.HMACKey) *macPools {
	if v, ok := m.macs.Load(key); ok {
		return v.(*macPools)
	}
	if m.nmacs.Add(1) > maxMACPools {
		m.macs.Clear()
		m.nmacs.Store(1)
	}
	ps := new(macPools)
	for alg := range ps {
		h, secret := hashes[alg], key.Secret
		ps[alg].New = func() any { return stdhmac.New(h, secret) }
	}
	v, _ := m.macs.LoadOrStore(key, ps)
	return v.(*macPools)
}
