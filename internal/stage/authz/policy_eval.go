package authz

import (
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// checkPolicies evaluates the route's policies in order. A policy that
// returns false refuses with its own detail and hint; one that cannot be
// evaluated refuses too (fail closed), with the error in the trace. A
// policy refuses only when both it and the authorize block enforce.
func (s *Stage) checkPolicies(x *pipeline.Exchange) *pipeline.Denial {
	a := newActivation(x, &s.route, s.policies[0].adapter)
	defer a.release()
	for _, p := range s.policies {
		ok, err := p.eval(a)
		if ok {
			continue
		}
		reason := "policy " + p.name + " evaluated to false"
		if err != nil {
			reason = "policy " + p.name + " failed to evaluate, refused (fail closed): " + err.Error()
		}
		d := &pipeline.Denial{
			Code: "authz.policy_denied",
			Rule: p.rule,
			// The operator's own texts; never the expression.
			Params: map[string]string{"detail": p.detail, "hint": p.hint},
			Reason: reason,
		}
		if d = s.stop(x, d, s.reportOnly || p.reportOnly); d != nil {
			return d
		}
	}
	return nil
}
