package anthropic

import (
	"net/http"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/pinpointgw/pinpoint/internal/ai/provider"

	"github.com/pinpointgw/pinpoint/internal/jsontext"
)

// defaultMaxTokens is max_tokens when the caller sets no limit: the
// Messages API requires one, chat completions does not.
const defaultMaxTokens = 4096

// jsonOutputTool is the forced tool's name for a json_schema
// response_format that names no schema.
const jsonOutputTool = "json_output"

// jsonObjectInstruction is added to the system prompt for a json_object
// response_format, which Anthropic has no switch for.
const jsonObjectInstruction = "Respond with a single JSON object and nothing else."

// invalid is a request the Messages API cannot express; the caller is
// told, and no other target would do better with the same body.
func invalid(param, msg string) *provider.Error {
	return &provider.Error{
		Kind:    provider.Invalid,
		Status:  http.StatusBadRequest,
		Message: msg,
		Type:    "invalid_request_error",
		Param:   param,
	}
}

// chatFields are the chat completions fields the translation reads,
// collected in one pass over the body.
type chatFields struct {
	messages, maxCompletionTokens, maxTokens, temperature, topP, stop,
	user, tools, toolChoice, parallelToolCalls, responseFormat, n gjson.Result
}

func readFields(body string) chatFields {
	var f chatFields
	gjson.Parse(body).ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "messages":
			f.messages = v
		case "max_completion_tokens":
			f.maxCompletionTokens = v
		case "max_tokens":
			f.maxTokens = v
		case "temperature":
			f.temperature = v
		case "top_p":
			f.topP = v
		case "stop":
			f.stop = v
		case "user":
			f.user = v
		case "tools":
			f.tools = v
		case "tool_choice":
			f.toolChoice = v
		case "parallel_tool_calls":
			f.parallelToolCalls = v
		case "response_format":
			f.responseFormat = v
		case "n":
			f.n = v
		}
		return true
	})
	return f
}

// forcedTool returns the name of the tool that carries a json_schema
// response_format's answer, or "" when the call asked for none.
func forcedTool(body []byte) string { return forcedName(gjson.GetBytes(body, "response_format")) }

// forcedName is forcedTool for a response_format value.
func forcedName(rf gjson.Result) string {
	if rf.Get("type").String() != "json_schema" {
		return ""
	}
	if name := rf.Get("json_schema.name"); isString(name) && name.Str != "" {
		return name.Str
	}
	return jsonOutputTool
}

// translateRequest turns a chat completions body into a Messages body.
func translateRequest(c *provider.Call) ([]byte, error) {
	if !gjson.ValidBytes(c.Body) {
		return nil, invalid("", "request body is not valid JSON")
	}
	body := string(c.Body)
	f := readFields(body)
	if f.n.Exists() && f.n.Type != gjson.Null && f.n.Int() != 1 {
		return nil, invalid("n", "anthropic returns a single choice: n must be 1")
	}

	b := make([]byte, 0, len(body)+256)
	b = append(b, `{"model":`...)
	b = jsontext.AppendString(b, c.Model)
	b = append(b, `,"max_tokens":`...)
	switch {
	case f.maxCompletionTokens.Type == gjson.Number:
		b = appendInt(b, f.maxCompletionTokens.Int())
	case f.maxTokens.Type == gjson.Number:
		b = appendInt(b, f.maxTokens.Int())
	default:
		b = appendInt(b, defaultMaxTokens)
	}
	if f.temperature.Type == gjson.Number {
		b = append(b, `,"temperature":`...)
		b = append(b, f.temperature.Raw...)
	}
	if f.topP.Type == gjson.Number {
		b = append(b, `,"top_p":`...)
		b = append(b, f.topP.Raw...)
	}
	b = appendStop(b, f.stop)
	if c.Stream {
		b = append(b, `,"stream":true`...)
	}
	if isString(f.user) && f.user.Str != "" {
		b = append(b, `,"metadata":{"user_id":`...)
		b = append(b, f.user.Raw...)
		b = append(b, '}')
	}

	m := messageWriter{b: append(b, `,"messages":[`...)}
	var err error
	f.messages.ForEach(func(_, msg gjson.Result) bool {
		err = m.message(msg)
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	b = m.close()

	forced := forcedName(f.responseFormat)
	if f.responseFormat.Get("type").String() == "json_object" {
		if len(m.system) > 0 {
			m.system = append(m.system, `\n\n`...)
		}
		m.system = append(m.system, jsonObjectInstruction...)
	}
	if len(m.system) > 0 {
		b = append(b, `,"system":"`...)
		b = append(b, m.system...)
		b = append(b, '"')
	}

	b, hasTools, err := appendTools(b, f.tools, forced, f.responseFormat.Get("json_schema"))
	if err != nil {
		return nil, err
	}
	b = appendToolChoice(b, f.toolChoice, f.parallelToolCalls.Type == gjson.False, hasTools, forced)
	return append(b, '}'), nil
}

// appendStop writes stop (a string or an array of strings) as
// stop_sequences, leaving out empty ones.
func appendStop(b []byte, stop gjson.Result) []byte {
	n := 0
	add := func(s gjson.Result) {
		if !isString(s) || s.Str == "" {
			return
		}
		if n == 0 {
			b = append(b, `,"stop_sequences":[`...)
		} else {
			b = append(b, ',')
		}
		b = append(b, s.Raw...)
		n++
	}
	if stop.IsArray() {
		stop.ForEach(func(_, s gjson.Result) bool { add(s); return true })
	} else {
		add(stop)
	}
	if n > 0 {
		b = append(b, ']')
	}
	return b
}

// messageWriter writes the messages array. Blocks are added one at a
// time under a role; a block under the same role as the previous one
// joins its message, since the Messages API wants user and assistant
// turns to alternate (tool results of one turn form one user message).
// A message only starts with its first block, so OpenAI messages with
// nothing to say leave no empty message behind.
type messageWriter struct {
	b      []byte
	role   string // role of the open message; "" before the first
	system []byte // system prompt, as the inside of a JSON string literal
}

// block starts a content block under role.
func (m *messageWriter) block(role string) {
	if m.role == role {
		m.b = append(m.b, ',')
		return
	}
	if m.role != "" {
		m.b = append(m.b, `]},`...)
	}
	m.b = append(m.b, `{"role":"`...)
	m.b = append(m.b, role...)
	m.b = append(m.b, `","content":[`...)
	m.role = role
}

// close ends the messages array and returns the body so far.
func (m *messageWriter) close() []byte {
	if m.role != "" {
		m.b = append(m.b, `]}`...)
	}
	return append(m.b, ']')
}

// text adds a text block; empty text is left out (the API refuses it).
func (m *messageWriter) text(role string, lit gjson.Result) {
	if !isString(lit) || lit.Str == "" {
		return
	}
	m.block(role)
	m.b = append(m.b, `{"type":"text","text":`...)
	m.b = append(m.b, lit.Raw...)
	m.b = append(m.b, '}')
}

// message translates one chat completions message.
func (m *messageWriter) message(msg gjson.Result) error {
	content := msg.Get("content")
	switch role := msg.Get("role").String(); role {
	case "system", "developer":
		m.systemText(content)
	case "user":
		return m.user(content)
	case "assistant":
		return m.assistant(content, msg.Get("tool_calls"))
	case "tool":
		m.toolResult(msg.Get("tool_call_id"), content)
	default:
		return invalid("messages", "message role "+quote(role)+" is not supported by anthropic")
	}
	return nil
}

// systemText adds a system or developer message to the system prompt:
// its text parts run together, messages are separated by a blank line.
func (m *messageWriter) systemText(content gjson.Result) {
	first := true
	add := func(lit gjson.Result) {
		if !isString(lit) || lit.Str == "" {
			return
		}
		if first && len(m.system) > 0 {
			m.system = append(m.system, `\n\n`...)
		}
		first = false
		m.system = appendInner(m.system, lit.Raw)
	}
	if content.IsArray() {
		content.ForEach(func(_, part gjson.Result) bool {
			if part.Get("type").String() == "text" {
				add(part.Get("text"))
			}
			return true
		})
		return
	}
	add(content)
}

// user translates a user message: text, images (data: URLs as base64,
// http(s) URLs by reference) and PDF files given as data.
func (m *messageWriter) user(content gjson.Result) error {
	if !content.IsArray() {
		m.text("user", content)
		return nil
	}
	var err error
	content.ForEach(func(_, part gjson.Result) bool {
		switch typ := part.Get("type").String(); typ {
		case "text":
			m.text("user", part.Get("text"))
		case "image_url":
			u := part.Get("image_url")
			if u.IsObject() {
				u = u.Get("url")
			}
			err = m.image(u.String())
		case "file":
			err = m.file(part.Get("file"))
		default:
			err = invalid("messages", "content part type "+quote(typ)+" is not supported by anthropic")
		}
		return err == nil
	})
	return err
}

// image adds an image block.
func (m *messageWriter) image(u string) error {
	switch {
	case strings.HasPrefix(u, "data:"):
		media, data, ok := parseDataURL(u)
		if !ok {
			return invalid("messages", "image_url: a data: URL must be base64-encoded with a media type")
		}
		m.block("user")
		m.b = append(m.b, `{"type":"image","source":{"type":"base64","media_type":`...)
		m.b = jsontext.AppendString(m.b, media)
		m.b = append(m.b, `,"data":`...)
		m.b = jsontext.AppendString(m.b, data)
		m.b = append(m.b, `}}`...)
	case strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://"):
		m.block("user")
		m.b = append(m.b, `{"type":"image","source":{"type":"url","url":`...)
		m.b = jsontext.AppendString(m.b, u)
		m.b = append(m.b, `}}`...)
	default:
		return invalid("messages", "image_url: only data: and http(s) URLs are supported by anthropic")
	}
	return nil
}

// file adds a document block for a file part given inline as a data: URL.
func (m *messageWriter) file(f gjson.Result) error {
	media, data, ok := parseDataURL(f.Get("file_data").String())
	if !ok {
		return invalid("messages", "file: anthropic accepts only file_data as a base64 data: URL")
	}
	m.block("user")
	m.b = append(m.b, `{"type":"document","source":{"type":"base64","media_type":`...)
	m.b = jsontext.AppendString(m.b, media)
	m.b = append(m.b, `,"data":`...)
	m.b = jsontext.AppendString(m.b, data)
	m.b = append(m.b, `}}`...)
	return nil
}

// assistant translates an assistant message: its text, then a tool_use
// block per tool call.
func (m *messageWriter) assistant(content, calls gjson.Result) error {
	if content.IsArray() {
		content.ForEach(func(_, part gjson.Result) bool {
			if part.Get("type").String() == "text" {
				m.text("assistant", part.Get("text"))
			}
			return true
		})
	} else {
		m.text("assistant", content)
	}
	calls.ForEach(func(_, call gjson.Result) bool {
		fn := call.Get("function")
		m.block("assistant")
		m.b = append(m.b, `{"type":"tool_use","id":`...)
		m.b = appendLiteral(m.b, call.Get("id"))
		m.b = append(m.b, `,"name":`...)
		m.b = appendLiteral(m.b, fn.Get("name"))
		m.b = append(m.b, `,"input":`...)
		// arguments is JSON text inside a string; Anthropic wants the
		// object itself. Arguments a model got wrong become {} rather
		// than failing the whole conversation.
		if args := fn.Get("arguments").String(); isObject(args) && gjson.Valid(args) {
			m.b = append(m.b, args...)
		} else {
			m.b = append(m.b, `{}`...)
		}
		m.b = append(m.b, '}')
		return true
	})
	return nil
}

// toolResult adds a tool message as a tool_result block of a user
// message.
func (m *messageWriter) toolResult(id, content gjson.Result) {
	m.block("user")
	m.b = append(m.b, `{"type":"tool_result","tool_use_id":`...)
	m.b = appendLiteral(m.b, id)
	switch {
	case content.IsArray():
		start := len(m.b)
		m.b = append(m.b, `,"content":"`...)
		n := 0
		content.ForEach(func(_, part gjson.Result) bool {
			if t := part.Get("text"); part.Get("type").String() == "text" && isString(t) {
				m.b = appendInner(m.b, t.Raw)
				n++
			}
			return true
		})
		if n == 0 {
			m.b = m.b[:start]
		} else {
			m.b = append(m.b, '"')
		}
	case isString(content) && content.Str != "":
		m.b = append(m.b, `,"content":`...)
		m.b = append(m.b, content.Raw...)
	}
	m.b = append(m.b, '}')
}

// appendLiteral copies a JSON string as is; anything else becomes "".
func appendLiteral(b []byte, s gjson.Result) []byte {
	if isString(s) {
		return append(b, s.Raw...)
	}
	return append(b, `""`...)
}

// appendTools writes the tools array: the caller's functions and, for a
// json_schema response_format, the forced tool that carries the answer.
func appendTools(b []byte, tools gjson.Result, forced string, schema gjson.Result) ([]byte, bool, error) {
	n := 0
	next := func() {
		if n == 0 {
			b = append(b, `,"tools":[`...)
		} else {
			b = append(b, ',')
		}
		n++
	}
	var err error
	tools.ForEach(func(_, tool gjson.Result) bool {
		if typ := tool.Get("type"); typ.Exists() && typ.String() != "function" {
			err = invalid("tools", "tool type "+quote(typ.String())+" is not supported by anthropic")
			return false
		}
		fn := tool.Get("function")
		name := fn.Get("name")
		if !isString(name) || name.Str == "" {
			err = invalid("tools", "every tool needs a function name")
			return false
		}
		next()
		b = append(b, `{"name":`...)
		b = append(b, name.Raw...)
		if d := fn.Get("description"); isString(d) && d.Str != "" {
			b = append(b, `,"description":`...)
			b = append(b, d.Raw...)
		}
		b = append(b, `,"input_schema":`...)
		b = appendSchema(b, fn.Get("parameters"))
		b = append(b, '}')
		return true
	})
	if err != nil {
		return nil, false, err
	}
	if forced != "" {
		next()
		b = append(b, `{"name":`...)
		b = jsontext.AppendString(b, forced)
		if d := schema.Get("description"); isString(d) && d.Str != "" {
			b = append(b, `,"description":`...)
			b = append(b, d.Raw...)
		}
		b = append(b, `,"input_schema":`...)
		b = appendSchema(b, schema.Get("schema"))
		b = append(b, '}')
	}
	if n > 0 {
		b = append(b, ']')
	}
	return b, n > 0, nil
}

// appendSchema copies a parameters schema. Anthropic requires the
// top-level "type": "object" that OpenAI lets callers leave out (an empty
// parameters object means no arguments), so it is added when missing.
func appendSchema(b []byte, s gjson.Result) []byte {
	if !s.IsObject() {
		return append(b, `{"type":"object"}`...)
	}
	if s.Get("type").Exists() {
		return append(b, s.Raw...)
	}
	rest := strings.TrimSpace(s.Raw[1:]) // after the opening brace
	b = append(b, `{"type":"object"`...)
	if rest != "}" {
		b = append(b, ',')
	}
	return append(b, rest...)
}

// appendToolChoice writes tool_choice: the forced tool of a json_schema
// response_format, else the caller's choice, with parallel_tool_calls
// false as disable_parallel_tool_use. Without tools there is no choice to
// make and the API would refuse one.
func appendToolChoice(b []byte, choice gjson.Result, noParallel, hasTools bool, forced string) []byte {
	if !hasTools {
		return b
	}
	b = append(b, `,"tool_choice":{"type":`...)
	switch {
	case forced != "":
		b = append(b, `"tool","name":`...)
		b = jsontext.AppendString(b, forced)
	case choice.IsObject():
		name := choice.Get("function.name")
		if !isString(name) {
			name = choice.Get("name")
		}
		if isString(name) && name.Str != "" {
			b = append(b, `"tool","name":`...)
			b = append(b, name.Raw...)
		} else {
			b = append(b, `"auto"`...)
		}
	case choice.String() == "none":
		// type none takes no disable_parallel_tool_use: no tool is called.
		return append(b, `"none"}`...)
	case choice.String() == "required":
		b = append(b, `"any"`...)
	default:
		b = append(b, `"auto"`...)
	}
	if noParallel {
		b = append(b, `,"disable_parallel_tool_use":true`...)
	}
	return append(b, '}')
}

// parseDataURL splits data:<media type>[;params];base64,<data>.
func parseDataURL(u string) (media, data string, ok bool) {
	rest, found := strings.CutPrefix(u, "data:")
	if !found {
		return "", "", false
	}
	header, data, found := strings.Cut(rest, ",")
	if !found || data == "" {
		return "", "", false
	}
	header, found = strings.CutSuffix(header, ";base64")
	if !found {
		return "", "", false
	}
	media, _, _ = strings.Cut(header, ";")
	if media == "" {
		return "", "", false
	}
	return media, data, true
}

// quote is a value quoted for a message.
func quote(s string) string { return `"` + s + `"` }
