package validate

import (
	"errors"
	"fmt"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

const stageName = "validate"

// The rules a refusal names: the config keys that decide it.
const (
	ruleUnknown    = "openapi.unknown_operation"
	ruleParameters = "openapi.parameters"
	ruleBody       = "openapi.body"
	ruleMaxBody    = "limits.max_body_bytes"
	ruleMaxDepth   = "limits.max_json_depth"
	ruleMaxField   = "limits.max_json_field_bytes"
	ruleOperation  = "openapi"
)

// Options are what the gateway builds the stage of one route from.
type Options struct {
	// Route is the route's name, for construction errors.
	Route string
	// OpenAPI is the route's openapi block with its defaults applied; nil
	// checks the JSON limits only.
	OpenAPI *config.OpenAPI
	// MaxBodyBytes is the route's effective limits.max_body_bytes: the most
	// of a body the stage buffers. Required (> 0) whenever a body may be
	// checked.
	MaxBodyBytes int64
	// MaxJSONDepth is the route's effective limits.max_json_depth; 0 sets no
	// limit of the route's own (the stage still refuses bodies nested
	// deeper than 10000 levels before decoding them).
	MaxJSONDepth int
	// MaxJSONFieldBytes is the route's effective limits.max_json_field_bytes;
	// 0 sets no limit.
	MaxJSONFieldBytes int64
}

// Stage is the validate stage of one route. It is safe for concurrent use;
// Handle only reads it.
type Stage struct {
	doc          *document // nil: JSON limits only
	reportOnly   bool
	allowUnknown bool
	params, body bool // openapi.parameters, openapi.body
	maxBody      int64
	limits       jsonLimits
}

var _ pipeline.Stage = (*Stage)(nil)

// New builds the stage of a route. With o.OpenAPI set it reads, validates
// and compiles the document once (call it once per config revision, not
// per request); a document that does not load or validate is an error at
// "spec" naming the file and the loader's message. Without o.OpenAPI it
// checks the JSON limits of JSON bodies, and returns nil (leave the stage
// out of the chain) when neither limit is set.
//
// The gateway passes the openapi block of a route that has one, and calls
// New with OpenAPI nil for a route whose own limits set max_json_depth or
// max_json_field_bytes. Errors are config.FieldErrors relative to the
// openapi block.
func New(o Options) (*Stage, error) {
	s := &Stage{
		maxBody: o.MaxBodyBytes,
		limits:  jsonLimits{depth: o.MaxJSONDepth, field: o.MaxJSONFieldBytes},
	}
	if o.MaxJSONDepth < 0 || o.MaxJSONFieldBytes < 0 {
		return nil, fmt.Errorf("validate stage of route %q: negative JSON limit (depth %d, field bytes %d)", o.Route, o.MaxJSONDepth, o.MaxJSONFieldBytes)
	}
	if o.OpenAPI == nil && !s.limits.enabled() {
		return nil, nil
	}
	if o.MaxBodyBytes <= 0 {
		return nil, fmt.Errorf("validate stage of route %q: MaxBodyBytes must be the route's body limit, not %d", o.Route, o.MaxBodyBytes)
	}
	if o.OpenAPI == nil {
		return s, nil
	}
	a := o.OpenAPI
	var errs []error
	switch a.Mode {
	case "", "enforce":
	case "report_only":
		s.reportOnly = true
	default:
		errs = append(errs, config.Fieldf("mode", "unknown mode %q (want \"enforce\" or \"report_only\")", a.Mode))
	}
	switch a.UnknownOperation {
	case "", "deny":
	case "allow":
		s.allowUnknown = true
	default:
		errs = append(errs, config.Fieldf("unknown_operation", "unknown value %q (want \"deny\" or \"allow\")", a.UnknownOperation))
	}
	s.params, s.body = a.ValidatesParameters(), a.ValidatesBody()
	if a.Spec == "" {
		errs = append(errs, config.Fieldf("spec", "required: the path of the OpenAPI document"))
	} else {
		doc, err := loadDocument(a.Spec)
		if err != nil {
			errs = append(errs, err)
		}
		s.doc = doc
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// Name returns "validate".
func (s *Stage) Name() string { return stageName }

// Handle checks x against the route's document and JSON limits. In
// report_only mode a refusal by the document (unknown operation,
// parameters, media type, body schema) is recorded as a would_deny step
// and the request goes on; the size limits are enforced in either mode.
func (s *Stage) Handle(x *pipeline.Exchange) pipeline.Decision {
	var findings []finding
	var op *operation
	var c captures
	if s.doc != nil {
		var e *pathEntry
		e, op = s.doc.find(x.Request.Method, x.Path, &c)
		switch {
		case op != nil:
		case s.allowUnknown:
			x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomeSkip, Rule: ruleUnknown, Note: s.unknownReason(x, e) + "; unknown_operation: allow"})
		default:
			findings = append(findings, finding{denial: s.unknownDenial(x, e)})
		}
	}
	// Enforcing, the first refusal ends the checks; reporting, every check
	// runs and records what it would refuse.
	if op != nil && s.params && (s.reportOnly || len(findings) == 0) {
		if d := s.checkParameters(x, op, &c); d != nil {
			findings = append(findings, finding{denial: d})
		}
	}
	if s.reportOnly || len(findings) == 0 {
		findings = s.checkBody(x, op, findings)
	}
	reported := false
	for _, f := range findings {
		if !s.reportOnly || f.limit {
			return pipeline.Deny(f.denial)
		}
		d := f.denial
		x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomeWouldDeny, Code: d.Code, Rule: d.Rule, Note: d.Reason})
		reported = true
	}
	if op != nil && !reported {
		x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomePass, Rule: ruleOperation, Note: op.label})
	}
	return pipeline.Continue()
}

// unknownDenial refuses a request the document does not describe: no
// path matches (e nil), or the path has no operation for the method. The
// client's own method and path are echoed; the reason tells the operator
// which document and, when the path matched, which methods it has.
func (s *Stage) unknownDenial(x *pipeline.Exchange, e *pathEntry) *pipeline.Denial {
	return &pipeline.Denial{
		Code: "request.operation_unknown", Stage: stageName, Rule: ruleUnknown,
		Params: map[string]string{"method": x.Request.Method, "path": x.Path},
		Reason: s.unknownReason(x, e),
	}
}

// unknownReason explains to the operator why no operation matched.
func (s *Stage) unknownReason(x *pipeline.Exchange, e *pathEntry) string {
	if e != nil {
		return s.doc.spec + " path " + e.template + " has no " + x.Request.Method + " operation (it has " + e.methods + ")"
	}
	return "no path of " + s.doc.spec + " matches " + x.Path
}

// depthLimit is the depth the scanner enforces.
func (s *Stage) depthLimit() int {
	if s.limits.depth <= 0 || s.limits.depth > hardMaxDepth {
		return hardMaxDepth
	}
	return s.limits.depth
}

// limitRule names the JSON limit config key for refusals that concern
// both limits.
func (s *Stage) limitRule() string {
	if s.limits.depth > 0 || s.limits.field == 0 {
		return ruleMaxDepth
	}
	return ruleMaxField
}
