package openai_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/pinpointgw/pinpoint/internal/ai/aitest"
	"github.com/pinpointgw/pinpoint/internal/ai/openai"
	"github.com/pinpointgw/pinpoint/internal/ai/pricing"
	"github.com/pinpointgw/pinpoint/internal/ai/provider"
	"github.com/pinpointgw/pinpoint/internal/ai/sse"
)

const testKey = "sk-test-0123456789abcdef"

// newOpenAI builds a kind "openai" provider for the fake through its
// registered factory.
func newOpenAI(t *testing.T, f *aitest.Server, c provider.Config) provider.Provider {
	t.Helper()
	return build(t, "openai", f.URL+"/v1", c)
}

func build(t *testing.T, kind, base string, c provider.Config) provider.Provider {
	t.Helper()
	fac, ok := provider.Lookup(kind)
	if !ok {
		t.Fatalf("kind %q not registered", kind)
	}
	c.BaseURL = base
	p, err := fac.New(c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func chatCall(model string, stream bool, extra map[string]any) *provider.Call {
	b := map[string]any{"model": model, "messages": []any{map[string]any{"role": "user", "content": "hi"}}}
	if stream {
		b["stream"] = true
		b["stream_options"] = map[string]any{"include_usage": true}
	}
	for k, v := range extra {
		b[k] = v
	}
	body, err := json.Marshal(b)
	if err != nil {
		panic(err)
	}
	return &provider.Call{Op: provider.Chat, Body: body, Model: model, Stream: stream}
}

// send performs c over real HTTP.
func send(t *testing.T, p provider.Provider, c *provider.Call) *http.Response {
	t.Helper()
	req, err := p.Request(context.Background(), c)
	if err != nil {
		t.Fatalf("Request: %v", err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// complete performs a non-streamed call and returns the raw answer and
// its decoding.
func complete(t *testing.T, p provider.Provider, c *provider.Call) ([]byte, provider.Result) {
	t.Helper()
	res := send(t, p, c)
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, raw)
	}
	r, err := p.Decode(c, bytes.Clone(raw))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return raw, r
}

// fail performs a call the fake refuses and classifies the answer.
func fail(t *testing.T, p provider.Provider, c *provider.Call) *provider.Error {
	t.Helper()
	res := send(t, p, c)
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode < 300 {
		t.Fatalf("status %d, want a failure", res.StatusCode)
	}
	return p.Failure(res.StatusCode, res.Header, body)
}

// streamed is what a streamed call gave.
type streamed struct {
	fed      [][]byte // every event's data, as read
	emitted  [][]byte
	readErr  error // the reader's error, io.EOF excluded
	eventErr error
	complete bool
	usage    pricing.Usage
	hasUsage bool
}

// stream performs a streamed call, feeding each event to the translator.
func stream(t *testing.T, p provider.Provider, c *provider.Call) streamed {
	t.Helper()
	res := send(t, p, c)
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("status %d: %s", res.StatusCode, b)
	}
	var out streamed
	emit := func(chunk []byte) error {
		out.emitted = append(out.emitted, bytes.Clone(chunk))
		return nil
	}
	r := sse.NewReader(res.Body)
	st := p.Stream(c)
	for {
		name, data, err := r.Next()
		if err != nil {
			if err != io.EOF {
				out.readErr = err
			}
			break
		}
		out.fed = append(out.fed, bytes.Clone(data))
		if err := st.Event(name, data, emit); err != nil {
			out.eventErr = err
			break
		}
	}
	n := len(out.emitted)
	ok, err := st.End(emit)
	if err != nil {
		t.Fatalf("End: %v", err)
	}
	if len(out.emitted) != n {
		t.Errorf("End emitted %d chunks, want none", len(out.emitted)-n)
	}
	out.complete = ok
	out.usage, out.hasUsage = st.Usage()
	return out
}

func TestFactories(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind     string
		base     string
		needsKey bool
	}{
		{"openai", openai.DefaultBaseURL, true},
		{"openai_compatible", "", false},
	} {
		f, ok := provider.Lookup(tc.kind)
		if !ok {
			t.Fatalf("%s not registered", tc.kind)
		}
		if f.DefaultBaseURL != tc.base || f.NeedsKey != tc.needsKey || !f.Embeddings {
			t.Errorf("%s factory = {%q, NeedsKey %v, Embeddings %v}", tc.kind, f.DefaultBaseURL, f.NeedsKey, f.Embeddings)
		}
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		kind string
		c    provider.Config
		want string
	}{
		{"no key", "openai", provider.Config{BaseURL: openai.DefaultBaseURL}, "API key is required"},
		{"no base", "openai_compatible", provider.Config{}, "base URL is required"},
		{"relative", "openai_compatible", provider.Config{BaseURL: "localhost:11434/v1"}, "not an absolute"},
		{"scheme", "openai_compatible", provider.Config{BaseURL: "ftp://h/v1"}, "not an absolute"},
		{"no host", "openai_compatible", provider.Config{BaseURL: "http:///v1"}, "not an absolute"},
		{"query", "openai_compatible", provider.Config{BaseURL: "http://h/v1?x=1"}, "query"},
		{"userinfo", "openai_compatible", provider.Config{BaseURL: "http://u:p@h/v1"}, "credentials"},
		{"header name", "openai_compatible", provider.Config{BaseURL: "http://h/v1", Headers: map[string]string{"Bad Name": "x"}}, "cannot be sent"},
		{"header value", "openai_compatible", provider.Config{BaseURL: "http://h/v1", Headers: map[string]string{"X-A": "a\r\nb"}}, "cannot be sent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, _ := provider.Lookup(tc.kind)
			_, err := f.New(tc.c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestRequest(t *testing.T) {
	t.Parallel()
	f := aitest.NewOpenAI(t)
	// A trailing slash on the base URL is tolerated.
	p := build(t, "openai", f.URL+"/v1/", provider.Config{Key: testKey, Headers: map[string]string{"OpenAI-Organization": "org-1"}})
	for _, streamed := range []bool{false, true} {
		c := chatCall("gpt-4o-mini", streamed, nil)
		orig := bytes.Clone(c.Body)
		req, err := p.Request(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if req.Method != http.MethodPost || req.URL.String() != f.URL+"/v1/chat/completions" {
			t.Errorf("request %s %s", req.Method, req.URL)
		}
		if req.GetBody == nil || req.ContentLength != int64(len(c.Body)) {
			t.Errorf("GetBody set %v, ContentLength %d, want %d", req.GetBody != nil, req.ContentLength, len(c.Body))
		}
		wantAccept := "application/json"
		if streamed {
			wantAccept = "text/event-stream"
		}
		if got := req.Header.Get("Accept"); got != wantAccept {
			t.Errorf("stream %v: Accept %q, want %q", streamed, got, wantAccept)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		last, ok := f.Last()
		if !ok {
			t.Fatal("fake saw no request")
		}
		if !bytes.Equal(last.Body, orig) || !bytes.Equal(c.Body, orig) {
			t.Errorf("body sent %s, call body now %s, want %s", last.Body, c.Body, orig)
		}
		for k, want := range map[string]string{
			"Authorization":       "Bearer " + testKey,
			"Content-Type":        "application/json",
			"Openai-Organization": "org-1",
		} {
			if got := last.Header.Get(k); got != want {
				t.Errorf("header %s = %q, want %q", k, got, want)
			}
		}
	}
	if _, err := p.Request(context.Background(), &provider.Call{Op: 0, Body: []byte("{}")}); err == nil {
		t.Error("Request accepted an unknown operation")
	}
}

func TestChat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		reply aitest.Reply
		extra map[string]any
		check func(t *testing.T, body gjson.Result)
	}{
		{
			name:  "text",
			reply: aitest.Reply{Text: "Hello, world.", Usage: aitest.Usage{Input: 21, Output: 4, Cached: 8, Reasoning: 1}},
			check: func(t *testing.T, b gjson.Result) {
				if got := b.Get("choices.0.message.content").Str; got != "Hello, world." {
					t.Errorf("content %q", got)
				}
			},
		},
		{
			name: "tool calls",
			reply: aitest.Reply{
				ToolCalls: []aitest.ToolCall{{ID: "call_1", Name: "weather", Arguments: `{"city":"Paris"}`}, {Name: "time", Arguments: `{}`}},
				Usage:     aitest.Usage{Input: 50, Output: 17},
			},
			extra: map[string]any{"tools": []any{map[string]any{"type": "function", "function": map[string]any{"name": "weather"}}}},
			check: func(t *testing.T, b gjson.Result) {
				if got := b.Get("choices.0.message.tool_calls.#").Int(); got != 2 {
					t.Errorf("%d tool calls", got)
				}
				if got := b.Get("choices.0.message.tool_calls.0.function.arguments").Str; got != `{"city":"Paris"}` {
					t.Errorf("arguments %q", got)
				}
				if got := b.Get("choices.0.finish_reason").Str; got != "tool_calls" {
					t.Errorf("finish_reason %q", got)
				}
			},
		},
		{
			name:  "json response format",
			reply: aitest.Reply{Text: `{"answer":42}`, Usage: aitest.Usage{Input: 30, Output: 6}},
			extra: map[string]any{"response_format": map[string]any{"type": "json_object"}},
			check: func(t *testing.T, b gjson.Result) {
				if got := b.Get("choices.0.message.content").Str; got != `{"answer":42}` {
					t.Errorf("content %q", got)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := aitest.NewOpenAI(t)
			f.Script("gpt-4o", tc.reply)
			p := newOpenAI(t, f, provider.Config{Key: testKey})
			raw, r := complete(t, p, chatCall("gpt-4o", false, tc.extra))
			if !bytes.Equal(r.Body, raw) {
				t.Errorf("body changed:\n got %s\nwant %s", r.Body, raw)
			}
			want := pricing.Usage{Input: int64(tc.reply.Usage.Input), Output: int64(tc.reply.Usage.Output), CachedInput: int64(tc.reply.Usage.Cached)}
			if !r.HasUsage || r.Usage != want {
				t.Errorf("usage %+v (%v), want %+v", r.Usage, r.HasUsage, want)
			}
			tc.check(t, gjson.ParseBytes(r.Body))
		})
	}
}

func TestChatWithoutUsage(t *testing.T) {
	t.Parallel()
	f := aitest.NewOpenAI(t)
	f.Script("", aitest.Reply{Text: "hi", NoUsage: true})
	p := build(t, "openai_compatible", f.URL+"/v1", provider.Config{Key: "k"})
	_, r := complete(t, p, chatCall("llama3", false, nil))
	if r.HasUsage || r.Usage != (pricing.Usage{}) {
		t.Errorf("usage %+v (%v), want none", r.Usage, r.HasUsage)
	}
}

func TestDecodeRefusesNonJSON(t *testing.T) {
	t.Parallel()
	p := build(t, "openai", openai.DefaultBaseURL, provider.Config{Key: testKey})
	c := chatCall("gpt-4o", false, nil)
	for _, body := range []string{"", "<html>oops</html>", `{"id":`, `[1,2]`, "data: {}\n\n"} {
		if _, err := p.Decode(c, []byte(body)); err == nil {
			t.Errorf("Decode(%q) succeeded", body)
		}
	}
	// A 2xx answer that is only an error is that error.
	_, err := p.Decode(c, []byte(`{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`))
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Kind != provider.RateLimited || pe.Message != "Rate limit reached" {
		t.Errorf("Decode of an error body = %v", err)
	}
}

func TestStream(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		reply aitest.Reply
	}{
		{"text", aitest.Reply{Text: "The quick brown fox jumps.", Usage: aitest.Usage{Input: 11, Output: 6, Cached: 3}}},
		{"tool calls", aitest.Reply{Text: "Checking.", ToolCalls: []aitest.ToolCall{{Name: "weather", Arguments: `{"city":"Paris"}`}}, Usage: aitest.Usage{Input: 40, Output: 12}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := aitest.NewOpenAI(t)
			f.Script("gpt-4o-mini", tc.reply)
			p := newOpenAI(t, f, provider.Config{Key: testKey})
			s := stream(t, p, chatCall("gpt-4o-mini", true, nil))
			if s.readErr != nil || s.eventErr != nil {
				t.Fatalf("read error %v, event error %v", s.readErr, s.eventErr)
			}
			if !s.complete {
				t.Error("complete stream reported incomplete")
			}
			if n := len(s.fed); n < 3 || string(s.fed[n-1]) != "[DONE]" {
				t.Fatalf("stream did not end with [DONE]: %q", s.fed)
			}
			// Every chunk but [DONE] passes through byte for byte.
			if len(s.emitted) != len(s.fed)-1 {
				t.Fatalf("emitted %d chunks for %d events", len(s.emitted), len(s.fed))
			}
			var text strings.Builder
			for i, chunk := range s.emitted {
				if !bytes.Equal(chunk, s.fed[i]) {
					t.Errorf("chunk %d changed:\n got %s\nwant %s", i, chunk, s.fed[i])
				}
				text.WriteString(gjson.GetBytes(chunk, "choices.0.delta.content").Str)
			}
			if text.String() != tc.reply.Text {
				t.Errorf("streamed text %q, want %q", text.String(), tc.reply.Text)
			}
			last := gjson.ParseBytes(s.emitted[len(s.emitted)-1])
			if last.Get("choices.#").Int() != 0 || !last.Get("usage").IsObject() {
				t.Errorf("last chunk is not the usage chunk: %s", last.Raw)
			}
			want := pricing.Usage{Input: int64(tc.reply.Usage.Input), Output: int64(tc.reply.Usage.Output), CachedInput: int64(tc.reply.Usage.Cached)}
			if !s.hasUsage || s.usage != want {
				t.Errorf("usage %+v (%v), want %+v", s.usage, s.hasUsage, want)
			}
		})
	}
}

func TestStreamWithoutUsage(t *testing.T) {
	t.Parallel()
	f := aitest.NewOpenAI(t)
	f.Script("", aitest.Reply{Text: "no usage here", NoUsage: true})
	// A keyless server's own scheme can be given in the headers.
	p := build(t, "openai_compatible", f.URL+"/v1", provider.Config{Headers: map[string]string{"Authorization": "Bearer local"}})
	s := stream(t, p, chatCall("llama3", true, nil))
	if s.readErr != nil || s.eventErr != nil || !s.complete {
		t.Fatalf("read error %v, event error %v, complete %v", s.readErr, s.eventErr, s.complete)
	}
	if s.hasUsage {
		t.Errorf("usage %+v reported by a stream without usage", s.usage)
	}
	if last, _ := f.Last(); last.Header.Get("Authorization") != "Bearer local" {
		t.Errorf("Authorization %q, want the configured header", last.Header.Get("Authorization"))
	}
}

func TestStreamCutOff(t *testing.T) {
	t.Parallel()
	f := aitest.NewOpenAI(t)
	f.Script("gpt-4o", aitest.Reply{Text: "one two three four five", Usage: aitest.Usage{Input: 5, Output: 5}, CutAfter: 3})
	p := newOpenAI(t, f, provider.Config{Key: testKey})
	s := stream(t, p, chatCall("gpt-4o", true, nil))
	if s.readErr == nil {
		t.Error("a cut stream read without error")
	}
	if s.complete {
		t.Error("a cut stream reported complete")
	}
	if len(s.emitted) != 3 || s.hasUsage {
		t.Errorf("emitted %d chunks (want 3), usage %v (want none)", len(s.emitted), s.hasUsage)
	}
}

func TestStreamErrorChunk(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fail aitest.Failure
		kind provider.Kind
	}{
		{aitest.Failure{Status: 500}, provider.Server},
		{aitest.Failure{Status: 429}, provider.RateLimited},
		{aitest.Failure{Status: 429, Type: "insufficient_quota", Code: "insufficient_quota"}, provider.Denied},
		{aitest.Failure{Status: 400, Message: "bad thing", Param: "messages"}, provider.Invalid},
	} {
		t.Run(tc.kind.String()+"/"+tc.fail.Type, func(t *testing.T) {
			t.Parallel()
			f := aitest.NewOpenAI(t)
			f.Script("gpt-4o", aitest.Reply{Text: "one two three four", Fail: &tc.fail, FailAfter: 2})
			p := newOpenAI(t, f, provider.Config{Key: testKey})
			s := stream(t, p, chatCall("gpt-4o", true, nil))
			var pe *provider.Error
			if !errors.As(s.eventErr, &pe) {
				t.Fatalf("event error %v, want a *provider.Error", s.eventErr)
			}
			if pe.Kind != tc.kind || pe.Message == "" {
				t.Errorf("error %+v, want kind %s", pe, tc.kind)
			}
			if tc.fail.Message != "" && (pe.Message != tc.fail.Message || pe.Param != tc.fail.Param || pe.Status != 400) {
				t.Errorf("error %+v, want message %q, param %q, status 400", pe, tc.fail.Message, tc.fail.Param)
			}
			if len(s.emitted) != 2 {
				t.Errorf("emitted %d chunks before the error, want 2", len(s.emitted))
			}
			if s.complete {
				t.Error("a failed stream reported complete")
			}
		})
	}
}

func TestFailure(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		fail       aitest.Failure
		kind       provider.Kind
		code       string
		retryAfter time.Duration
	}{
		{"400", aitest.Failure{Status: 400, Message: "This model's maximum context length is 128000 tokens.", Code: "context_length_exceeded", Param: "messages"}, provider.Invalid, "context_length_exceeded", 0},
		{"401", aitest.Failure{Status: 401}, provider.Denied, "invalid_api_key", 0},
		{"403", aitest.Failure{Status: 403, Code: "unsupported_country_region_territory"}, provider.Denied, "unsupported_country_region_territory", 0},
		{"404", aitest.Failure{Status: 404}, provider.Denied, "model_not_found", 0},
		{"408", aitest.Failure{Status: 408}, provider.Timeout, "", 0},
		{"413", aitest.Failure{Status: 413}, provider.Invalid, "", 0},
		{"422", aitest.Failure{Status: 422}, provider.Invalid, "", 0},
		{"429 retry-after-ms", aitest.Failure{Status: 429, RetryAfter: 1500 * time.Millisecond}, provider.RateLimited, "rate_limit_exceeded", 1500 * time.Millisecond},
		{"429 retry-after", aitest.Failure{Status: 429, Header: http.Header{"Retry-After": {"7"}}}, provider.RateLimited, "rate_limit_exceeded", 7 * time.Second},
		{"429 quota", aitest.Failure{Status: 429, Type: "insufficient_quota", Code: "insufficient_quota", Message: "You exceeded your current quota."}, provider.Denied, "insufficient_quota", 0},
		{"500", aitest.Failure{Status: 500}, provider.Server, "", 0},
		{"503", aitest.Failure{Status: 503, RetryAfter: 2 * time.Second}, provider.Server, "", 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := aitest.NewOpenAI(t)
			f.FailNext(1, tc.fail)
			p := newOpenAI(t, f, provider.Config{Key: testKey})
			e := fail(t, p, chatCall("gpt-4o", false, nil))
			if e.Kind != tc.kind || e.Status != tc.fail.Status || e.Code != tc.code || e.RetryAfter != tc.retryAfter {
				t.Errorf("error %+v, want kind %s, status %d, code %q, retry after %v", e, tc.kind, tc.fail.Status, tc.code, tc.retryAfter)
			}
			if e.Message == "" || (tc.fail.Message != "" && e.Message != tc.fail.Message) {
				t.Errorf("message %q, want %q", e.Message, tc.fail.Message)
			}
			if e.Param != tc.fail.Param {
				t.Errorf("param %q, want %q", e.Param, tc.fail.Param)
			}
		})
	}
}

// Regression: OpenAI's 401 quotes the (masked) key; it must not reach a
// trace or log.
func TestUnauthorizedMessageHidesKey(t *testing.T) {
	t.Parallel()
	f := aitest.NewOpenAI(t)
	f.RequireKey("sk-proj-theRightKey0000")
	p := newOpenAI(t, f, provider.Config{Key: "sk-proj-wrongKey9876"})
	e := fail(t, p, chatCall("gpt-4o", false, nil))
	if e.Kind != provider.Denied {
		t.Errorf("kind %s, want denied", e.Kind)
	}
	if !strings.Contains(e.Message, "Incorrect API key provided: sk-***.") || strings.Contains(e.Message, "9876") {
		t.Errorf("message %q shows the key", e.Message)
	}
}

func TestEmbeddings(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"float", "base64"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			f := aitest.NewOpenAI(t)
			f.Script("text-embedding-3-small", aitest.Reply{Usage: aitest.Usage{Input: 9}})
			p := newOpenAI(t, f, provider.Config{Key: testKey})
			body := `{"model":"text-embedding-3-small","input":["a","b"],"encoding_format":"` + format + `","dimensions":4}`
			c := &provider.Call{Op: provider.Embeddings, Body: []byte(body), Model: "text-embedding-3-small"}
			raw, r := complete(t, p, c)
			if last, _ := f.Last(); last.Path != "/v1/embeddings" || string(last.Body) != body {
				t.Errorf("fake got %s %s", last.Path, last.Body)
			}
			if !bytes.Equal(r.Body, raw) {
				t.Errorf("body changed:\n got %s\nwant %s", r.Body, raw)
			}
			emb := gjson.GetBytes(r.Body, "data.1.embedding")
			if format == "base64" && emb.Type != gjson.String || format == "float" && emb.Get("#").Int() != 4 {
				t.Errorf("embedding %s", emb.Raw)
			}
			if !r.HasUsage || r.Usage != (pricing.Usage{Input: 9}) {
				t.Errorf("usage %+v (%v), want 9 input tokens", r.Usage, r.HasUsage)
			}
		})
	}
}

func TestCompatibleWithoutKey(t *testing.T) {
	t.Parallel()
	f := aitest.NewOpenAI(t)
	p := build(t, "openai_compatible", f.URL+"/v1", provider.Config{})
	// The fake, like OpenAI, refuses a call without a key.
	e := fail(t, p, chatCall("llama3", false, nil))
	last, ok := f.Last()
	if !ok {
		t.Fatal("fake saw no request")
	}
	if h, ok := last.Header["Authorization"]; ok {
		t.Errorf("keyless provider sent Authorization %q", h)
	}
	if e.Kind != provider.Denied || e.Status != 401 {
		t.Errorf("error %+v, want denied 401", e)
	}

	// With a key it is sent as a bearer token.
	p = build(t, "openai_compatible", f.URL+"/v1", provider.Config{Key: "local-key"})
	complete(t, p, chatCall("llama3", false, nil))
	if last, _ := f.Last(); last.Header.Get("Authorization") != "Bearer local-key" {
		t.Errorf("Authorization %q", last.Header.Get("Authorization"))
	}
}
