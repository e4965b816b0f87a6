// Package openai is the provider for OpenAI's Chat Completions and
// Embeddings API and for the servers that speak it: kind "openai" (the
// public API) and kind "openai_compatible" (Ollama, vLLM, llama.cpp,
// Together, Groq… with a base URL of their own and an optional key).
//
// The gateway already speaks this format, so requests and answers pass
// through unchanged; the provider only reads the usage and classifies
// failures. Azure OpenAI and Mistral speak the same format with small
// differences and reuse this package through a Dialect.
package openai

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unsafe"

	"github.com/tidwall/gjson"

	"github.com/pinpointgw/pinpoint/internal/ai/pricing"
	"github.com/pinpointgw/pinpoint/internal/ai/provider"
)

// DefaultBaseURL is the base URL of OpenAI's public API.
const DefaultBaseURL = "https://api.openai.com/v1"

func init() {
	provider.Register("openai", provider.Factory{
		DefaultBaseURL: DefaultBaseURL,
		NeedsKey:       true,
		Embeddings:     true,
		New: func(c provider.Config) (provider.Provider, error) {
			return New(c, Dialect{NeedsKey: true})
		},
	})
	provider.Register("openai_compatible", provider.Factory{
		Embeddings: true,
		New: func(c provider.Config) (provider.Provider, error) {
			return New(c, Dialect{})
		},
	})
}

// Dialect is how a server departs from OpenAI's API. The zero value is
// OpenAI's API itself with an optional key; each nil hook means "as
// OpenAI does".
type Dialect struct {
	// NeedsKey makes New refuse a config without a key.
	NeedsKey bool
	// URL returns the endpoint of a call. Default: base +
	// "/chat/completions" or base + "/embeddings".
	URL func(base string, c *provider.Call) string
	// Auth sets the credential header for a non-empty key. Default:
	// "Authorization: Bearer <key>".
	Auth func(h http.Header, key string)
	// Body returns the request body for a call: c.Body itself or an
	// edited copy, never c.Body modified. Default: c.Body.
	Body func(c *provider.Call) ([]byte, error)
	// Answer edits a chat completion or one stream chunk into OpenAI's
	// vocabulary (a finish reason OpenAI names otherwise). It returns its
	// argument when there is nothing to change, and never modifies it.
	// Default: no edit.
	Answer func(b []byte) ([]byte, error)
}

// Provider calls one OpenAI-format server. It is safe for concurrent use.
type Provider struct {
	base    string
	key     string
	chatURL string
	embURL  string
	header  http.Header
	d       Dialect
}

var _ provider.Provider = (*Provider)(nil)

// New builds a provider for c speaking dialect d. It refuses a base URL
// that is not an absolute http(s) URL, a missing key when d needs one,
// and extra headers that could not be sent.
func New(c provider.Config, d Dialect) (*Provider, error) {
	base, err := checkBase(c.BaseURL)
	if err != nil {
		return nil, err
	}
	if d.NeedsKey && c.Key == "" {
		return nil, errors.New("API key is required")
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json")
	if c.Key != "" {
		if d.Auth != nil {
			d.Auth(h, c.Key)
		} else {
			h.Set("Authorization", "Bearer "+c.Key)
		}
	}
	// The operator's headers come last, so that a keyless server with an
	// authentication scheme of its own can be given its Authorization.
	for k, v := range c.Headers {
		if !validHeader(k, v) {
			return nil, fmt.Errorf("header %q cannot be sent: invalid name or value", k)
		}
		h.Set(k, v)
	}
	return &Provider{
		base:    base,
		key:     c.Key,
		chatURL: base + "/chat/completions",
		embURL:  base + "/embeddings",
		header:  h,
		d:       d,
	}, nil
}

// checkBase validates a base URL and drops its trailing slashes.
func checkBase(s string) (string, error) {
	s = strings.TrimRight(s, "/")
	if s == "" {
		return "", errors.New("base URL is required")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("base URL %q is not an absolute http or https URL", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("base URL %q must not have credentials, a query or a fragment", s)
	}
	return s, nil
}

// validHeader tells whether a header can be sent: its name an HTTP token,
// its value free of control characters other than tab.
func validHeader(name, value string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// Request builds the POST of c with its credentials and the configured
// headers.
func (p *Provider) Request(ctx context.Context, c *provider.Call) (*http.Request, error) {
	if c.Op != provider.Chat && c.Op != provider.Embeddings {
		return nil, fmt.Errorf("openai: unsupported operation %s", c.Op)
	}
	body := c.Body
	if p.d.Body != nil {
		var err error
		if body, err = p.d.Body(c); err != nil {
			return nil, err
		}
	}
	var u string
	switch {
	case p.d.URL != nil:
		u = p.d.URL(p.base, c)
	case c.Op == provider.Embeddings:
		u = p.embURL
	default:
		u = p.chatURL
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = p.header.Clone()
	if c.Stream && c.Op == provider.Chat {
		req.Header.Set("Accept", "text/event-stream")
	}
	return req, nil
}

// Decode returns the answer as is (edited by the dialect's Answer hook
// for a chat) with the usage it reports. A body that does not look like a
// JSON object is an error, and a body with a top-level "error" (some
// OpenAI-compatible servers answer 200 with one) is returned as the
// *provider.Error it describes.
func (p *Provider) Decode(c *provider.Call, body []byte) (provider.Result, error) {
	if !isObject(body) {
		return provider.Result{}, errors.New("openai: answer is not a JSON object")
	}
	if hasError(body) {
		return provider.Result{}, chunkError(body, p.key)
	}
	if c.Op == provider.Chat && p.d.Answer != nil {
		var err error
		if body, err = p.d.Answer(body); err != nil {
			return provider.Result{}, fmt.Errorf("openai: editing answer: %w", err)
		}
	}
	res := provider.Result{Body: body}
	if u := get(body, "usage"); u.IsObject() {
		res.Usage, res.HasUsage = usageOf(u), true
	}
	return res, nil
}

// Stream returns a translator for a streamed chat answer.
func (p *Provider) Stream(c *provider.Call) provider.Stream {
	return &stream{answer: p.d.Answer, key: p.key}
}

// usageOf reads an OpenAI "usage" object.
func usageOf(u gjson.Result) pricing.Usage {
	var o pricing.OpenAIUsage
	// One pass over the object rather than a lookup per field.
	u.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "prompt_tokens":
			o.PromptTokens = v.Int()
		case "completion_tokens":
			o.CompletionTokens = v.Int()
		case "prompt_tokens_details":
			o.PromptTokensDetails.CachedTokens = v.Get("cached_tokens").Int()
		}
		return true
	})
	return o.Usage()
}

var quotedError = []byte(`"error"`)

// isObject tells whether b looks like one JSON object: it starts with
// "{" and ends with "}", spaces aside. That refuses an HTML page, plain
// text or a truncated body without the cost of validating every byte (a
// large embeddings answer would take milliseconds); gjson reads malformed
// JSON without failing.
func isObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) >= 2 && b[0] == '{' && b[len(b)-1] == '}'
}

// get looks path up in b without copying b or the result, unlike
// gjson.GetBytes: the result must be read before b changes and never
// kept (strings from it are cloned when kept).
func get(b []byte, path string) gjson.Result {
	return gjson.Get(unsafe.String(unsafe.SliceData(b), len(b)), path)
}
