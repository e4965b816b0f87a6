package validate

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// finding is a refusal the body checks came to. A limit finding (the body
// or JSON size limits, an unreadable body) is enforced even in report_only
// mode: the stage would otherwise decode what the limits exist to keep
// out, and the upstream could not be given the body anyway.
type finding struct {
	denial *pipeline.Denial
	limit  bool
}

// checkBody runs the body checks of a request: the body limit, the media
// type and presence the operation asks for (op nil: none), the JSON limits
// and syntax, and the operation's schema. Findings are appended in that
// order; the caller enforces or reports them.
func (s *Stage) checkBody(x *pipeline.Exchange, op *operation, findings []finding) []finding {
	r := x.Request
	ct := r.Header.Get("Content-Type")
	isJSON := pipeline.IsJSON(ct)
	var rb *requestBody
	if op != nil && s.body {
		rb = op.body
	}
	scan := isJSON && (s.doc != nil || s.limits.enabled())
	if rb == nil && !scan {
		return findings
	}

	var buf []byte
	present := r.ContentLength > 0
	if scan {
		var complete bool
		var err error
		buf, complete, err = x.Body(s.maxBody)
		if f, ok := s.readFailure(complete, err); ok {
			return append(findings, f)
		}
		present = len(buf) > 0
	} else if r.ContentLength < 0 {
		// A chunked body of unknown length: one byte says whether there is
		// one, without buffering a body that is not checked.
		b, _, err := x.Body(0)
		if err != nil && !pipeline.IsBodyTooLarge(err) {
			return append(findings, s.unreadable(err))
		}
		present = len(b) > 0
	}
	if r.Body == nil || r.Body == http.NoBody {
		present = false
	}

	var checker *schemaChecker
	if rb != nil {
		switch mt := rb.content.Get(ct); {
		case !present:
			if rb.required {
				findings = append(findings, finding{denial: &pipeline.Denial{
					Code: "request.body_required", Stage: stageName, Rule: ruleBody,
					Reason: op.label + ": the request has no body; the document's requestBody is required",
				}})
			}
		case mt == nil && len(rb.content) > 0:
			findings = append(findings, finding{denial: s.contentTypeDenial(op, ct)})
		case mt != nil && isJSON:
			checker = rb.schemas[mt]
		}
	}
	if !scan || !present {
		return findings
	}

	if p := scanJSON(buf, s.limits); p.kind != problemNone {
		return append(findings, s.scanFinding(op, &p))
	}
	if checker == nil {
		return findings
	}
	problems, failure := schemaProblems(checker.schema.VisitJSON(decodeJSON(buf), checker.opts...))
	switch {
	case len(problems) > 0:
		findings = append(findings, finding{denial: bodyDenial(op, problems)})
	case failure != nil:
		// The gateway's own failure is not the client's: the body goes on
		// unvalidated, and the trace says why.
		x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomeError, Rule: ruleBody,
			Note: op.label + ": the body could not be validated: " + clip(failure.Error(), 300)})
	}
	return findings
}

// readFailure turns a body that could not be read whole into a finding.
func (s *Stage) readFailure(complete bool, err error) (finding, bool) {
	switch {
	case err == nil && complete:
		return finding{}, false
	case err == nil || pipeline.IsBodyTooLarge(err):
		limit := strconv.FormatInt(s.maxBody, 10)
		return finding{limit: true, denial: &pipeline.Denial{
			Code: "request.body_too_large", Stage: stageName, Rule: ruleMaxBody,
			Params: map[string]string{"limit": limit},
			Reason: "the body must be read whole to be validated, and it exceeds limits.max_body_bytes " + limit,
		}}, true
	}
	return s.unreadable(err), true
}

// unreadable is the finding for a body whose reading failed (the client
// went away, a broken chunked encoding).
func (s *Stage) unreadable(err error) finding {
	return finding{limit: true, denial: &pipeline.Denial{
		Code: "request.malformed", Stage: stageName, Rule: ruleBody,
		Params: map[string]string{"reason": "the request body could not be read"},
		Reason: "reading the request body failed: " + err.Error(),
	}}
}

// contentTypeDenial refuses a media type the operation does not accept,
// with an Accept header listing those it does (RFC 9110, section 15.5.16).
// The client's media type is echoed only as a parsed type/subtype; a
// header that is none is named as such.
func (s *Stage) contentTypeDenial(op *operation, ct string) *pipeline.Denial {
	shown := mediaTypeOf(ct)
	return &pipeline.Denial{
		Code: "request.invalid_content_type", Stage: stageName, Rule: ruleBody,
		Params: map[string]string{"content_type": shown, "accepted": op.body.accepted},
		Reason: op.label + ": Content-Type " + shown + " is not one of the document's " + op.body.accepted,
		Header: http.Header{"Accept": {op.body.accepted}},
	}
}

// scanFinding turns what the JSON scanner found into a finding.
func (s *Stage) scanFinding(op *operation, p *scanProblem) finding {
	at := " (offset " + strconv.Itoa(p.offset) + ")"
	switch p.kind {
	case problemDepth:
		limit := strconv.Itoa(s.depthLimit())
		return finding{limit: true, denial: &pipeline.Denial{
			Code: "request.json_too_deep", Stage: stageName, Rule: ruleMaxDepth,
			Params: map[string]string{"limit": limit},
			Reason: "the JSON body nests deeper than " + limit + " levels at " + shownPointer(p.pointer) + at,
		}}
	case problemField:
		limit := strconv.FormatInt(s.limits.field, 10)
		ptr := shownPointer(p.pointer)
		return finding{limit: true, denial: &pipeline.Denial{
			Code: "request.json_field_too_long", Stage: stageName, Rule: ruleMaxField,
			Params: map[string]string{"pointer": ptr, "limit": limit},
			Reason: "a JSON " + p.what + " at " + ptr + at + " is longer than limits.max_json_field_bytes " + limit,
		}}
	}
	reason := p.syntaxReason()
	d := &pipeline.Denial{
		Code: "request.invalid_json", Stage: stageName, Rule: ruleBody,
		Params: map[string]string{"reason": reason},
	}
	if op != nil {
		d.Reason = op.label + ": the JSON body does not parse: " + reason
		return finding{denial: d}
	}
	// Without a document to validate against, a body that does not parse
	// cannot be checked against the limits either, and a lenient parser
	// upstream might read past the point where the check stopped.
	d.Rule = s.limitRule()
	d.Reason = "the body is declared JSON but does not parse (" + reason + "), so the JSON limits cannot be checked"
	if s.doc != nil {
		d.Reason = "the body of a request the document does not describe is declared JSON but does not parse (" + reason + "), so the JSON limits cannot be checked"
	}
	return finding{denial: d, limit: true}
}

// bodyDenial refuses a body that breaks the operation's schema: the first
// problem for the client, a few for the operator.
func bodyDenial(op *operation, problems []schemaProblem) *pipeline.Denial {
	first := problems[0]
	var b strings.Builder
	b.WriteString(op.label)
	b.WriteString(": body ")
	for i, p := range problems[:min(len(problems), maxReasonProblems)] {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.pointer() + " " + p.rule)
	}
	if n := len(problems) - maxReasonProblems; n > 0 {
		b.WriteString("; and " + strconv.Itoa(n) + " more")
	}
	return &pipeline.Denial{
		Code: "request.invalid_body", Stage: stageName, Rule: ruleBody,
		Params: map[string]string{"pointer": first.pointer(), "rule": first.rule},
		Reason: b.String(),
	}
}

// shownPointer is a scanner pointer as the client sees it: "/" for the
// body itself, clipped when long.
func shownPointer(p string) string {
	if p == "" {
		return "/"
	}
	return clip(p, maxPointerBytes)
}

// maxMediaTypeShown bounds the media type echoed to the client.
const maxMediaTypeShown = 100

// mediaTypeOf is the type/subtype of a Content-Type, lower-cased and
// without parameters, as shown to the client: "(none)" when the request
// has none, "(malformed)" when it is not a media type.
func mediaTypeOf(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if mt == "" {
		return "(none)"
	}
	typ, sub, ok := strings.Cut(mt, "/")
	if !ok || !isToken(typ) || !isToken(sub) || len(mt) > maxMediaTypeShown {
		return "(malformed)"
	}
	return mt
}

// isToken reports whether s is an RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}
