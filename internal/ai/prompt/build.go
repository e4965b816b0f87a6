package prompt

import (
	"bytes"
	"errors"
	"strings"
	"unsafe"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/tidwall/gjson"

	"github.com/pinpointgw/pinpoint/internal/jsontext"
)

// Validate checks a request body: a JSON object that matches the
// variables schema. A body that does not is refused with an *InputError
// listing up to three violations.
func (p *Prompt) Validate(body []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return &InputError{Reason: "the body is not valid JSON"}
	}
	if _, ok := v.(map[string]any); !ok {
		return &InputError{Reason: "the body must be a JSON object"}
	}
	if err := p.variables.Validate(v); err != nil {
		return &InputError{Reason: reason(err)}
	}
	return nil
}

// Build returns the OpenAI chat completion request for a body that
// Validate accepted: the model, the system message (when the prompt has
// one) and the user message with the variables filled in, the prompt's
// parameters, and, with an output schema, a strict json_schema
// response_format. Build itself checks only that the body is a JSON
// object (an *InputError otherwise).
func (p *Prompt) Build(body []byte) ([]byte, error) {
	if !gjson.ValidBytes(body) {
		return nil, &InputError{Reason: "the body is not valid JSON"}
	}
	// The results only point into body while Build runs and body is not
	// written, so it is read in place rather than copied.
	doc := gjson.Parse(unsafe.String(unsafe.SliceData(body), len(body)))
	if !doc.IsObject() {
		return nil, &InputError{Reason: "the body must be a JSON object"}
	}
	vals := make([]gjson.Result, len(p.vars))
	doc.ForEach(func(key, value gjson.Result) bool {
		if i, ok := p.index[key.Str]; ok {
			vals[i] = value // a repeated key: the last one, as Validate reads it
		}
		return true
	})

	n := p.fixed
	for _, s := range p.system {
		n += p.insertSize(s, vals)
	}
	for _, s := range p.user {
		n += p.insertSize(s, vals)
	}
	out := make([]byte, 0, n)
	out = append(out, p.head...)
	if p.system != nil {
		out = p.appendTemplate(out, p.system, vals)
		out = append(out, p.between...)
	}
	out = p.appendTemplate(out, p.user, vals)
	return append(out, p.tail...), nil
}

// insertSize estimates the bytes a segment's variable inserts.
func (p *Prompt) insertSize(s segment, vals []gjson.Result) int {
	if s.v < 0 {
		return 0
	}
	if !vals[s.v].Exists() {
		return len(p.vars[s.v].def)
	}
	return len(vals[s.v].Raw) + 8 // some room for escapes
}

// appendTemplate appends a template with its variables, escaped for a
// JSON string.
func (p *Prompt) appendTemplate(dst []byte, segs []segment, vals []gjson.Result) []byte {
	for _, s := range segs {
		switch {
		case s.v < 0:
			dst = append(dst, s.text...)
		case !vals[s.v].Exists():
			dst = append(dst, p.vars[s.v].def...)
		case vals[s.v].Type == gjson.String:
			dst = jsontext.AppendEscaped(dst, vals[s.v].Str)
		default:
			dst = jsontext.AppendCompact(dst, vals[s.v].Raw, true)
		}
	}
	return dst
}

// errCompletion is returned for a completion that is not one: the
// provider layer hands Answer only successful chat completions.
var errCompletion = errors.New("prompt: the completion has no choices[0].message")

// Answer turns an OpenAI chat.completion body into the endpoint's answer.
//
// Without an output schema the answer is {"text": <content>,
// "finish_reason": <finish_reason>} (a refusal's text when the model
// refused). With one, it is the model's JSON, compacted, after checking
// it against the schema; an answer that is cut off (finish_reason
// "length"), filtered, refused, not JSON or not matching the schema is an
// *OutputError. A body that is no chat completion is another error.
func (p *Prompt) Answer(completion []byte) ([]byte, error) {
	if !gjson.ValidBytes(completion) {
		return nil, errCompletion
	}
	choice := gjson.GetBytes(completion, "choices.0")
	msg := choice.Get("message")
	if !msg.IsObject() {
		return nil, errCompletion
	}
	content := msg.Get("content")
	refusal := msg.Get("refusal")
	finish := choice.Get("finish_reason")

	if p.output == nil {
		text := content.Str
		if content.Type != gjson.String && refusal.Type == gjson.String {
			text = refusal.Str
		}
		out := make([]byte, 0, len(text)+len(finish.Str)+40)
		out = append(out, `{"text":`...)
		out = jsontext.AppendString(out, text)
		out = append(out, `,"finish_reason":`...)
		if finish.Type == gjson.String {
			out = jsontext.AppendString(out, finish.Str)
		} else {
			out = append(out, "null"...)
		}
		return append(out, '}'), nil
	}

	switch {
	case refusal.Type == gjson.String && refusal.Str != "":
		return nil, &OutputError{Reason: "the model refused to answer: " + clip(refusal.Str, 200)}
	case finish.Str == "length":
		return nil, &OutputError{Reason: "the answer was cut off at max_tokens"}
	case finish.Str == "content_filter":
		return nil, &OutputError{Reason: "the answer was stopped by the provider's content filter"}
	case content.Type != gjson.String || strings.TrimSpace(content.Str) == "":
		return nil, &OutputError{Reason: "the model gave no answer"}
	}
	text := content.Str
	if !gjson.Valid(text) {
		return nil, &OutputError{Reason: "the answer is not JSON"}
	}
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return nil, &OutputError{Reason: "the answer is not JSON"}
	}
	if err := p.output.Validate(v); err != nil {
		return nil, &OutputError{Reason: "the answer does not match the output schema: " + reason(err)}
	}
	return jsontext.AppendCompact(make([]byte, 0, len(text)), text, false), nil
}
