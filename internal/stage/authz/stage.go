package authz

import (
	"errors"
	"strconv"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/authn/credential"
)

const stageName = "authz"

// DefaultMaxBodyBytes bounds the body an owner rule with body_field reads
// when the route passes no limit.
const DefaultMaxBodyBytes = 1 << 20

// Route is what the stage needs to know about the route it guards.
type Route struct {
	// Name and Version are the route's, shown to policies as route.name
	// and route.version.
	Name, Version string
	// Params are the path parameter names the route's paths capture
	// ("id" of "/users/{id}"); owner rules may only name these.
	Params []string
	// Challenge is the WWW-Authenticate value of the route's
	// authenticators, sent with authz.authentication_required. May be empty.
	Challenge string
	// MaxBodyBytes is the route's body limit; owner rules with body_field
	// read at most this much. Zero: DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// Stage is the authorization stage of one route. It is built once per
// config snapshot by New and is safe for concurrent use.
type Stage struct {
	route      Route
	reportOnly bool

	tenants    []string
	denyGroups []string
	groups     []string
	groupsList string // ", "-joined, for role_missing

	scopes         []string
	scopesAny      bool
	scopesOr       string // " or "-joined, for "any"
	scopeChallenge string // WWW-Authenticate for bearer credentials

	owner    []ownerRule
	bodyRule bool
	maxBody  int64

	policies []*policy

	summary string // the pass step's rule
}

var _ pipeline.Stage = (*Stage)(nil)

// New validates the route's authorize block a and builds its stage. pols
// are the revision's compiled policies (nil when it has none). Errors are
// config.FieldErrors relative to the authorize block, joined with
// errors.Join. A nil block only requires an authenticated caller.
func New(a *config.Authorize, pols *Policies, route Route) (*Stage, error) {
	if a == nil {
		a = &config.Authorize{}
	}
	s := &Stage{route: route, maxBody: route.MaxBodyBytes}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	var errs []error
	var ok bool
	if s.reportOnly, ok = parseMode(a.Mode); !ok {
		errs = append(errs, config.Fieldf("mode", "%s", modeError(a.Mode)))
	}
	switch a.ScopesMode {
	case "", "all":
	case "any":
		s.scopesAny = true
	default:
		errs = append(errs, config.Fieldf("scopes_mode", "unknown scopes_mode %q (want \"all\" or \"any\")", a.ScopesMode))
	}
	errs = append(errs, checkNames("tenants", a.Tenants)...)
	errs = append(errs, checkNames("groups", a.Groups)...)
	errs = append(errs, checkNames("deny_groups", a.DenyGroups)...)
	errs = append(errs, checkScopes(a.Scopes)...)
	s.tenants, s.groups, s.denyGroups, s.scopes = a.Tenants, a.Groups, a.DenyGroups, a.Scopes
	s.groupsList = strings.Join(a.Groups, ", ")
	if len(a.Scopes) > 0 {
		s.scopesOr = strings.Join(a.Scopes, " or ")
		s.scopeChallenge = credential.Challenge("Bearer",
			"realm", credential.DefaultRealm,
			"error", "insufficient_scope",
			"scope", strings.Join(a.Scopes, " "))
	}

	for i, r := range a.Owner {
		o, err := compileOwner(i, r, route.Params)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.owner = append(s.owner, o)
		s.bodyRule = s.bodyRule || o.ptr != nil
	}

	seen := map[string]bool{}
	for i, name := range a.Policies {
		at := "policies[" + strconv.Itoa(i) + "]"
		p, found := pols.lookup(name)
		switch {
		case name == "":
			errs = append(errs, config.Fieldf(at, "must not be empty"))
		case !found:
			msg := "unknown policy " + strconv.Quote(name)
			if c, ok := config.Closest(name, pols.Names()); ok {
				msg += " (did you mean " + strconv.Quote(c) + "?)"
			} else if len(pols.Names()) == 0 {
				msg += " (the top-level policies list is empty)"
			}
			errs = append(errs, config.Fieldf(at, "%s", msg))
		case seen[name]:
			errs = append(errs, config.Fieldf(at, "policy %q is listed twice", name))
		default:
			seen[name] = true
			s.policies = append(s.policies, p)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s.summary = s.buildSummary()
	return s, nil
}

// buildSummary names the rules the pass step vouches for, e.g.
// "scopes,owner,policy:business-hours".
func (s *Stage) buildSummary() string {
	var parts []string
	if len(s.tenants) > 0 {
		parts = append(parts, "tenants")
	}
	if len(s.denyGroups) > 0 {
		parts = append(parts, "deny_groups")
	}
	if len(s.groups) > 0 {
		parts = append(parts, "groups")
	}
	if len(s.scopes) > 0 {
		parts = append(parts, "scopes")
	}
	if len(s.owner) > 0 {
		parts = append(parts, "owner")
	}
	for _, p := range s.policies {
		parts = append(parts, p.rule)
	}
	if len(parts) == 0 {
		return "authenticated"
	}
	return strings.Join(parts, ",")
}

// Name returns "authz".
func (s *Stage) Name() string { return stageName }

// Handle checks the rules in order (authentication, tenants, deny_groups,
// groups, scopes, owner, policies); the first that fails refuses. In
// report_only mode a failing rule is recorded as would_deny and the next
// one is checked. A request that passes gets one trace step naming the
// rules it satisfied.
func (s *Stage) Handle(x *pipeline.Exchange) pipeline.Decision {
	id := &x.Identity
	if !id.Authenticated {
		d := s.authenticationRequired()
		if !s.reportOnly {
			return pipeline.Deny(d)
		}
		// Nothing else can be judged without an identity.
		wouldDeny(x, d)
		return pipeline.Continue()
	}
	if len(s.tenants) > 0 && !contains(s.tenants, id.TenantID) {
		if d := s.stop(x, s.tenantNotAllowed(id), s.reportOnly); d != nil {
			return pipeline.Deny(d)
		}
	}
	if len(s.denyGroups) > 0 {
		for _, g := range id.Groups {
			if contains(s.denyGroups, g) {
				if d := s.stop(x, s.roleDenied(g), s.reportOnly); d != nil {
					return pipeline.Deny(d)
				}
				break
			}
		}
	}
	if len(s.groups) > 0 && !s.inGroup(id) {
		if d := s.stop(x, s.roleMissing(id), s.reportOnly); d != nil {
			return pipeline.Deny(d)
		}
	}
	if len(s.scopes) > 0 && !s.scoped(id) {
		if d := s.stop(x, s.scopeMissing(id), s.reportOnly); d != nil {
			return pipeline.Deny(d)
		}
	}
	if len(s.owner) > 0 {
		if d := s.checkOwner(x); d != nil {
			return pipeline.Deny(d)
		}
	}
	if len(s.policies) > 0 {
		if d := s.checkPolicies(x); d != nil {
			return pipeline.Deny(d)
		}
	}
	// No Duration: reading the wall clock costs more than the checks here.
	x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomePass, Rule: s.summary})
	return pipeline.Continue()
}

// stop returns d when the rule is enforced; in report_only mode it records
// d as would_deny and returns nil so the request goes on.
func (s *Stage) stop(x *pipeline.Exchange, d *pipeline.Denial, reportOnly bool) *pipeline.Denial {
	if reportOnly {
		wouldDeny(x, d)
		return nil
	}
	return d
}

// wouldDeny records a refusal that report_only mode let through.
func wouldDeny(x *pipeline.Exchange, d *pipeline.Denial) {
	x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomeWouldDeny, Code: d.Code, Rule: d.Rule, Note: d.Reason})
}

// parseMode reads a Mode field: "" and "enforce" enforce, "report_only"
// only reports.
func parseMode(m string) (reportOnly, ok bool) {
	switch m {
	case "", "enforce":
		return false, true
	case "report_only":
		return true, true
	}
	return false, false
}

func modeError(m string) string {
	return "unknown mode " + strconv.Quote(m) + ` (want "enforce" or "report_only")`
}
