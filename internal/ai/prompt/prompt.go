package prompt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/tidwall/gjson"

	"github.com/pinpointgw/pinpoint/internal/config"

	"github.com/pinpointgw/pinpoint/internal/jsontext"
)

// Prompt is a compiled ai.prompts entry. It is immutable and safe for
// concurrent use.
type Prompt struct {
	name  string
	model string

	vars  []variable     // the schema's top-level properties, sorted by name
	index map[string]int // name → index into vars

	variables *jsonschema.Schema
	output    *jsonschema.Schema // nil: the answer is text

	// The request is head, the system template, between, the user
	// template and tail; all but the templates' variables is prebuilt.
	system  []segment // nil: no system message
	user    []segment
	head    []byte
	between []byte
	tail    []byte
	fixed   int // bytes of head, between, tail and the templates' text

	variablesJSON []byte // compact, for Describe
	outputJSON    []byte
}

// variable is a property of the variables schema.
type variable struct {
	name string
	// def is what an absent variable inserts, escaped for a JSON string:
	// the schema's "default" (a string as it is, another value as
	// JSON), or nothing.
	def []byte
}

// FieldError is a configuration problem of one field of an ai.prompts
// entry; Field is the field's YAML key ("variables", "template",
// "system", "output", "parameters", "name" or "model"), so that the
// caller can prefix it with the entry's path.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// InputError refuses a request body. Reason is safe to show the client,
// e.g. "/text: missing property; /max_words: expected integer, got
// string".
type InputError struct {
	Reason string
}

func (e *InputError) Error() string { return "invalid prompt variables: " + e.Reason }

// OutputError refuses a model's answer that the output schema asked for
// but did not get: not JSON, not matching the schema, or cut off. Reason
// is safe to show the client.
type OutputError struct {
	Reason string
}

func (e *OutputError) Error() string { return "invalid prompt answer: " + e.Reason }

// reserved are the chat completion parameters the gateway sets itself.
var reserved = []string{"model", "messages", "stream", "stream_options"}

// Compile checks an ai.prompts entry and prepares everything a request
// needs. A problem is reported as a *FieldError.
func Compile(c config.AIPrompt) (*Prompt, error) {
	if c.Name == "" {
		return nil, &FieldError{Field: "name", Msg: "is required"}
	}
	if i := strings.IndexFunc(c.Name, func(r rune) bool { return r > 0x7F || !isNameByte(byte(r)) }); i >= 0 {
		return nil, &FieldError{Field: "name", Msg: fmt.Sprintf("%q may only have letters, digits, \"-\" and \"_\"", c.Name)}
	}
	if c.Model == "" {
		return nil, &FieldError{Field: "model", Msg: "is required"}
	}
	p := &Prompt{name: c.Name, model: c.Model}

	if !c.Variables.IsSet() {
		return nil, &FieldError{Field: "variables", Msg: `is required: a JSON Schema of "type": "object"`}
	}
	sch, doc, err := compileSchema("variables", string(c.Variables))
	if err != nil {
		return nil, err
	}
	p.variables = sch
	p.variablesJSON = jsontext.AppendCompact(nil, string(c.Variables), false)
	if err := p.readVariables(doc); err != nil {
		return nil, err
	}

	if c.Template == "" {
		return nil, &FieldError{Field: "template", Msg: "is required"}
	}
	if p.user, err = compileTemplate("template", c.Template, p.index); err != nil {
		return nil, err
	}
	if c.System != "" {
		if p.system, err = compileTemplate("system", c.System, p.index); err != nil {
			return nil, err
		}
	}

	if c.Output.IsSet() {
		if p.output, _, err = compileSchema("output", string(c.Output)); err != nil {
			return nil, err
		}
		p.outputJSON = jsontext.AppendCompact(nil, string(c.Output), false)
	}

	params, err := p.parameters(c.Parameters)
	if err != nil {
		return nil, err
	}
	p.prebuild(params)
	return p, nil
}

// readVariables lists the schema's top-level properties and what each
// inserts when absent.
func (p *Prompt) readVariables(doc map[string]any) error {
	props, _ := doc["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for name := range props {
		names = append(names, name)
	}
	slices.Sort(names)
	p.vars = make([]variable, len(names))
	p.index = make(map[string]int, len(names))
	for i, name := range names {
		p.vars[i].name = name
		p.index[name] = i
		prop, _ := props[name].(map[string]any)
		def, ok := prop["default"]
		if !ok {
			continue
		}
		if s, isString := def.(string); isString {
			p.vars[i].def = jsontext.AppendEscaped([]byte{}, s)
			continue
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(def); err != nil {
			return &FieldError{Field: "variables", Msg: fmt.Sprintf("properties.%s.default: %v", name, err)}
		}
		p.vars[i].def = jsontext.AppendEscaped([]byte{}, strings.TrimSuffix(b.String(), "\n"))
	}
	return nil
}

// parameters checks the parameters object and returns its members,
// compact and without the braces ("" for none).
func (p *Prompt) parameters(j config.JSON) (string, error) {
	if !j.IsSet() {
		return "", nil
	}
	text := string(j)
	if !gjson.Valid(text) || !gjson.Parse(text).IsObject() {
		return "", &FieldError{Field: "parameters", Msg: "must be a JSON object of chat completion parameters"}
	}
	var bad error
	gjson.Parse(text).ForEach(func(key, _ gjson.Result) bool {
		switch {
		case slices.Contains(reserved, key.Str):
			bad = &FieldError{Field: "parameters", Msg: fmt.Sprintf("may not set %q: the gateway sets it", key.Str)}
		case key.Str == "response_format" && p.output != nil:
			bad = &FieldError{Field: "parameters", Msg: `may not set "response_format" with output: the output schema sets it`}
		}
		return bad == nil
	})
	if bad != nil {
		return "", bad
	}
	c := jsontext.AppendCompact(nil, text, false)
	return string(c[1 : len(c)-1]), nil
}

// prebuild writes the parts of the request that do not depend on the
// variables.
func (p *Prompt) prebuild(params string) {
	p.head = jsontext.AppendString([]byte(`{"model":`), p.model)
	p.head = append(p.head, `,"messages":[`...)
	if p.system != nil {
		p.head = append(p.head, `{"role":"system","content":"`...)
		p.between = []byte(`"},{"role":"user","content":"`)
	} else {
		p.head = append(p.head, `{"role":"user","content":"`...)
	}
	p.tail = []byte(`"}]`)
	if params != "" {
		p.tail = append(p.tail, ',')
		p.tail = append(p.tail, params...)
	}
	if p.output != nil {
		p.tail = append(p.tail, `,"response_format":{"type":"json_schema","json_schema":{"name":`...)
		p.tail = jsontext.AppendString(p.tail, schemaName(p.name))
		p.tail = append(p.tail, `,"schema":`...)
		p.tail = append(p.tail, p.outputJSON...)
		p.tail = append(p.tail, `,"strict":true}}`...)
	}
	p.tail = append(p.tail, '}')

	p.fixed = len(p.head) + len(p.between) + len(p.tail)
	for _, s := range slices.Concat(p.system, p.user) {
		p.fixed += len(s.text)
	}
}

// schemaName is the json_schema name OpenAI accepts: up to 64 of
// a-z, A-Z, 0-9, "_" and "-". Prompt names already are such; anything
// else becomes "_".
func schemaName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !isNameByte(c) {
			b[i] = '_'
		}
	}
	if len(b) > 64 {
		b = b[:64]
	}
	return string(b)
}

// Name is the prompt's name, the last path segment of its endpoint.
func (p *Prompt) Name() string { return p.name }

// Model is the ai.models name the prompt is sent to.
func (p *Prompt) Model() string { return p.model }

// Structured reports whether the prompt has an output schema, so that
// its answer is the model's JSON rather than {"text": ...}.
func (p *Prompt) Structured() bool { return p.output != nil }

// Description is what a listing of prompts shows of one: its endpoint
// name, model and schemas.
type Description struct {
	Name      string          `json:"name"`
	Model     string          `json:"model"`
	Variables json.RawMessage `json:"variables"`
	Output    json.RawMessage `json:"output,omitempty"`
}

// Describe describes the prompt for a listing (GET on the route's
// prefix). The templates are left out: they are the operator's, not the
// caller's.
func (p *Prompt) Describe() Description {
	return Description{
		Name:      p.name,
		Model:     p.model,
		Variables: bytes.Clone(p.variablesJSON),
		Output:    bytes.Clone(p.outputJSON),
	}
}
