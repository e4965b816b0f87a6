package tokens

import "github.com/tidwall/gjson"

// OpenAI's rule for the prompt tokens of a chat request (the OpenAI
// Cookbook's "How to count tokens with tiktoken", which matches the
// usage.prompt_tokens the API reports for GPT-3.5 and later): every
// message costs 3 tokens of framing plus the tokens of its role and
// content, a "name" costs one more token besides its own, and the reply
// is primed with 3 more.
const (
	perMessage = 3
	perName    = 1
	perReply   = 3
)

// ChatPrompt returns the prompt tokens of an OpenAI chat completions
// request body for model, counted by OpenAI's rule: for each message its
// role, its content (a string, or the "text" and "refusal" of its content
// parts), its name, and the function name and arguments of its tool calls
// (and of a legacy function_call), plus 3 tokens per message and 3 for
// the reply. Tool and legacy function definitions count as the tokens of
// their JSON, an estimate: OpenAI renders them into the prompt in a form
// it does not document, which is usually somewhat shorter.
//
// Images, audio and files in content parts are not counted: their tokens
// depend on their size and the model, not on their text. A body that is
// not JSON, or has no messages, counts 0 messages.
func ChatPrompt(model string, body []byte) int64 {
	enc := encodingFor(model)
	root := gjson.Parse(string(body))
	if !root.IsObject() {
		return 0
	}
	var n int64
	each(root.Get("messages"), func(msg gjson.Result) {
		if msg.IsObject() {
			n += perMessage + enc.message(msg)
		}
	})
	for _, defs := range [...]string{"tools", "functions"} {
		each(root.Get(defs), func(def gjson.Result) { n += enc.count(def.Raw) })
	}
	return n + perReply
}

// message counts one message's role, content, name and calls.
func (enc *encoding) message(msg gjson.Result) int64 {
	var n int64
	msg.ForEach(func(key, v gjson.Result) bool {
		switch key.Str {
		case "role":
			n += enc.count(v.String())
		case "name":
			n += perName + enc.count(v.String())
		case "content":
			n += enc.content(v)
		case "tool_calls":
			each(v, func(call gjson.Result) { n += enc.call(call.Get("function")) })
		case "function_call":
			n += enc.call(v)
		}
		return true
	})
	return n
}

// content counts a message content: a string or an array of parts.
func (enc *encoding) content(v gjson.Result) int64 {
	if v.Type == gjson.String {
		return enc.count(v.Str)
	}
	var n int64
	each(v, func(part gjson.Result) {
		switch part.Get("type").Str {
		case "text":
			n += enc.count(part.Get("text").String())
		case "refusal":
			n += enc.count(part.Get("refusal").String())
		}
	})
	return n
}

// call counts a function call's name and arguments.
func (enc *encoding) call(fn gjson.Result) int64 {
	f := fn.Get("name")
	a := fn.Get("arguments")
	return enc.count(f.String()) + enc.count(a.String())
}

// EmbeddingsInput returns the tokens of an OpenAI embeddings request
// body's "input": a string; an array of strings (their sum); an array of
// token ids (its length); or an array of arrays of token ids (the sum of
// their lengths). A body with no input counts 0.
func EmbeddingsInput(model string, body []byte) int64 {
	enc := encodingFor(model)
	in := gjson.GetBytes(body, "input")
	if in.Type == gjson.String {
		return enc.count(in.Str)
	}
	var n int64
	each(in, func(v gjson.Result) {
		switch {
		case v.Type == gjson.String:
			n += enc.count(v.Str)
		case v.Type == gjson.Number:
			n++
		case v.IsArray():
			each(v, func(gjson.Result) { n++ })
		}
	})
	return n
}

// each calls fn with every element of v when v is an array (gjson's
// ForEach would also call it once with a value that is not).
func each(v gjson.Result, fn func(gjson.Result)) {
	if !v.IsArray() {
		return
	}
	v.ForEach(func(_, e gjson.Result) bool {
		fn(e)
		return true
	})
}
