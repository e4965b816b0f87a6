package introspect

import (
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/authn/credential"
)

// Reason codes this method raises (all from the problem catalog).
const (
	codeInactive        = "authn.token_inactive"
	codeExpired         = "authn.token_expired"
	codeNotYetValid     = "authn.token_not_yet_valid"
	codeConsumerUnknown = "authn.consumer_unknown"
	codeIDPUnavailable  = "authn.idp_unavailable"
)

// challenge is the bare challenge offered when no credential was found.
var challenge = credential.Bearer(credential.DefaultRealm, "", "")

// deny builds a refusal of m; reason is operator-only, params client-safe.
func (m *Method) deny(code string, params map[string]string, reason string) *pipeline.Denial {
	return credential.BearerRefusal(code, m.rule, params, m.reasonPrefix+reason)
}
