// Package gemini is the Google Gemini API provider (kind "gemini"). It
// turns OpenAI chat completions into generateContent and
// streamGenerateContent calls and OpenAI embeddings into
// batchEmbedContents calls, and translates Gemini's answers, streams and
// errors back into OpenAI's format.
//
// A config entry needs only the key:
//
//	ai:
//	  providers:
//	    google:
//	      kind: gemini
//	      api_key: ${GEMINI_API_KEY}
//
// base_url defaults to DefaultBaseURL; point it at another API version
// (".../v1") or a proxy that speaks the same paths.
package gemini

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/ai/provider"
)

// Kind is the provider kind this package registers.
const Kind = "gemini"

// DefaultBaseURL is the Gemini API used when the config gives no base_url.
const DefaultBaseURL = "https://generativelanguage.googleapis.com/v1beta"

func init() {
	provider.Register(Kind, provider.Factory{
		DefaultBaseURL: DefaultBaseURL,
		NeedsKey:       true,
		Embeddings:     true,
		New:            New,
	})
}

// Provider speaks the Gemini API. It holds only its config and is safe
// for concurrent use.
type Provider struct {
	base    string
	key     string
	headers map[string]string
}

var _ provider.Provider = (*Provider)(nil)

// New builds a Gemini provider from c. The base URL must be an absolute
// http(s) URL and the key must be set.
func New(c provider.Config) (provider.Provider, error) {
	base := strings.TrimRight(c.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("gemini provider %q: base URL %q is not an absolute http(s) URL", c.Name, c.BaseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("gemini provider %q: base URL %q must not have a query or fragment", c.Name, c.BaseURL)
	}
	if c.Key == "" {
		return nil, fmt.Errorf("gemini provider %q: an API key is required", c.Name)
	}
	headers := make(map[string]string, len(c.Headers))
	for k, v := range c.Headers {
		headers[k] = v
	}
	return &Provider{base: base, key: c.Key, headers: headers}, nil
}

// Request builds the generateContent, streamGenerateContent or
// batchEmbedContents request for c. A request that cannot be expressed
// in Gemini's format (token-array embedding input, a tool message for an
// unknown tool call, an unsupported content part) is refused with an
// *provider.Error of kind Invalid.
func (p *Provider) Request(ctx context.Context, c *provider.Call) (*http.Request, error) {
	model := strings.TrimPrefix(c.Model, "models/")
	var (
		body   []byte
		method string
		err    error
	)
	switch c.Op {
	case provider.Chat:
		body, err = chatBody(c.Body)
		method = ":generateContent"
		if c.Stream {
			method = ":streamGenerateContent?alt=sse"
		}
	case provider.Embeddings:
		body, err = embedBody(c.Body, model)
		method = ":batchEmbedContents"
	default:
		return nil, fmt.Errorf("gemini: unsupported operation %s", c.Op)
	}
	if err != nil {
		return nil, err
	}
	target := p.base + "/models/" + url.PathEscape(model) + method
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range p.headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.Stream {
		req.Header.Set("Accept", "text/event-stream")
	}
	req.Header.Set("X-Goog-Api-Key", p.key)
	return req, nil
}

// Decode translates a complete generateContent or batchEmbedContents
// answer.
func (p *Provider) Decode(c *provider.Call, body []byte) (provider.Result, error) {
	switch c.Op {
	case provider.Chat:
		return decodeChat(c, body)
	case provider.Embeddings:
		return decodeEmbeddings(c, body)
	}
	return provider.Result{}, fmt.Errorf("gemini: unsupported operation %s", c.Op)
}

// Stream returns the translator of a streamGenerateContent?alt=sse answer.
func (p *Provider) Stream(c *provider.Call) provider.Stream { return newStream(c) }

// Failure classifies a Gemini error answer.
func (p *Provider) Failure(status int, h http.Header, body []byte) *provider.Error {
	return failure(status, h, body)
}

// invalid is a request the gateway refuses to translate: the caller's
// fault, reported like the provider's own 400.
func invalid(param, format string, args ...any) *provider.Error {
	return &provider.Error{
		Kind:    provider.Invalid,
		Status:  http.StatusBadRequest,
		Message: fmt.Sprintf(format, args...),
		Type:    "invalid_request_error",
		Code:    "invalid_value",
		Param:   param,
	}
}
