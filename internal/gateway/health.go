package gateway

import (
	"slices"

	"github.com/pinpointgw/pinpoint/internal/telemetry"
)

// upstreamHealth reports the upstreams of the revision being served, by
// name, for the upstream health metrics (read at every scrape).
func (g *Gateway) upstreamHealth() []telemetry.UpstreamHealth {
	s := g.snap.Load()
	if s == nil {
		return nil
	}
	names := make([]string, 0, len(s.upstreams))
	for name := range s.upstreams {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make([]telemetry.UpstreamHealth, 0, len(names))
	for _, name := range names {
		u := s.upstreams[name]
		h := telemetry.UpstreamHealth{Name: name}
		h.Circuit, _ = u.Circuit()
		for _, t := range u.Status() {
			h.Targets = append(h.Targets, telemetry.TargetHealth{URL: t.URL, Healthy: t.Healthy, InFlight: t.InFlight})
		}
		out = append(out, h)
	}
	return out
}
