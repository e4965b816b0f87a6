package prompt

import (
	"cmp"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// noLoader refuses every schema a "$ref" would fetch: prompt schemas are
// self-contained, so that a configuration never reads files or the
// network. The metaschemas of the drafts are built in and need no loader.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("%s is outside the schema; a $ref may only point inside it", url)
}

// compileSchema compiles the JSON Schema text of a prompt's field. It
// returns the compiled schema and the schema as a decoded document (for
// reading its properties). The schema must be an object schema: its
// "type" is "object".
func compileSchema(field, text string) (*jsonschema.Schema, map[string]any, error) {
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return nil, nil, &FieldError{Field: field, Msg: "is not valid JSON: " + err.Error()}
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, nil, &FieldError{Field: field, Msg: "must be a JSON Schema object"}
	}
	if t, _ := obj["type"].(string); t != "object" {
		return nil, nil, &FieldError{Field: field, Msg: `must be a schema of "type": "object"`}
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.UseLoader(noLoader{})
	// The URL only names the schema in the library's own messages.
	url := "urn:pinpoint:prompt:" + field
	if err := c.AddResource(url, doc); err != nil {
		return nil, nil, &FieldError{Field: field, Msg: err.Error()}
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, nil, &FieldError{Field: field, Msg: schemaCompileMessage(err, url)}
	}
	return sch, obj, nil
}

// schemaCompileMessage words why a schema does not compile: for a schema
// that breaks its metaschema, the broken rules and where (the
// alternatives of an anyOf or oneOf too: the operator wrote the schema and
// wants to know what would do), else the library's message without the
// made-up URL.
func schemaCompileMessage(err error, url string) string {
	var se *jsonschema.SchemaValidationError
	if errors.As(err, &se) {
		var ve *jsonschema.ValidationError
		if errors.As(se.Err, &ve) {
			if vs := violations(ve, true); len(vs) > 0 {
				return "is not a valid JSON Schema: " + list(vs)
			}
		}
	}
	msg := strings.ReplaceAll(err.Error(), url+"#", "#")
	return "is not a valid JSON Schema: " + strings.ReplaceAll(msg, url, "the schema")
}

// violation is one way a value breaks its schema, in words safe for the
// client: where (the pointer tokens below the validated value) and which
// rule. Both come from the schema and the value's structure; the value
// itself is never shown.
type violation struct {
	path []string
	rule string
}

// String is the violation as "<pointer>: <rule>", "/" being the value
// itself.
func (v violation) String() string {
	var b strings.Builder
	if len(v.path) == 0 {
		b.WriteByte('/')
	}
	for _, t := range v.path {
		b.WriteByte('/')
		t = strings.ReplaceAll(t, "~", "~0")
		b.WriteString(strings.ReplaceAll(t, "/", "~1"))
	}
	return clip(b.String(), maxPointerBytes) + ": " + v.rule
}

// maxPointerBytes bounds a pointer in a reason: the keys are the client's
// own, but a deep or long-keyed body must not make the answer huge.
const maxPointerBytes = 128

// maxViolations is how many violations a reason lists.
const maxViolations = 3

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

// reason words a validation error as up to maxViolations violations,
// "; "-separated, with how many more there are.
func reason(err error) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return "does not match the schema"
	}
	vs := violations(ve, false)
	if len(vs) == 0 {
		return "does not match the schema"
	}
	return list(vs)
}

// list joins up to maxViolations violations with "; ", saying how many
// more there are.
func list(vs []violation) string {
	var b strings.Builder
	for i, v := range vs[:min(len(vs), maxViolations)] {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(v.String())
	}
	if n := len(vs) - maxViolations; n > 0 {
		fmt.Fprintf(&b, " (and %d more)", n)
	}
	return b.String()
}

// violations flattens a validation error into its violations,
// deduplicated and ordered by pointer (array indexes numerically), then
// rule: the library reports in map order. deep descends into the
// alternatives of anyOf and oneOf.
func violations(e *jsonschema.ValidationError, deep bool) []violation {
	var out []violation
	collect(e, deep, &out)
	slices.SortFunc(out, func(a, b violation) int {
		return cmp.Or(comparePaths(a.path, b.path), strings.Compare(a.rule, b.rule))
	})
	return slices.CompactFunc(out, func(a, b violation) bool {
		return a.rule == b.rule && slices.Equal(a.path, b.path)
	})
}

// collect appends the violations of e. Errors that only group others are
// replaced by their causes; unless deep, anyOf and oneOf stay whole, since
// which alternative the client meant is unknown.
func collect(e *jsonschema.ValidationError, deep bool, out *[]violation) {
	at := func(name string) []string { return append(slices.Clip(e.InstanceLocation), name) }
	switch k := e.ErrorKind.(type) {
	case *kind.Schema, *kind.Group, *kind.Reference, *kind.AllOf, *kind.ContentSchema:
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				collect(c, deep, out)
			}
			return
		}
	case *kind.AnyOf, *kind.OneOf:
		if deep && len(e.Causes) > 0 {
			for _, c := range e.Causes {
				collect(c, deep, out)
			}
			return
		}
	case *kind.Required:
		for _, name := range k.Missing {
			*out = append(*out, violation{at(name), "missing property"})
		}
		return
	case *kind.Dependency:
		if len(k.Missing) > 0 {
			for _, name := range k.Missing {
				*out = append(*out, violation{at(name), "missing property (required with " + strconv.Quote(k.Prop) + ")"})
			}
			return
		}
	case *kind.DependentRequired:
		for _, name := range k.Missing {
			*out = append(*out, violation{at(name), "missing property (required with " + strconv.Quote(k.Prop) + ")"})
		}
		return
	case *kind.AdditionalProperties:
		for _, name := range k.Properties {
			*out = append(*out, violation{at(name), "unknown property"})
		}
		return
	case *kind.PropertyNames:
		*out = append(*out, violation{at(k.Property), "property name not allowed"})
		return
	}
	*out = append(*out, violation{e.InstanceLocation, rule(e.ErrorKind)})
}

// rule words the rule a value breaks, from the schema's side of the error
// kind only.
func rule(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Type:
		return "expected " + strings.Join(k.Want, " or ") + ", got " + k.Got
	case *kind.Enum:
		return "must be " + oneOf(k.Want)
	case *kind.Const:
		return "must be " + oneOf([]any{k.Want})
	case *kind.Format:
		return "is not a valid " + k.Want
	case *kind.Pattern:
		return "does not match the pattern " + strconv.Quote(clip(k.Want, 64))
	case *kind.MinLength:
		return "must be at least " + plural(k.Want, "character")
	case *kind.MaxLength:
		return "must be at most " + plural(k.Want, "character")
	case *kind.MinItems:
		return "must have at least " + plural(k.Want, "item")
	case *kind.MaxItems:
		return "must have at most " + plural(k.Want, "item")
	case *kind.MinProperties:
		return "must have at least " + plural(k.Want, "property")
	case *kind.MaxProperties:
		return "must have at most " + plural(k.Want, "property")
	case *kind.Minimum:
		return "must be >= " + ratString(k.Want)
	case *kind.Maximum:
		return "must be <= " + ratString(k.Want)
	case *kind.ExclusiveMinimum:
		return "must be > " + ratString(k.Want)
	case *kind.ExclusiveMaximum:
		return "must be < " + ratString(k.Want)
	case *kind.MultipleOf:
		return "must be a multiple of " + ratString(k.Want)
	case *kind.UniqueItems:
		return fmt.Sprintf("items %d and %d are equal", k.Duplicates[0], k.Duplicates[1])
	case *kind.Contains:
		return "has no item the schema's contains allows"
	case *kind.MinContains:
		return "must have at least " + plural(k.Want, "item") + " the schema's contains allows"
	case *kind.MaxContains:
		return "must have at most " + plural(k.Want, "item") + " the schema's contains allows"
	case *kind.AdditionalItems:
		return "has " + plural(k.Count, "item") + " too many"
	case *kind.AnyOf:
		return "matches none of the schemas of anyOf"
	case *kind.OneOf:
		if len(k.Subschemas) == 0 {
			return "matches none of the schemas of oneOf"
		}
		return "matches more than one schema of oneOf"
	case *kind.Not:
		return "matches the schema of not"
	case *kind.FalseSchema:
		return "is not allowed"
	case *kind.ContentEncoding:
		return "is not " + k.Want + " encoded"
	case *kind.ContentMediaType:
		return "is not of media type " + k.Want
	}
	if kw := k.KeywordPath(); len(kw) > 0 {
		return "fails " + strings.Join(kw, "/")
	}
	return "does not match the schema"
}

// oneOf words the values an enum or const allows: their JSON when short
// and primitive, else "one of the allowed values".
func oneOf(values []any) string {
	var b strings.Builder
	for i, v := range values {
		var s string
		switch v := v.(type) {
		case string:
			s = strconv.Quote(v)
		case nil:
			s = "null"
		case bool:
			s = strconv.FormatBool(v)
		case fmt.Stringer: // json.Number
			s = v.String()
		default:
			return "one of the allowed values"
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s)
		if b.Len() > 96 {
			return "one of the allowed values"
		}
	}
	if len(values) == 1 {
		return b.String()
	}
	return "one of " + b.String()
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") {
		return strconv.Itoa(n) + " " + noun[:len(noun)-1] + "ies"
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// ratString writes a schema bound as the schema would: an integer as
// such, anything else as its shortest float.
func ratString(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
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
