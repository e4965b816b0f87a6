package introspect

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/authn/credential"
)

// apiKeyPrefix starts Pinpoint API keys, which the api_key method reads.
const apiKeyPrefix = "pp_"

// Authenticate validates the bearer token of x with the introspection
// endpoint, or from the cache. Every bearer token except Pinpoint API keys
// (pp_…) is taken as this method's; list a jwt authenticator before it on
// routes that accept both.
//
// When the endpoint fails, an answer cached earlier is still used for up
// to cache_ttl past its freshness (never past the token's exp); otherwise
// the request is refused with authn.idp_unavailable.
func (m *Method) Authenticate(x *pipeline.Exchange, dir *identity.Directory) (found bool, d *pipeline.Denial) {
	tok, ok := credential.BearerToken(x.Request.Header)
	if !ok || strings.HasPrefix(tok, apiKeyPrefix) {
		return false, nil
	}
	key := tokenKey(sha256.Sum256([]byte(tok)))
	now := m.now()
	ans, fresh, stale, hit := m.cache.get(key)
	if !hit || !now.Before(fresh) {
		a, err := m.flights.do(x.Request.Context(), key, func(ctx context.Context) (*answer, error) {
			return m.lookup(ctx, key, tok)
		})
		switch {
		case err == nil:
			ans = a
		case hit && now.Before(stale):
			// The endpoint failed; the earlier answer stands for a while.
		case x.Request.Context().Err() != nil:
			return true, m.deny(codeIDPUnavailable, nil, "the request ended while waiting for introspection endpoint "+m.url)
		default:
			return true, m.deny(codeIDPUnavailable, nil, fmt.Sprintf("introspection endpoint %s: %v", m.url, err))
		}
	}
	return true, m.decide(x, dir, ans, now)
}

// lookup asks the endpoint and caches the answer: active answers for
// cache_ttl but never past exp, inactive and expired ones for 10s.
func (m *Method) lookup(ctx context.Context, key tokenKey, tok string) (*answer, error) {
	a, err := m.introspect(ctx, tok)
	if err != nil {
		return nil, err
	}
	now := m.now()
	ttl, grace := inactiveTTL, inactiveTTL
	if a.active {
		ttl, grace = m.ttl, m.ttl
		if !a.exp.IsZero() {
			ttl = min(ttl, a.exp.Sub(now))
		}
		if ttl <= 0 {
			ttl, grace = inactiveTTL, inactiveTTL
		}
	}
	m.cache.put(key, a, now.Add(ttl), now.Add(ttl+grace))
	return a, nil
}

// decide turns an answer into the identity or a refusal.
func (m *Method) decide(x *pipeline.Exchange, dir *identity.Directory, a *answer, now time.Time) *pipeline.Denial {
	switch {
	case !a.active:
		return m.deny(codeInactive, nil, "the endpoint answered active: false (expired, revoked or unknown token)")
	case !a.exp.IsZero() && !now.Before(a.exp):
		at := a.exp.UTC().Format(time.RFC3339)
		return m.deny(codeExpired, map[string]string{"expired_at": at},
			fmt.Sprintf("the endpoint answered active, but exp %s has passed", at))
	case !a.nbf.IsZero() && now.Before(a.nbf):
		at := a.nbf.UTC().Format(time.RFC3339)
		return m.deny(codeNotYetValid, map[string]string{"not_before": at},
			fmt.Sprintf("the endpoint answered active, but nbf %s lies ahead", at))
	}
	var consumerID string
	if a.consumer != "" && dir != nil {
		if c := dir.Consumer(a.consumer); c != nil {
			consumerID = c.ID
		}
	}
	if consumerID == "" && m.requireConsumer {
		return m.deny(codeConsumerUnknown, nil,
			fmt.Sprintf("consumer_claim %q is %q, which names no consumer, and require_consumer is set", m.consumerClaim, a.consumer))
	}
	x.Identity = pipeline.Identity{
		Authenticated: true,
		Method:        Kind,
		Authenticator: m.name,
		CredentialID:  a.credentialID,
		Bearer:        true,
		ConsumerID:    consumerID,
		Scopes:        a.scopes,
		Claims:        a.claims,
		ExpiresAt:     a.exp,
	}
	return nil
}
