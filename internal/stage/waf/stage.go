package waf

import (
	"context"
	"time"

	"github.com/corazawaf/coraza/v3/experimental"
	"github.com/corazawaf/coraza/v3/types"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

const stageName = "waf"

// Rule names of the refusals that are not a CRS match.
const ruleBodyLimit = "waf.body_limit"

// Stage is the waf stage of one route. It is safe for concurrent use.
type Stage struct {
	eng *engine
	ctx context.Context
	log *errorLog

	reportOnly bool
	body       bool // inspect_body
	bodyLimit  int64
	reject     bool // body_limit_action: reject
	limitParam string
	facts      facts
}

var _ pipeline.Stage = (*Stage)(nil)

// Name returns "waf".
func (s *Stage) Name() string { return stageName }

// Handle runs the request through the route's engine: connection, URI
// and headers (phase 1), then the body when there is one and bodies are
// inspected (phase 2, where CRS's rule 949110 blocks on the anomaly
// score). The response phases and the logging phase are not run. A
// request the rules interrupt is refused with waf.blocked; in
// report_only mode a would_deny step is recorded instead and the request
// goes on. A request that matched rules below the threshold records a
// pass step naming them.
func (s *Stage) Handle(x *pipeline.Exchange) pipeline.Decision {
	start := time.Now()
	tx := s.eng.txs.NewTransactionWithOptions(experimental.Options{ID: x.ID, Context: s.ctx})
	d, it, f := s.run(tx, x, start)
	if d == nil {
		d = s.decide(x, tx, it, f, start)
	}
	// Close resets the transaction and returns it to Coraza's pool; it
	// does not run the logging phase.
	_ = tx.Close()
	s.log.flush()
	if d == nil || s.reportOnly {
		return pipeline.Continue()
	}
	return pipeline.Deny(d)
}

// run evaluates the request phases. It returns a denial of its own (the
// body is over body_limit and body_limit_action is reject) or the
// interruption the rules raised.
func (s *Stage) run(tx types.Transaction, x *pipeline.Exchange, start time.Time) (*pipeline.Denial, *types.Interruption, facts) {
	f := s.facts
	if it := requestHeaders(tx, x); it != nil {
		// Phase 1 interrupted: phase 2 would not run, and the body is not read.
		return nil, it, f
	}
	if s.body && hasBody(x) {
		d, it := s.requestBody(tx, x, &f, start)
		if d != nil || it != nil {
			return d, it, f
		}
	}
	it, err := tx.ProcessRequestBody()
	if err != nil && f.readErr == "" {
		f.readErr = err.Error()
	}
	return nil, it, f
}

// decide records the outcome of the rules in the trace and returns the
// denial, or nil to go on.
func (s *Stage) decide(x *pipeline.Exchange, tx types.Transaction, it *types.Interruption, f facts, start time.Time) *pipeline.Denial {
	v, ok := judge(tx, it, f)
	if !ok {
		x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomePass, Duration: time.Since(start)})
		return nil
	}
	if it == nil {
		x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomePass, Rule: v.rules, Note: bound(v.reason, maxNote), Duration: time.Since(start)})
		return nil
	}
	d := &pipeline.Denial{
		Code:   "waf.blocked",
		Stage:  stageName,
		Rule:   v.rules,
		Params: map[string]string{"category": v.category},
		Reason: v.reason,
	}
	if it.Status >= 400 && it.Status != 403 {
		d.Status = it.Status
	}
	s.record(x, d, start)
	return d
}

// record adds the step of a denial, or of a would-be denial in
// report_only mode.
func (s *Stage) record(x *pipeline.Exchange, d *pipeline.Denial, start time.Time) {
	outcome := pipeline.OutcomeDeny
	if s.reportOnly {
		outcome = pipeline.OutcomeWouldDeny
	}
	x.Record(pipeline.Step{Stage: stageName, Outcome: outcome, Code: d.Code, Rule: d.Rule, Note: bound(d.Reason, maxNote), Duration: time.Since(start)})
}
