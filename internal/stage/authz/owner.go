package authz

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// attrKind is the caller attribute an owner rule compares with.
type attrKind uint8

const (
	attrConsumerID attrKind = iota
	attrTenant
	attrMetadata
	attrCredentialID
	attrClaim
)

// equalsForms are the documented forms of owner[].equals.
var equalsForms = []string{"consumer.id", "consumer.tenant", "consumer.metadata.NAME", "credential.id", "claims.NAME"}

// ownerRule is one compiled owner rule.
type ownerRule struct {
	rule   string  // "owner[0]"
	param  string  // path parameter, or
	ptr    pointer // body field
	field  string  // the param name or the pointer as written: {field}
	equals string  // as written, for the trace
	kind   attrKind
	name   string // metadata key or claim name
}

// compileOwner validates owner[i].
func compileOwner(i int, r config.OwnerRule, params []string) (ownerRule, error) {
	at := "owner[" + strconv.Itoa(i) + "]"
	o := ownerRule{rule: at, param: r.Param, equals: r.Equals}
	switch {
	case r.Param != "" && r.BodyField != "":
		return o, config.Fieldf(at, "set either param or body_field, not both")
	case r.Param == "" && r.BodyField == "":
		return o, config.Fieldf(at, "set param (a path parameter) or body_field (a JSON pointer)")
	case r.Param != "":
		if !contains(params, r.Param) {
			msg := "the route's paths capture no parameter " + strconv.Quote(r.Param)
			if len(params) > 0 {
				msg += " (they capture " + strings.Join(params, ", ") + ")"
			}
			return o, config.Fieldf(at+".param", "%s", msg)
		}
		o.field = r.Param
	default:
		p, err := parsePointer(r.BodyField)
		if err != nil {
			return o, config.Fieldf(at+".body_field", "%q is not a JSON pointer: %v", r.BodyField, err)
		}
		if len(p) == 0 {
			return o, config.Fieldf(at+".body_field", "the pointer must name a field, not the whole body")
		}
		o.ptr, o.field = p, r.BodyField
	}
	var ok bool
	if o.kind, o.name, ok = parseEquals(r.Equals); !ok {
		msg := "required: one of " + strings.Join(equalsForms, ", ")
		if r.Equals != "" {
			msg = "unknown attribute " + strconv.Quote(r.Equals) + " (want " + strings.Join(equalsForms, ", ") + ")"
			if c, ok := config.Closest(r.Equals, equalsForms); ok {
				msg += "; did you mean " + strconv.Quote(c) + "?"
			}
		}
		return o, config.Fieldf(at+".equals", "%s", msg)
	}
	return o, nil
}

// parseEquals reads an owner rule's equals. The NAME of
// consumer.metadata.NAME and claims.NAME is the rest of the string, dots
// included ("claims.https://example.com/uid").
func parseEquals(s string) (attrKind, string, bool) {
	switch s {
	case "consumer.id":
		return attrConsumerID, "", true
	case "consumer.tenant":
		return attrTenant, "", true
	case "credential.id":
		return attrCredentialID, "", true
	}
	if n, ok := strings.CutPrefix(s, "consumer.metadata."); ok && n != "" {
		return attrMetadata, n, true
	}
	if n, ok := strings.CutPrefix(s, "claims."); ok && n != "" {
		return attrClaim, n, true
	}
	return 0, "", false
}

// attribute returns the caller's value of the rule's attribute; "" is
// treated as absent so that two unset values never match.
func (o *ownerRule) attribute(id *pipeline.Identity) (string, bool) {
	var v string
	switch o.kind {
	case attrConsumerID:
		v = id.ConsumerID
	case attrTenant:
		v = id.TenantID
	case attrCredentialID:
		v = id.CredentialID
	case attrMetadata:
		v = id.Metadata[o.name]
	case attrClaim:
		c, ok := id.Claims[o.name]
		if !ok {
			return "", false
		}
		v, ok = scalar(c)
		if !ok {
			return "", false
		}
	}
	return v, v != ""
}

// scalar is the string form of a JSON string or number; numbers compare
// by their literal text (integral float64 claims print without ".0").
func scalar(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case json.Number:
		return string(t), true
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1<<53 {
			return strconv.FormatInt(int64(t), 10), true
		}
		return strconv.FormatFloat(t, 'g', -1, 64), true
	case int64:
		return strconv.FormatInt(t, 10), true
	case int:
		return strconv.Itoa(t), true
	}
	return "", false
}

// kindOf names a JSON value's kind for a trace reason.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return "not a string or number"
}

// checkOwner runs the owner rules. It returns the refusal to answer with,
// or nil to go on (all held, or report_only).
func (s *Stage) checkOwner(x *pipeline.Exchange) *pipeline.Denial {
	var b *body // only rules with body_field need it
	for i := range s.owner {
		o := &s.owner[i]
		var got, problem string
		var ok bool
		if o.ptr == nil {
			if got, ok = x.Param(o.param); !ok || got == "" {
				problem = "path parameter " + strconv.Quote(o.param) + " was not captured"
			}
		} else {
			if b == nil {
				b = &body{}
				if d := s.loadBody(x, b, o); d != nil {
					if d = s.stop(x, d, s.reportOnly); d != nil {
						return d
					}
				}
			}
			if b.unread {
				continue // refused or reported above, once for all body rules
			}
			got, problem = b.field(o)
		}
		want, wok := o.attribute(&x.Identity)
		var reason string
		switch {
		case problem != "":
			reason = o.rule + ": " + problem
		case !wok:
			reason = o.rule + ": the caller has no " + o.equals + " to compare " + o.field + " with"
		case got != want:
			// Values are redacted: the trace keeps their lengths only.
			reason = o.rule + ": " + o.field + " (" + strconv.Itoa(len(got)) + " bytes) does not equal " +
				o.equals + " (" + strconv.Itoa(len(want)) + " bytes)"
		default:
			continue
		}
		d := &pipeline.Denial{
			Code:   "authz.not_owner",
			Rule:   o.rule,
			Params: map[string]string{"field": o.field},
			Reason: reason,
		}
		if d = s.stop(x, d, s.reportOnly); d != nil {
			return d
		}
	}
	return nil
}
