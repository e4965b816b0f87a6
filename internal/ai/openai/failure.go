package openai

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/pinpointgw/pinpoint/internal/ai/provider"
)

// maxMessage bounds a provider's error message kept in an Error.
const maxMessage = 1024

// Failure classifies a non-2xx answer by its status and OpenAI error body
// ({"error": {"message", "type", "code", "param"}}, or the flatter shapes
// of Mistral, vLLM and Ollama). A body that is not JSON (an HTML page
// from a proxy) gives the message "HTTP <status>". Provider keys quoted in
// the message are redacted.
func (p *Provider) Failure(status int, h http.Header, body []byte) *provider.Error {
	f := parseError(body)
	return &provider.Error{
		Kind:       statusKind(status, f.typ, f.code),
		Status:     status,
		Message:    f.summary(status, p.key),
		Type:       f.typ,
		Code:       f.code,
		Param:      f.param,
		RetryAfter: retryAfter(h, time.Now()),
	}
}

// statusKind classifies an HTTP failure.
func statusKind(status int, typ, code string) provider.Kind {
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		return provider.Invalid
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return provider.Denied
	case http.StatusTooManyRequests:
		if typ == "insufficient_quota" || code == "insufficient_quota" {
			return provider.Denied
		}
		return provider.RateLimited
	case http.StatusRequestTimeout:
		return provider.Timeout
	}
	return provider.Server
}

// errorKind classifies an error that came without an HTTP status (in a
// stream, or in a 2xx body) by OpenAI's error type and code.
func errorKind(typ, code string) provider.Kind {
	switch {
	case typ == "insufficient_quota" || code == "insufficient_quota":
		return provider.Denied
	case code == "rate_limit_exceeded" || typ == "requests" || typ == "tokens" ||
		typ == "rate_limit_error" || typ == "rate_limit_exceeded":
		return provider.RateLimited
	case code == "invalid_api_key" || code == "model_not_found" ||
		typ == "authentication_error" || typ == "permission_error":
		return provider.Denied
	case typ == "invalid_request_error":
		return provider.Invalid
	case typ == "timeout" || code == "timeout":
		return provider.Timeout
	}
	return provider.Server
}

// hasError tells whether b has a top-level "error" object or string.
func hasError(b []byte) bool {
	if !bytes.Contains(b, quotedError) {
		return false
	}
	e := get(b, "error")
	return e.IsObject() || e.Type == gjson.String
}

// chunkError is the failure an "error" inside a stream or a 2xx body
// describes. Its Status is the error's numeric code when it has one
// (vLLM's "code": 400), else 400 for an invalid request and 0 otherwise.
func chunkError(b []byte, key string) *provider.Error {
	f := parseError(b)
	status := 0
	if n, err := strconv.Atoi(f.code); err == nil && n >= 400 && n <= 599 {
		status = n
	}
	kind := errorKind(f.typ, f.code)
	if status != 0 {
		kind = statusKind(status, f.typ, f.code)
	} else if kind == provider.Invalid {
		status = http.StatusBadRequest
	}
	msg := f.summary(status, key)
	if !f.ok {
		msg = "provider sent an error without a message"
	}
	return &provider.Error{Kind: kind, Status: status, Message: msg, Type: f.typ, Code: f.code, Param: f.param}
}

// errorFields are the fields of an error body.
type errorFields struct {
	message, typ, code, param string
	ok                        bool // the body was a JSON error
}

// parseError reads an error body: {"error": {...}} (OpenAI, Azure),
// {"error": "text"} (Ollama), or the fields at the top level (Mistral,
// vLLM, FastAPI's "detail"). Non-string messages (Mistral's validation
// details) are kept as their JSON.
func parseError(body []byte) errorFields {
	if !isObject(body) {
		return errorFields{}
	}
	root := gjson.Parse(string(body)) // a copy: the fields outlive body
	obj := root
	e := root.Get("error")
	if e.IsObject() {
		obj = e
	}
	f := errorFields{
		message: obj.Get("message").String(),
		typ:     obj.Get("type").String(),
		code:    obj.Get("code").String(),
		param:   obj.Get("param").String(),
	}
	if e.Type == gjson.String {
		f.message = e.Str
	}
	if f.message == "" {
		f.message = obj.Get("detail").String()
	}
	f.ok = f.message != "" || f.typ != "" || f.code != ""
	return f
}

// summary is the message to keep: the provider's, redacted and bounded,
// or "HTTP <status>" when it sent none.
func (f errorFields) summary(status int, key string) string {
	if f.message == "" {
		if status == 0 {
			return "provider error"
		}
		return fmt.Sprintf("HTTP %d", status)
	}
	return redact(f.message, key)
}

// redact removes provider keys from a message, bounded to maxMessage
// bytes: the configured key itself, and anything shaped like an OpenAI
// key ("sk-…", also masked as OpenAI's 401 quotes it) becomes "sk-***".
func redact(msg, key string) string {
	if len(key) >= 8 {
		msg = strings.ReplaceAll(msg, key, "***")
	}
	if strings.Contains(msg, "sk-") {
		var b strings.Builder
		for {
			i := strings.Index(msg, "sk-")
			if i < 0 {
				break
			}
			if i > 0 && isAlnum(msg[i-1]) {
				// Part of a word ("task-…"), not a key.
				b.WriteString(msg[:i+3])
				msg = msg[i+3:]
				continue
			}
			j := i + 3
			for j < len(msg) && (keyByte(msg[j]) || msg[j] == '*' || msg[j] == '.') {
				j++
			}
			// A trailing dot ends the sentence, not the key.
			for j > i+3 && msg[j-1] == '.' {
				j--
			}
			b.WriteString(msg[:i])
			if j > i+3 {
				b.WriteString("sk-***")
			} else {
				b.WriteString("sk-")
			}
			msg = msg[j:]
		}
		b.WriteString(msg)
		msg = b.String()
	}
	if len(msg) > maxMessage {
		cut := maxMessage
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}

// keyByte tells whether c can be part of an API key.
func keyByte(c byte) bool { return isAlnum(c) || c == '-' || c == '_' }

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// retryAfter reads retry-after-ms (OpenAI, Azure) or Retry-After in
// seconds or as an HTTP date; 0 when absent or unreadable.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if d, ok := duration(v, time.Millisecond); ok {
			return d
		}
	}
	if v := h.Get("Retry-After"); v != "" {
		if d, ok := duration(v, time.Second); ok {
			return d
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	return 0
}

// duration parses a non-negative number of units.
func duration(v string, unit time.Duration) (time.Duration, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || !(f >= 0) || f*float64(unit) >= math.MaxInt64 {
		return 0, false
	}
	return time.Duration(f * float64(unit)), true
}
