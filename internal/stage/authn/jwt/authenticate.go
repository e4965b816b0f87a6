package jwt

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"

	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/authn/credential"
)

// Authenticate verifies the bearer token of x when it looks like a JWS
// compact serialization (two dots); other bearer tokens (opaque tokens for
// introspection, pp_ API keys) are left to other methods (found false).
//
// On success it fills x.Identity: the credential id is the sub claim, else
// client_id, else "jti:<jti>"; the consumer is the consumer_claim's value
// when it names a known consumer.
func (m *Method) Authenticate(x *pipeline.Exchange, dir *identity.Directory) (found bool, d *pipeline.Denial) {
	tok, ok := credential.BearerToken(x.Request.Header)
	if !ok || strings.Count(tok, ".") != 2 || strings.HasPrefix(tok, apiKeyPrefix) {
		return false, nil
	}
	claims := jwtlib.MapClaims{}
	t, err := m.parser.ParseWithClaims(tok, claims, m.keyfunc)
	if err != nil {
		return true, m.refuse(tok, t, claims, err)
	}
	for _, c := range m.extra {
		if _, ok := claims[c]; !ok {
			return true, m.deny(codeClaimMissing, map[string]string{"claim": c},
				fmt.Sprintf("the token lacks the %q claim (jwt.required_claims)", c))
		}
	}
	consumerID, d := m.consumer(claims, dir)
	if d != nil {
		return true, d
	}
	var expires time.Time
	if e, _ := claims.GetExpirationTime(); e != nil {
		expires = e.Time
	}
	var groups []string
	if m.s.groupsClaim != "" {
		groups = credential.StringList(claims[m.s.groupsClaim])
	}
	x.Identity = pipeline.Identity{
		Authenticated: true,
		Method:        Kind,
		Authenticator: m.name,
		CredentialID:  credentialID(claims),
		Bearer:        true,
		ConsumerID:    consumerID,
		Scopes:        credential.StringList(claims[m.s.scopeClaim]),
		Groups:        groups,
		Claims:        claims,
		ExpiresAt:     expires,
	}
	return true, nil
}

// apiKeyPrefix starts Pinpoint API keys, which the api_key method reads.
const apiKeyPrefix = "pp_"

// consumer resolves the consumer_claim to a known consumer id ("" when it
// names none and none is required).
func (m *Method) consumer(claims jwtlib.MapClaims, dir *identity.Directory) (string, *pipeline.Denial) {
	name := m.s.consumerClaim
	id := claimString(claims[name])
	if id == "" {
		if m.s.requireConsumer {
			return "", m.deny(codeClaimMissing, map[string]string{"claim": name},
				fmt.Sprintf("the token lacks the consumer_claim %q and require_consumer is set", name))
		}
		return "", nil
	}
	if dir != nil {
		if c := dir.Consumer(id); c != nil {
			return c.ID, nil
		}
	}
	if m.s.requireConsumer {
		return "", m.deny(codeConsumerUnknown, nil,
			fmt.Sprintf("consumer_claim %q is %q, which names no consumer, and require_consumer is set", name, id))
	}
	return "", nil
}

// credentialID names the token without revealing it.
func credentialID(claims jwtlib.MapClaims) string {
	if s := claimString(claims["sub"]); s != "" {
		return s
	}
	if s := claimString(claims["client_id"]); s != "" {
		return s
	}
	if s := claimString(claims["jti"]); s != "" {
		return "jti:" + s
	}
	return ""
}

// claimString returns a string claim, or an integral number claim in
// decimal (numeric user ids); "" for anything else.
func claimString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		if v == float64(int64(v)) {
			return strconv.FormatInt(int64(v), 10)
		}
	}
	return ""
}
