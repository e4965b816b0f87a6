package openai

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/ai/provider"
)

func TestFailureBodies(t *testing.T) {
	t.Parallel()
	p, err := New(provider.Config{BaseURL: "http://h/v1", Key: "gsk_secretsecret"}, Dialect{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   provider.Error
	}{
		{"html", 502, "<html><body><h1>502 Bad Gateway</h1></body></html>",
			provider.Error{Kind: provider.Server, Status: 502, Message: "HTTP 502"}},
		{"plain text", 503, "upstream connect error or disconnect/reset before headers",
			provider.Error{Kind: provider.Server, Status: 503, Message: "HTTP 503"}},
		{"empty", 504, "",
			provider.Error{Kind: provider.Server, Status: 504, Message: "HTTP 504"}},
		{"json without message", 500, `{"ok":false}`,
			provider.Error{Kind: provider.Server, Status: 500, Message: "HTTP 500"}},
		{"azure", 404, `{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist."}}`,
			provider.Error{Kind: provider.Denied, Status: 404, Code: "DeploymentNotFound", Message: "The API deployment for this resource does not exist."}},
		{"azure content filter", 400, `{"error":{"message":"filtered","type":null,"param":"prompt","code":"content_filter","status":400}}`,
			provider.Error{Kind: provider.Invalid, Status: 400, Code: "content_filter", Param: "prompt", Message: "filtered"}},
		{"mistral flat", 400, `{"object":"error","message":"Invalid model: x","type":"invalid_model","param":null,"code":"1500"}`,
			provider.Error{Kind: provider.Invalid, Status: 400, Type: "invalid_model", Code: "1500", Message: "Invalid model: x"}},
		{"mistral validation", 422, `{"object":"error","message":{"detail":[{"type":"extra_forbidden","loc":["body","store"]}]},"type":"invalid_request_message_error","param":null,"code":null}`,
			provider.Error{Kind: provider.Invalid, Status: 422, Type: "invalid_request_message_error", Message: `{"detail":[{"type":"extra_forbidden","loc":["body","store"]}]}`}},
		{"mistral 401", 401, `{"message":"Unauthorized","request_id":"abc"}`,
			provider.Error{Kind: provider.Denied, Status: 401, Message: "Unauthorized"}},
		{"ollama", 404, `{"error":"model \"llama9\" not found, try pulling it first"}`,
			provider.Error{Kind: provider.Denied, Status: 404, Message: `model "llama9" not found, try pulling it first`}},
		{"vllm numeric code", 400, `{"object":"error","message":"max_tokens is too large","type":"BadRequestError","param":null,"code":400}`,
			provider.Error{Kind: provider.Invalid, Status: 400, Type: "BadRequestError", Code: "400", Message: "max_tokens is too large"}},
		{"fastapi detail", 422, `{"detail":"Field required"}`,
			provider.Error{Kind: provider.Invalid, Status: 422, Message: "Field required"}},
		{"configured key quoted", 401, `{"error":{"message":"Invalid API Key gsk_secretsecret","type":"invalid_request_error","code":"invalid_api_key"}}`,
			provider.Error{Kind: provider.Denied, Status: 401, Type: "invalid_request_error", Code: "invalid_api_key", Message: "Invalid API Key ***"}},
		{"409", 409, `{"error":{"message":"conflict","type":"invalid_request_error"}}`,
			provider.Error{Kind: provider.Server, Status: 409, Type: "invalid_request_error", Message: "conflict"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := p.Failure(tc.status, http.Header{}, []byte(tc.body))
			if *got != tc.want {
				t.Errorf("Failure =\n %+v\nwant\n %+v", *got, tc.want)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		h    http.Header
		want time.Duration
	}{
		{"none", http.Header{}, 0},
		{"ms", http.Header{"Retry-After-Ms": {"250"}}, 250 * time.Millisecond},
		{"fractional ms", http.Header{"Retry-After-Ms": {"12.5"}}, 12500 * time.Microsecond},
		{"ms wins", http.Header{"Retry-After-Ms": {"1500"}, "Retry-After": {"2"}}, 1500 * time.Millisecond},
		{"bad ms falls back", http.Header{"Retry-After-Ms": {"soon"}, "Retry-After": {"3"}}, 3 * time.Second},
		{"seconds", http.Header{"Retry-After": {"20"}}, 20 * time.Second},
		{"date", http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, 90 * time.Second},
		{"past date", http.Header{"Retry-After": {now.Add(-time.Hour).Format(http.TimeFormat)}}, 0},
		{"negative", http.Header{"Retry-After": {"-5"}}, 0},
		{"garbage", http.Header{"Retry-After": {"tomorrow"}}, 0},
		{"nan", http.Header{"Retry-After": {"NaN"}}, 0},
		{"overflow", http.Header{"Retry-After": {"1e300"}}, 0},
	} {
		if got := retryAfter(tc.h, now); got != tc.want {
			t.Errorf("%s: retryAfter = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"Incorrect API key provided: sk-proj-****abcd. You can find your API key at https://platform.openai.com/account/api-keys.",
			"Incorrect API key provided: sk-***. You can find your API key at https://platform.openai.com/account/api-keys."},
		{"key sk-abc123DEF_456-x and (sk-****wxyz)", "key sk-*** and (sk-***)"},
		{"x-sk-leaked", "x-sk-***"},
		{"the task-force met at the disk-sk-", "the task-force met at the disk-sk-"},
		{"ends with sk-", "ends with sk-"},
		{"my key is THEKEY12345 ok", "my key is *** ok"},
	} {
		if got := redact(tc.in, "THEKEY12345"); got != tc.want {
			t.Errorf("redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	long := strings.Repeat("é", maxMessage) // 2 bytes each
	got := redact(long, "")
	if len(got) > maxMessage+len("…") || !strings.HasSuffix(got, "…") || !strings.HasPrefix(long, strings.TrimSuffix(got, "…")) {
		t.Errorf("long message cut to %d bytes: %q…", len(got), got[:20])
	}
}

func TestStatusKind(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status    int
		typ, code string
		want      provider.Kind
	}{
		{400, "", "", provider.Invalid},
		{413, "", "", provider.Invalid},
		{422, "", "", provider.Invalid},
		{401, "", "", provider.Denied},
		{403, "", "", provider.Denied},
		{404, "", "", provider.Denied},
		{429, "requests", "rate_limit_exceeded", provider.RateLimited},
		{429, "insufficient_quota", "", provider.Denied},
		{429, "", "insufficient_quota", provider.Denied},
		{408, "", "", provider.Timeout},
		{500, "", "", provider.Server},
		{503, "", "", provider.Server},
		{529, "", "", provider.Server},
		{302, "", "", provider.Server},
	} {
		if got := statusKind(tc.status, tc.typ, tc.code); got != tc.want {
			t.Errorf("statusKind(%d, %q, %q) = %s, want %s", tc.status, tc.typ, tc.code, got, tc.want)
		}
	}
}
