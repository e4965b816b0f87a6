// Package ip is pipeline stage 2: it refuses clients by network address.
//
// Two filters apply to a request, gateway.ip (every route) and the route's
// own ip block, each compiled once per config snapshot into a List of
// address sets. They are checked in a fixed order: the gateway's deny list,
// the route's deny list, the gateway's allow list, the route's allow list.
// An address on a deny list is refused with ip.denied; when an allow list
// is set, an address on none of its entries is refused with ip.not_allowed.
// Each filter has its own mode, so either can be rolled out report_only.
//
// The stage reads only x.ClientIP, which the accept stage resolved through
// gateway.trusted_proxies; it never looks at forwarding headers itself, so
// a client cannot talk its way past a list with X-Forwarded-For.
package ip

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

const stageName = "ip"

// The rules a refusal names: which list of which filter.
const (
	ruleGlobalDeny  = "gateway.ip.deny"
	ruleRouteDeny   = "route.ip.deny"
	ruleGlobalAllow = "gateway.ip.allow"
	ruleRouteAllow  = "route.ip.allow"
)

// passRules names the allow lists that admitted an address, by bit mask
// (1: gateway, 2: route), so the pass step costs no allocation.
var passRules = [4]string{"", ruleGlobalAllow, ruleRouteAllow, ruleGlobalAllow + ", " + ruleRouteAllow}

// Stage is the ip stage of one route: the gateway's filter and the
// route's. It is safe for concurrent use.
type Stage struct {
	global, route *List // either may be nil
}

var _ pipeline.Stage = (*Stage)(nil)

// New builds the stage of a route from the compiled gateway.ip (global)
// and the route's ip (route); either may be nil. It returns nil when
// neither has an entry, and the gateway leaves the stage out of the chain.
// The gateway compiles gateway.ip once per snapshot and shares that List
// between all routes.
func New(global, route *List) *Stage {
	if global.Empty() {
		global = nil
	}
	if route.Empty() {
		route = nil
	}
	if global == nil && route == nil {
		return nil
	}
	return &Stage{global: global, route: route}
}

// Name returns "ip".
func (s *Stage) Name() string { return stageName }

// Handle refuses x when its client IP is on a deny list, or not on a set
// allow list. A filter in report_only mode records a would_deny step
// instead and the checks go on. When an allow list admitted the address,
// one pass step names it.
func (s *Stage) Handle(x *pipeline.Exchange) pipeline.Decision {
	a := x.ClientIP.Unmap()
	if d := s.deny(x, s.global, ruleGlobalDeny, a); d != nil {
		return pipeline.Deny(d)
	}
	if d := s.deny(x, s.route, ruleRouteDeny, a); d != nil {
		return pipeline.Deny(d)
	}
	admitted := 0
	for i, l := range [2]*List{s.global, s.route} {
		if l == nil || !l.hasAllow() {
			continue
		}
		if l.allows(a) {
			admitted |= 1 << i
			continue
		}
		rule := ruleGlobalAllow
		if i == 1 {
			rule = ruleRouteAllow
		}
		d := &pipeline.Denial{Code: "ip.not_allowed", Stage: stageName, Rule: rule, Reason: notAllowedReason(a, rule, l.allowN)}
		if l.reportOnly {
			wouldDeny(x, d)
			continue
		}
		return pipeline.Deny(d)
	}
	if admitted != 0 {
		x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomePass, Rule: passRules[admitted]})
	}
	return pipeline.Continue()
}

// deny checks a against l's deny list. It returns the denial to answer
// with, or nil to go on (not denied, or denied in report_only mode, which
// it records).
func (s *Stage) deny(x *pipeline.Exchange, l *List, rule string, a netip.Addr) *pipeline.Denial {
	if l == nil {
		return nil
	}
	match, ok := l.denied(a)
	if !ok {
		return nil
	}
	d := &pipeline.Denial{
		Code:   "ip.denied",
		Stage:  stageName,
		Rule:   rule,
		Reason: fmt.Sprintf("client %s is on %s entry %q", a, rule, match),
	}
	if l.reportOnly {
		wouldDeny(x, d)
		return nil
	}
	return d
}

// wouldDeny records a report_only refusal.
func wouldDeny(x *pipeline.Exchange, d *pipeline.Denial) {
	x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomeWouldDeny, Code: d.Code, Rule: d.Rule, Note: d.Reason})
}

// notAllowedReason explains an ip.not_allowed refusal to the operator.
func notAllowedReason(a netip.Addr, rule string, n int) string {
	entries := strconv.Itoa(n) + " entries"
	if n == 1 {
		entries = "1 entry"
	}
	if !a.IsValid() {
		return "client address unknown (the peer is not an IP address: unix socket?), so it is on none of the " + entries + " of " + rule
	}
	return "client " + a.String() + " is on none of the " + entries + " of " + rule
}
