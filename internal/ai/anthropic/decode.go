package anthropic

import (
	"fmt"
	"time"

	"github.com/tidwall/gjson"

	"github.com/pinpointgw/pinpoint/internal/ai/pricing"
	"github.com/pinpointgw/pinpoint/internal/ai/provider"

	"github.com/pinpointgw/pinpoint/internal/jsontext"
)

// Decode translates a Messages response into a chat.completion: text
// blocks become the message content, tool_use blocks its tool_calls
// (thinking and server-tool blocks are left out), and for a json_schema
// response_format the forced tool's input becomes the content.
func (p *client) Decode(c *provider.Call, body []byte) (provider.Result, error) {
	if c.Op != provider.Chat {
		return provider.Result{}, errNoEmbeddings()
	}
	if !gjson.ValidBytes(body) {
		return provider.Result{}, fmt.Errorf("%w: not JSON", errBadAnswer)
	}
	var id, content, stop, usage gjson.Result
	typ := ""
	gjson.Parse(string(body)).ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "type":
			typ = v.String()
		case "id":
			id = v
		case "content":
			content = v
		case "stop_reason":
			stop = v
		case "usage":
			usage = v
		}
		return true
	})
	if typ != "message" {
		return provider.Result{}, fmt.Errorf("%w: type %q", errBadAnswer, typ)
	}
	forced := forcedTool(c.Body)

	out := make([]byte, 0, 320+len(body))
	out = append(out, `{"id":"chatcmpl-`...)
	out = appendInner(out, id.Raw)
	out = append(out, `","object":"chat.completion","created":`...)
	out = appendInt(out, time.Now().Unix())
	out = append(out, `,"model":`...)
	out = jsontext.AppendString(out, c.Model)
	out = append(out, `,"choices":[{"index":0,"message":{"role":"assistant","content":`...)

	// The content: the forced tool's input, else the text blocks joined.
	// (A forced tool is never preceded by text; text only comes instead
	// of it, e.g. with a refusal.)
	var answer gjson.Result
	found, texts, calls := false, 0, 0
	content.ForEach(func(_, blk gjson.Result) bool {
		switch blk.Get("type").String() {
		case "text":
			texts++
		case "tool_use":
			if forced != "" && !found && blk.Get("name").String() == forced {
				answer, found = blk.Get("input"), true
			} else {
				calls++
			}
		}
		return true
	})
	switch {
	case found && answer.Exists():
		out = jsontext.AppendCompactString(out, answer.Raw)
	case found:
		out = append(out, `"{}"`...)
	case texts > 0:
		out = append(out, '"')
		content.ForEach(func(_, blk gjson.Result) bool {
			if blk.Get("type").String() == "text" {
				out = appendInner(out, blk.Get("text").Raw)
			}
			return true
		})
		out = append(out, '"')
	case calls > 0:
		out = append(out, `null`...)
	default:
		out = append(out, `""`...)
	}

	if calls > 0 {
		out = append(out, `,"tool_calls":[`...)
		n, skipped := 0, found
		content.ForEach(func(_, blk gjson.Result) bool {
			if blk.Get("type").String() != "tool_use" {
				return true
			}
			name := blk.Get("name")
			if skipped && name.String() == forced {
				skipped = false // the answer, not a call
				return true
			}
			if n > 0 {
				out = append(out, ',')
			}
			n++
			out = append(out, `{"id":`...)
			out = appendLiteral(out, blk.Get("id"))
			out = append(out, `,"type":"function","function":{"name":`...)
			out = appendLiteral(out, name)
			out = append(out, `,"arguments":`...)
			if in := blk.Get("input"); in.Exists() {
				out = jsontext.AppendCompactString(out, in.Raw)
			} else {
				out = append(out, `"{}"`...)
			}
			out = append(out, `}}`...)
			return true
		})
		out = append(out, ']')
	}
	out = append(out, `},"logprobs":null,"finish_reason":"`...)
	out = append(out, finishReason(stop.String(), forced != "")...)
	out = append(out, `"}]`...)

	var res provider.Result
	if usage.IsObject() {
		var au pricing.AnthropicUsage
		readUsage(usage, &au)
		res.Usage, res.HasUsage = au.Usage(), true
		out = append(out, `,"usage":`...)
		out = appendUsage(out, res.Usage)
	}
	res.Body = append(out, '}')
	return res, nil
}

// finishReason maps Anthropic's stop_reason to OpenAI's finish_reason. A
// forced json_schema tool is the answer itself, so using it is a stop.
func finishReason(stop string, forced bool) string {
	switch stop {
	case "max_tokens", "model_context_window_exceeded":
		return "length"
	case "tool_use":
		if forced {
			return "stop"
		}
		return "tool_calls"
	case "refusal":
		return "content_filter"
	}
	return "stop" // end_turn, stop_sequence, pause_turn
}

// readUsage sets the fields of a that u holds; a stream's message_delta
// repeats only some of message_start's counts.
func readUsage(u gjson.Result, a *pricing.AnthropicUsage) {
	u.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "input_tokens":
			a.InputTokens = v.Int()
		case "output_tokens":
			a.OutputTokens = v.Int()
		case "cache_read_input_tokens":
			a.CacheReadInputTokens = v.Int()
		case "cache_creation_input_tokens":
			a.CacheCreationInputTokens = v.Int()
		case "cache_creation":
			if v.IsObject() {
				a.CacheCreation.Ephemeral5mInputTokens = v.Get("ephemeral_5m_input_tokens").Int()
				a.CacheCreation.Ephemeral1hInputTokens = v.Get("ephemeral_1h_input_tokens").Int()
			}
		}
		return true
	})
}

// appendUsage writes an OpenAI usage object.
func appendUsage(b []byte, u pricing.Usage) []byte {
	b = append(b, `{"prompt_tokens":`...)
	b = appendInt(b, u.Input)
	b = append(b, `,"completion_tokens":`...)
	b = appendInt(b, u.Output)
	b = append(b, `,"total_tokens":`...)
	b = appendInt(b, u.Input+u.Output)
	b = append(b, `,"prompt_tokens_details":{"cached_tokens":`...)
	b = appendInt(b, u.CachedInput)
	return append(b, `}}`...)
}
