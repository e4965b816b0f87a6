package jwt

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	jwtlib "github.com/golang-jwt/jwt/v5"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/authn/credential"
)

// Bounds of token values echoed to the caller.
const (
	maxShownAlg   = 32
	maxShownKID   = 64
	maxShownValue = 128
)

// refuse turns a jwt parse error into one reason code. t and claims are
// what the parser decoded before it failed (t may be nil).
func (m *Method) refuse(tok string, t *jwtlib.Token, claims jwtlib.MapClaims, err error) *pipeline.Denial {
	if errors.Is(err, jwtlib.ErrTokenMalformed) || t == nil {
		return m.malformed(malformedReason(tok))
	}
	alg, _ := t.Header["alg"].(string)
	if alg == "" {
		return m.malformed("its header names no alg")
	}
	if !slices.Contains(m.s.algorithms, alg) {
		return m.deny(codeAlgorithm, map[string]string{"alg": credential.Display(alg, maxShownAlg), "allowed": m.allowed},
			fmt.Sprintf("token alg %q is not in jwt.algorithms [%s]", alg, m.allowed))
	}
	kidValue, hasKID := t.Header["kid"]
	kid, isString := kidValue.(string)
	if hasKID && !isString {
		return m.malformed("its kid is not a string")
	}
	switch {
	case errors.Is(err, errNoKeySet):
		why := "the first fetch has not finished"
		if _, lastErr := m.remote.status(); lastErr != nil {
			why = lastErr.Error()
		}
		return m.deny(codeIDPUnavailable, nil,
			fmt.Sprintf("no key set was fetched yet from jwks_url %s: %s", m.s.jwksURL, why))
	case errors.Is(err, jwkset.ErrKeyNotFound),
		errors.Is(err, jwtlib.ErrTokenUnverifiable) && !errors.Is(err, keyfunc.ErrKeyfunc):
		// Not found after a refresh, or an empty key set for a token
		// without kid.
		return m.unknownKID(kid)
	case errors.Is(err, jwtlib.ErrTokenUnverifiable):
		return m.deny(codeInvalid, nil, fmt.Sprintf("the key %q cannot verify this token: %v", kid, err))
	case errors.Is(err, jwtlib.ErrTokenSignatureInvalid):
		with := "the configured secret"
		if len(m.s.secret) == 0 {
			with = fmt.Sprintf("key %q", kid)
			if !hasKID {
				with = "any configured key (the token names no kid)"
			}
		}
		return m.deny(codeInvalid, nil, fmt.Sprintf("the %s signature does not verify with %s: %v", alg, with, err))
	case errors.Is(err, jwtlib.ErrTokenInvalidClaims):
		return m.refuseClaims(claims, err)
	}
	return m.deny(codeInvalid, nil, "the token does not verify: "+err.Error())
}

// malformed refuses a token that does not parse. The parser's error is
// left out of the reason: it may quote decoded token bytes.
func (m *Method) malformed(reason string) *pipeline.Denial {
	return m.deny(codeMalformed, map[string]string{"reason": reason}, "malformed token: "+reason)
}

// unknownKID refuses a token whose kid no configured key has.
func (m *Method) unknownKID(kid string) *pipeline.Denial {
	shown := credential.Display(kid, maxShownKID)
	if kid == "" {
		shown = "none"
	}
	reason := fmt.Sprintf("kid %q is not among the configured keys", kid)
	if m.remote != nil {
		lastOK, lastErr := m.remote.status()
		reason = fmt.Sprintf("kid %q is not in the JWKS from %s (last fetched %s)", kid, m.s.jwksURL, lastOK.UTC().Format(time.RFC3339))
		if lastErr != nil {
			reason += "; the last refresh failed: " + lastErr.Error()
		}
	}
	return m.deny(codeUnknownKID, map[string]string{"kid": shown}, reason)
}

// refuseClaims picks the code of a token whose signature verified but
// whose claims did not: wrong claim types, then issuer, audience, missing
// claims, expiry and not-before.
func (m *Method) refuseClaims(claims jwtlib.MapClaims, err error) *pipeline.Denial {
	if errors.Is(err, jwtlib.ErrInvalidType) {
		return m.malformed(wrongTypeReason(claims))
	}
	switch {
	case errors.Is(err, jwtlib.ErrTokenInvalidIssuer):
		iss, _ := claims.GetIssuer()
		return m.deny(codeIssuer, map[string]string{"issuer": credential.Display(iss, maxShownValue)},
			fmt.Sprintf("token iss %q is not the configured issuer %q", iss, m.s.issuer))
	case errors.Is(err, jwtlib.ErrTokenInvalidAudience):
		aud, _ := claims.GetAudience()
		shown := strings.Join(aud, ", ")
		return m.deny(codeAudience, map[string]string{"audience": credential.Display(shown, maxShownValue)},
			fmt.Sprintf("token aud [%s] holds none of the configured audiences [%s]", shown, strings.Join(m.s.audiences, ", ")))
	case errors.Is(err, jwtlib.ErrTokenRequiredClaimMissing):
		claim, source := m.missingClaim(claims)
		return m.deny(codeClaimMissing, map[string]string{"claim": claim},
			fmt.Sprintf("the token lacks the %q claim (required by %s)", claim, source))
	case errors.Is(err, jwtlib.ErrTokenExpired):
		exp, _ := claims.GetExpirationTime()
		at := exp.UTC().Format(time.RFC3339)
		return m.deny(codeExpired, map[string]string{"expired_at": at},
			fmt.Sprintf("exp %s is %s in the past (leeway %s)", at, m.now().Sub(exp.Time).Round(time.Second), m.s.leeway))
	case errors.Is(err, jwtlib.ErrTokenNotValidYet), errors.Is(err, jwtlib.ErrTokenUsedBeforeIssued):
		name := "nbf"
		t, _ := claims.GetNotBefore()
		if !errors.Is(err, jwtlib.ErrTokenNotValidYet) {
			name = "iat"
			t, _ = claims.GetIssuedAt()
		}
		at := t.UTC().Format(time.RFC3339)
		return m.deny(codeNotYetValid, map[string]string{"not_before": at},
			fmt.Sprintf("%s %s is %s in the future (leeway %s)", name, at, t.Time.Sub(m.now()).Round(time.Second), m.s.leeway))
	}
	return m.deny(codeInvalid, nil, "the token's claims do not validate: "+err.Error())
}

// missingClaim names the first claim the validator required and the token
// lacks, with the setting that requires it.
func (m *Method) missingClaim(claims jwtlib.MapClaims) (claim, source string) {
	if iss, _ := claims.GetIssuer(); m.s.issuer != "" && iss == "" {
		return "iss", "jwt.issuer"
	}
	if aud, _ := claims.GetAudience(); len(m.s.audiences) > 0 && (len(aud) == 0 || len(aud) == 1 && aud[0] == "") {
		return "aud", "jwt.audiences"
	}
	for _, c := range m.s.required {
		if _, ok := claims[c]; !ok {
			return c, "jwt.required_claims"
		}
	}
	return "exp", "jwt.required_claims"
}

// wrongTypeReason names the first registered claim of the wrong type.
func wrongTypeReason(claims jwtlib.MapClaims) string {
	checks := []struct {
		name string
		err  func() error
	}{
		{"exp", func() error { _, err := claims.GetExpirationTime(); return err }},
		{"nbf", func() error { _, err := claims.GetNotBefore(); return err }},
		{"iat", func() error { _, err := claims.GetIssuedAt(); return err }},
		{"aud", func() error { _, err := claims.GetAudience(); return err }},
		{"iss", func() error { _, err := claims.GetIssuer(); return err }},
		{"sub", func() error { _, err := claims.GetSubject(); return err }},
	}
	for _, c := range checks {
		if c.err() != nil {
			return "its " + c.name + " claim has the wrong type"
		}
	}
	return "a registered claim has the wrong type"
}

// malformedReason says, client-safely, which part of a three-part token
// does not decode.
func malformedReason(tok string) string {
	parts := strings.SplitN(tok, ".", 3)
	if len(parts) != 3 {
		return "it does not have three dot-separated parts"
	}
	for i, name := range []string{"header is", "claims are"} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return "its " + name + " not base64url-encoded"
		}
		var v map[string]any
		if json.Unmarshal(b, &v) != nil {
			return "its " + name + " not a JSON object"
		}
	}
	if _, err := base64.RawURLEncoding.DecodeString(parts[2]); err != nil {
		return "its signature is not base64url-encoded"
	}
	return "it cannot be parsed"
}
