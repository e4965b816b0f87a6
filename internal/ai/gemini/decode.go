package gemini

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/pinpointgw/pinpoint/internal/ai/pricing"
	"github.com/pinpointgw/pinpoint/internal/ai/provider"
	"github.com/tidwall/gjson"

	"github.com/pinpointgw/pinpoint/internal/jsontext"
)

var (
	errNotJSON       = errors.New("gemini: the answer is not a JSON object")
	errNoEmbeddings  = errors.New("gemini: the answer holds no embeddings")
	errBadEmbeddings = errors.New("gemini: an embedding is not an array of numbers")
)

// decodeChat translates a GenerateContentResponse into a chat.completion.
func decodeChat(c *provider.Call, body []byte) (provider.Result, error) {
	res := parse(body)
	if !res.IsObject() {
		return provider.Result{}, errNotJSON
	}
	b := make([]byte, 0, len(body)+256)
	b = appendHead(b, res.Get("responseId").String(), "chat.completion", time.Now().Unix(), c.Model)
	b = append(b, `,"choices":[`...)
	n := 0
	res.Get("candidates").ForEach(func(_, cand gjson.Result) bool {
		if n > 0 {
			b = append(b, ',')
		}
		b = appendChoice(b, candidateIndex(cand, n), cand)
		n++
		return true
	})
	if n == 0 {
		// A blocked prompt has no candidates, only promptFeedback.
		finish := "stop"
		if res.Get("promptFeedback.blockReason").String() != "" {
			finish = "content_filter"
		}
		b = append(b, `{"index":0,"message":{"role":"assistant","content":""},"finish_reason":"`...)
		b = append(b, finish...)
		b = append(b, `"}`...)
	}
	b = append(b, ']')
	out := provider.Result{}
	if um := res.Get("usageMetadata"); um.IsObject() {
		out.Usage, out.HasUsage = usageOf(um), true
		b = append(b, `,"usage":`...)
		b = appendUsage(b, out.Usage, um.Get("thoughtsTokenCount").Int())
	}
	out.Body = append(b, '}')
	return out, nil
}

// appendHead writes the fields every chat.completion and chunk starts
// with, opening the object.
func appendHead(b []byte, responseID, object string, created int64, model string) []byte {
	b = append(b, `{"id":"chatcmpl-`...)
	if responseID != "" {
		b = jsontext.AppendEscaped(b, responseID)
	} else {
		b = strconv.AppendUint(b, rand.Uint64(), 36)
	}
	b = append(b, `","object":"`...)
	b = append(b, object...)
	b = append(b, `","created":`...)
	b = appendInt(b, created)
	b = append(b, `,"model":`...)
	return jsontext.AppendString(b, model)
}

// candidateIndex is the candidate's own index (Gemini leaves out a zero
// index), or its position.
func candidateIndex(cand gjson.Result, pos int) int {
	if i := cand.Get("index"); i.Type == gjson.Number {
		return int(i.Int())
	}
	return pos
}

// part is one text or functionCall part of a candidate.
type part struct {
	text gjson.Result // a string when the part is text
	call gjson.Result // an object when the part is a function call
}

// scanParts appends a candidate's text and function call parts to dst,
// reading each part once and leaving out thoughts ("thought": true) and
// the parts a chat completion has no place for (executable code, …).
func scanParts(dst []part, parts gjson.Result) []part {
	parts.ForEach(func(_, p gjson.Result) bool {
		var pt part
		thought := false
		p.ForEach(func(k, v gjson.Result) bool {
			switch k.Str {
			case "text":
				pt.text = v
			case "functionCall":
				pt.call = v
			case "thought":
				thought = v.Bool()
			}
			return true
		})
		if !thought && (pt.text.Exists() || pt.call.Exists()) {
			dst = append(dst, pt)
		}
		return true
	})
	return dst
}

// appendChoice writes one candidate as a choice with a complete message.
func appendChoice(b []byte, index int, cand gjson.Result) []byte {
	var buf [8]part
	parts := scanParts(buf[:0], cand.Get("content.parts"))
	hasText, calls := false, 0
	for _, p := range parts {
		if p.text.Exists() {
			hasText = true
		}
		if p.call.Exists() {
			calls++
		}
	}
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, int64(index), 10)
	b = append(b, `,"message":{"role":"assistant","content":`...)
	switch {
	case hasText:
		b = append(b, '"')
		for _, p := range parts {
			b = jsontext.AppendEscaped(b, p.text.String())
		}
		b = append(b, '"')
	case calls > 0:
		b = append(b, "null"...)
	default:
		b = append(b, `""`...)
	}
	if calls > 0 {
		b = append(b, `,"tool_calls":[`...)
		n := 0
		for _, p := range parts {
			if p.call.Exists() {
				if n > 0 {
					b = append(b, ',')
				}
				b = appendToolCall(b, -1, n, p.call)
				n++
			}
		}
		b = append(b, ']')
	}
	b = append(b, `},"finish_reason":"`...)
	b = append(b, finishReason(cand.Get("finishReason").String(), calls > 0)...)
	return append(b, `"}`...)
}

// appendToolCall writes a functionCall as an OpenAI tool call with id
// call_<n>; index >= 0 adds the stream delta's "index".
func appendToolCall(b []byte, index, n int, fc gjson.Result) []byte {
	b = append(b, '{')
	if index >= 0 {
		b = append(b, `"index":`...)
		b = strconv.AppendInt(b, int64(index), 10)
		b = append(b, ',')
	}
	b = append(b, `"id":"call_`...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, `","type":"function","function":{"name":`...)
	b = jsontext.AppendString(b, fc.Get("name").String())
	b = append(b, `,"arguments":`...)
	if args := fc.Get("args"); args.Exists() && args.Type != gjson.Null {
		b = jsontext.AppendCompactString(b, args.Raw)
	} else {
		b = append(b, `"{}"`...)
	}
	return append(b, "}}"...)
}

// finishReason maps a candidate's finishReason to OpenAI's.
func finishReason(reason string, calls bool) string {
	switch reason {
	case "MAX_TOKENS":
		return "length"
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY",
		"IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION":
		return "content_filter"
	}
	if calls {
		return "tool_calls"
	}
	return "stop"
}

// usageOf converts usageMetadata.
func usageOf(um gjson.Result) pricing.Usage {
	return pricing.GeminiUsage{
		PromptTokenCount:        um.Get("promptTokenCount").Int(),
		CandidatesTokenCount:    um.Get("candidatesTokenCount").Int(),
		ThoughtsTokenCount:      um.Get("thoughtsTokenCount").Int(),
		ToolUsePromptTokenCount: um.Get("toolUsePromptTokenCount").Int(),
		CachedContentTokenCount: um.Get("cachedContentTokenCount").Int(),
	}.Usage()
}

// appendUsage writes an OpenAI usage object; reasoning is Gemini's
// thoughtsTokenCount, already counted in u.Output.
func appendUsage(b []byte, u pricing.Usage, reasoning int64) []byte {
	b = append(b, `{"prompt_tokens":`...)
	b = appendInt(b, u.Input)
	b = append(b, `,"completion_tokens":`...)
	b = appendInt(b, u.Output)
	b = append(b, `,"total_tokens":`...)
	b = appendInt(b, u.Input+u.Output)
	b = append(b, `,"prompt_tokens_details":{"cached_tokens":`...)
	b = appendInt(b, u.CachedInput)
	b = append(b, '}')
	if reasoning > 0 {
		b = append(b, `,"completion_tokens_details":{"reasoning_tokens":`...)
		b = appendInt(b, reasoning)
		b = append(b, '}')
	}
	return append(b, '}')
}

// decodeEmbeddings translates a BatchEmbedContentsResponse (or a single
// EmbedContentResponse) into an OpenAI embeddings list, as float arrays
// or, when the request asked for encoding_format "base64", as base64 of
// little-endian float32 values. Gemini reports no token counts.
func decodeEmbeddings(c *provider.Call, body []byte) (provider.Result, error) {
	res := parse(body)
	if !res.IsObject() {
		return provider.Result{}, errNotJSON
	}
	embs := res.Get("embeddings")
	if !embs.IsArray() {
		one := res.Get("embedding")
		if !one.IsObject() {
			return provider.Result{}, errNoEmbeddings
		}
		embs = gjson.Result{Type: gjson.JSON, Raw: "[" + one.Raw + "]"}
	}
	b64 := gjson.Get(view(c.Body), "encoding_format").String() == "base64"
	b := make([]byte, 0, len(body)+128)
	b = append(b, `{"object":"list","data":[`...)
	var scratch []byte
	n := 0
	var err error
	embs.ForEach(func(_, e gjson.Result) bool {
		values := e.Get("values")
		if !values.IsArray() {
			err = errBadEmbeddings
			return false
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"object":"embedding","index":`...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, `,"embedding":`...)
		if b64 {
			scratch = scratch[:0]
			values.ForEach(func(_, v gjson.Result) bool {
				if v.Type != gjson.Number {
					err = errBadEmbeddings
					return false
				}
				scratch = binary.LittleEndian.AppendUint32(scratch, math.Float32bits(float32(v.Float())))
				return true
			})
			b = append(b, '"')
			b = base64.StdEncoding.AppendEncode(b, scratch)
			b = append(b, '"')
		} else {
			b = append(b, '[')
			k := 0
			values.ForEach(func(_, v gjson.Result) bool {
				if v.Type != gjson.Number {
					err = errBadEmbeddings
					return false
				}
				if k > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendFloat(b, float64(float32(v.Float())), 'g', -1, 32)
				k++
				return true
			})
			b = append(b, ']')
		}
		b = append(b, '}')
		n++
		return err == nil
	})
	if err != nil {
		return provider.Result{}, err
	}
	b = append(b, `],"model":`...)
	b = jsontext.AppendString(b, c.Model)
	b = append(b, `,"usage":{"prompt_tokens":0,"total_tokens":0}}`...)
	return provider.Result{Body: b}, nil
}
