package gateway

import (
	"time"

	"github.com/pinpointgw/pinpoint/internal/analytics"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// observe feeds one finished request to the analytics roll-ups. It reads
// the state in place and allocates nothing: the event's strings are the
// state's own, which the aggregator copies into a row only when the row
// is new.
func (g *Gateway) observe(st *state, snap *Snapshot, status int, code, layer string, total time.Duration) {
	a := g.o.Analytics
	if a == nil {
		return
	}
	if snap != nil && snap.Config != nil {
		if on := snap.Config.Analytics.Enabled; on != nil && !*on {
			return
		}
	}
	x := &st.x
	e := analytics.Event{
		Time:     x.Start.Add(total),
		Route:    x.Route,
		Consumer: x.Identity.ConsumerID,
		Code:     code,
		Stage:    st.stage,
		Layer:    layer,
		Status:   status,
		Latency:  total,
		Trace:    x.Trace,
		// The upstream failed (a gateway refusal of the upstream stage:
		// connect, timeout, circuit open) or answered 5xx.
		UpstreamError: x.UpstreamStatus >= 500 || (st.code != "" && st.stage == "upstream"),
	}
	if e.Route == "" {
		e.Route = noRoute
	}
	if code != "" {
		if e.Stage == "" {
			e.Stage = "upstream"
		}
		// The deciding rule is on the refusal's trace step.
		for i := len(x.Trace) - 1; i >= 0; i-- {
			if s := &x.Trace[i]; s.Outcome == pipeline.OutcomeDeny {
				e.Rule = s.Rule
				break
			}
		}
	}
	a.Record(e)
}
