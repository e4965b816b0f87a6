package aitest

import (
	"hash/fnv"
	"net/http"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// Reply is what a fake answers to one call. The same Reply means the same
// answer in each provider's own wire format.
type Reply struct {
	// Text is the assistant's text: prose, or the JSON that a
	// json_object/json_schema response_format (OpenAI) or a
	// responseSchema (Gemini) asked for. The fakes never invent text of
	// their own beyond the unscripted default.
	Text string
	// ToolCalls are function/tool calls the assistant makes after Text.
	ToolCalls []ToolCall
	// Finish is the stop reason. The neutral names "stop", "length",
	// "tool_calls" and "content_filter" are mapped to each provider's own
	// (Anthropic end_turn/max_tokens/tool_use/refusal, Gemini
	// STOP/MAX_TOKENS/STOP/SAFETY); any other value is sent verbatim
	// (e.g. "pause_turn", "RECITATION"). Default: "tool_calls" when
	// ToolCalls is set, else "stop" (or Anthropic's stop_sequence when
	// StopSequence is set).
	Finish string
	// StopSequence is the stop sequence that ended the text (Anthropic's
	// stop_reason "stop_sequence" and stop_sequence field).
	StopSequence string
	// Usage is the token usage the provider reports.
	Usage Usage
	// NoUsage leaves usage out entirely on the OpenAI wire (also from a
	// stream that asked for include_usage), as OpenAI-compatible servers
	// often do, so the caller has to count tokens itself. Anthropic and
	// Gemini always report usage and ignore it.
	NoUsage bool
	// Model is the model name in the answer; default the requested one
	// (providers often answer with a dated snapshot name).
	Model string
	// Blocked, on the Gemini wire, refuses the prompt the way Gemini's
	// safety filters do: a 200 with promptFeedback.blockReason set to it
	// (e.g. "SAFETY", "PROHIBITED_CONTENT") and no candidates. Ignored by
	// the other wires.
	Blocked string
	// Embedding is the vector returned for every input of an embeddings
	// call; default Vector(input, dimensions) per input.
	Embedding []float32

	// Chunks is how many pieces a streamed Text is cut into (at most one
	// per character); 0 cuts it into words, as models stream tokens.
	// Tool call arguments are streamed in max(Chunks, 3) pieces.
	Chunks int
	// Delay is waited before the answer starts (time to first byte).
	Delay time.Duration
	// ChunkDelay is waited between streamed events.
	ChunkDelay time.Duration
	// CutAfter, when positive, drops the connection after that many
	// stream events have been sent, with no terminating event: an
	// interrupted stream. Events count as they go on the wire: on OpenAI
	// every data: line (the role chunk, each piece, the finish chunk, the
	// usage chunk, [DONE]); on Anthropic every event, ping included; on
	// Gemini every response chunk.
	CutAfter int
	// StallAfter, when positive, stops sending after that many stream
	// events and keeps the connection open until the client goes away or
	// the server closes.
	StallAfter int
	// Hang answers nothing until the client goes away or the server
	// closes (a provider that never responds).
	Hang bool
	// Fail answers with the provider's error response instead.
	Fail *Failure
	// FailAfter, with Fail set and a streamed call, sends that many
	// stream events and then the provider's in-stream error event
	// (OpenAI data: {"error":…}, Anthropic event: error) and ends the
	// stream (a stream with fewer events ends normally). Gemini has no
	// in-stream error; there the stream is cut.
	FailAfter int
}

// defaultReply is answered when nothing is scripted for a call.
var defaultReply = Reply{Text: "Hello from the fake.", Usage: Usage{Input: 12, Output: 5}}

// ToolCall is one function call the assistant makes.
type ToolCall struct {
	// ID is the call id; default a provider-style id (call_…, toolu_…).
	// Gemini has no call ids and ignores it.
	ID string
	// Name is the function name.
	Name string
	// Arguments is the arguments as a JSON object text, e.g.
	// {"city":"Paris"}. Anthropic and Gemini send it as an object, so it
	// must be valid JSON there.
	Arguments string
}

// Usage is token usage as the provider reports it, each number in the
// provider's own meaning (so a gateway's normalisation is tested, not
// assumed).
type Usage struct {
	// Input is OpenAI prompt_tokens and Gemini promptTokenCount (both
	// include cached tokens) or Anthropic input_tokens (which excludes
	// cache reads and writes).
	Input int
	// Output is OpenAI completion_tokens, Anthropic output_tokens or
	// Gemini candidatesTokenCount.
	Output int
	// Cached is OpenAI prompt_tokens_details.cached_tokens, Anthropic
	// cache_read_input_tokens or Gemini cachedContentTokenCount.
	Cached int
	// CacheWrite is Anthropic cache_creation_input_tokens.
	CacheWrite int
	// Reasoning is OpenAI completion_tokens_details.reasoning_tokens
	// (included in Output) or Gemini thoughtsTokenCount (not included in
	// candidatesTokenCount, added to totalTokenCount).
	Reasoning int
}

// Failure is an error response in the provider's error format.
type Failure struct {
	// Status is the HTTP status; default 500.
	Status int
	// Message is the error message; default the provider's usual message
	// for Status.
	Message string
	// Type is OpenAI's error.type, Anthropic's error.type or Gemini's
	// error.status; default the provider's usual value for Status (e.g.
	// rate_limit_error, RESOURCE_EXHAUSTED, overloaded_error for 529).
	Type string
	// Code is OpenAI's error.code (e.g. rate_limit_exceeded); default by
	// Status, null when there is none.
	Code string
	// Param is OpenAI's error.param; default null.
	Param string
	// RetryAfter, when positive, is sent as retry-after in whole seconds
	// (rounded up), and for OpenAI also as retry-after-ms.
	RetryAfter time.Duration
	// Header holds extra response headers (e.g. x-ratelimit-remaining-tokens).
	Header http.Header
}

func (f Failure) status() int {
	if f.Status == 0 {
		return http.StatusInternalServerError
	}
	return f.Status
}

// writeHeaders sets Header and retry-after on w.
func (f Failure) writeHeaders(w http.ResponseWriter, ms bool) {
	for k, vs := range f.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if f.RetryAfter > 0 {
		secs := int64((f.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		if ms {
			w.Header().Set("Retry-After-Ms", strconv.FormatInt(f.RetryAfter.Milliseconds(), 10))
		}
	}
}

// finish returns the neutral finish reason of r: Finish, or the default.
func (r Reply) finish() string {
	if r.Finish != "" {
		return r.Finish
	}
	if len(r.ToolCalls) > 0 {
		return "tool_calls"
	}
	return "stop"
}

// textPieces cuts r.Text for streaming.
func (r Reply) textPieces() []string { return split(r.Text, r.Chunks) }

// argPieces cuts tool call arguments for streaming.
func (r Reply) argPieces(args string) []string { return split(args, max(r.Chunks, 3)) }

// split cuts s into n nearly equal pieces (by characters, at most one per
// character), or into words when n <= 0. Empty s gives no pieces.
func split(s string, n int) []string {
	if s == "" {
		return nil
	}
	if n <= 0 {
		// A word takes the spaces before it, as tokenizers do (" two").
		var out []string
		start := 0
		prevSpace := false
		for i, c := range s {
			sp := unicode.IsSpace(c)
			if sp && !prevSpace && i > start {
				out = append(out, s[start:i])
				start = i
			}
			prevSpace = sp
		}
		return append(out, s[start:])
	}
	runes := utf8.RuneCountInString(s)
	n = min(n, runes)
	out := make([]string, 0, n)
	pos := 0
	for i := range n {
		count := runes / n
		if i < runes%n {
			count++
		}
		end := pos
		for range count {
			_, size := utf8.DecodeRuneInString(s[end:])
			end += size
		}
		out = append(out, s[pos:end])
		pos = end
	}
	return out
}

// Vector is the embedding the fakes return for input when none is
// scripted: dims values (default 8) derived from the input, each a
// multiple of 1/256 in [-1, 1] so that float JSON and base64 float32 carry
// exactly the same numbers.
func Vector(input string, dims int) []float32 {
	if dims <= 0 {
		dims = 8
	}
	out := make([]float32, dims)
	for i := range out {
		h := fnv.New64a()
		_, _ = h.Write([]byte(input))
		_, _ = h.Write([]byte{byte(i), byte(i >> 8)})
		out[i] = float32(int(h.Sum64()%513)-256) / 256
	}
	return out
}
