package openai

import (
	"bytes"

	"github.com/tidwall/sjson"

	"github.com/pinpointgw/pinpoint/internal/ai/pricing"
	"github.com/pinpointgw/pinpoint/internal/ai/provider"
)

// stream passes an OpenAI-format stream through, chunk by chunk.
type stream struct {
	answer   func([]byte) ([]byte, error)
	key      string
	usage    pricing.Usage
	hasUsage bool
	done     bool
}

var _ provider.Stream = (*stream)(nil)

var (
	doneData    = []byte("[DONE]")
	quotedUsage = []byte(`"usage"`)
	emptyArray  = []byte("[]")
)

// Event emits the chunk data as is. "[DONE]" ends the stream and is
// consumed; events after it are ignored. A chunk holding "error" (or an
// "event: error") is returned as an *provider.Error. A chunk with usage
// is remembered; if it also carries choices (Mistral and some
// OpenAI-compatible servers report usage on the last content chunk) it is
// emitted as two chunks, the content without usage and then the usage
// chunk with "choices": [] that OpenAI sends, so the gateway can withhold
// the usage without losing content.
func (s *stream) Event(name, data []byte, emit func(chunk []byte) error) error {
	if s.done {
		return nil
	}
	if bytes.Equal(data, doneData) {
		s.done = true
		return nil
	}
	isErrorEvent := string(name) == "error"
	if !isObject(data) {
		if isErrorEvent {
			return &provider.Error{Kind: provider.Server, Message: "provider sent an error event"}
		}
		return &provider.Error{Kind: provider.Server, Message: "provider sent a stream chunk that is not a JSON object"}
	}
	if isErrorEvent || hasError(data) {
		return chunkError(data, s.key)
	}
	chunk := data
	if s.answer != nil {
		var err error
		if chunk, err = s.answer(data); err != nil {
			return &provider.Error{Kind: provider.Server, Message: "provider sent a stream chunk that could not be edited: " + err.Error()}
		}
	}
	if mayHaveUsage(chunk) {
		if u := get(chunk, "usage"); u.IsObject() {
			s.usage, s.hasUsage = usageOf(u), true
			if get(chunk, "choices.#").Int() > 0 {
				return split(chunk, emit)
			}
		}
	}
	return emit(chunk)
}

// split emits a chunk holding both choices and usage as a content chunk
// and a usage chunk.
func split(chunk []byte, emit func([]byte) error) error {
	content, err := sjson.DeleteBytes(chunk, "usage")
	if err != nil {
		return &provider.Error{Kind: provider.Server, Message: "provider sent a stream chunk that could not be split: " + err.Error()}
	}
	if err := emit(content); err != nil {
		return err
	}
	usage, err := sjson.SetRawBytes(chunk, "choices", emptyArray)
	if err != nil {
		return &provider.Error{Kind: provider.Server, Message: "provider sent a stream chunk that could not be split: " + err.Error()}
	}
	return emit(usage)
}

// End emits nothing: an OpenAI-format server sends its usage chunk
// itself. The stream is complete when "[DONE]" arrived.
func (s *stream) End(func(chunk []byte) error) (bool, error) { return s.done, nil }

// Usage is the usage of the last chunk that reported one.
func (s *stream) Usage() (pricing.Usage, bool) { return s.usage, s.hasUsage }

// mayHaveUsage reports whether chunk may hold a usage object: it names
// "usage", and not only as the "usage": null that OpenAI puts on every
// chunk of a stream that asked for usage (so those chunks are not parsed).
func mayHaveUsage(chunk []byte) bool {
	i := bytes.LastIndex(chunk, quotedUsage)
	if i < 0 {
		return false
	}
	rest := bytes.TrimLeft(chunk[i+len(quotedUsage):], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return true // "usage" inside a string: let the parser decide
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	return !bytes.HasPrefix(rest, []byte("null")) || bytes.Count(chunk, quotedUsage) > 1
}
