package gemini

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/ai/provider"
	"github.com/tidwall/gjson"
)

// failure classifies an error answer, {"error":{"code","message",
// "status","details"}} (sometimes wrapped in a one-element array), or a
// body that is not Gemini's (a proxy's HTML page).
func failure(status int, h http.Header, body []byte) *provider.Error {
	res := parse(body)
	if res.IsArray() {
		res = res.Get("0")
	}
	e := res.Get("error")
	if !e.IsObject() {
		msg := strings.TrimSpace(string(body))
		if len(msg) > 512 {
			msg = msg[:512]
		}
		if msg == "" {
			msg = http.StatusText(status)
		}
		e = gjson.Result{}
		pe := classify(status, h, e)
		pe.Message = msg
		return pe
	}
	return classify(status, h, e)
}

// classify maps an HTTP status and Gemini's error object to a Kind and
// OpenAI's error vocabulary. Gemini answers a bad API key with 400
// INVALID_ARGUMENT (reason API_KEY_INVALID), which is the gateway's
// credential, not the caller's request: Denied.
func classify(status int, h http.Header, e gjson.Result) *provider.Error {
	pe := &provider.Error{
		Status:  status,
		Message: strings.Clone(e.Get("message").String()),
	}
	if pe.Message == "" {
		pe.Message = http.StatusText(status)
	}
	grpc := e.Get("status").String()
	reason := ""
	var retryDelay time.Duration
	e.Get("details").ForEach(func(_, d gjson.Result) bool {
		typ := d.Get(`@type`).String()
		switch {
		case strings.HasSuffix(typ, "google.rpc.ErrorInfo"):
			reason = d.Get("reason").String()
		case strings.HasSuffix(typ, "google.rpc.RetryInfo"):
			if v, err := time.ParseDuration(d.Get("retryDelay").String()); err == nil && v > 0 {
				retryDelay = v
			}
		}
		return true
	})
	lower := strings.ToLower(pe.Message)
	switch {
	case status == http.StatusRequestTimeout || status == http.StatusGatewayTimeout || grpc == "DEADLINE_EXCEEDED":
		pe.Kind, pe.Type = provider.Timeout, "timeout"
	case status == http.StatusTooManyRequests || grpc == "RESOURCE_EXHAUSTED":
		pe.Kind, pe.Type, pe.Code = provider.RateLimited, "requests", "rate_limit_exceeded"
	case status >= 500 || status == http.StatusConflict || status == 499:
		pe.Kind, pe.Type = provider.Server, "server_error"
	case status == http.StatusUnauthorized || reason == "API_KEY_INVALID" ||
		strings.Contains(lower, "api key not valid") || strings.Contains(lower, "api key expired"):
		pe.Kind, pe.Type, pe.Code = provider.Denied, "invalid_request_error", "invalid_api_key"
	case status == http.StatusForbidden:
		pe.Kind, pe.Type, pe.Code = provider.Denied, "invalid_request_error", "permission_denied"
	case status == http.StatusNotFound:
		pe.Kind, pe.Type, pe.Code = provider.Denied, "invalid_request_error", "model_not_found"
	case grpc == "FAILED_PRECONDITION" && (strings.Contains(lower, "location is not supported") || strings.Contains(lower, "billing")):
		// The gateway's account or region, not the request: another
		// target may serve it.
		pe.Kind, pe.Type, pe.Code = provider.Denied, "invalid_request_error", "unsupported_country_region_territory"
	case status >= 400:
		pe.Kind, pe.Type = provider.Invalid, "invalid_request_error"
		if strings.Contains(lower, "exceeds the maximum number of tokens") {
			pe.Code = "context_length_exceeded"
		} else if grpc != "" {
			pe.Code = strings.ToLower(grpc)
		}
	default:
		// A non-2xx that is no error status (a redirect): not understood.
		pe.Kind, pe.Type = provider.Server, "server_error"
	}
	pe.RetryAfter = retryAfter(h)
	if pe.RetryAfter == 0 {
		pe.RetryAfter = retryDelay
	}
	return pe
}

// retryAfter reads Retry-After in seconds or as an HTTP date.
func retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, 24*3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}
