package introspect

import (
	"net/http"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/problem"
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

// retryAfter is the Retry-After of authn.idp_unavailable, in seconds.
const retryAfter = "5"

// challenges holds the RFC 6750 invalid_token challenge of every 401 code,
// with the catalog title as error_description.
var challenges = func() map[string]string {
	m := map[string]string{}
	for _, code := range []string{codeInactive, codeExpired, codeNotYetValid, codeConsumerUnknown} {
		title := code
		if c, ok := problem.Lookup(code); ok {
			title = c.Title
		}
		m[code] = credential.Bearer(credential.DefaultRealm, "invalid_token", title)
	}
	return m
}()

// challenge is the bare challenge offered when no credential was found.
var challenge = credential.Bearer(credential.DefaultRealm, "", "")

// deny builds a refusal of m; reason is operator-only, params client-safe.
func (m *Method) deny(code string, params map[string]string, reason string) *pipeline.Denial {
	d := &pipeline.Denial{Code: code, Rule: m.rule, Params: params, Reason: m.reasonPrefix + reason}
	if code == codeIDPUnavailable {
		d.Header = http.Header{"Retry-After": {retryAfter}}
	} else {
		d.Header = http.Header{"Www-Authenticate": {challenges[code]}}
	}
	return d
}
