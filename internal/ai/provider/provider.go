// Package provider is the contract between the AI gateway and the model
// providers it fronts. The gateway speaks OpenAI's chat completions and
// embeddings format to its callers; a provider package turns such a
// request into its own HTTP request and its answers (complete, streamed,
// or failed) back into OpenAI's format.
//
// Adding a provider is one package that implements Provider and registers
// a Factory under its kind in an init function; the gateway links the
// packages it ships in internal/ai/providers.
package provider

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/pinpointgw/pinpoint/internal/ai/pricing"
)

// Op is what a call asks the model for.
type Op uint8

const (
	// Chat is POST /v1/chat/completions.
	Chat Op = iota + 1
	// Embeddings is POST /v1/embeddings.
	Embeddings
)

func (o Op) String() string {
	switch o {
	case Chat:
		return "chat"
	case Embeddings:
		return "embeddings"
	}
	return "unknown"
}

// Call is one attempt at one provider for one model.
type Call struct {
	// Op is the kind of request.
	Op Op
	// Body is the caller's request in OpenAI's format (a chat completions
	// or embeddings request body) whose "model" already names Model, and,
	// for a streamed chat, whose stream_options.include_usage is true so
	// that OpenAI-format servers report usage. Providers must not modify
	// it: the gateway reuses it for fallback attempts.
	Body []byte
	// Model is the provider's model id (an Azure deployment name for
	// Azure OpenAI).
	Model string
	// Stream is true when the caller asked for "stream": true.
	Stream bool
}

// Config is what a Factory gets to build a provider: one entry of
// ai.providers, with its secret resolved.
type Config struct {
	// Name is the provider's name in the config (used in messages).
	Name string
	// BaseURL is the API's base URL, without a trailing slash; the
	// factory's default when the config gives none.
	BaseURL string
	// Key is the resolved API key ("" for a keyless OpenAI-compatible server).
	Key string
	// APIVersion is the api-version query parameter of Azure OpenAI or
	// the anthropic-version header; "" for the provider's default.
	APIVersion string
	// Headers are extra request headers sent with every call.
	Headers map[string]string
}

// Provider translates between OpenAI's format and one provider's API. A
// Provider is built once per config revision and must be safe for
// concurrent use.
type Provider interface {
	// Request builds the HTTP request that performs c, with its
	// credentials set. The gateway sends it with its own client.
	Request(ctx context.Context, c *Call) (*http.Request, error)
	// Decode translates the body of a complete 2xx answer to c into an
	// OpenAI-format response body (a chat.completion or an embeddings
	// list) and its usage. An error means the answer could not be
	// understood; the gateway treats that like a server error.
	Decode(c *Call, body []byte) (Result, error)
	// Stream returns a translator for the server-sent events of a
	// streamed 2xx answer to c.
	Stream(c *Call) Stream
	// Failure classifies a non-2xx answer; body is at most the first
	// 64 KiB of the answer.
	Failure(status int, h http.Header, body []byte) *Error
}

// Result is a translated complete answer.
type Result struct {
	// Body is the answer in OpenAI's format, "model" naming Call.Model.
	Body []byte
	// Usage is the provider's token count; HasUsage is false when the
	// provider reported none (the gateway then counts with a tokenizer).
	Usage    pricing.Usage
	HasUsage bool
}

// Stream translates one streamed answer. The gateway calls Event for
// every server-sent event in order, then End once the provider closed the
// stream or it broke off.
//
// Every translator emits, at the end of a complete stream, a usage chunk
// in OpenAI's shape ("choices": [] and "usage" set) when it knows the
// usage: an OpenAI-format server sends one itself (the gateway asks for
// it), the others emit one from End. The gateway forwards it only to
// callers that asked for stream_options.include_usage.
type Stream interface {
	// Event handles one event: name is the SSE "event:" field (empty when
	// absent) and data the joined "data:" lines. emit is called with the
	// JSON of each OpenAI chat.completion.chunk the event yields, in
	// order; its argument is only valid during the call. An OpenAI-format
	// stream's "[DONE]" is an event like any other: the translator
	// consumes it without emitting. An error from emit (the client went
	// away) must be returned as is.
	//
	// An error event in the stream (Anthropic's "error", an OpenAI chunk
	// holding "error") is returned as an *Error.
	Event(name, data []byte, emit func(chunk []byte) error) error
	// End is called once, after the last event. It emits the trailing
	// chunks a complete stream still owes (the usage chunk) and reports
	// whether the provider ended the stream properly (OpenAI's [DONE],
	// Anthropic's message_stop, Gemini's last candidate with a
	// finishReason). A stream that broke off emits nothing.
	End(emit func(chunk []byte) error) (complete bool, err error)
	// Usage is the usage the stream reported so far, if any.
	Usage() (pricing.Usage, bool)
}

// Kind classifies a provider failure: it decides whether the gateway
// tries the next target and what the caller is told.
type Kind uint8

const (
	// Server is a 5xx answer, an overloaded provider (Anthropic's 529),
	// an answer that could not be understood, or a broken connection:
	// the next target is tried.
	Server Kind = iota + 1
	// RateLimited is a 429 from the provider: the next target is tried.
	RateLimited
	// Timeout is a provider that did not answer in time: the next target
	// is tried.
	Timeout
	// Denied is the provider refusing the gateway's own credentials or
	// configuration (401, 403, 404 for a model id or deployment that the
	// operator configured and the provider does not know, OpenAI's 429
	// insufficient_quota for an unfunded account): the next target is
	// tried, and if none succeeds the caller gets ai.provider_denied.
	Denied
	// Invalid is the provider refusing the caller's request itself (400,
	// 413, 422: a context too long, a bad parameter): no other target is
	// tried and the caller gets the provider's message in OpenAI's error
	// shape with the provider's status.
	Invalid
)

func (k Kind) String() string {
	switch k {
	case Server:
		return "server_error"
	case RateLimited:
		return "rate_limited"
	case Timeout:
		return "timeout"
	case Denied:
		return "denied"
	case Invalid:
		return "invalid_request"
	}
	return "unknown"
}

// Retryable reports whether a failure of this kind moves on to the next target.
func (k Kind) Retryable() bool { return k != Invalid }

// Error is a classified provider failure.
type Error struct {
	Kind Kind
	// Status is the provider's HTTP status (0 for a transport failure).
	Status int
	// Message is the provider's error message. It is shown to the caller
	// only for Invalid failures (it is about their request); for the
	// others it goes to the trace and the call log only.
	Message string
	// Type, Code and Param are the provider's error fields in OpenAI's
	// vocabulary where the provider has them ("invalid_request_error",
	// "context_length_exceeded", "messages"); empty otherwise.
	Type, Code, Param string
	// RetryAfter is the provider's Retry-After, if it sent one.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s (HTTP %d): %s", e.Kind, e.Status, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Message)
}

// Factory builds a provider from its config. It returns an error for a
// config it cannot use (a malformed base URL, a missing key where the
// provider needs one); the message names the problem, not the field path.
type Factory struct {
	// DefaultBaseURL is used when the config gives no base_url; "" means
	// base_url is required.
	DefaultBaseURL string
	// NeedsKey is true when the provider cannot be called without api_key.
	NeedsKey bool
	// Embeddings is true when the provider serves embeddings models.
	Embeddings bool
	// New builds the provider.
	New func(c Config) (Provider, error)
}

var (
	mu        sync.RWMutex
	factories = map[string]Factory{}
)

// Register makes a provider kind available; it panics on a duplicate.
// Provider packages call it from init.
func Register(kind string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := factories[kind]; dup {
		panic("provider: kind " + kind + " registered twice")
	}
	factories[kind] = f
}

// Lookup returns the factory of a kind.
func Lookup(kind string) (Factory, bool) {
	mu.RLock()
	defer mu.RUnlock()
	f, ok := factories[kind]
	return f, ok
}

// Kinds lists the registered kinds, sorted.
func Kinds() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(factories))
	for k := range factories {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
