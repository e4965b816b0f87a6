package idempotency

import (
	"time"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// Preview decides a simulated request (see pipeline.Simulation) without
// touching the store: the checks that need no store run as in Begin (a
// required key that is missing, an invalid key), and a valid key is
// reported, not taken — whether it would be a first use, a replay, a
// reused key or one in flight depends on the store at the time, and a
// simulation must neither claim a key nor read another caller's record.
// It returns Continue or the refusal, and records one trace step (none
// for a method the gate does not apply to).
func (g *Gate) Preview(x *pipeline.Exchange) pipeline.Decision {
	r := x.Request
	if !g.applies(r.Method) {
		return pipeline.Continue()
	}
	vals := r.Header[g.header]
	if len(vals) == 0 {
		if g.required {
			return g.refuse(x, &pipeline.Denial{Code: "idempotency.key_missing", Rule: ruleRequired,
				Reason: "route " + g.route + " requires an " + g.header + " header on " + r.Method + " requests"})
		}
		x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomeSkip, Note: g.noKeyNote})
		return pipeline.Continue()
	}
	if why := keyProblem(vals); why != "" {
		return g.refuse(x, &pipeline.Denial{Code: "idempotency.key_invalid", Rule: ruleHeader,
			Reason: "the " + g.header + " header " + why})
	}
	start := time.Now()
	x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomeSkip, Rule: ruleKey, Duration: time.Since(start),
		Note: "simulated: the " + g.header + " key would be checked in scope " + g.scope + caller(x) +
			" (a first use runs the request, a completed key replays its response, a key in flight or used for another request is refused); nothing was taken"})
	return pipeline.Continue()
}
