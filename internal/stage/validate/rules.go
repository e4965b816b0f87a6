package validate

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// schemaProblem is one way a value fails its schema, in words safe for the
// client: where (a JSON pointer below the validated value) and which rule.
// Both come from the document and the value's structure, never from the
// value: kin-openapi's own messages embed values, so they are not used.
type schemaProblem struct {
	path []string // pointer tokens, unescaped
	rule string
}

// pointer is the problem's JSON pointer, "/" for the value itself.
func (p schemaProblem) pointer() string {
	if len(p.path) == 0 {
		return "/"
	}
	b := make([]byte, 0, 32)
	for _, t := range p.path {
		b = append(b, '/')
		b = appendPointerToken(b, t)
	}
	return clip(string(b), maxPointerBytes)
}

// maxPointerBytes bounds the pointers shown to the client; keys are the
// client's own, but a deep or long-keyed body must not make the answer huge.
const maxPointerBytes = 256

// clip shortens s to at most n bytes (on a UTF-8 boundary), marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i] + "…"
}

// schemaProblems flattens the error of a schema validation into its
// problems, deduplicated and in a deterministic order: by pointer (array
// indexes numerically), then as kin-openapi reported them. kin-openapi's
// JSON Schema 2020-12 validator reports in map order, so the order is
// imposed here.
//
// failure is an error that is no SchemaError (the validator itself
// failed, e.g. a schema its 2020-12 validator cannot compile) when there
// is no problem to report.
func schemaProblems(err error) (problems []schemaProblem, failure error) {
	var leaves []*openapi3.SchemaError
	var other error
	flattenSchemaError(err, &leaves, &other)
	if len(leaves) == 0 {
		return nil, other
	}
	out := make([]schemaProblem, 0, len(leaves)+1)
	seen := map[string]bool{}
	for _, e := range leaves {
		p := schemaProblem{path: e.JSONPointer(), rule: schemaRule(e)}
		if e.SchemaField == "required" {
			p.path = requiredPath(e, p.path)
		}
		k := strings.Join(p.path, "\x00") + "\x01" + p.rule
		if !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b schemaProblem) int { return comparePaths(a.path, b.path) })
	return out, nil
}

// flattenSchemaError collects the innermost SchemaErrors of err. An error
// that only groups others (a MultiError, allOf, a 2020-12 validator's
// schema or $ref) is replaced by them; oneOf, anyOf and not stay whole,
// since which alternative the client meant is unknown.
func flattenSchemaError(err error, leaves *[]*openapi3.SchemaError, other *error) {
	switch e := err.(type) {
	case nil:
	case openapi3.MultiError:
		for _, inner := range e {
			flattenSchemaError(inner, leaves, other)
		}
	case *openapi3.SchemaError:
		switch e.SchemaField {
		case "oneOf", "anyOf", "not":
		default:
			var inner openapi3.MultiError
			if e.Origin != nil && errors.As(e.Origin, &inner) && len(inner) > 0 {
				n := len(*leaves)
				flattenSchemaError(inner, leaves, other)
				if len(*leaves) > n {
					return
				}
			}
		}
		*leaves = append(*leaves, e)
	default:
		var se *openapi3.SchemaError
		if errors.As(err, &se) {
			flattenSchemaError(se, leaves, other)
			return
		}
		*other = err
	}
}

// requiredPath points a "required" problem at the missing property.
// kin-openapi's own validator already does; its 2020-12 validator points
// at the object, so the first required property the object lacks is
// added.
func requiredPath(e *openapi3.SchemaError, path []string) []string {
	obj, ok := e.Value.(map[string]any)
	if !ok || e.Schema == nil {
		return path
	}
	if n := len(path); n > 0 && slices.Contains(e.Schema.Required, path[n-1]) {
		if _, present := obj[path[n-1]]; !present {
			return path
		}
	}
	for _, name := range e.Schema.Required {
		if _, present := obj[name]; !present {
			return append(slices.Clip(path), name)
		}
	}
	return path
}

// comparePaths orders pointers token by token; tokens that are both array
// indexes compare as numbers, so /items/2 comes before /items/10.
func comparePaths(a, b []string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] == b[i] {
			continue
		}
		x, errA := strconv.Atoi(a[i])
		y, errB := strconv.Atoi(b[i])
		if errA == nil && errB == nil {
			return cmp.Compare(x, y)
		}
		return strings.Compare(a[i], b[i])
	}
	return cmp.Compare(len(a), len(b))
}

// schemaRule words the rule a value breaks from the schema keyword that
// failed and the schema's own values.
func schemaRule(e *openapi3.SchemaError) string {
	s := e.Schema
	if s == nil {
		s = &openapi3.Schema{}
	}
	switch e.SchemaField {
	case "type":
		return typeRule(s)
	case "nullable":
		// A null where the schema does not allow one: say what it allows.
		if !s.Type.IsEmpty() {
			return typeRule(s)
		}
		return "must not be null"
	case "enum":
		return enumRule(s.Enum)
	case "const":
		return "must be the one value the schema allows"
	case "required":
		return "is required"
	case "properties", "additionalProperties", "unevaluatedProperties":
		return "has an unknown property"
	case "minimum":
		return boundRule(">=", s.Min)
	case "maximum":
		return boundRule("<=", s.Max)
	case "exclusiveMinimum":
		if s.ExclusiveMin.Value != nil {
			return boundRule(">", s.ExclusiveMin.Value)
		}
		return boundRule(">", s.Min)
	case "exclusiveMaximum":
		if s.ExclusiveMax.Value != nil {
			return boundRule("<", s.ExclusiveMax.Value)
		}
		return boundRule("<", s.Max)
	case "multipleOf":
		if s.MultipleOf != nil {
			return "must be a multiple of " + formatNumber(*s.MultipleOf)
		}
	case "minLength":
		return "must be at least " + count(s.MinLength, "character") + " long"
	case "maxLength":
		if s.MaxLength != nil {
			return "must be at most " + count(*s.MaxLength, "character") + " long"
		}
	case "pattern":
		if s.Pattern != "" {
			return "must match the pattern " + s.Pattern
		}
	case "format":
		if s.Format != "" {
			return "must be a valid " + s.Format
		}
	case "minItems":
		return "must have at least " + count(s.MinItems, "item")
	case "maxItems":
		if s.MaxItems != nil {
			return "must have at most " + count(*s.MaxItems, "item")
		}
	case "uniqueItems":
		return "must not contain duplicate items"
	case "minProperties":
		return "must have at least " + count(s.MinProps, "property")
	case "maxProperties":
		if s.MaxProps != nil {
			return "must have at most " + count(*s.MaxProps, "property")
		}
	case "oneOf":
		return "must match exactly one of the allowed schemas"
	case "anyOf":
		return "must match at least one of the allowed schemas"
	case "allOf":
		return "must match all of the combined schemas"
	case "not":
		return "must not match the excluded schema"
	case "readOnly":
		return "is read-only and must not be sent"
	case "discriminator":
		if s.Discriminator != nil {
			return "needs a valid " + strconv.Quote(s.Discriminator.PropertyName) + " property"
		}
	case "boolean", "false":
		return "is not allowed"
	case "":
		return "does not match the schema"
	}
	return "does not satisfy the schema's " + e.SchemaField + " keyword"
}

// typeRule words a type mismatch: "must be an integer", "must be a string
// or null".
func typeRule(s *openapi3.Schema) string {
	types := s.Type.Slice()
	if len(types) == 0 {
		return "has the wrong type"
	}
	words := make([]string, 0, len(types)+1)
	for _, t := range types {
		words = append(words, typeWord(t))
	}
	if s.Nullable && !slices.Contains(types, openapi3.TypeNull) {
		words = append(words, "null")
	}
	return "must be " + orList(words)
}

func typeWord(t string) string {
	switch t {
	case openapi3.TypeInteger, openapi3.TypeObject, openapi3.TypeArray:
		return "an " + t
	case openapi3.TypeNull:
		return "null"
	}
	return "a " + t
}

func orList(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// maxEnumShown bounds the allowed values a rule lists.
const maxEnumShown = 10

// enumRule lists the allowed values when they are few short scalars (they
// are the document's, not the client's), else says there is a list.
func enumRule(enum []any) string {
	if len(enum) == 0 || len(enum) > maxEnumShown {
		return "must be one of the allowed values"
	}
	words := make([]string, 0, len(enum))
	for _, v := range enum {
		var w string
		switch v := v.(type) {
		case string:
			w = strconv.Quote(v)
		case bool:
			w = strconv.FormatBool(v)
		case float64:
			w = formatNumber(v)
		case nil:
			w = "null"
		default:
			return "must be one of the allowed values"
		}
		if len(w) > 40 {
			return "must be one of the allowed values"
		}
		words = append(words, w)
	}
	if len(words) == 1 {
		return "must be " + words[0]
	}
	return "must be one of " + strings.Join(words, ", ")
}

func boundRule(op string, v *float64) string {
	if v == nil {
		return "is out of range"
	}
	return "must be " + op + " " + formatNumber(*v)
}

func formatNumber(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func count(n uint64, noun string) string {
	s := strconv.FormatUint(n, 10) + " " + noun
	if n == 1 {
		return s
	}
	if strings.HasSuffix(noun, "y") {
		return s[:len(s)-1] + "ies"
	}
	return s + "s"
}
