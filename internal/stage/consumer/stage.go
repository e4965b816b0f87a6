// Package consumer is pipeline stage 6: an authenticated caller whose
// consumer or tenant is suspended is refused with consumer.suspended or
// tenant.suspended. The caller is told only the suspension's category
// ("billing", "abuse", …); the operator's reason goes to the trace.
package consumer

import (
	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

const stageName = "consumer"

// Stage checks the status of the caller's consumer and tenant.
type Stage struct {
	dir *identity.Directory
}

var _ pipeline.Stage = (*Stage)(nil)

// New builds the stage over the snapshot's directory.
func New(dir *identity.Directory) *Stage { return &Stage{dir: dir} }

// Name returns "consumer".
func (s *Stage) Name() string { return stageName }

// Handle refuses suspended consumers and tenants. Anonymous callers and
// callers without a consumer pass.
func (s *Stage) Handle(x *pipeline.Exchange) pipeline.Decision {
	id := &x.Identity
	if id.ConsumerID == "" {
		return pipeline.Continue()
	}
	if c := s.dir.Consumer(id.ConsumerID); c != nil && c.Suspended() {
		return pipeline.Deny(&pipeline.Denial{Code: "consumer.suspended", Rule: "consumer:" + c.ID,
			Params: map[string]string{"category": c.Suspension.Category},
			Reason: "consumer " + c.ID + " is suspended (" + c.Suspension.Category + "): " + orNone(c.Suspension.Reason)})
	}
	if id.TenantID == "" {
		return pipeline.Continue()
	}
	t := s.dir.Tenant(id.TenantID)
	if t == nil {
		// A consumer of a deleted tenant: nothing suspends it.
		return pipeline.Continue()
	}
	if t.Suspended() {
		return pipeline.Deny(&pipeline.Denial{Code: "tenant.suspended", Rule: "tenant:" + t.ID,
			Params: map[string]string{"category": t.Suspension.Category},
			Reason: "tenant " + t.ID + " of consumer " + id.ConsumerID + " is suspended (" + t.Suspension.Category + "): " + orNone(t.Suspension.Reason)})
	}
	return pipeline.Continue()
}

func orNone(s string) string {
	if s == "" {
		return "no reason recorded"
	}
	return s
}
