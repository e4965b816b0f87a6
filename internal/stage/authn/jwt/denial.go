package jwt

import (
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/authn/credential"
)

// Reason codes this method raises (all from the problem catalog).
const (
	codeMalformed       = "authn.token_malformed"
	codeInvalid         = "authn.token_invalid"
	codeAlgorithm       = "authn.token_algorithm_not_allowed"
	codeExpired         = "authn.token_expired"
	codeNotYetValid     = "authn.token_not_yet_valid"
	codeIssuer          = "authn.token_issuer_mismatch"
	codeAudience        = "authn.token_audience_mismatch"
	codeUnknownKID      = "authn.token_unknown_kid"
	codeClaimMissing    = "authn.token_claim_missing"
	codeConsumerUnknown = "authn.consumer_unknown"
	codeIDPUnavailable  = "authn.idp_unavailable"
)

// challenge is the bare challenge offered when no credential was found.
var challenge = credential.Bearer(credential.DefaultRealm, "", "")

// deny builds a refusal of m. reason is operator-only and is prefixed with
// the authenticator's name; params must be client-safe.
func (m *Method) deny(code string, params map[string]string, reason string) *pipeline.Denial {
	return credential.BearerRefusal(code, m.rule, params, m.reasonPrefix+reason)
}
