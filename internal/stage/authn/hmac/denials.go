package hmac

import (
	"fmt"
	"net/http"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// deny builds a refusal that offers the Signature challenge again.
func (m *Method) deny(code string, params map[string]string, reason string) *pipeline.Denial {
	return &pipeline.Denial{
		Code:   code,
		Rule:   m.name,
		Params: params,
		Reason: reason,
		Header: http.Header{"Www-Authenticate": {m.challenge}},
	}
}

// malformed refuses a Signature credential that cannot be parsed; problem
// is client-safe.
func (m *Method) malformed(problem string) *pipeline.Denial {
	return m.deny("authn.credential_malformed", map[string]string{"kind": "HTTP signature", "reason": problem},
		fmt.Sprintf("hmac authenticator %q: the signature is malformed: %s", m.name, problem))
}
