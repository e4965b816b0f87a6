package validate

import (
	"errors"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// paramOptions make kin-openapi read parameters without touching the
// request: no defaults are written into the query or headers, which would
// change what the upstream receives.
var paramOptions = &openapi3filter.Options{
	SkipSettingDefaults:     true,
	SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidators(formats)},
}

// maxReasonProblems is how many problems the operator's reason lists; the
// client is told about the first.
const maxReasonProblems = 5

// paramProblem is one invalid parameter, in client-safe words.
type paramProblem struct {
	in, name, rule string
}

// checkParameters validates the operation's path, query, header and
// cookie parameters. Security requirements are not checked here: that is
// the authn stage's job, and the document's security schemes are ignored.
func (s *Stage) checkParameters(x *pipeline.Exchange, op *operation, c *captures) *pipeline.Denial {
	if len(op.params) == 0 {
		return nil
	}
	in := &openapi3filter.RequestValidationInput{Request: x.Request, Route: op.route, Options: paramOptions}
	if op.pathParams {
		in.PathParams = c.pathParams()
	}
	ctx := x.Request.Context()
	var problems []paramProblem
	for _, p := range op.params {
		if err := openapi3filter.ValidateParameter(ctx, in, p); err != nil {
			problems = append(problems, paramProblem{in: p.In, name: p.Name, rule: parameterRule(err, p)})
		}
	}
	if len(problems) == 0 {
		return nil
	}
	first := problems[0]
	var b strings.Builder
	b.WriteString(op.label)
	b.WriteString(": ")
	for i, p := range problems[:min(len(problems), maxReasonProblems)] {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.in + " parameter " + p.name + " " + p.rule)
	}
	if n := len(problems) - maxReasonProblems; n > 0 {
		b.WriteString("; and " + strconv.Itoa(n) + " more")
	}
	return &pipeline.Denial{
		Code:   "request.invalid_parameter",
		Stage:  stageName,
		Rule:   ruleParameters,
		Params: map[string]string{"in": first.in, "name": first.name, "rule": first.rule},
		Reason: b.String(),
	}
}

// parameterRule words why kin-openapi refused a parameter, without its
// value (kin-openapi's messages carry it).
func parameterRule(err error, p *openapi3.Parameter) string {
	switch {
	case errors.Is(err, openapi3filter.ErrInvalidRequired):
		return "is required"
	case errors.Is(err, openapi3filter.ErrInvalidEmptyValue):
		return "must not be empty"
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		if problems, _ := schemaProblems(se); len(problems) > 0 {
			pr := problems[0]
			if len(pr.path) > 0 {
				return "is invalid at " + pr.pointer() + ": " + pr.rule
			}
			return pr.rule
		}
	}
	var pe *openapi3filter.ParseError
	if errors.As(err, &pe) && p.Schema != nil && p.Schema.Value != nil {
		s := p.Schema.Value
		if s.Type.Is(openapi3.TypeArray) && s.Items != nil && s.Items.Value != nil && !s.Items.Value.Type.IsEmpty() {
			return "must be a list of " + plural(s.Items.Value)
		}
		if !s.Type.IsEmpty() {
			return typeRule(s)
		}
	}
	return "could not be parsed as the API documentation describes it"
}

// plural names the items of an array parameter: "integers", "strings".
func plural(s *openapi3.Schema) string {
	words := make([]string, 0, 2)
	for _, t := range s.Type.Slice() {
		words = append(words, t+"s")
	}
	return orList(words)
}
