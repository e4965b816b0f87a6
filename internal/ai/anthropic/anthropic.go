// Package anthropic is the provider for Anthropic's Messages API. It
// turns the gateway's OpenAI chat completions requests into Messages
// requests and Anthropic's answers, complete or streamed, back into
// chat.completion objects and chat.completion.chunk events.
//
// Anthropic serves no embeddings models: an embeddings call is refused
// before anything is sent.
package anthropic

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/pinpointgw/pinpoint/internal/ai/provider"
)

// Kind is the provider kind in ai.providers.
const Kind = "anthropic"

// DefaultBaseURL is the API's base URL when the config gives none.
const DefaultBaseURL = "https://api.anthropic.com/v1"

// DefaultVersion is the anthropic-version header sent when the config
// gives no api_version.
const DefaultVersion = "2023-06-01"

func init() {
	provider.Register(Kind, provider.Factory{
		DefaultBaseURL: DefaultBaseURL,
		NeedsKey:       true,
		Embeddings:     false,
		New:            New,
	})
}

var _ provider.Provider = (*client)(nil)

// client is one configured Anthropic provider. It holds no per-call
// state and is safe for concurrent use.
type client struct {
	name     string
	endpoint string // {base}/messages
	key      string
	version  string
	headers  map[string]string
}

// New builds an Anthropic provider from c. BaseURL must be an absolute
// http(s) URL and Key must be set; APIVersion defaults to DefaultVersion.
// Headers are set last on every request, so they may replace any header
// the provider sets itself (anthropic-beta is the usual one to add).
func New(c provider.Config) (provider.Provider, error) {
	base := strings.TrimRight(c.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("anthropic provider %q: base URL %q is not an absolute http(s) URL", c.Name, c.BaseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("anthropic provider %q: base URL %q must not have a query or fragment", c.Name, c.BaseURL)
	}
	if c.Key == "" {
		return nil, fmt.Errorf("anthropic provider %q needs an API key", c.Name)
	}
	version := c.APIVersion
	if version == "" {
		version = DefaultVersion
	}
	headers := make(map[string]string, len(c.Headers))
	for k, v := range c.Headers {
		headers[k] = v
	}
	return &client{name: c.Name, endpoint: base + "/messages", key: c.Key, version: version, headers: headers}, nil
}

// errNoEmbeddings refuses an embeddings call: the caller's model choice
// is the problem, so it is Invalid and nothing is sent.
func errNoEmbeddings() *provider.Error {
	return &provider.Error{
		Kind:    provider.Invalid,
		Status:  http.StatusBadRequest,
		Message: "anthropic serves no embeddings models",
		Type:    "invalid_request_error",
	}
}

// Request builds POST {base}/messages for a chat call.
func (p *client) Request(ctx context.Context, c *provider.Call) (*http.Request, error) {
	if c.Op != provider.Chat {
		if c.Op == provider.Embeddings {
			return nil, errNoEmbeddings()
		}
		return nil, fmt.Errorf("anthropic: unsupported operation %s", c.Op)
	}
	body, err := translateRequest(c)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	h := req.Header
	h["X-Api-Key"] = []string{p.key}
	h["Anthropic-Version"] = []string{p.version}
	h["Content-Type"] = []string{"application/json"}
	if c.Stream {
		h["Accept"] = []string{"text/event-stream"}
	} else {
		h["Accept"] = []string{"application/json"}
	}
	for k, v := range p.headers {
		h.Set(k, v)
	}
	return req, nil
}

// Failure classifies an error answer {"type":"error","error":{"type",
// "message"}} by its status, keeping Anthropic's error type.
func (p *client) Failure(status int, h http.Header, body []byte) *provider.Error {
	e := &provider.Error{Kind: kindOf(status), Status: status}
	if gjson.ValidBytes(body) {
		ev := gjson.GetBytes(body, "error")
		e.Type = ev.Get("type").String()
		e.Message = ev.Get("message").String()
	}
	if e.Message == "" {
		if t := strings.TrimSpace(string(body)); t != "" && len(t) <= 512 {
			e.Message = t
		} else {
			e.Message = http.StatusText(status)
		}
	}
	if e.Kind == provider.Invalid && strings.HasPrefix(e.Message, "prompt is too long") {
		e.Code = "context_length_exceeded"
	}
	if e.Kind == provider.RateLimited {
		e.Code = "rate_limit_exceeded"
	}
	e.RetryAfter = retryAfter(h.Get("Retry-After"))
	return e
}

// kindOf classifies an HTTP status: the caller's request (400, 413, 422),
// the gateway's credentials or configuration (401, 402 billing, 403, 404
// model), limits (429), slowness (408, 504 timeout_error) and the rest as
// server trouble (5xx, 529 overloaded, anything unexpected).
func kindOf(status int) provider.Kind {
	switch status {
	case 400, 413, 422:
		return provider.Invalid
	case 401, 402, 403, 404:
		return provider.Denied
	case 429:
		return provider.RateLimited
	case 408, 504:
		return provider.Timeout
	}
	return provider.Server
}

// statusOf is the HTTP status Anthropic answers with for an error type;
// it classifies errors that arrive inside a stream, which has no status.
func statusOf(typ string) int {
	switch typ {
	case "invalid_request_error":
		return 400
	case "authentication_error":
		return 401
	case "billing_error":
		return 402
	case "permission_error":
		return 403
	case "not_found_error":
		return 404
	case "request_too_large":
		return 413
	case "rate_limit_error":
		return 429
	case "timeout_error":
		return 504
	case "overloaded_error":
		return 529
	}
	return 500
}

// retryAfter parses a Retry-After value: delay seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 || secs > 1e6 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// errBadAnswer wraps an answer that is not a Messages response.
var errBadAnswer = errors.New("anthropic: answer is not a message")
