package authz

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/ext"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// Policy defaults, as documented on config.Policy.
const (
	defaultPolicyDetail = "This request is not allowed by the API's access policy."
	defaultPolicyHint   = "Contact the API owner if you believe you should have access."
)

// Evaluation limits. A policy's cost is CEL's count of operations (one
// per comparison, field access or function call; string and list
// operations by their size); exceeding the limit stops the evaluation and
// refuses the request. At a few nanoseconds per unit the limit bounds one
// policy to well under a millisecond, while a realistic policy costs
// tens of units.
const (
	policyCostLimit    = 50_000
	maxExpressionBytes = 16 << 10
)

// Policies are the compiled policies of one config revision, shared by
// every route's authz stage. Build them with CompilePolicies.
type Policies struct {
	byName map[string]*policy
	names  []string
}

// policy is one compiled policy.
type policy struct {
	name       string
	rule       string // "policy:<name>", the trace's rule id
	detail     string
	hint       string
	reportOnly bool
	prg        cel.Program
	adapter    types.Adapter
}

// policyEnv is the CEL environment every policy is compiled in; it does
// not depend on the configuration, so it is built once per process.
var policyEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("request", requestType),
		cel.Variable("consumer", consumerType),
		cel.Variable("credential", credentialType),
		cel.Variable("route", routeType),
		cel.OptionalTypes(),
		ext.Strings(),
		ext.Sets(),
		cel.DefaultUTCTimeZone(true),
		cel.ExtendedValidations(),
		cel.ParserExpressionSizeLimit(maxExpressionBytes),
		// Last: the libraries above register their types with CEL's
		// registry, which this wraps.
		withPolicyTypes(),
	)
})

// CompilePolicies compiles the policies of a config revision (the
// top-level policies list). Errors are config.FieldErrors with paths
// relative to that list ("[2].expression"), joined with errors.Join.
func CompilePolicies(ps []config.Policy) (*Policies, error) {
	env, err := policyEnv()
	if err != nil {
		return nil, fmt.Errorf("policy environment: %w", err)
	}
	out := &Policies{byName: make(map[string]*policy, len(ps))}
	first := map[string]int{}
	var errs []error
	for i, p := range ps {
		at := "[" + strconv.Itoa(i) + "]"
		switch prev, dup := first[p.Name]; {
		case p.Name == "":
			errs = append(errs, config.Fieldf(at+".name", "required"))
		case dup:
			errs = append(errs, config.Fieldf(at+".name", "duplicate policy name %q (also policies[%d])", p.Name, prev))
		default:
			first[p.Name] = i
		}
		reportOnly, ok := parseMode(p.Mode)
		if !ok {
			errs = append(errs, config.Fieldf(at+".mode", "%s", modeError(p.Mode)))
		}
		if strings.TrimSpace(p.Expression) == "" {
			errs = append(errs, config.Fieldf(at+".expression", "required: a CEL expression of type bool"))
			continue
		}
		prg, err := compileExpression(env, p.Expression)
		if err != nil {
			errs = append(errs, config.Fieldf(at+".expression", "%s", err))
			continue
		}
		if p.Name == "" || out.byName[p.Name] != nil {
			continue
		}
		pol := &policy{
			name:       p.Name,
			rule:       "policy:" + p.Name,
			detail:     p.Detail,
			hint:       p.Hint,
			reportOnly: reportOnly,
			prg:        prg,
			adapter:    env.CELTypeAdapter(),
		}
		if pol.detail == "" {
			pol.detail = defaultPolicyDetail
		}
		if pol.hint == "" {
			pol.hint = defaultPolicyHint
		}
		out.byName[p.Name] = pol
		out.names = append(out.names, p.Name)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// compileMu serializes compiles on the shared environment: cel-go's
// checker builds its error catalog lazily on the Env, and two concurrent
// checks that hit an undeclared reference race on it (seen under -race
// with cel-go v0.33.2). Compiles happen once per revision (and on
// validation), so the lock costs nothing on the request path; programs
// evaluate concurrently without it.
var compileMu sync.Mutex

// compileExpression parses, type-checks and plans one expression.
func compileExpression(env *cel.Env, src string) (cel.Program, error) {
	compileMu.Lock()
	defer compileMu.Unlock()
	ast, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		return nil, issuesError(iss)
	}
	if t := ast.OutputType(); !t.IsExactType(cel.BoolType) {
		msg := fmt.Sprintf("must evaluate to bool, not %s", t)
		if t.IsExactType(cel.DynType) {
			msg += " (compare dynamic values, e.g. credential.claims.admin == true)"
		}
		return nil, errors.New(msg)
	}
	if err := checkConstruction(ast); err != nil {
		return nil, err
	}
	if err := checkTimeZones(ast); err != nil {
		return nil, err
	}
	return env.Program(ast,
		cel.CostLimit(policyCostLimit),
		cel.EvalOptions(cel.OptOptimize),
		cachedTimeZones(),
	)
}

// issuesError turns CEL's issues into one line per problem, each with its
// line and column within the expression:
//
//	invalid CEL: 1:1: undeclared reference to 'reqest' (in container '')
func issuesError(iss *cel.Issues) error {
	var b strings.Builder
	b.WriteString("invalid CEL: ")
	for i, e := range iss.Errors() {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%d:%d: %s", e.Location.Line(), e.Location.Column()+1, e.Message)
	}
	return errors.New(b.String())
}

// lookup returns the policy named name.
func (ps *Policies) lookup(name string) (*policy, bool) {
	if ps == nil {
		return nil, false
	}
	p, ok := ps.byName[name]
	return p, ok
}

// Names lists the compiled policies in config order.
func (ps *Policies) Names() []string {
	if ps == nil {
		return nil
	}
	return ps.names
}

// eval runs p for the request behind a. It returns the decision, or an
// error when the policy could not be evaluated (the caller refuses).
func (p *policy) eval(a *activation) (bool, error) {
	out, _, err := p.prg.Eval(a)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("result is %s, not bool", out.Type().TypeName())
	}
	return bool(b), nil
}
