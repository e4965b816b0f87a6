package prompt

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// summarize is a prompt with every field set.
var summarize = config.AIPrompt{
	Name:     "summarize",
	Model:    "gpt-fast",
	System:   "You summarize {{lang}} text.",
	Template: "Summarize in at most {{ max_words }} words:\n\n{{text}}",
	Variables: `{"type":"object","required":["text","max_words"],"additionalProperties":false,` +
		`"properties":{"text":{"type":"string","minLength":1},"max_words":{"type":"integer","minimum":1,"maximum":500},` +
		`"lang":{"type":"string","enum":["English","German"],"default":"English"}}}`,
	Parameters: `{"max_tokens":200,"temperature":0.2}`,
	Output: `{"type":"object","required":["summary"],"additionalProperties":false,` +
		`"properties":{"summary":{"type":"string"},"words":{"type":"integer"}}}`,
}

func mustCompile(t testing.TB, c config.AIPrompt) *Prompt {
	t.Helper()
	p, err := Compile(c)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

// with returns summarize changed by fn.
func with(fn func(*config.AIPrompt)) config.AIPrompt {
	c := summarize
	fn(&c)
	return c
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		c     config.AIPrompt
		field string
		msg   string // a part of the message
	}{
		{"no name", with(func(c *config.AIPrompt) { c.Name = "" }), "name", "is required"},
		{"bad name", with(func(c *config.AIPrompt) { c.Name = "sum/marize" }), "name", "letters, digits"},
		{"no model", with(func(c *config.AIPrompt) { c.Model = "" }), "model", "is required"},
		{"no variables", with(func(c *config.AIPrompt) { c.Variables = "" }), "variables", "is required"},
		{"variables not JSON", with(func(c *config.AIPrompt) { c.Variables = `{"type":` }), "variables", "not valid JSON"},
		{"variables an array", with(func(c *config.AIPrompt) { c.Variables = `[]` }), "variables", "JSON Schema object"},
		{"variables not of type object", with(func(c *config.AIPrompt) { c.Variables = `{"type":"string"}` }), "variables", `"type": "object"`},
		{"variables without type", with(func(c *config.AIPrompt) { c.Variables = `{"properties":{}}` }), "variables", `"type": "object"`},
		{"variables breaks the metaschema", with(func(c *config.AIPrompt) {
			c.Variables = `{"type":"object","properties":{"text":{"type":"strin"}}}`
		}), "variables", `is not a valid JSON Schema: /properties/text/type: expected array, got string; /properties/text/type: must be one of "array", "boolean"`},
		{"variables with a bad regexp", with(func(c *config.AIPrompt) {
			c.Variables = `{"type":"object","properties":{"text":{"type":"string","pattern":"("}}}`
		}), "variables", "is not a valid JSON Schema"},
		{"variables with an outside $ref", with(func(c *config.AIPrompt) {
			c.Variables = `{"type":"object","properties":{"text":{"$ref":"file:///etc/passwd"}}}`
		}), "variables", "may only point inside it"},
		{"no template", with(func(c *config.AIPrompt) { c.Template = "" }), "template", "is required"},
		{"template with unknown variable", with(func(c *config.AIPrompt) { c.Template = "Hi\n  {{name}}" }), "template",
			`{{name}} at line 2, column 3 is not a variable: variables.properties has no "name"`},
		{"template with an unclosed placeholder", with(func(c *config.AIPrompt) { c.Template = "x {{text" }), "template",
			`"{{text" at line 1, column 3 is not a placeholder`},
		{"template with a space in a name", with(func(c *config.AIPrompt) { c.Template = "{{ te xt }}" }), "template", "is not a placeholder"},
		{"template with an empty placeholder", with(func(c *config.AIPrompt) { c.Template = "{{}}" }), "template", "is not a placeholder"},
		{"template with three braces", with(func(c *config.AIPrompt) { c.Template = "{{{text}}}" }), "template", "is not a placeholder"},
		{"template with a path", with(func(c *config.AIPrompt) { c.Template = "{{text.a}}" }), "template", "is not a placeholder"},
		{"system with unknown variable", with(func(c *config.AIPrompt) { c.System = "{{tone}}" }), "system", `no "tone"`},
		{"system with a bad placeholder", with(func(c *config.AIPrompt) { c.System = "{{ }}" }), "system", "is not a placeholder"},
		{"output not JSON", with(func(c *config.AIPrompt) { c.Output = `{` }), "output", "not valid JSON"},
		{"output not an object schema", with(func(c *config.AIPrompt) { c.Output = `{"type":"array"}` }), "output", `"type": "object"`},
		{"output breaks the metaschema", with(func(c *config.AIPrompt) {
			c.Output = `{"type":"object","required":"summary"}`
		}), "output", "is not a valid JSON Schema: /required: expected array, got string"},
		{"parameters not an object", with(func(c *config.AIPrompt) { c.Parameters = `[1]` }), "parameters", "must be a JSON object"},
		{"parameters not JSON", with(func(c *config.AIPrompt) { c.Parameters = `{"a":` }), "parameters", "must be a JSON object"},
		{"parameters set model", with(func(c *config.AIPrompt) { c.Parameters = `{"model":"gpt-4o"}` }), "parameters", `may not set "model"`},
		{"parameters set messages", with(func(c *config.AIPrompt) { c.Parameters = `{"messages":[]}` }), "parameters", `may not set "messages"`},
		{"parameters set stream", with(func(c *config.AIPrompt) { c.Parameters = `{"temperature":1,"stream":true}` }), "parameters", `may not set "stream"`},
		{"parameters set stream_options", with(func(c *config.AIPrompt) { c.Parameters = `{"stream_options":{}}` }), "parameters", `may not set "stream_options"`},
		{"parameters set response_format with output", with(func(c *config.AIPrompt) {
			c.Parameters = `{"response_format":{"type":"json_object"}}`
		}), "parameters", `may not set "response_format" with output`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := Compile(tt.c)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Compile = %v, %v; want a *FieldError", p, err)
			}
			if fe.Field != tt.field || !strings.Contains(fe.Msg, tt.msg) {
				t.Errorf("error = %q: %q; want %q containing %q", fe.Field, fe.Msg, tt.field, tt.msg)
			}
		})
	}
}

func TestCompileAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    config.AIPrompt
	}{
		{"every field", summarize},
		{"template only", config.AIPrompt{Name: "a", Model: "m", Template: "hello", Variables: `{"type":"object"}`}},
		{"response_format without output", with(func(c *config.AIPrompt) {
			c.Output = ""
			c.Parameters = `{"response_format":{"type":"json_object"}}`
		})},
		{"empty parameters", with(func(c *config.AIPrompt) { c.Parameters = `{}` })},
		{"inner $ref", with(func(c *config.AIPrompt) {
			c.Variables = `{"type":"object","$defs":{"s":{"type":"string"}},"properties":{"text":{"$ref":"#/$defs/s"},"max_words":{},"lang":{}}}`
		})},
		{"draft-07 schema", with(func(c *config.AIPrompt) {
			c.Variables = `{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{"text":{},"max_words":{},"lang":{}}}`
		})},
		{"escaped braces", with(func(c *config.AIPrompt) { c.Template = "{{{{text}} is literal, {{text}} is not" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Compile(tt.c); err != nil {
				t.Fatalf("Compile: %v", err)
			}
		})
	}
}

func TestParseTemplate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		want []piece
	}{
		{"", nil},
		{"plain", []piece{{text: "plain"}}},
		{"{{a}}", []piece{{name: "a", line: 1, col: 1}}},
		{"x{{  a-b_1 }}y", []piece{{text: "x"}, {name: "a-b_1", line: 1, col: 2}, {text: "y"}}},
		{"{{{{a}}", []piece{{text: "{{a}}"}}},
		{"{{{{{{a}}", []piece{{text: "{{"}, {name: "a", line: 1, col: 5}}},
		{`{"a": {"b": 1}} }} {`, []piece{{text: `{"a": {"b": 1}} }} {`}}},
		{"é\n ü{{v}}{{w}}", []piece{{text: "é\n ü"}, {name: "v", line: 2, col: 3}, {name: "w", line: 2, col: 8}}},
	}
	for _, tt := range tests {
		got, err := parseTemplate(tt.src)
		if err != nil {
			t.Errorf("parseTemplate(%q): %v", tt.src, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseTemplate(%q) = %+v; want %+v", tt.src, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, summarize)
	tests := []struct {
		name, body, reason string
	}{
		{"valid", `{"text":"a long text","max_words":20}`, ""},
		{"valid with every variable", `{"text":"t","max_words":1,"lang":"German"}`, ""},
		{"not JSON", `{"text":`, "the body is not valid JSON"},
		{"trailing data", `{"text":"t","max_words":1} {}`, "the body is not valid JSON"},
		{"an array", `["text"]`, "the body must be a JSON object"},
		{"a string", `"text"`, "the body must be a JSON object"},
		{"missing and wrong type", `{"max_words":"20"}`, "/max_words: expected integer, got string; /text: missing property"},
		{"missing both", `{}`, "/max_words: missing property; /text: missing property"},
		{"number not integer", `{"text":"t","max_words":2.5}`, "/max_words: expected integer, got number"},
		{"bounds", `{"text":"","max_words":0}`, "/max_words: must be >= 1; /text: must be at least 1 character"},
		{"maximum", `{"text":"t","max_words":501}`, "/max_words: must be <= 500"},
		{"enum", `{"text":"t","max_words":1,"lang":"French"}`, `/lang: must be one of "English", "German"`},
		{"unknown property", `{"text":"t","max_words":1,"extra":true}`, "/extra: unknown property"},
		{"more than three", `{"a":1,"b":2,"c":3,"text":5}`,
			"/a: unknown property; /b: unknown property; /c: unknown property (and 2 more)"},
		{"value not echoed", `{"text":5,"max_words":"secret-value"}`, "/max_words: expected integer, got string; /text: expected string, got number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := p.Validate([]byte(tt.body))
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("Validate = %v; want an *InputError", err)
			}
			if ie.Reason != tt.reason {
				t.Errorf("reason = %q\nwant     %q", ie.Reason, tt.reason)
			}
		})
	}
}

func TestValidateNested(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, config.AIPrompt{
		Name: "n", Model: "m", Template: "{{items}}",
		Variables: `{"type":"object","properties":{"items":{"type":"array","maxItems":20,"items":{"type":"object",` +
			`"required":["a/b"],"properties":{"a/b":{"type":"string","format":"email"},"n":{"anyOf":[{"type":"string"},{"type":"integer"}]}}}}}}`,
	})
	tests := []struct{ body, reason string }{
		{`{"items":[{"a/b":"x@example.com"}]}`, ""},
		{`{"items":[{"a/b":"not an email"}]}`, "/items/0/a~1b: is not a valid email"},
		{`{"items":[{"a/b":"x@example.com","n":true}]}`, "/items/0/n: matches none of the schemas of anyOf"},
		{`{"items":[{},{},{},{},{},{},{},{},{},{},{"a/b":1}]}`,
			"/items/0/a~1b: missing property; /items/1/a~1b: missing property; /items/2/a~1b: missing property (and 8 more)"},
		{`{"items":[{"a/b":"x@example.com"},{"a/b":"x@example.com"},{"a/b":"x@example.com"},{"a/b":"x@example.com"},{"a/b":"x@example.com"},` +
			`{"a/b":"x@example.com"},{"a/b":"x@example.com"},{"a/b":"x@example.com"},{"a/b":"x@example.com"},{"a/b":"x@example.com"},{"a/b":true}]}`,
			"/items/10/a~1b: expected string, got boolean"},
	}
	for _, tt := range tests {
		err := p.Validate([]byte(tt.body))
		got := ""
		if ie := (*InputError)(nil); errors.As(err, &ie) {
			got = ie.Reason
		} else if err != nil {
			t.Fatalf("Validate(%s) = %v; want an *InputError", tt.body, err)
		}
		if got != tt.reason {
			t.Errorf("Validate(%s) reason = %q\nwant %q", tt.body, got, tt.reason)
		}
	}
}

// chatRequest is the part of a chat completion request the tests read.
type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	Rest map[string]json.RawMessage `json:"-"`
}

func decodeRequest(t *testing.T, b []byte) (chatRequest, map[string]any) {
	t.Helper()
	var r chatRequest
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("the request is not JSON: %v\n%s", err, b)
	}
	var all map[string]any
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	return r, all
}

func TestBuild(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, summarize)
	body := []byte(`{"text":"Line one \"quoted\"\n\tline two <b>&</b> é 😀","max_words":20}`)
	if err := p.Validate(body); err != nil {
		t.Fatal(err)
	}
	out, err := p.Build(body)
	if err != nil {
		t.Fatal(err)
	}
	r, all := decodeRequest(t, out)
	if r.Model != "gpt-fast" {
		t.Errorf("model = %q", r.Model)
	}
	if len(r.Messages) != 2 || r.Messages[0].Role != "system" || r.Messages[1].Role != "user" {
		t.Fatalf("messages = %+v", r.Messages)
	}
	if got, want := r.Messages[0].Content, "You summarize English text."; got != want {
		t.Errorf("system = %q; want %q (the default of lang)", got, want)
	}
	if got, want := r.Messages[1].Content, "Summarize in at most 20 words:\n\nLine one \"quoted\"\n\tline two <b>&</b> é 😀"; got != want {
		t.Errorf("user = %q; want %q", got, want)
	}
	if all["max_tokens"] != 200.0 || all["temperature"] != 0.2 {
		t.Errorf("parameters not merged: %s", out)
	}
	want := map[string]any{
		"type": "json_schema",
		"json_schema": map[string]any{
			"name":   "summarize",
			"strict": true,
			"schema": map[string]any{
				"type": "object", "required": []any{"summary"}, "additionalProperties": false,
				"properties": map[string]any{"summary": map[string]any{"type": "string"}, "words": map[string]any{"type": "integer"}},
			},
		},
	}
	if !reflect.DeepEqual(all["response_format"], want) {
		t.Errorf("response_format = %v\nwant %v", all["response_format"], want)
	}
	if len(all) != 5 {
		t.Errorf("request has %d members; want model, messages, max_tokens, temperature, response_format: %s", len(all), out)
	}
	if strings.Contains(string(out), `\u003c`) {
		t.Errorf("HTML-escaped: %s", out)
	}
}

func TestBuildWithoutSystemAndOutput(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, config.AIPrompt{
		Name: "echo", Model: "m", Template: "{{{{x}} {{x}}", Variables: `{"type":"object","properties":{"x":{}}}`,
	})
	out, err := p.Build([]byte(`{"x":"y"}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"model":"m","messages":[{"role":"user","content":"{{x}} y"}]}`; string(out) != want {
		t.Errorf("Build = %s\nwant    %s", out, want)
	}
}

func TestBuildValues(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, config.AIPrompt{
		Name: "v", Model: "m", Template: "[{{v}}]",
		Variables: `{"type":"object","properties":{"v":{}}}`,
	})
	q := mustCompile(t, config.AIPrompt{
		Name: "d", Model: "m", Template: "[{{v}}]",
		Variables: `{"type":"object","properties":{"v":{"default":{"k":["<a>", 1.50]}}}}`,
	})
	tests := []struct {
		p          *Prompt
		body, want string
	}{
		{p, `{"v":"text"}`, "[text]"},
		{p, `{"v":"esc\u00e9\"\\"}`, `[escé"\]`},
		{p, `{"v":42}`, "[42]"},
		{p, `{"v":-1.5e3}`, "[-1.5e3]"},
		{p, `{"v":true}`, "[true]"},
		{p, `{"v":null}`, "[null]"},
		{p, `{"v": [1, "a b", {"k" : "x\"y"}] }`, `[[1,"a b",{"k":"x\"y"}]]`},
		{p, `{"v":{"a":{}},"other":1}`, `[{"a":{}}]`},
		{p, `{"v":"first","v":"last"}`, "[last]"},
		{p, `{"v":"{{v}}"}`, "[{{v}}]"},
		{p, `{}`, "[]"},
		{q, `{}`, `[{"k":["<a>",1.50]}]`},
		{q, `{"v":""}`, "[]"},
		{p, `{"v":"\u2028\u0001"}`, "[\u2028\x01]"},
	}
	for _, tt := range tests {
		out, err := tt.p.Build([]byte(tt.body))
		if err != nil {
			t.Errorf("Build(%s): %v", tt.body, err)
			continue
		}
		r, _ := decodeRequest(t, out)
		if got := r.Messages[0].Content; got != tt.want {
			t.Errorf("Build(%s) content = %q; want %q", tt.body, got, tt.want)
		}
	}
}

func TestBuildRefusesNonObjects(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, summarize)
	for body, want := range map[string]string{
		``:           "the body is not valid JSON",
		`{"text":`:   "the body is not valid JSON",
		`[]`:         "the body must be a JSON object",
		`"{{text}}"`: "the body must be a JSON object",
	} {
		_, err := p.Build([]byte(body))
		var ie *InputError
		if !errors.As(err, &ie) || ie.Reason != want {
			t.Errorf("Build(%q) = %v; want %q", body, err, want)
		}
	}
}

func TestSchemaName(t *testing.T) {
	t.Parallel()
	if got := schemaName("a.b c"); got != "a_b_c" {
		t.Errorf("schemaName = %q", got)
	}
	if got := schemaName(strings.Repeat("x", 70)); len(got) != 64 {
		t.Errorf("schemaName has %d bytes; want 64", len(got))
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	d := mustCompile(t, summarize).Describe()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got["name"] != "summarize" || got["model"] != "gpt-fast" {
		t.Errorf("Describe = %s", b)
	}
	var vars, out map[string]any
	_ = json.Unmarshal([]byte(summarize.Variables), &vars)
	_ = json.Unmarshal([]byte(summarize.Output), &out)
	if !reflect.DeepEqual(got["variables"], vars) || !reflect.DeepEqual(got["output"], out) {
		t.Errorf("Describe schemas = %s", b)
	}
	if strings.Contains(string(b), "Summarize in") {
		t.Errorf("Describe shows the template: %s", b)
	}

	plain := mustCompile(t, config.AIPrompt{Name: "p", Model: "m", Template: "x", Variables: `{"type": "object"}`})
	b, _ = json.Marshal(plain.Describe())
	if want := `{"name":"p","model":"m","variables":{"type":"object"}}`; string(b) != want {
		t.Errorf("Describe = %s; want %s", b, want)
	}
}
