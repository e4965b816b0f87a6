package upstream

import (
	"net/url"
	"time"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// Preview is where a simulated request would be forwarded.
type Preview struct {
	// Upstream is the upstream's name.
	Upstream string `json:"upstream"`
	// Target is the target the balancer would pick now (scheme://host[/base]).
	// With balance random the real pick is a weighted draw among
	// Candidates; Target is then the first of them.
	Target string `json:"target"`
	// URL is the request URL the target would receive (path and query).
	URL string `json:"url"`
	// Balance names the algorithm; Candidates are the usable targets.
	Balance    string   `json:"balance"`
	Candidates []string `json:"candidates,omitempty"`
	// Circuit is the circuit breaker's state ("disabled", "closed", …).
	Circuit string `json:"circuit"`
}

// Preview answers for a simulated request (see pipeline.Simulation)
// without contacting the upstream or changing its state: it checks the
// circuit breaker and the targets' health as Serve would, and returns
// where the request would go, or the refusal Serve would give
// (upstream.circuit_open, upstream.no_healthy_target). The balancer is
// not advanced: round robin reports its next pick, least connections the
// least loaded target now, consistent hashing the target the request's
// key maps to. It records one trace step.
func (u *Upstream) Preview(x *pipeline.Exchange, f *Forward) (Preview, *pipeline.Denial) {
	if f == nil {
		f = &Forward{}
	}
	now := time.Now()
	p := Preview{Upstream: u.name, Circuit: "disabled", Balance: u.balanceName()}
	if u.breaker != nil {
		var at time.Time
		p.Circuit, at = u.breaker.status(now)
		if p.Circuit == circuitOpen.String() {
			wait := max(at.Sub(now), time.Second)
			x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomeDeny, Code: codeCircuitOpen,
				Rule: u.name, Note: "simulated: circuit open; next probe in " + wait.Round(time.Second).String()})
			return p, u.unavailable(codeCircuitOpen, f, wait, "upstream "+u.name+": circuit breaker open")
		}
	}
	ns := now.UnixNano()
	for _, t := range u.targets {
		if t.usable(ns) {
			p.Candidates = append(p.Candidates, t.display)
		}
	}
	t := u.peekTarget(x, ns)
	if t == nil {
		x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomeDeny, Code: codeNoHealthy,
			Rule: u.name, Note: "simulated: no healthy target"})
		return p, u.unavailable(codeNoHealthy, f, u.retryAfter(now), "upstream "+u.name+": every target is down or ejected")
	}
	path := f.Path
	if path == "" {
		path = x.Request.URL.EscapedPath()
	}
	var target url.URL
	setTargetURL(&target, t, path)
	target.RawQuery = x.Request.URL.RawQuery
	p.Target, p.URL = t.display, target.String()
	x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomeSkip, Rule: u.name,
		Note: "simulated: would be forwarded to upstream " + u.name + " target " + t.display + " path " + target.EscapedPath() + "; not sent"})
	return p, nil
}

// balanceName names the balancer's algorithm.
func (u *Upstream) balanceName() string {
	switch u.bal.(type) {
	case *leastConn:
		return BalanceLeastConnections
	case *random:
		return BalanceRandom
	case *consistentHash:
		return BalanceConsistentHash
	}
	return BalanceRoundRobin
}

// peekTarget is the target the balancer would pick at now, without
// advancing it.
func (u *Upstream) peekTarget(x *pipeline.Exchange, now int64) *target {
	switch b := u.bal.(type) {
	case *consistentHash:
		return b.pick(x, now, nil)
	case *roundRobin:
		return b.peek(now, nil)
	case *leastConn:
		var best *target
		var bestLoad int64
		for _, t := range b.rr.targets {
			if !t.usable(now) {
				continue
			}
			if load := t.inflight.Load(); best == nil || load*int64(best.weight) < bestLoad*int64(t.weight) {
				best, bestLoad = t, load
			}
		}
		return best
	}
	for _, t := range u.targets {
		if t.usable(now) {
			return t
		}
	}
	return nil
}

// peek is pickLocked on a copy of the round robin's state.
func (b *roundRobin) peek(now int64, tried []*target) *target {
	b.mu.Lock()
	defer b.mu.Unlock()
	total, best := 0, -1
	var cur [16]int
	current := cur[:0]
	current = append(current, b.current...)
	for i, t := range b.targets {
		if !eligible(t, now, tried) {
			continue
		}
		current[i] += t.weight
		total += t.weight
		if best < 0 || current[i] > current[best] {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	return b.targets[best]
}
