package aitest_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/ai/aitest"
)

// call posts body to the fake and returns the response and its body.
func call(t *testing.T, s *aitest.Server, method, path string, header map[string]string, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return res, string(b)
}

var (
	oaKey = map[string]string{"Authorization": "Bearer sk-test"}
	anKey = map[string]string{"X-Api-Key": "sk-ant-test", "Anthropic-Version": "2023-06-01"}
	geKey = map[string]string{"X-Goog-Api-Key": "AIza-test"}
)

func chatBody(model string, stream, usage bool) string {
	b := map[string]any{"model": model, "messages": []any{map[string]any{"role": "user", "content": "hi"}}}
	if stream {
		b["stream"] = true
	}
	if usage {
		b["stream_options"] = map[string]any{"include_usage": true}
	}
	out, _ := json.Marshal(b)
	return string(out)
}

func anthropicBody(model string, stream bool) string {
	out, _ := json.Marshal(map[string]any{"model": model, "max_tokens": 100, "stream": stream,
		"messages": []any{map[string]any{"role": "user", "content": "hi"}}})
	return string(out)
}

const geminiBody = `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`

// sseEvent is one parsed event.
type sseEvent struct {
	name string
	data string
}

// parseSSE splits a stream by the exact separator sep, failing on any
// stray bytes, and returns the events.
func parseSSE(t *testing.T, body, sep string) []sseEvent {
	t.Helper()
	if !strings.HasSuffix(body, sep+sep) {
		t.Fatalf("stream does not end with a blank line: %q", body[max(0, len(body)-40):])
	}
	var out []sseEvent
	for _, block := range strings.Split(strings.TrimSuffix(body, sep+sep), sep+sep) {
		var ev sseEvent
		for _, line := range strings.Split(block, sep) {
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			default:
				t.Fatalf("stray line %q in block %q", line, block)
			}
		}
		out = append(out, ev)
	}
	return out
}

func TestOpenAIStreamWire(t *testing.T) {
	t.Parallel()
	s := aitest.NewOpenAI(t)
	s.Script("m", aitest.Reply{
		Text:      "Hello there, world",
		ToolCalls: []aitest.ToolCall{{Name: "f", Arguments: `{"a":1,"b":"two"}`}},
		Usage:     aitest.Usage{Input: 3, Output: 4, Cached: 1, Reasoning: 2},
	})
	res, body := call(t, s, "POST", "/v1/chat/completions", oaKey, chatBody("m", true, true))
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream; charset=utf-8" {
		t.Errorf("content-type %q", ct)
	}
	if id := res.Header.Get("X-Request-Id"); !strings.HasPrefix(id, "req_") {
		t.Errorf("x-request-id %q", id)
	}
	evs := parseSSE(t, body, "\n")
	if last := evs[len(evs)-1]; last.data != "[DONE]" || last.name != "" {
		t.Fatalf("last event %+v, want data: [DONE]", last)
	}
	type delta struct {
		Role      *string `json:"role"`
		Content   *string `json:"content"`
		ToolCalls []struct {
			Index    int     `json:"index"`
			ID       *string `json:"id"`
			Type     *string `json:"type"`
			Function struct {
				Name      *string `json:"name"`
				Arguments string  `json:"arguments"`
			} `json:"function"`
		} `json:"tool_calls"`
	}
	var text, args string
	var roles, headers int
	var finish string
	var usage map[string]any
	for i, ev := range evs[:len(evs)-1] {
		var c struct {
			Object  string          `json:"object"`
			Usage   json.RawMessage `json:"usage"`
			Choices []struct {
				Delta        delta   `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(ev.data), &c); err != nil {
			t.Fatal(err)
		}
		if c.Object != "chat.completion.chunk" {
			t.Fatalf("object %q", c.Object)
		}
		if i == len(evs)-2 {
			if len(c.Choices) != 0 {
				t.Fatalf("usage chunk has choices: %s", ev.data)
			}
			_ = json.Unmarshal(c.Usage, &usage)
			continue
		}
		if string(c.Usage) != "null" {
			t.Fatalf("chunk %d: include_usage chunks carry usage:null, got %s", i, c.Usage)
		}
		d := c.Choices[0].Delta
		if d.Role != nil {
			if i != 0 {
				t.Errorf("role in chunk %d", i)
			}
			roles++
		}
		if d.Content != nil {
			text += *d.Content
		}
		for _, tc := range d.ToolCalls {
			if tc.ID != nil {
				headers++
				if *tc.Type != "function" || *tc.Function.Name != "f" || tc.Function.Arguments != "" {
					t.Errorf("tool call header %s", ev.data)
				}
			}
			args += tc.Function.Arguments
		}
		if c.Choices[0].FinishReason != nil {
			finish = *c.Choices[0].FinishReason
		}
	}
	r, _ := s.Last()
	if got := len(r.SentAt()); got != len(evs) {
		t.Errorf("SentAt has %d times for %d events", got, len(evs))
	}
	if text != "Hello there, world" || args != `{"a":1,"b":"two"}` || roles != 1 || headers != 1 || finish != "tool_calls" {
		t.Errorf("text %q args %q roles %d headers %d finish %q", text, args, roles, headers, finish)
	}
	want := map[string]any{"prompt_tokens": 3.0, "completion_tokens": 4.0, "total_tokens": 7.0,
		"prompt_tokens_details":     map[string]any{"cached_tokens": 1.0, "audio_tokens": 0.0},
		"completion_tokens_details": map[string]any{"reasoning_tokens": 2.0, "audio_tokens": 0.0, "accepted_prediction_tokens": 0.0, "rejected_prediction_tokens": 0.0}}
	if !jsonEqual(usage, want) {
		t.Errorf("usage %v", usage)
	}

	// Words are the default pieces; without include_usage there is no usage at all.
	s.Script("w", aitest.Reply{Text: "one two  three"})
	_, body = call(t, s, "POST", "/v1/chat/completions", oaKey, chatBody("w", true, false))
	evs = parseSSE(t, body, "\n")
	var pieces []string
	for _, ev := range evs[:len(evs)-1] {
		if strings.Contains(ev.data, `"usage"`) {
			t.Errorf("usage without include_usage: %s", ev.data)
		}
		var c struct {
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
		}
		_ = json.Unmarshal([]byte(ev.data), &c)
		if p := c.Choices[0].Delta.Content; p != "" {
			pieces = append(pieces, p)
		}
	}
	if strings.Join(pieces, "|") != "one| two|  three" {
		t.Errorf("pieces %q", pieces)
	}
}

func TestOpenAINonStreamAndJSONMode(t *testing.T) {
	t.Parallel()
	s := aitest.NewOpenAI(t)
	s.Script("gpt-4o", aitest.Reply{Text: `{"ok":true}`, Model: "gpt-4o-2024-08-06", Finish: "length", Usage: aitest.Usage{Input: 5, Output: 2}})
	body := `{"model":"gpt-4o","response_format":{"type":"json_object"},"messages":[{"role":"user","content":[{"type":"text","text":"x"},{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}`
	res, out := call(t, s, "POST", "/v1/chat/completions", oaKey, body)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s", res.StatusCode, out)
	}
	var c struct {
		Object  string `json:"object"`
		Model   string `json:"model"`
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			Total int `json:"total_tokens"`
		} `json:"usage"`
	}
	_ = json.Unmarshal([]byte(out), &c)
	if c.Object != "chat.completion" || c.Model != "gpt-4o-2024-08-06" || c.Choices[0].Message.Content != `{"ok":true}` || c.Choices[0].FinishReason != "length" || c.Usage.Total != 7 {
		t.Errorf("%s", out)
	}
	r, _ := s.Last()
	if r.Model != "gpt-4o" || r.Stream || r.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer sk-test" || string(r.Body) != body {
		t.Errorf("recorded %+v", r)
	}

	// NoUsage: no usage object, as some OpenAI-compatible servers answer.
	s.Script("bare", aitest.Reply{Text: "x", NoUsage: true})
	_, out = call(t, s, "POST", "/v1/chat/completions", oaKey, chatBody("bare", false, false))
	if strings.Contains(out, "usage") {
		t.Errorf("NoUsage answer has usage: %s", out)
	}
	_, out = call(t, s, "POST", "/v1/chat/completions", oaKey, chatBody("bare", true, true))
	if strings.Contains(out, `"prompt_tokens"`) {
		t.Errorf("NoUsage stream has usage: %s", out)
	}
}

func TestErrorBodies(t *testing.T) {
	t.Parallel()
	oa, an, ge := aitest.NewOpenAI(t), aitest.NewAnthropic(t), aitest.NewGemini(t)
	cases := []struct {
		name       string
		s          *aitest.Server
		path       string
		header     map[string]string
		body       string
		fail       aitest.Failure
		status     int
		want       string
		retryAfter string
	}{
		{"openai 429", oa, "/v1/chat/completions", oaKey, chatBody("m", false, false), aitest.Failure{Status: 429, RetryAfter: 1500 * time.Millisecond},
			429, `{"error":{"code":"rate_limit_exceeded","message":"Rate limit reached for requests. Please try again later.","param":null,"type":"requests"}}`, "2"},
		{"openai 400 param", oa, "/v1/chat/completions", oaKey, chatBody("m", false, false), aitest.Failure{Status: 400, Message: "bad", Param: "temperature", Code: "invalid_value"},
			400, `{"error":{"code":"invalid_value","message":"bad","param":"temperature","type":"invalid_request_error"}}`, ""},
		{"openai 500", oa, "/v1/chat/completions", oaKey, chatBody("m", true, false), aitest.Failure{},
			500, `{"error":{"code":null,"message":"The server had an error while processing your request. Sorry about that!","param":null,"type":"server_error"}}`, ""},
		{"openai 503 embeddings", oa, "/v1/embeddings", oaKey, `{"model":"e","input":"x"}`, aitest.Failure{Status: 503},
			503, `{"error":{"code":null,"message":"The engine is currently overloaded, please try again later","param":null,"type":"server_error"}}`, ""},
		{"anthropic 529", an, "/v1/messages", anKey, anthropicBody("c", true), aitest.Failure{Status: 529},
			529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, ""},
		{"anthropic 429", an, "/v1/messages", anKey, anthropicBody("c", false), aitest.Failure{Status: 429, RetryAfter: 3 * time.Second},
			429, `{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}`, "3"},
		{"gemini 429", ge, "/v1beta/models/g:generateContent", geKey, geminiBody, aitest.Failure{Status: 429},
			429, `{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}`, ""},
		{"gemini 503 stream", ge, "/v1beta/models/g:streamGenerateContent?alt=sse", geKey, geminiBody, aitest.Failure{Status: 503},
			503, `{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Each case scripts its own model so the cases run in parallel.
			model := strings.ReplaceAll(c.name, " ", "-")
			c.s.Script(model, aitest.Reply{Fail: &c.fail})
			path := strings.Replace(c.path, "/g:", "/"+model+":", 1)
			body := strings.Replace(strings.Replace(c.body, `"m"`, `"`+model+`"`, 1), `"c"`, `"`+model+`"`, 1)
			body = strings.Replace(body, `"e"`, `"`+model+`"`, 1)
			res, out := call(t, c.s, "POST", path, c.header, body)
			if res.StatusCode != c.status {
				t.Errorf("status %d, want %d", res.StatusCode, c.status)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			delete(got, "request_id")
			if !jsonEqual(got, c.want) {
				t.Errorf("body %s\nwant %s", out, c.want)
			}
			if ra := res.Header.Get("Retry-After"); ra != c.retryAfter {
				t.Errorf("retry-after %q, want %q", ra, c.retryAfter)
			}
			if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
				t.Errorf("content-type %q", res.Header.Get("Content-Type"))
			}
		})
	}
}

// jsonEqual compares a decoded value with a JSON text or another value.
func jsonEqual(got any, want any) bool {
	if s, ok := want.(string); ok {
		var w any
		if json.Unmarshal([]byte(s), &w) != nil {
			return false
		}
		want = w
	}
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	return string(a) == string(b)
}

func TestAuthAndValidation(t *testing.T) {
	t.Parallel()
	oa, an, ge := aitest.NewOpenAI(t), aitest.NewAnthropic(t), aitest.NewGemini(t)
	for _, s := range []*aitest.Server{oa, an, ge} {
		s.RequireKey("right")
	}
	cases := []struct {
		name   string
		s      *aitest.Server
		path   string
		header map[string]string
		body   string
		status int
		want   string // substring of the body
	}{
		{"openai no key", oa, "/v1/chat/completions", nil, chatBody("m", false, false), 401, "You didn't provide an API key"},
		{"openai wrong key", oa, "/v1/chat/completions", oaKey, chatBody("m", false, false), 401, `"code":"invalid_api_key"`},
		{"openai right key", oa, "/v1/chat/completions", map[string]string{"Authorization": "Bearer right"}, chatBody("m", false, false), 200, "Hello from the fake."},
		{"openai no messages", oa, "/v1/chat/completions", map[string]string{"Authorization": "Bearer right"}, `{"model":"m"}`, 400, `"param":"messages"`},
		{"openai bad part", oa, "/v1/chat/completions", map[string]string{"Authorization": "Bearer right"}, `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]}`, 400, "image_url"},
		{"openai bad json", oa, "/v1/chat/completions", map[string]string{"Authorization": "Bearer right"}, `{`, 400, "could not parse the JSON body"},
		{"azure ok", oa, "/openai/deployments/dep/chat/completions?api-version=2024-10-21", map[string]string{"Api-Key": "right"}, `{"messages":[{"role":"user","content":"x"}]}`, 200, `"model":"dep"`},
		{"azure no version", oa, "/openai/deployments/dep/chat/completions", map[string]string{"Api-Key": "right"}, `{"messages":[{"role":"user","content":"x"}]}`, 404, "Resource not found"},
		{"azure wrong key", oa, "/openai/deployments/dep/chat/completions?api-version=2024-10-21", map[string]string{"Api-Key": "nope"}, `{"messages":[{"role":"user","content":"x"}]}`, 401, "Access denied"},
		{"anthropic no key", an, "/v1/messages", map[string]string{"Anthropic-Version": "2023-06-01"}, anthropicBody("c", false), 401, "x-api-key header is required"},
		{"anthropic wrong key", an, "/v1/messages", anKey, anthropicBody("c", false), 401, "authentication_error"},
		{"anthropic bearer", an, "/v1/messages", map[string]string{"Authorization": "Bearer right", "Anthropic-Version": "2023-06-01"}, anthropicBody("c", false), 200, `"stop_reason":"end_turn"`},
		{"anthropic no version", an, "/v1/messages", map[string]string{"X-Api-Key": "right"}, anthropicBody("c", false), 400, "anthropic-version: header is required"},
		{"anthropic no max_tokens", an, "/v1/messages", map[string]string{"X-Api-Key": "right", "Anthropic-Version": "2023-06-01"}, `{"model":"c","messages":[{"role":"user","content":"x"}]}`, 400, "max_tokens: Field required"},
		{"anthropic system role", an, "/v1/messages", map[string]string{"X-Api-Key": "right", "Anthropic-Version": "2023-06-01"}, `{"model":"c","max_tokens":5,"messages":[{"role":"system","content":"x"}]}`, 400, "top-level `system` parameter"},
		{"gemini no key", ge, "/v1beta/models/g:generateContent", nil, geminiBody, 403, "PERMISSION_DENIED"},
		{"gemini wrong key", ge, "/v1beta/models/g:generateContent", geKey, geminiBody, 400, "API_KEY_INVALID"},
		{"gemini query key", ge, "/v1beta/models/g:generateContent?key=right", nil, geminiBody, 200, `"finishReason":"STOP"`},
		{"gemini no contents", ge, "/v1beta/models/g:generateContent?key=right", nil, `{}`, 400, "contents is not specified"},
		{"gemini bad role", ge, "/v1/models/g:generateContent?key=right", nil, `{"contents":[{"role":"assistant","parts":[{"text":"x"}]}]}`, 400, "valid role"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			before := c.s.CallsFor(c.name)
			path := strings.Replace(c.path, "/g:", "/"+c.name+":", 1)
			body := strings.Replace(strings.Replace(c.body, `"m"`, `"`+c.name+`"`, 1), `"c"`, `"`+c.name+`"`, 1)
			res, out := call(t, c.s, "POST", path, c.header, body)
			if (strings.Contains(c.body, `"m"`) || strings.Contains(c.body, `"c"`) || strings.Contains(c.path, "/g:")) && c.s.CallsFor(c.name) != before+1 {
				t.Errorf("refused call not counted for its model %q", c.name)
			}
			if res.StatusCode != c.status || !strings.Contains(out, c.want) {
				t.Errorf("%d %s\nwant %d containing %q", res.StatusCode, out, c.status, c.want)
			}
		})
	}
}

func TestAnthropicStreamWire(t *testing.T) {
	t.Parallel()
	s := aitest.NewAnthropic(t)
	s.Script("c", aitest.Reply{
		Text:      "Hi you",
		ToolCalls: []aitest.ToolCall{{ID: "toolu_fixed", Name: "f", Arguments: `{"q":"x y"}`}},
		Usage:     aitest.Usage{Input: 10, Output: 20, Cached: 3, CacheWrite: 4},
	})
	res, body := call(t, s, "POST", "/v1/messages", anKey, anthropicBody("c", true))
	if res.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" || !strings.HasPrefix(res.Header.Get("Request-Id"), "req_") {
		t.Errorf("headers %v", res.Header)
	}
	evs := parseSSE(t, body, "\n")
	var names []string
	var args string
	for _, ev := range evs {
		var d struct {
			Type  string `json:"type"`
			Delta struct {
				Type        string `json:"type"`
				PartialJSON string `json:"partial_json"`
				StopReason  string `json:"stop_reason"`
			} `json:"delta"`
			Usage map[string]any `json:"usage"`
		}
		if err := json.Unmarshal([]byte(ev.data), &d); err != nil {
			t.Fatal(err)
		}
		if d.Type != ev.name {
			t.Errorf("event %q carries type %q", ev.name, d.Type)
		}
		names = append(names, ev.name)
		if d.Delta.Type == "input_json_delta" {
			args += d.Delta.PartialJSON
		}
		if ev.name == "message_delta" {
			if d.Delta.StopReason != "tool_use" || !jsonEqual(d.Usage, `{"input_tokens":10,"output_tokens":20,"cache_read_input_tokens":3,"cache_creation_input_tokens":4}`) {
				t.Errorf("message_delta %s", ev.data)
			}
		}
	}
	want := "message_start content_block_start ping content_block_delta content_block_delta content_block_stop " +
		"content_block_start content_block_delta content_block_delta content_block_delta content_block_stop message_delta message_stop"
	if strings.Join(names, " ") != want {
		t.Errorf("events\n%s\nwant\n%s", strings.Join(names, " "), want)
	}
	if args != `{"q":"x y"}` {
		t.Errorf("partial_json joins to %q", args)
	}
	if !strings.Contains(body, `"content_block":{"id":"toolu_fixed","input":{},"name":"f","type":"tool_use"}`) {
		t.Errorf("tool_use block start missing: %s", body)
	}
}

func TestGeminiStreamFraming(t *testing.T) {
	t.Parallel()
	s := aitest.NewGemini(t)
	s.Script("g", aitest.Reply{Text: "abcdef", Chunks: 3, ToolCalls: []aitest.ToolCall{{Name: "f", Arguments: `{"x":1}`}}, Usage: aitest.Usage{Input: 2, Output: 3, Reasoning: 1}})
	res, body := call(t, s, "POST", "/v1beta/models/g:streamGenerateContent?alt=sse", geKey, geminiBody)
	if res.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" {
		t.Errorf("content-type %q", res.Header.Get("Content-Type"))
	}
	evs := parseSSE(t, body, "\r\n")
	if len(evs) != 4 {
		t.Fatalf("%d events, want 3 text + 1 function call: %q", len(evs), body)
	}
	last := evs[3].data
	if !strings.Contains(last, `"functionCall":{"args":{"x":1},"name":"f"}`) || !strings.Contains(last, `"finishReason":"STOP"`) ||
		!strings.Contains(last, `"thoughtsTokenCount":1`) || !strings.Contains(last, `"totalTokenCount":6`) {
		t.Errorf("last chunk %s", last)
	}
	if strings.Contains(evs[0].data, "finishReason") || !strings.Contains(evs[0].data, `"text":"ab"`) ||
		!strings.Contains(evs[0].data, `"candidatesTokenCount":0`) || !strings.Contains(evs[2].data, `"candidatesTokenCount":2,`) {
		t.Errorf("cumulative usage: first chunk %s, third %s", evs[0].data, evs[2].data)
	}

	s.Script("b", aitest.Reply{Blocked: "SAFETY", Usage: aitest.Usage{Input: 4}})
	if _, out := call(t, s, "POST", "/v1beta/models/b:generateContent", geKey, geminiBody); !strings.Contains(out, `"promptFeedback":{"blockReason":"SAFETY"}`) || strings.Contains(out, "candidates") {
		t.Errorf("blocked %s", out)
	}

	// Without alt=sse the stream is one JSON array.
	res, body = call(t, s, "POST", "/v1beta/models/g:streamGenerateContent", geKey, geminiBody)
	var arr []map[string]any
	if err := json.Unmarshal([]byte(body), &arr); err != nil || len(arr) != 4 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Errorf("array stream (%v): %s", err, body)
	}
}

func TestEmbeddings(t *testing.T) {
	t.Parallel()
	oa, ge := aitest.NewOpenAI(t), aitest.NewGemini(t)
	_, out := call(t, oa, "POST", "/v1/embeddings", oaKey, `{"model":"e","input":["a","b"],"encoding_format":"base64","dimensions":4}`)
	var r struct {
		Data []struct {
			Index     int    `json:"index"`
			Embedding string `json:"embedding"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.Data) != 2 {
		t.Fatalf("%v %s", err, out)
	}
	for i, in := range []string{"a", "b"} {
		raw, _ := base64.StdEncoding.DecodeString(r.Data[i].Embedding)
		got := make([]float32, len(raw)/4)
		for j := range got {
			got[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
		}
		if !jsonEqual(got, aitest.Vector(in, 4)) || r.Data[i].Index != i {
			t.Errorf("input %q: %v, want %v", in, got, aitest.Vector(in, 4))
		}
	}
	oa.Script("fixed", aitest.Reply{Embedding: []float32{0.5, -0.25}})
	_, out = call(t, oa, "POST", "/v1/embeddings", oaKey, `{"model":"fixed","input":"x"}`)
	if !strings.Contains(out, `"embedding":[0.5,-0.25]`) {
		t.Errorf("%s", out)
	}
	_, out = call(t, ge, "POST", "/v1beta/models/ge:embedContent", geKey, `{"content":{"parts":[{"text":"a"}]},"outputDimensionality":4}`)
	if !jsonEqual(json.RawMessage(out), map[string]any{"embedding": map[string]any{"values": aitest.Vector("a", 4)}}) {
		t.Errorf("embedContent %s", out)
	}
	_, out = call(t, ge, "POST", "/v1beta/models/ge:batchEmbedContents", geKey, `{"requests":[{"model":"models/ge","content":{"parts":[{"text":"a"}]}},{"model":"models/ge","content":{"parts":[{"text":"b"}]}}]}`)
	if !jsonEqual(json.RawMessage(out), map[string]any{"embeddings": []any{map[string]any{"values": aitest.Vector("a", 0)}, map[string]any{"values": aitest.Vector("b", 0)}}}) {
		t.Errorf("batchEmbedContents %s", out)
	}
}

func TestModelsEndpoints(t *testing.T) {
	t.Parallel()
	oa, an, ge := aitest.NewOpenAI(t), aitest.NewAnthropic(t), aitest.NewGemini(t)
	for _, s := range []*aitest.Server{oa, an, ge} {
		s.Models("x-1", "x-2")
	}
	_, out := call(t, oa, "GET", "/v1/models", oaKey, "")
	if !jsonEqual(json.RawMessage(out), `{"object":"list","data":[{"id":"x-1","object":"model","created":1700000000,"owned_by":"aitest"},{"id":"x-2","object":"model","created":1700000000,"owned_by":"aitest"}]}`) {
		t.Errorf("openai %s", out)
	}
	res, out := call(t, oa, "GET", "/v1/models/nope", oaKey, "")
	if res.StatusCode != 404 || !strings.Contains(out, "model_not_found") {
		t.Errorf("openai retrieve %d %s", res.StatusCode, out)
	}
	res, _ = call(t, oa, "POST", "/v1/chat/completions", oaKey, chatBody("other", false, false))
	if res.StatusCode != 404 {
		t.Errorf("strict models: other model got %d", res.StatusCode)
	}
	_, out = call(t, an, "GET", "/v1/models", anKey, "")
	if !strings.Contains(out, `"first_id":"x-1"`) || !strings.Contains(out, `"last_id":"x-2"`) {
		t.Errorf("anthropic %s", out)
	}
	_, out = call(t, ge, "GET", "/v1beta/models", geKey, "")
	if !strings.Contains(out, `"name":"models/x-1"`) || !strings.Contains(out, `"name":"models/x-2"`) {
		t.Errorf("gemini %s", out)
	}
	res, _ = call(t, ge, "POST", "/v1beta/models/other:generateContent", geKey, geminiBody)
	if res.StatusCode != 404 {
		t.Errorf("gemini strict models: %d", res.StatusCode)
	}
}

func TestScriptingOrder(t *testing.T) {
	t.Parallel()
	s := aitest.NewOpenAI(t)
	s.Script("", aitest.Reply{Text: "any"})
	s.Script("m", aitest.Reply{Text: "standing"})
	s.Enqueue("m", aitest.Reply{Text: "q1"}, aitest.Reply{Text: "q2"})
	s.Enqueue("", aitest.Reply{Text: "any-q"})
	s.ScriptFunc(func(r *aitest.Request) (aitest.Reply, bool) {
		return aitest.Reply{Text: "fn"}, r.Model == "f"
	})
	s.FailNext(2, aitest.Failure{Status: 503})
	text := func(model string) string {
		res, out := call(t, s, "POST", "/v1/chat/completions", oaKey, chatBody(model, false, false))
		if res.StatusCode != 200 {
			return res.Status
		}
		var c struct {
			Choices []struct {
				Message struct {
					Content string `json:"content"`
				} `json:"message"`
			} `json:"choices"`
		}
		_ = json.Unmarshal([]byte(out), &c)
		return c.Choices[0].Message.Content
	}
	var got []string
	for _, m := range []string{"m", "other", "m", "m", "m", "m", "other", "f"} {
		got = append(got, text(m))
	}
	want := "503 Service Unavailable|503 Service Unavailable|q1|q2|any-q|standing|any|fn"
	if strings.Join(got, "|") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, "|"), want)
	}
	if s.Calls() != 8 || s.CallsFor("m") != 5 || s.CallsFor("other") != 2 {
		t.Errorf("calls %d, m %d, other %d", s.Calls(), s.CallsFor("m"), s.CallsFor("other"))
	}
	reqs := s.Requests()
	if len(reqs) != 8 || reqs[0].Reply.Fail == nil || reqs[2].Reply.Text != "q1" {
		t.Errorf("recorded %d requests", len(reqs))
	}
	s.Keep(3)
	if n := len(s.Requests()); n != 3 {
		t.Errorf("Keep(3) left %d", n)
	}
	s.Reset()
	if s.Calls() != 0 || len(s.Requests()) != 0 || text("m") != "Hello from the fake." {
		t.Error("Reset did not forget")
	}
}

// readEvents reads a stream until it ends or breaks and returns the data
// events seen and the read error (nil at a clean end).
func readEvents(res *http.Response) ([]string, error) {
	var evs []string
	br := bufio.NewReader(res.Body)
	for {
		line, err := br.ReadString('\n')
		if strings.HasPrefix(line, "data: ") {
			evs = append(evs, strings.TrimSpace(strings.TrimPrefix(line, "data: ")))
		}
		if err == io.EOF {
			return evs, nil
		}
		if err != nil {
			return evs, err
		}
	}
}

func TestCutStallHang(t *testing.T) {
	t.Parallel()
	s := aitest.NewOpenAI(t)
	s.Script("cut", aitest.Reply{Text: "a b c d e f", CutAfter: 3})
	s.Script("stall", aitest.Reply{Text: "a b c d e f", StallAfter: 2})
	s.Script("hang", aitest.Reply{Hang: true})
	s.Script("slow", aitest.Reply{Text: "a b c", ChunkDelay: time.Hour})
	s.Script("late", aitest.Reply{Text: "a", Delay: time.Hour})

	post := func(ctx context.Context, model string, stream bool) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(ctx, "POST", s.URL+"/v1/chat/completions", strings.NewReader(chatBody(model, stream, false)))
		req.Header.Set("Authorization", "Bearer k")
		return http.DefaultClient.Do(req)
	}

	t.Run("cut", func(t *testing.T) {
		t.Parallel()
		res, err := post(context.Background(), "cut", true)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		evs, err := readEvents(res)
		if len(evs) != 3 || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%d events, err %v; want 3 and an unexpected EOF", len(evs), err)
		}
	})
	for _, model := range []string{"stall", "slow"} {
		t.Run(model, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			res, err := post(ctx, model, true)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			br := bufio.NewReader(res.Body)
			want := map[string]int{"stall": 2, "slow": 1}[model]
			for got := 0; got < want; {
				line, err := br.ReadString('\n')
				if err != nil {
					t.Fatalf("after %d events: %v", got, err)
				}
				if strings.HasPrefix(line, "data: ") {
					got++
				}
			}
			// The stream is now held open; the client gives up.
			cancel()
			if _, err := io.ReadAll(br); err == nil {
				t.Error("read after cancel ended cleanly")
			}
		})
	}
	for _, model := range []string{"hang", "late"} {
		t.Run(model+" until the client gives up", func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				// Cancel once the fake has the request, so the hang is what the client waits on.
				for s.CallsFor(model) == 0 {
					time.Sleep(time.Millisecond)
				}
				cancel()
			}()
			_, err := post(ctx, model, false)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err %v, want context canceled", err)
			}
		})
	}
}

func TestCloseReleasesHangingRequests(t *testing.T) {
	t.Parallel()
	s := aitest.Start(aitest.Anthropic)
	s.Script("", aitest.Reply{Hang: true})
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("POST", s.URL+"/v1/messages", strings.NewReader(anthropicBody("c", false)))
		for k, v := range anKey {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		errc <- err
	}()
	for s.Calls() == 0 {
		time.Sleep(time.Millisecond)
	}
	s.Close() // must not block on the hanging handler
	<-errc
	s.Close()
}

func TestServeOnOwnListener(t *testing.T) {
	t.Parallel()
	s := aitest.NewServer(aitest.Gemini)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s}
	go srv.Serve(ln)
	t.Cleanup(func() { s.Close(); srv.Close() })
	res, err := http.Post("http://"+ln.Addr().String()+"/v1beta/models/g:generateContent?key=k", "application/json", strings.NewReader(geminiBody))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(b), "Hello from the fake.") || s.Calls() != 1 || s.Provider() != aitest.Gemini {
		t.Errorf("%s", b)
	}
}

func TestInStreamErrors(t *testing.T) {
	t.Parallel()
	oa, an := aitest.NewOpenAI(t), aitest.NewAnthropic(t)
	f := &aitest.Failure{Status: 529, Message: "boom"}
	oa.Script("m", aitest.Reply{Text: "a b c d", Fail: f, FailAfter: 2})
	an.Script("c", aitest.Reply{Text: "a b c d", Fail: f, FailAfter: 2})
	_, body := call(t, oa, "POST", "/v1/chat/completions", oaKey, chatBody("m", true, false))
	evs := parseSSE(t, body, "\n")
	if len(evs) != 3 || !strings.HasPrefix(evs[2].data, `{"error":{`) || strings.Contains(body, "[DONE]") {
		t.Errorf("openai %q", body)
	}
	_, body = call(t, an, "POST", "/v1/messages", anKey, anthropicBody("c", true))
	evs = parseSSE(t, body, "\n")
	if len(evs) != 3 || evs[2].name != "error" || !jsonEqual(json.RawMessage(evs[2].data), `{"type":"error","error":{"type":"overloaded_error","message":"boom"}}`) {
		t.Errorf("anthropic %q", body)
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	s := aitest.NewOpenAI(t)
	s.Keep(10)
	done := make(chan struct{})
	const workers, each = 8, 20
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range each {
				if i%5 == 0 {
					s.Script("m", aitest.Reply{Text: "t"})
					s.Enqueue("m", aitest.Reply{Text: "q"})
					_ = s.Requests()
				}
				req, _ := http.NewRequest("POST", s.URL+"/v1/chat/completions?w="+url.QueryEscape(string(rune('a'+w))), strings.NewReader(chatBody("m", i%2 == 0, false)))
				req.Header.Set("Authorization", "Bearer k")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 || !strings.Contains(string(b), `"t"`) && !strings.Contains(string(b), `"q"`) && !strings.Contains(string(b), "Hello") {
					t.Errorf("%d %s", res.StatusCode, b)
				}
			}
		}()
	}
	for range workers {
		<-done
	}
	if s.Calls() != workers*each || len(s.Requests()) != 10 {
		t.Errorf("calls %d, kept %d", s.Calls(), len(s.Requests()))
	}
}

// FuzzRequests throws arbitrary bodies at every endpoint: the fakes must
// answer each with a well-formed response (JSON or a stream), never a
// panic or a 5xx that nobody scripted.
func FuzzRequests(f *testing.F) {
	f.Add(uint8(0), chatBody("m", true, true))
	f.Add(uint8(1), `{"model":"e","input":[[1,2],[3]]}`)
	f.Add(uint8(2), anthropicBody("c", true))
	f.Add(uint8(3), geminiBody)
	f.Add(uint8(4), `{"requests":[{"content":{"parts":[{"text":"a"}]}}]}`)
	f.Add(uint8(0), `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url"}]}]}`)
	servers := []*aitest.Server{aitest.Start(aitest.OpenAI), aitest.Start(aitest.Anthropic), aitest.Start(aitest.Gemini)}
	f.Cleanup(func() {
		for _, s := range servers {
			s.Close()
		}
	})
	targets := []struct {
		s      int
		path   string
		header map[string]string
	}{
		{0, "/v1/chat/completions", oaKey},
		{0, "/v1/embeddings", oaKey},
		{1, "/v1/messages", anKey},
		{2, "/v1beta/models/g:streamGenerateContent?alt=sse", geKey},
		{2, "/v1beta/models/g:batchEmbedContents", geKey},
	}
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		tg := targets[int(which)%len(targets)]
		res, out := call(t, servers[tg.s], "POST", tg.path, tg.header, body)
		if res.StatusCode >= 500 {
			t.Fatalf("%s: %d %s", tg.path, res.StatusCode, out)
		}
		if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") && !json.Valid([]byte(out)) {
			t.Fatalf("%s: invalid JSON %q", tg.path, out)
		}
	})
}
