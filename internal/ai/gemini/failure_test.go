package gemini

import (
	"net/http"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/ai/aitest"
	"github.com/pinpointgw/pinpoint/internal/ai/provider"
)

const plainChat = `{"messages":[{"role":"user","content":"hi"}]}`

func TestFailureFromFake(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		fail       aitest.Failure
		kind       provider.Kind
		typ, code  string
		retryAfter time.Duration
	}{
		{"bad request", aitest.Failure{Status: 400, Message: "Invalid value at 'generation_config.temperature'"}, provider.Invalid, "invalid_request_error", "invalid_argument", 0},
		{"context too long", aitest.Failure{Status: 400, Message: "The input token count (2000000) exceeds the maximum number of tokens allowed (1048576)."}, provider.Invalid, "invalid_request_error", "context_length_exceeded", 0},
		{"precondition", aitest.Failure{Status: 400, Type: "FAILED_PRECONDITION", Message: "Function calling with a response mime type is unsupported."}, provider.Invalid, "invalid_request_error", "failed_precondition", 0},
		{"location", aitest.Failure{Status: 400, Type: "FAILED_PRECONDITION", Message: "User location is not supported for the API use."}, provider.Denied, "invalid_request_error", "unsupported_country_region_territory", 0},
		{"unauthenticated", aitest.Failure{Status: 401}, provider.Denied, "invalid_request_error", "invalid_api_key", 0},
		{"forbidden", aitest.Failure{Status: 403}, provider.Denied, "invalid_request_error", "permission_denied", 0},
		{"not found", aitest.Failure{Status: 404}, provider.Denied, "invalid_request_error", "model_not_found", 0},
		{"too large", aitest.Failure{Status: 413}, provider.Invalid, "invalid_request_error", "unknown", 0},
		{"rate limited", aitest.Failure{Status: 429, RetryAfter: 7 * time.Second}, provider.RateLimited, "requests", "rate_limit_exceeded", 7 * time.Second},
		{"internal", aitest.Failure{Status: 500}, provider.Server, "server_error", "", 0},
		{"overloaded", aitest.Failure{Status: 503}, provider.Server, "server_error", "", 0},
		{"deadline", aitest.Failure{Status: 504}, provider.Timeout, "timeout", "", 0},
		{"request timeout", aitest.Failure{Status: 408}, provider.Timeout, "timeout", "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, p := newFake(t)
			f.FailNext(1, tc.fail)
			_, pe := send(t, p, chatCall("gemini-2.5-flash", plainChat))
			if pe == nil {
				t.Fatal("no failure")
			}
			if pe.Kind != tc.kind || pe.Status != tc.fail.Status || pe.Type != tc.typ || pe.Code != tc.code || pe.RetryAfter != tc.retryAfter || pe.Message == "" {
				t.Errorf("error = %+v", pe)
			}
			if tc.fail.Message != "" && pe.Message != tc.fail.Message {
				t.Errorf("message = %q", pe.Message)
			}
		})
	}
}

// Gemini answers a wrong key with 400 INVALID_ARGUMENT: that is the
// gateway's credential, not the caller's request, so the next target
// must be tried rather than the caller blamed.
func TestFailureInvalidAPIKeyIsDenied(t *testing.T) {
	t.Parallel()
	f, p := newFake(t)
	f.RequireKey("the-right-key")
	_, pe := send(t, p, chatCall("gemini-2.5-flash", plainChat))
	if pe == nil || pe.Kind != provider.Denied || pe.Status != 400 || pe.Code != "invalid_api_key" {
		t.Fatalf("error = %+v", pe)
	}
	if !pe.Kind.Retryable() {
		t.Error("a bad key must move on to the next target")
	}
	// The same without the ErrorInfo detail, from the message alone.
	pe = p.Failure(400, nil, []byte(`{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT"}}`))
	if pe.Kind != provider.Denied {
		t.Errorf("message-only bad key = %+v", pe)
	}
}

func TestFailureUnknownModelIsDenied(t *testing.T) {
	t.Parallel()
	f, p := newFake(t)
	f.Models("gemini-2.5-pro")
	_, pe := send(t, p, chatCall("gemini-9-ultra", plainChat))
	if pe == nil || pe.Kind != provider.Denied || pe.Status != 404 {
		t.Fatalf("error = %+v", pe)
	}
}

func TestFailureBodies(t *testing.T) {
	t.Parallel()
	p := &Provider{}
	cases := []struct {
		name       string
		status     int
		header     http.Header
		body       string
		kind       provider.Kind
		msg        string
		retryAfter time.Duration
	}{
		{
			name:   "retry info detail",
			status: 429,
			body: `{"error":{"code":429,"message":"You exceeded your current quota.","status":"RESOURCE_EXHAUSTED","details":[
				{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[]},
				{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"30s"}]}}`,
			kind: provider.RateLimited, msg: "You exceeded your current quota.", retryAfter: 30 * time.Second,
		},
		{
			name: "header wins over detail", status: 429, header: http.Header{"Retry-After": {"2"}},
			body: `{"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.5s"}]}}`,
			kind: provider.RateLimited, msg: "slow down", retryAfter: 2 * time.Second,
		},
		{
			name: "fractional detail", status: 503,
			body: `{"error":{"code":503,"message":"busy","status":"UNAVAILABLE","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.5s"}]}}`,
			kind: provider.Server, msg: "busy", retryAfter: 1500 * time.Millisecond,
		},
		{
			name: "array wrapped", status: 400,
			body: `[{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}]`,
			kind: provider.Invalid, msg: "bad",
		},
		{
			name: "html from a proxy", status: 502, body: "<html>Bad Gateway</html>",
			kind: provider.Server, msg: "<html>Bad Gateway</html>",
		},
		{
			name: "empty", status: 500, body: "",
			kind: provider.Server, msg: "Internal Server Error",
		},
		{
			name: "key refused by ErrorInfo reason alone", status: 400,
			body: `{"error":{"code":400,"message":"Invalid credentials.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}`,
			kind: provider.Denied, msg: "Invalid credentials.",
		},
		{
			name: "retry-after as a date in the past", status: 429, header: http.Header{"Retry-After": {"Mon, 02 Jan 2006 15:04:05 GMT"}},
			body: `{"error":{"code":429,"message":"later","status":"RESOURCE_EXHAUSTED"}}`,
			kind: provider.RateLimited, msg: "later",
		},
		{
			name: "deadline status on 500", status: 500,
			body: `{"error":{"code":500,"message":"timed out","status":"DEADLINE_EXCEEDED"}}`,
			kind: provider.Timeout, msg: "timed out",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pe := p.Failure(tc.status, tc.header, []byte(tc.body))
			if pe.Kind != tc.kind || pe.Message != tc.msg || pe.RetryAfter != tc.retryAfter || pe.Status != tc.status {
				t.Errorf("error = %+v", pe)
			}
		})
	}
}

func TestFailureMessageOutlivesBody(t *testing.T) {
	t.Parallel()
	body := []byte(`{"error":{"code":400,"message":"bad field","status":"INVALID_ARGUMENT"}}`)
	pe := (&Provider{}).Failure(400, nil, body)
	for i := range body {
		body[i] = 'x'
	}
	if pe.Message != "bad field" || pe.Code != "invalid_argument" {
		t.Errorf("error changed with its body: %+v", pe)
	}
}
