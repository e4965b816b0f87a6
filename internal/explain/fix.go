package explain

import (
	"strconv"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/problem"
)

// fixer writes the fix of one refusal (or would-be refusal) from the
// refusing step and what the revision's configuration says about it.
type fixer struct {
	x    *Explanation
	f    *Facts
	in   *pipeline.Inputs
	cfg  *config.Config // nil: the revision is not known
	rt   *config.Route  // the matched route in cfg, or nil
	code string
	rule string
	why  string // the stage's reason
}

// fixFor returns the fix of a refused request, of the first would-deny
// step of an allowed one, or of a backend's own error; nil otherwise.
func fixFor(x *Explanation, f *Facts, in *pipeline.Inputs) *Fix {
	fx := &fixer{x: x, f: f, in: in, cfg: f.Config}
	if fx.cfg != nil && x.Route != "" {
		for i := range fx.cfg.Routes {
			if fx.cfg.Routes[i].Name == x.Route {
				fx.rt = &fx.cfg.Routes[i]
				break
			}
		}
	}
	switch x.Outcome {
	case OutcomeRefused, OutcomeUpstreamError:
		fx.code = x.Code
		if x.Decision != nil {
			fx.rule, fx.why = x.Decision.Rule, x.Decision.Reason
		}
		return fx.fix()
	case OutcomeAllowed:
		if len(x.WouldDeny) == 0 {
			return nil
		}
		w := x.WouldDeny[0]
		fx.code, fx.rule, fx.why = w.Code, w.Rule, w.Note
		fix := fx.fix()
		n := len(x.WouldDeny)
		cause := "A report_only rule would have refused this request: " + fix.Cause
		if n > 1 {
			cause = strconv.Itoa(n) + " report_only rules would have refused this request; the first: " + fix.Cause
		}
		actions := append([]string{"Before enforcing " + orSomething(w.Rule, "the rule") + " (mode: enforce), check that callers like this one should be refused; if not:"},
			fix.Actions...)
		return &Fix{Cause: cause, Actions: actions}
	}
	return nil
}

// fix dispatches on the code's family.
func (fx *fixer) fix() *Fix {
	var fix *Fix
	switch problem.Family(fx.code) {
	case "authn":
		fix = fx.authn()
	case "consumer", "tenant":
		fix = fx.suspended()
	case "authz":
		fix = fx.authz()
	case "ip":
		fix = fx.ip()
	case "cors":
		fix = fx.cors()
	case "csrf":
		fix = fx.csrf()
	case "ratelimit", "quota":
		fix = fx.limit()
	case "waf":
		fix = fx.waf()
	case "request":
		fix = fx.request()
	case "idempotency":
		fix = fx.idempotency()
	case "route":
		fix = fx.route()
	case "upstream":
		fix = fx.upstream()
	case "gateway":
		fix = fx.gateway()
	case "ai":
		fix = fx.ai()
	}
	if fix == nil {
		fix = fx.generic()
	}
	if fix.Cause == "" {
		fix.Cause = fx.generic().Cause
	}
	return fix
}

// generic is the catalog's operator documentation.
func (fx *fixer) generic() *Fix {
	c, ok := problem.Lookup(fx.code)
	if !ok {
		return &Fix{Cause: "The request was refused with " + fx.code + ", which this version of Pinpoint does not document.",
			Actions: []string{"Read the trace above; `pinpoint logs --code " + fx.code + "` shows how often it happens."}}
	}
	cause := c.Title + "."
	if fx.why != "" {
		cause = c.Title + ": " + fx.why + "."
	}
	return &Fix{Cause: cause, Actions: []string{c.Doc}}
}

// --- shared phrasing ---

// routeField names a field of the matched route: "authorize.scopes of route orders".
func (fx *fixer) routeField(field string) string {
	if fx.x.Route == "" {
		return field
	}
	return field + " of route " + fx.x.Route
}

// apply says how a configuration change takes effect, from the revision's source.
func (fx *fixer) apply() string {
	if r := fx.f.Revision; r != nil {
		if file, ok := strings.CutPrefix(r.Source, "file:"); ok {
			return "edit " + file + " (the gateway reloads it)"
		}
	}
	return "apply the changed configuration with `pinpoint apply -f gateway.yaml`"
}

// declaredConsumer returns the consumer's index in the configuration, or -1.
func (fx *fixer) declaredConsumer(id string) int {
	if fx.cfg == nil || id == "" {
		return -1
	}
	for i := range fx.cfg.Consumers {
		if fx.cfg.Consumers[i].ID == id {
			return i
		}
	}
	return -1
}

// consumerDeclared reports whether the caller's consumer is declared in the
// configuration (so only an apply changes it).
func (fx *fixer) consumerDeclared() bool {
	if c := fx.f.Consumer; c != nil {
		return c.Source == identity.SourceConfig
	}
	return fx.declaredConsumer(fx.x.Caller.Consumer) >= 0
}

// authenticator returns the configuration of the authenticator that
// verified (or tried) the credential.
func (fx *fixer) authenticator() *config.Authenticator {
	if fx.cfg == nil {
		return nil
	}
	name := fx.x.Caller.Authenticator
	if name == "" {
		name = strings.TrimPrefix(fx.rule, "authenticator:")
	}
	for i := range fx.cfg.Authenticators {
		if fx.cfg.Authenticators[i].Name == name {
			return &fx.cfg.Authenticators[i]
		}
	}
	return nil
}

// keyPrefix is the credential as the operator knows it: the verified one,
// else the one the request presented.
func (fx *fixer) keyPrefix() string {
	if c := fx.x.Caller.Credential; c != "" {
		return c
	}
	if c := fx.x.Caller.Presented; c != "" {
		return c
	}
	return "(unknown)"
}

// consumerOr is the caller's consumer id or a placeholder.
func (fx *fixer) consumerOr() string {
	if c := fx.x.Caller.Consumer; c != "" {
		return c
	}
	if k := fx.f.Key; k != nil && k.ConsumerID != "" {
		return k.ConsumerID
	}
	return "CONSUMER"
}

// keyScopes are the scopes the caller's key holds now (nil: unknown).
func (fx *fixer) keyScopes() []string {
	if k := fx.f.Key; k != nil {
		return k.Scopes
	}
	return nil
}

// createKeyCmd is `pinpoint keys create` for the caller's consumer with scopes.
func (fx *fixer) createKeyCmd(scopes []string) string {
	var b strings.Builder
	b.WriteString("`pinpoint keys create --consumer ")
	b.WriteString(fx.consumerOr())
	for _, s := range scopes {
		b.WriteString(" --scope ")
		b.WriteString(s)
	}
	b.WriteString("`")
	return b.String()
}

// list formats names for the operator: [a, b].
func list(names []string) string {
	if len(names) == 0 {
		return "[]"
	}
	return "[" + strings.Join(names, ", ") + "]"
}

func orSomething(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// reportOnly suggests measuring a rule before enforcing it; field is the
// route's mode field ("waf.mode").
func (fx *fixer) reportOnly(field string) string {
	return "To measure before refusing, set " + fx.routeField(field) + " to report_only: refusals are then traced and counted as would_deny, and requests go on."
}
