package gemini

import (
	"encoding/base64"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/ai/provider"
	"github.com/tidwall/gjson"

	"github.com/pinpointgw/pinpoint/internal/jsontext"
)

// chatBody translates an OpenAI chat completions request into a Gemini
// GenerateContentRequest. Schemas, tool arguments and tool results that
// are JSON are copied as raw JSON.
func chatBody(openai []byte) ([]byte, error) {
	req := parse(openai)
	if !req.IsObject() {
		return nil, invalid("", "the request body is not a JSON object")
	}
	w := chatWriter{b: make([]byte, 0, len(openai)+256)}
	w.b = append(w.b, `{"contents":[`...)
	msgs := req.Get("messages")
	if !msgs.IsArray() {
		return nil, invalid("messages", "messages must be an array")
	}
	var err error
	i := 0
	msgs.ForEach(func(_, m gjson.Result) bool {
		err = w.message(i, m)
		i++
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	w.closeTurn()
	b := append(w.b, ']')
	if len(w.sys) > 0 {
		b = append(b, `,"systemInstruction":{"parts":[`...)
		b = append(b, w.sys...)
		b = append(b, "]}"...)
	}
	if b, err = appendGenerationConfig(b, req); err != nil {
		return nil, err
	}
	if b, err = appendTools(b, req); err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// chatWriter writes the contents array. Parts go into the open turn while
// the role stays the same, so consecutive messages of one role (several
// tool results, a tool result and the user's next words) become one turn,
// as Gemini wants turns to alternate.
type chatWriter struct {
	b     []byte
	sys   []byte // systemInstruction parts
	role  string // role of the open turn; "" when none is open
	names map[string]string
}

// part starts a part in a turn of role, opening a new turn when the role
// changes.
func (w *chatWriter) part(role string) {
	if w.role == role {
		w.b = append(w.b, ',')
		return
	}
	if w.role != "" {
		w.b = append(w.b, "]},"...)
	}
	w.role = role
	w.b = append(w.b, `{"role":"`...)
	w.b = append(w.b, role...)
	w.b = append(w.b, `","parts":[`...)
}

func (w *chatWriter) closeTurn() {
	if w.role != "" {
		w.b = append(w.b, "]}"...)
		w.role = ""
	}
}

func (w *chatWriter) message(i int, m gjson.Result) error {
	role := m.Get("role").String()
	content := m.Get("content")
	switch role {
	case "system", "developer":
		return w.system(i, content)
	case "user":
		return w.content(i, "user", content)
	case "assistant":
		if err := w.content(i, "model", content); err != nil {
			return err
		}
		return w.toolCalls(i, m)
	case "tool":
		id := m.Get("tool_call_id").String()
		name, ok := w.names[id]
		if !ok {
			return invalid(param(i, "tool_call_id"), "messages[%d].tool_call_id %q does not answer a tool call of an earlier assistant message", i, id)
		}
		return w.functionResponse(i, name, content)
	case "function":
		return w.functionResponse(i, m.Get("name").String(), content)
	}
	return invalid(param(i, "role"), "messages[%d].role %q is not one of system, developer, user, assistant, tool, function", i, role)
}

// system adds the text of a system or developer message to the system
// instruction.
func (w *chatWriter) system(i int, content gjson.Result) error {
	add := func(text string) {
		if text == "" {
			return
		}
		if len(w.sys) > 0 {
			w.sys = append(w.sys, ',')
		}
		w.sys = append(w.sys, `{"text":`...)
		w.sys = jsontext.AppendString(w.sys, text)
		w.sys = append(w.sys, '}')
	}
	switch {
	case content.Type == gjson.String:
		add(content.Str)
	case content.IsArray():
		var err error
		j := 0
		content.ForEach(func(_, p gjson.Result) bool {
			if t := p.Get("type").String(); t != "text" {
				err = invalid(param(i, "content["+strconv.Itoa(j)+"].type"), "a system message may hold only text parts, not %q", t)
				return false
			}
			add(p.Get("text").String())
			j++
			return true
		})
		return err
	case content.Type != gjson.Null:
		return invalid(param(i, "content"), "messages[%d].content must be a string or an array of parts", i)
	}
	return nil
}

// content writes the text, image, audio and file parts of a user or
// assistant message.
func (w *chatWriter) content(i int, role string, content gjson.Result) error {
	switch {
	case content.Type == gjson.String:
		if content.Str != "" {
			w.text(role, content.Str)
		}
		return nil
	case content.Type == gjson.Null:
		return nil
	case !content.IsArray():
		return invalid(param(i, "content"), "messages[%d].content must be a string or an array of parts", i)
	}
	var err error
	j := 0
	content.ForEach(func(_, p gjson.Result) bool {
		err = w.contentPart(i, j, role, p)
		j++
		return err == nil
	})
	return err
}

func (w *chatWriter) text(role, text string) {
	w.part(role)
	w.b = append(w.b, `{"text":`...)
	w.b = jsontext.AppendString(w.b, text)
	w.b = append(w.b, '}')
}

func (w *chatWriter) contentPart(i, j int, role string, p gjson.Result) error {
	where := "content[" + strconv.Itoa(j) + "]"
	switch t := p.Get("type").String(); t {
	case "text":
		if s := p.Get("text").String(); s != "" {
			w.text(role, s)
		}
	case "refusal":
		if s := p.Get("refusal").String(); s != "" {
			w.text(role, s)
		}
	case "image_url":
		u := p.Get("image_url.url")
		if !u.Exists() {
			u = p.Get("image_url")
		}
		if u.Type != gjson.String || u.Str == "" {
			return invalid(param(i, where+".image_url.url"), "messages[%d].%s.image_url.url is missing", i, where)
		}
		if rest, ok := strings.CutPrefix(u.Str, "data:"); ok {
			return w.inline(i, where+".image_url.url", role, rest, "image/jpeg")
		}
		w.part(role)
		w.b = append(w.b, `{"fileData":{"fileUri":`...)
		w.b = jsontext.AppendString(w.b, u.Str)
		w.b = append(w.b, `,"mimeType":`...)
		w.b = jsontext.AppendString(w.b, mimeOf(u.Str))
		w.b = append(w.b, "}}"...)
	case "input_audio":
		data := p.Get("input_audio.data").String()
		format := p.Get("input_audio.format").String()
		if data == "" || format == "" {
			return invalid(param(i, where+".input_audio"), "messages[%d].%s.input_audio needs data and format", i, where)
		}
		w.inlineData(role, "audio/"+format, data)
	case "file":
		data := p.Get("file.file_data").String()
		rest, ok := strings.CutPrefix(data, "data:")
		if !ok {
			return invalid(param(i, where+".file"), "messages[%d].%s: Gemini takes files only as file_data data: URLs, not file ids", i, where)
		}
		return w.inline(i, where+".file.file_data", role, rest, "application/pdf")
	default:
		return invalid(param(i, where+".type"), "messages[%d].%s.type %q is not supported by Gemini", i, where, t)
	}
	return nil
}

// inline writes a data: URL (without its "data:") as inlineData.
func (w *chatWriter) inline(i int, where, role, dataURL, defaultMime string) error {
	meta, data, ok := strings.Cut(dataURL, ",")
	if !ok {
		return invalid(param(i, where), "messages[%d].%s is not a valid data: URL", i, where)
	}
	mime, params, _ := strings.Cut(meta, ";")
	if mime == "" {
		mime = defaultMime
	}
	if !strings.HasSuffix(params, "base64") {
		raw, err := url.PathUnescape(data)
		if err != nil {
			return invalid(param(i, where), "messages[%d].%s is not a valid data: URL", i, where)
		}
		data = base64.StdEncoding.EncodeToString([]byte(raw))
	}
	w.inlineData(role, mime, data)
	return nil
}

func (w *chatWriter) inlineData(role, mime, data string) {
	w.part(role)
	w.b = append(w.b, `{"inlineData":{"mimeType":`...)
	w.b = jsontext.AppendString(w.b, mime)
	w.b = append(w.b, `,"data":`...)
	w.b = jsontext.AppendString(w.b, data)
	w.b = append(w.b, "}}"...)
}

// toolCalls writes an assistant message's tool calls (and the legacy
// function_call) as functionCall parts and remembers each call's name
// for the tool messages that answer it.
func (w *chatWriter) toolCalls(i int, m gjson.Result) error {
	var err error
	j := 0
	m.Get("tool_calls").ForEach(func(_, tc gjson.Result) bool {
		fn := tc.Get("function")
		name := fn.Get("name").String()
		where := "tool_calls[" + strconv.Itoa(j) + "].function"
		if err = w.functionCall(i, where, name, fn.Get("arguments")); err != nil {
			return false
		}
		if w.names == nil {
			w.names = make(map[string]string, 4)
		}
		w.names[tc.Get("id").String()] = name
		j++
		return true
	})
	if err != nil {
		return err
	}
	if fc := m.Get("function_call"); fc.IsObject() {
		return w.functionCall(i, "function_call", fc.Get("name").String(), fc.Get("arguments"))
	}
	return nil
}

func (w *chatWriter) functionCall(i int, where, name string, args gjson.Result) error {
	if name == "" {
		return invalid(param(i, where+".name"), "messages[%d].%s.name is missing", i, where)
	}
	raw := strings.TrimSpace(args.String())
	if raw == "" {
		raw = "{}"
	}
	if !gjson.Valid(raw) || !gjson.Parse(raw).IsObject() {
		return invalid(param(i, where+".arguments"), "messages[%d].%s.arguments is not a JSON object", i, where)
	}
	w.part("model")
	w.b = append(w.b, `{"functionCall":{"name":`...)
	w.b = jsontext.AppendString(w.b, name)
	w.b = append(w.b, `,"args":`...)
	w.b = append(w.b, raw...)
	// Gemini 3 refuses a function call in the history without the thought
	// signature it came with, which OpenAI's format has no place for;
	// this is the value Google documents for history from elsewhere.
	w.b = append(w.b, `},"thoughtSignature":"skip_thought_signature_validator"}`...)
	return nil
}

// functionResponse writes a tool result: its content as the response
// object when it is a JSON object, else wrapped as {"content": text}.
func (w *chatWriter) functionResponse(i int, name string, content gjson.Result) error {
	if name == "" {
		return invalid(param(i, "name"), "messages[%d] answers a function without a name", i)
	}
	var text string
	switch {
	case content.Type == gjson.String:
		text = content.Str
	case content.IsArray():
		var sb strings.Builder
		content.ForEach(func(_, p gjson.Result) bool {
			sb.WriteString(p.Get("text").String())
			return true
		})
		text = sb.String()
	case content.Type != gjson.Null:
		return invalid(param(i, "content"), "messages[%d].content must be a string or an array of text parts", i)
	}
	w.part("user")
	w.b = append(w.b, `{"functionResponse":{"name":`...)
	w.b = jsontext.AppendString(w.b, name)
	w.b = append(w.b, `,"response":`...)
	if raw := strings.TrimSpace(text); gjson.Valid(raw) && gjson.Parse(raw).IsObject() {
		w.b = append(w.b, raw...)
	} else {
		w.b = append(w.b, `{"content":`...)
		w.b = jsontext.AppendString(w.b, text)
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, "}}"...)
	return nil
}

func param(i int, field string) string {
	return "messages[" + strconv.Itoa(i) + "]." + field
}

// mimeOf guesses a file URL's media type from its extension; Gemini needs
// one, and image/jpeg is the likeliest for an image_url.
func mimeOf(fileURL string) string {
	p := fileURL
	if u, err := url.Parse(fileURL); err == nil {
		p = u.Path
	}
	switch strings.ToLower(path.Ext(p)) {
	case ".png":
		return "image/png"
	case ".gif":
		return "image/gif"
	case ".webp":
		return "image/webp"
	case ".heic":
		return "image/heic"
	case ".heif":
		return "image/heif"
	case ".pdf":
		return "application/pdf"
	case ".mp3":
		return "audio/mp3"
	case ".wav":
		return "audio/wav"
	case ".mp4":
		return "video/mp4"
	case ".txt":
		return "text/plain"
	}
	return "image/jpeg"
}

// object writes the fields of a JSON object one at a time, the commas
// and the braces, and drops the object entirely when it stays empty.
type object struct {
	start int
	n     int
}

func openObject(b []byte, key string) ([]byte, object) {
	o := object{start: len(b)}
	b = append(b, ',', '"')
	b = append(b, key...)
	return append(b, `":{`...), o
}

func (o *object) field(b []byte, key string) []byte {
	if o.n > 0 {
		b = append(b, ',')
	}
	o.n++
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

func (o *object) close(b []byte) []byte {
	if o.n == 0 {
		return b[:o.start]
	}
	return append(b, '}')
}

// appendGenerationConfig translates the sampling and output options.
func appendGenerationConfig(b []byte, req gjson.Result) ([]byte, error) {
	b, o := openObject(b, "generationConfig")
	numbers := [...]struct{ from, to string }{
		{"temperature", "temperature"},
		{"top_p", "topP"},
		{"max_completion_tokens", "maxOutputTokens"},
		{"max_tokens", "maxOutputTokens"},
		{"n", "candidateCount"},
		{"seed", "seed"},
		{"presence_penalty", "presencePenalty"},
		{"frequency_penalty", "frequencyPenalty"},
	}
	maxSet := false
	for _, f := range numbers {
		v := req.Get(f.from)
		switch v.Type {
		case gjson.Null:
			continue
		case gjson.Number:
		default:
			return nil, invalid(f.from, "%s must be a number", f.from)
		}
		if f.to == "maxOutputTokens" {
			if maxSet {
				continue
			}
			maxSet = true
		}
		b = o.field(b, f.to)
		b = append(b, v.Raw...)
	}
	switch stop := req.Get("stop"); {
	case stop.Type == gjson.String:
		b = o.field(b, "stopSequences")
		b = append(b, '[')
		b = jsontext.AppendString(b, stop.Str)
		b = append(b, ']')
	case stop.IsArray():
		b = o.field(b, "stopSequences")
		b = append(b, '[')
		n := 0
		bad := false
		stop.ForEach(func(_, s gjson.Result) bool {
			if s.Type != gjson.String {
				bad = true
				return false
			}
			if n > 0 {
				b = append(b, ',')
			}
			b = jsontext.AppendString(b, s.Str)
			n++
			return true
		})
		if bad {
			return nil, invalid("stop", "stop must be a string or an array of strings")
		}
		b = append(b, ']')
	case stop.Type != gjson.Null:
		return nil, invalid("stop", "stop must be a string or an array of strings")
	}
	if rf := req.Get("response_format"); rf.Exists() && rf.Type != gjson.Null {
		switch t := rf.Get("type").String(); t {
		case "text":
		case "json_object":
			b = o.field(b, "responseMimeType")
			b = append(b, `"application/json"`...)
		case "json_schema":
			b = o.field(b, "responseMimeType")
			b = append(b, `"application/json"`...)
			if s := rf.Get("json_schema.schema"); s.IsObject() {
				// responseJsonSchema takes JSON Schema as is; the older
				// responseSchema takes only an OpenAPI subset.
				b = o.field(b, "responseJsonSchema")
				b = append(b, s.Raw...)
			}
		default:
			return nil, invalid("response_format.type", "response_format.type %q is not one of text, json_object, json_schema", t)
		}
	}
	return o.close(b), nil
}

// appendTools translates function tools and tool_choice.
func appendTools(b []byte, req gjson.Result) ([]byte, error) {
	if tools := req.Get("tools"); tools.IsArray() {
		start := len(b)
		b = append(b, `,"tools":[{"functionDeclarations":[`...)
		n := 0
		var err error
		tools.ForEach(func(_, t gjson.Result) bool {
			if typ := t.Get("type").String(); typ != "function" && typ != "" {
				err = invalid("tools["+strconv.Itoa(n)+"].type", "tools of type %q are not supported by Gemini", typ)
				return false
			}
			fn := t.Get("function")
			name := fn.Get("name").String()
			if name == "" {
				err = invalid("tools["+strconv.Itoa(n)+"].function.name", "tools[%d].function.name is missing", n)
				return false
			}
			if n > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = jsontext.AppendString(b, name)
			if d := fn.Get("description").String(); d != "" {
				b = append(b, `,"description":`...)
				b = jsontext.AppendString(b, d)
			}
			if p := fn.Get("parameters"); p.IsObject() {
				// parametersJsonSchema takes JSON Schema as is (with
				// additionalProperties, $ref, anyOf…); "parameters" takes
				// only Gemini's OpenAPI subset.
				b = append(b, `,"parametersJsonSchema":`...)
				b = append(b, p.Raw...)
			}
			b = append(b, '}')
			n++
			return true
		})
		if err != nil {
			return nil, err
		}
		if n == 0 {
			b = b[:start]
		} else {
			b = append(b, "]}]"...)
		}
	}
	tc := req.Get("tool_choice")
	var mode, name string
	switch {
	case tc.Type == gjson.Null:
		return b, nil
	case tc.Type == gjson.String:
		switch tc.Str {
		case "auto":
			mode = "AUTO"
		case "none":
			mode = "NONE"
		case "required":
			mode = "ANY"
		default:
			return nil, invalid("tool_choice", "tool_choice %q is not one of auto, none, required", tc.Str)
		}
	case tc.IsObject() && tc.Get("type").String() == "function":
		name = tc.Get("function.name").String()
		if name == "" {
			return nil, invalid("tool_choice.function.name", "tool_choice.function.name is missing")
		}
		mode = "ANY"
	default:
		return nil, invalid("tool_choice", "tool_choice must be auto, none, required or a named function")
	}
	b = append(b, `,"toolConfig":{"functionCallingConfig":{"mode":"`...)
	b = append(b, mode...)
	b = append(b, '"')
	if name != "" {
		b = append(b, `,"allowedFunctionNames":[`...)
		b = jsontext.AppendString(b, name)
		b = append(b, ']')
	}
	return append(b, "}}"...), nil
}

// embedBody translates an OpenAI embeddings request into a
// BatchEmbedContentsRequest: one request per input string.
func embedBody(openai []byte, model string) ([]byte, error) {
	req := parse(openai)
	if !req.IsObject() {
		return nil, invalid("", "the request body is not a JSON object")
	}
	var dims string
	switch d := req.Get("dimensions"); d.Type {
	case gjson.Null:
	case gjson.Number:
		dims = d.Raw
	default:
		return nil, invalid("dimensions", "dimensions must be an integer")
	}
	input := req.Get("input")
	b := make([]byte, 0, len(openai)+128)
	b = append(b, `{"requests":[`...)
	one := func(text string) {
		b = append(b, `{"model":`...)
		b = jsontext.AppendString(b, "models/"+model)
		b = append(b, `,"content":{"parts":[{"text":`...)
		b = jsontext.AppendString(b, text)
		b = append(b, `}]}`...)
		if dims != "" {
			b = append(b, `,"outputDimensionality":`...)
			b = append(b, dims...)
		}
		b = append(b, '}')
	}
	switch {
	case input.Type == gjson.String:
		one(input.Str)
	case input.IsArray():
		n := 0
		var err *provider.Error
		input.ForEach(func(_, v gjson.Result) bool {
			if v.Type != gjson.String {
				err = invalid("input", "Gemini embeds only text: input must be a string or an array of strings, not tokens")
				return false
			}
			if n > 0 {
				b = append(b, ',')
			}
			one(v.Str)
			n++
			return true
		})
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, invalid("input", "input must not be empty")
		}
	default:
		return nil, invalid("input", "input must be a string or an array of strings")
	}
	return append(b, "]}"...), nil
}
