package anthropic

import (
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
	"github.com/pinpointgw/pinpoint/internal/ai/pricing"
	"github.com/pinpointgw/pinpoint/internal/ai/provider"
	"github.com/pinpointgw/pinpoint/internal/ai/sse"
)

const model = "claude-haiku-4-5"

func newClient(t testing.TB, f *aitest.Server, version string) provider.Provider {
	t.Helper()
	p, err := New(provider.Config{
		Name:       "claude",
		BaseURL:    f.URL + "/v1/",
		Key:        "sk-ant-test",
		APIVersion: version,
		Headers:    map[string]string{"anthropic-beta": "test-beta"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func chatCall(body string, stream bool) *provider.Call {
	return &provider.Call{Op: provider.Chat, Body: []byte(body), Model: model, Stream: stream}
}

// send performs c against the fake and returns the answer.
func send(t *testing.T, p provider.Provider, c *provider.Call) *http.Response {
	t.Helper()
	req, err := p.Request(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// complete performs a non-streamed call and decodes its 2xx answer.
func complete(t *testing.T, p provider.Provider, c *provider.Call) provider.Result {
	t.Helper()
	resp := send(t, p, c)
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	res, err := p.Decode(c, body)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(res.Body) {
		t.Fatalf("decoded body is not JSON: %s", res.Body)
	}
	return res
}

// chunk is the part of a chat.completion.chunk the tests look at.
type chunk struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
	Choices []struct {
		Index int `json:"index"`
		Delta struct {
			Role      *string `json:"role"`
			Content   *string `json:"content"`
			ToolCalls []struct {
				Index    int    `json:"index"`
				ID       string `json:"id"`
				Type     string `json:"type"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens        int64 `json:"prompt_tokens"`
		CompletionTokens    int64 `json:"completion_tokens"`
		TotalTokens         int64 `json:"total_tokens"`
		PromptTokensDetails struct {
			CachedTokens int64 `json:"cached_tokens"`
		} `json:"prompt_tokens_details"`
	} `json:"usage"`
}

// streamed is a streamed call as the gateway sees it.
type streamed struct {
	chunks   []chunk
	raw      []string
	err      error // from Event
	complete bool
	usage    pricing.Usage
	hasUsage bool
}

// text is the content reassembled from the chunks.
func (s *streamed) text() string {
	var b strings.Builder
	for _, c := range s.chunks {
		for _, ch := range c.Choices {
			if ch.Delta.Content != nil {
				b.WriteString(*ch.Delta.Content)
			}
		}
	}
	return b.String()
}

// finish is the last finish_reason seen.
func (s *streamed) finish() string {
	f := ""
	for _, c := range s.chunks {
		for _, ch := range c.Choices {
			if ch.FinishReason != nil {
				f = *ch.FinishReason
			}
		}
	}
	return f
}

// streamCall performs a streamed call, feeding every event to the translator
// and then End, as the gateway does.
func streamCall(t *testing.T, p provider.Provider, c *provider.Call) *streamed {
	t.Helper()
	resp := send(t, p, c)
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	st := p.Stream(c)
	out := &streamed{}
	emit := func(b []byte) error {
		var ch chunk
		if err := json.Unmarshal(b, &ch); err != nil {
			t.Fatalf("chunk is not JSON: %s: %v", b, err)
		}
		out.chunks = append(out.chunks, ch)
		out.raw = append(out.raw, string(b))
		return nil
	}
	r := sse.NewReader(resp.Body)
	for {
		name, data, err := r.Next()
		if err != nil {
			break // io.EOF, or the connection broke
		}
		if out.err = st.Event(name, data, emit); out.err != nil {
			break
		}
	}
	complete, err := st.End(emit)
	if err != nil {
		t.Fatal(err)
	}
	out.complete = complete
	out.usage, out.hasUsage = st.Usage()
	return out
}

func TestRegistered(t *testing.T) {
	t.Parallel()
	f, ok := provider.Lookup("anthropic")
	if !ok {
		t.Fatal("kind anthropic is not registered")
	}
	if f.DefaultBaseURL != "https://api.anthropic.com/v1" || !f.NeedsKey || f.Embeddings || f.New == nil {
		t.Fatalf("factory = %+v", f)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	for _, c := range []provider.Config{
		{Name: "a", BaseURL: "api.anthropic.com/v1", Key: "k"},
		{Name: "a", BaseURL: "ftp://api.anthropic.com/v1", Key: "k"},
		{Name: "a", BaseURL: "https://api.anthropic.com/v1?x=1", Key: "k"},
		{Name: "a", BaseURL: "https://api.anthropic.com/v1"},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
}

func TestEmbeddingsRefused(t *testing.T) {
	t.Parallel()
	f := aitest.NewAnthropic(t)
	p := newClient(t, f, "")
	c := &provider.Call{Op: provider.Embeddings, Body: []byte(`{"model":"m","input":"x"}`), Model: "m"}
	_, err := p.Request(context.Background(), c)
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Kind != provider.Invalid || pe.Status != 400 || pe.Message != "anthropic serves no embeddings models" {
		t.Fatalf("err = %v", err)
	}
	if f.Calls() != 0 {
		t.Fatalf("the fake got %d calls", f.Calls())
	}
}

func TestTextChat(t *testing.T) {
	t.Parallel()
	f := aitest.NewAnthropic(t)
	f.RequireKey("sk-ant-test")
	f.Script(model, aitest.Reply{Text: "Hi there! \"Quoted\"\nNew line.", Usage: aitest.Usage{Input: 10, Output: 3}, Model: "claude-haiku-4-5-20251001"})
	p := newClient(t, f, "")
	before := time.Now().Unix()
	res := complete(t, p, chatCall(`{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"Hello"}]}`, false))

	last, _ := f.Last()
	if last.Path != "/v1/messages" || last.Method != http.MethodPost {
		t.Errorf("sent %s %s", last.Method, last.Path)
	}
	for k, want := range map[string]string{"X-Api-Key": "sk-ant-test", "Anthropic-Version": "2023-06-01", "Content-Type": "application/json", "Anthropic-Beta": "test-beta"} {
		if got := last.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	sameJSON(t, last.Body, `{"model":"claude-haiku-4-5","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"Hello"}]}]}`)

	var got struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		Model   string `json:"model"`
		Choices []struct {
			Index   int `json:"index"`
			Message struct {
				Role      string          `json:"role"`
				Content   *string         `json:"content"`
				ToolCalls json.RawMessage `json:"tool_calls"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage pricing.OpenAIUsage `json:"usage"`
	}
	if err := json.Unmarshal(res.Body, &got); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.ID, "chatcmpl-msg_01") || got.Object != "chat.completion" || got.Created < before || got.Model != model {
		t.Errorf("envelope = %s", res.Body)
	}
	if len(got.Choices) != 1 || got.Choices[0].Message.Role != "assistant" || got.Choices[0].Message.Content == nil ||
		*got.Choices[0].Message.Content != "Hi there! \"Quoted\"\nNew line." || got.Choices[0].FinishReason != "stop" || got.Choices[0].Message.ToolCalls != nil {
		t.Errorf("choice = %s", res.Body)
	}
	if got.Usage.PromptTokens != 10 || got.Usage.CompletionTokens != 3 || gjson.GetBytes(res.Body, "usage.total_tokens").Int() != 13 {
		t.Errorf("usage = %s", res.Body)
	}
	if !res.HasUsage || res.Usage != (pricing.Usage{Input: 10, Output: 3}) {
		t.Errorf("Result usage = %+v %v", res.Usage, res.HasUsage)
	}
}

func TestAPIVersion(t *testing.T) {
	t.Parallel()
	f := aitest.NewAnthropic(t)
	p := newClient(t, f, "2099-01-01")
	complete(t, p, chatCall(`{"messages":[{"role":"user","content":"Hello"}]}`, false))
	last, _ := f.Last()
	if v := last.Header.Get("Anthropic-Version"); v != "2099-01-01" {
		t.Fatalf("anthropic-version = %q", v)
	}
}

func TestMultiTurnWithSystem(t *testing.T) {
	t.Parallel()
	f := aitest.NewAnthropic(t)
	f.Script(model, aitest.Reply{Text: "Paris.", Usage: aitest.Usage{Input: 40, Output: 2}})
	p := newClient(t, f, "")
	res := complete(t, p, chatCall(`{"model":"x","max_completion_tokens":256,"temperature":0.2,"top_p":0.5,"stop":["\n\n"],"user":"user-42","messages":[
		{"role":"system","content":"You are terse."},
		{"role":"user","content":"Capital of Italy?"},
		{"role":"assistant","content":"Rome."},
		{"role":"developer","content":[{"type":"text","text":"Answer in one word."}]},
		{"role":"user","content":"And of France?"}]}`, false))
	last, _ := f.Last()
	sameJSON(t, last.Body, `{"model":"claude-haiku-4-5","max_tokens":256,"temperature":0.2,"top_p":0.5,"stop_sequences":["\n\n"],"metadata":{"user_id":"user-42"},
		"system":"You are terse.\n\nAnswer in one word.",
		"messages":[{"role":"user","content":[{"type":"text","text":"Capital of Italy?"}]},
		{"role":"assistant","content":[{"type":"text","text":"Rome."}]},
		{"role":"user","content":[{"type":"text","text":"And of France?"}]}]}`)
	if c := gjson.GetBytes(res.Body, "choices.0.message.content").String(); c != "Paris." {
		t.Fatalf("content = %q", c)
	}
}

func TestImageParts(t *testing.T) {
	t.Parallel()
	f := aitest.NewAnthropic(t)
	p := newClient(t, f, "")
	complete(t, p, chatCall(`{"messages":[{"role":"user","content":[
		{"type":"text","text":"Compare these."},
		{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/4AAQSkZJRg=="}},
		{"type":"image_url","image_url":{"url":"https://example.com/b.png","detail":"low"}}]}]}`, false))
	last, _ := f.Last()
	sameJSON(t, []byte(gjson.GetBytes(last.Body, "messages").Raw), `[{"role":"user","content":[
		{"type":"text","text":"Compare these."},
		{"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/4AAQSkZJRg=="}},
		{"type":"image","source":{"type":"url","url":"https://example.com/b.png"}}]}]`)
}

func TestToolsRoundTrip(t *testing.T) {
	t.Parallel()
	f := aitest.NewAnthropic(t)
	f.Script(model, aitest.Reply{
		Text: "Checking both.",
		ToolCalls: []aitest.ToolCall{
			{ID: "toolu_a", Name: "weather", Arguments: `{"city": "Oslo", "units": ["c"]}`},
			{ID: "toolu_b", Name: "time", Arguments: `{}`},
		},
		Usage: aitest.Usage{Input: 120, Output: 30},
	})
	p := newClient(t, f, "")
	res := complete(t, p, chatCall(`{"messages":[
		{"role":"user","content":"Weather in Paris and Rome?"},
		{"role":"assistant","content":null,"tool_calls":[
			{"id":"toolu_1","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Paris\"}"}},
			{"id":"toolu_2","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Rome\"}"}}]},
		{"role":"tool","tool_call_id":"toolu_1","content":"18C"},
		{"role":"tool","tool_call_id":"toolu_2","content":"24C"},
		{"role":"user","content":"And Oslo?"}],
		"tools":[{"type":"function","function":{"name":"weather","description":"Current weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},
			{"type":"function","function":{"name":"time"}}],
		"tool_choice":"auto","parallel_tool_calls":false}`, false))

	last, _ := f.Last()
	sameJSON(t, last.Body, `{"model":"claude-haiku-4-5","max_tokens":4096,
		"messages":[{"role":"user","content":[{"type":"text","text":"Weather in Paris and Rome?"}]},
		{"role":"assistant","content":[
			{"type":"tool_use","id":"toolu_1","name":"weather","input":{"city":"Paris"}},
			{"type":"tool_use","id":"toolu_2","name":"weather","input":{"city":"Rome"}}]},
		{"role":"user","content":[
			{"type":"tool_result","tool_use_id":"toolu_1","content":"18C"},
			{"type":"tool_result","tool_use_id":"toolu_2","content":"24C"},
			{"type":"text","text":"And Oslo?"}]}],
		"tools":[{"name":"weather","description":"Current weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}},
			{"name":"time","input_schema":{"type":"object"}}],
		"tool_choice":{"type":"auto","disable_parallel_tool_use":true}}`)

	sameJSON(t, []byte(gjson.GetBytes(res.Body, "choices.0").Raw), `{"index":0,"logprobs":null,"finish_reason":"tool_calls","message":{
		"role":"assistant","content":"Checking both.","tool_calls":[
		{"id":"toolu_a","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Oslo\",\"units\":[\"c\"]}"}},
		{"id":"toolu_b","type":"function","function":{"name":"time","arguments":"{}"}}]}}`)
}

func TestToolCallsOnlyHaveNullContent(t *testing.T) {
	t.Parallel()
	f := aitest.NewAnthropic(t)
	f.Script(model, aitest.Reply{ToolCalls: []aitest.ToolCall{{Name: "f", Arguments: `{"a":1}`}}})
	p := newClient(t, f, "")
	res := complete(t, p, chatCall(`{"messages":[{"role":"user","content":"Go"}],"tools":[{"type":"function","function":{"name":"f"}}]}`, false))
	if c := gjson.GetBytes(res.Body, "choices.0.message.content"); c.Type != gjson.Null || !c.Exists() {
		t.Fatalf("content = %s, want null", c.Raw)
	}
	if id := gjson.GetBytes(res.Body, "choices.0.message.tool_calls.0.id").String(); !strings.HasPrefix(id, "toolu_01") {
		t.Fatalf("tool call id = %q", id)
	}
}

const schemaBody = `{"messages":[{"role":"user","content":"Who wrote Hamlet?"}],
	"response_format":{"type":"json_schema","json_schema":{"name":"author","strict":true,
	"schema":{"type":"object","properties":{"name":{"type":"string"},"born":{"type":"integer"}},"required":["name","born"]}}}}`

func TestJSONSchemaForcedTool(t *testing.T) {
	t.Parallel()
	f := aitest.NewAnthropic(t)
	f.Script(model, aitest.Reply{ToolCalls: []aitest.ToolCall{{Name: "author", Arguments: `{"name": "William Shakespeare", "born": 1564}`}}})
	p := newClient(t, f, "")
	res := complete(t, p, chatCall(schemaBody, false))

	last, _ := f.Last()
	sameJSON(t, []byte(gjson.GetBytes(last.Body, "tools").Raw), `[{"name":"author","input_schema":{"type":"object","properties":{"name":{"type":"string"},"born":{"type":"integer"}},"required":["name","born"]}}]`)
	sameJSON(t, []byte(gjson.GetBytes(last.Body, "tool_choice").Raw), `{"type":"tool","name":"author"}`)

	sameJSON(t, []byte(gjson.GetBytes(res.Body, "choices.0").Raw), `{"index":0,"logprobs":null,"finish_reason":"stop","message":{
		"role":"assistant","content":"{\"name\":\"William Shakespeare\",\"born\":1564}"}}`)
}

func TestJSONSchemaStreamedAsContent(t *testing.T) {
	t.Parallel()
	f := aitest.NewAnthropic(t)
	args := `{"name":"William Shakespeare","born":1564}`
	f.Script(model, aitest.Reply{ToolCalls: []aitest.ToolCall{{Name: "author", Arguments: args}}, Chunks: 5})
	p := newClient(t, f, "")
	s := streamCall(t, p, chatCall(schemaBody, true))
	if !s.complete || s.err != nil {
		t.Fatalf("complete=%v err=%v", s.complete, s.err)
	}
	if got := s.text(); got != args {
		t.Fatalf("content = %q, want %q", got, args)
	}
	for _, c := range s.chunks {
		for _, ch := range c.Choices {
			if len(ch.Delta.ToolCalls) > 0 {
				t.Fatalf("tool_calls delta in a json_schema stream: %+v", c)
			}
		}
	}
	if s.finish() != "stop" {
		t.Fatalf("finish_reason = %q", s.finish())
	}
}

func TestJSONObjectInstruction(t *testing.T) {
	t.Parallel()
	f := aitest.NewAnthropic(t)
	f.Script(model, aitest.Reply{Text: `{"ok":true}`})
	p := newClient(t, f, "")
	res := complete(t, p, chatCall(`{"messages":[{"role":"user","content":"Status?"}],"response_format":{"type":"json_object"}}`, false))
	last, _ := f.Last()
	if s := gjson.GetBytes(last.Body, "system").String(); s != jsonObjectInstruction {
		t.Fatalf("system = %q", s)
	}
	if gjson.GetBytes(last.Body, "tools").Exists() {
		t.Fatal("json_object must not force a tool")
	}
	if c := gjson.GetBytes(res.Body, "choices.0.message.content").String(); c != `{"ok":true}` {
		t.Fatalf("content = %q", c)
	}
}

func TestStreamText(t *testing.T) {
	t.Parallel()
	f := aitest.NewAnthropic(t)
	text := "The quick brown fox — jumps over the \"lazy\" dog.\nTwice."
	f.Script(model, aitest.Reply{Text: text, Usage: aitest.Usage{Input: 25, Output: 14}})
	p := newClient(t, f, "")
	s := streamCall(t, p, chatCall(`{"messages":[{"role":"user","content":"Go"}],"stream":true,"stream_options":{"include_usage":true}}`, true))

	last, _ := f.Last()
	if !last.Stream || !gjson.GetBytes(last.Body, "stream").Bool() {
		t.Fatalf("stream not asked for: %s", last.Body)
	}
	if !s.complete || s.err != nil {
		t.Fatalf("complete=%v err=%v", s.complete, s.err)
	}
	if got := s.text(); got != text {
		t.Fatalf("content = %q, want %q", got, text)
	}
	if len(s.chunks) < 4 {
		t.Fatalf("only %d chunks", len(s.chunks))
	}
	first := s.chunks[0]
	if r := first.Choices[0].Delta.Role; r == nil || *r != "assistant" || first.Choices[0].Delta.Content == nil || *first.Choices[0].Delta.Content != "" {
		t.Fatalf("first chunk = %s", s.raw[0])
	}
	for i, c := range s.chunks {
		if c.ID != first.ID || c.Created != first.Created || c.Model != model || c.Object != "chat.completion.chunk" || !strings.HasPrefix(c.ID, "chatcmpl-msg_") {
			t.Fatalf("chunk %d envelope differs: %s", i, s.raw[i])
		}
	}
	n := len(s.chunks)
	end := s.chunks[n-1]
	if len(end.Choices) != 0 || end.Usage == nil || !strings.Contains(s.raw[n-1], `"choices":[]`) {
		t.Fatalf("last chunk is not the usage chunk: %s", s.raw[n-1])
	}
	if end.Usage.PromptTokens != 25 || end.Usage.CompletionTokens != 14 || end.Usage.TotalTokens != 39 {
		t.Fatalf("usage chunk = %s", s.raw[n-1])
	}
	fin := s.chunks[n-2]
	if fin.Choices[0].FinishReason == nil || *fin.Choices[0].FinishReason != "stop" || s.raw[n-2] == "" || !strings.Contains(s.raw[n-2], `"delta":{}`) {
		t.Fatalf("finish chunk = %s", s.raw[n-2])
	}
	for _, c := range s.chunks[:n-2] {
		if c.Choices[0].FinishReason != nil {
			t.Fatalf("finish_reason before the end: %+v", c)
		}
	}
	if !s.hasUsage || s.usage != (pricing.Usage{Input: 25, Output: 14}) {
		t.Fatalf("Usage() = %+v %v", s.usage, s.hasUsage)
	}
}

func TestStreamToolCall(t *testing.T) {
	t.Parallel()
	f := aitest.NewAnthropic(t)
	args0 := `{"city":"Paris","days":3,"note":"say \"hi\""}`
	args1 := `{"tz":"Europe/Paris"}`
	f.Script(model, aitest.Reply{
		Text:      "Let me check.",
		ToolCalls: []aitest.ToolCall{{ID: "toolu_x", Name: "forecast", Arguments: args0}, {Name: "clock", Arguments: args1}},
		Chunks:    4,
		Usage:     aitest.Usage{Input: 50, Output: 40},
	})
	p := newClient(t, f, "")
	s := streamCall(t, p, chatCall(`{"messages":[{"role":"user","content":"Go"}],"tools":[{"type":"function","function":{"name":"forecast"}},{"type":"function","function":{"name":"clock"}}]}`, true))
	if !s.complete || s.err != nil {
		t.Fatalf("complete=%v err=%v", s.complete, s.err)
	}
	if s.text() != "Let me check." {
		t.Fatalf("content = %q", s.text())
	}
	type call struct{ id, name, args string }
	var calls []call
	for _, c := range s.chunks {
		for _, ch := range c.Choices {
			for _, tc := range ch.Delta.ToolCalls {
				if tc.Index == len(calls) {
					if tc.ID == "" || tc.Type != "function" || tc.Function.Name == "" {
						t.Fatalf("a tool call starts without id, type or name: %+v", tc)
					}
					calls = append(calls, call{id: tc.ID, name: tc.Function.Name})
				} else if tc.Index != len(calls)-1 || tc.ID != "" {
					t.Fatalf("unexpected tool call delta %+v after %d calls", tc, len(calls))
				}
				calls[tc.Index].args += tc.Function.Arguments
			}
		}
	}
	if len(calls) != 2 || calls[0] != (call{"toolu_x", "forecast", args0}) || calls[1].name != "clock" || calls[1].args != args1 {
		t.Fatalf("tool calls = %+v", calls)
	}
	if s.finish() != "tool_calls" {
		t.Fatalf("finish_reason = %q", s.finish())
	}
}

func TestMaxTokensStop(t *testing.T) {
	t.Parallel()
	f := aitest.NewAnthropic(t)
	f.Script(model, aitest.Reply{Text: "This is cut", Finish: "length", Usage: aitest.Usage{Input: 5, Output: 3}})
	p := newClient(t, f, "")
	body := `{"max_tokens":3,"messages":[{"role":"user","content":"Write a lot"}]}`
	res := complete(t, p, chatCall(body, false))
	if fr := gjson.GetBytes(res.Body, "choices.0.finish_reason").String(); fr != "length" {
		t.Fatalf("finish_reason = %q", fr)
	}
	s := streamCall(t, p, chatCall(body, true))
	if s.finish() != "length" || !s.complete {
		t.Fatalf("streamed finish_reason = %q complete=%v", s.finish(), s.complete)
	}
}

func TestStopReasons(t *testing.T) {
	t.Parallel()
	f := aitest.NewAnthropic(t)
	p := newClient(t, f, "")
	for _, tc := range []struct {
		reply aitest.Reply
		want  string
	}{
		{aitest.Reply{Text: "a", StopSequence: "###"}, "stop"},
		{aitest.Reply{Text: "a", Finish: "pause_turn"}, "stop"},
		{aitest.Reply{Text: "a", Finish: "content_filter"}, "content_filter"},
		{aitest.Reply{Text: "a", Finish: "model_context_window_exceeded"}, "length"},
	} {
		f.Enqueue(model, tc.reply)
		res := complete(t, p, chatCall(`{"messages":[{"role":"user","content":"x"}]}`, false))
		if fr := gjson.GetBytes(res.Body, "choices.0.finish_reason").String(); fr != tc.want {
			t.Errorf("%+v: finish_reason = %q, want %q", tc.reply, fr, tc.want)
		}
	}
}

func TestStreamCutOff(t *testing.T) {
	t.Parallel()
	f := aitest.NewAnthropic(t)
	f.Script(model, aitest.Reply{Text: "one two three four five", Usage: aitest.Usage{Input: 5, Output: 5}, CutAfter: 4})
	p := newClient(t, f, "")
	s := streamCall(t, p, chatCall(`{"messages":[{"role":"user","content":"x"}]}`, true))
	if s.complete || s.err != nil {
		t.Fatalf("complete=%v err=%v, want a broken stream", s.complete, s.err)
	}
	if len(s.chunks) == 0 || s.text() == "" || s.text() == "one two three four five" {
		t.Fatalf("chunks before the cut: %q", s.raw)
	}
	for _, c := range s.chunks {
		if c.Usage != nil || len(c.Choices) == 0 {
			t.Fatalf("a broken stream emitted a usage chunk: %+v", c)
		}
	}
	// message_start's input count is known even though the stream broke.
	if !s.hasUsage || s.usage.Input != 5 {
		t.Fatalf("Usage() = %+v %v", s.usage, s.hasUsage)
	}
}

func TestStreamErrorEvent(t *testing.T) {
	t.Parallel()
	f := aitest.NewAnthropic(t)
	f.Script(model, aitest.Reply{Text: "one two three four", Fail: &aitest.Failure{Status: 529}, FailAfter: 4})
	p := newClient(t, f, "")
	s := streamCall(t, p, chatCall(`{"messages":[{"role":"user","content":"x"}]}`, true))
	var pe *provider.Error
	if !errors.As(s.err, &pe) {
		t.Fatalf("Event error = %v, want a *provider.Error", s.err)
	}
	if pe.Kind != provider.Server || pe.Type != "overloaded_error" || pe.Message != "Overloaded" {
		t.Fatalf("error = %+v", pe)
	}
	if s.complete {
		t.Fatal("a stream that failed is complete")
	}
	if s.text() == "" {
		t.Fatal("the text before the error was lost")
	}

	f.Script(model, aitest.Reply{Text: "one two", Fail: &aitest.Failure{Status: 429}, FailAfter: 2})
	s = streamCall(t, p, chatCall(`{"messages":[{"role":"user","content":"x"}]}`, true))
	if !errors.As(s.err, &pe) || pe.Kind != provider.RateLimited || pe.Type != "rate_limit_error" {
		t.Fatalf("error = %v", s.err)
	}
}

func TestFailure(t *testing.T) {
	t.Parallel()
	cases := []struct {
		fail     aitest.Failure
		kind     provider.Kind
		typ      string
		msg      string
		retry    time.Duration
		code     string
		streamed bool
	}{
		{fail: aitest.Failure{Status: 400, Message: "messages.0.content: Field required"}, kind: provider.Invalid, typ: "invalid_request_error", msg: "messages.0.content: Field required"},
		{fail: aitest.Failure{Status: 400, Message: "prompt is too long: 210000 tokens > 200000 maximum"}, kind: provider.Invalid, typ: "invalid_request_error", code: "context_length_exceeded"},
		{fail: aitest.Failure{Status: 413}, kind: provider.Invalid, typ: "request_too_large"},
		{fail: aitest.Failure{Status: 401, Message: "invalid x-api-key"}, kind: provider.Denied, typ: "authentication_error", msg: "invalid x-api-key"},
		{fail: aitest.Failure{Status: 403}, kind: provider.Denied, typ: "permission_error"},
		{fail: aitest.Failure{Status: 404}, kind: provider.Denied, typ: "not_found_error"},
		{fail: aitest.Failure{Status: 429, RetryAfter: 7 * time.Second}, kind: provider.RateLimited, typ: "rate_limit_error", retry: 7 * time.Second, code: "rate_limit_exceeded", streamed: true},
		{fail: aitest.Failure{Status: 529}, kind: provider.Server, typ: "overloaded_error", msg: "Overloaded", streamed: true},
		{fail: aitest.Failure{Status: 500}, kind: provider.Server, typ: "api_error", msg: "Internal server error"},
		{fail: aitest.Failure{Status: 504}, kind: provider.Timeout, typ: "timeout_error"},
	}
	for _, tc := range cases {
		t.Run(http.StatusText(tc.fail.Status), func(t *testing.T) {
			t.Parallel()
			f := aitest.NewAnthropic(t)
			f.FailNext(1, tc.fail)
			p := newClient(t, f, "")
			resp := send(t, p, chatCall(`{"messages":[{"role":"user","content":"x"}]}`, tc.streamed))
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.fail.Status {
				t.Fatalf("status %d", resp.StatusCode)
			}
			e := p.Failure(resp.StatusCode, resp.Header, body)
			if e.Kind != tc.kind || e.Status != tc.fail.Status || e.Type != tc.typ || e.RetryAfter != tc.retry || e.Code != tc.code || e.Message == "" {
				t.Fatalf("Failure = %+v", e)
			}
			if tc.msg != "" && e.Message != tc.msg {
				t.Fatalf("message = %q, want %q", e.Message, tc.msg)
			}
		})
	}
}

func TestFailureWithoutJSON(t *testing.T) {
	t.Parallel()
	p, err := New(provider.Config{Name: "a", BaseURL: DefaultBaseURL, Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	e := p.Failure(502, http.Header{"Retry-After": {"2"}}, []byte("<html>Bad Gateway</html>"))
	if e.Kind != provider.Server || e.Status != 502 || e.Type != "" || e.Message != "<html>Bad Gateway</html>" || e.RetryAfter != 2*time.Second {
		t.Fatalf("Failure = %+v", e)
	}
	if e := p.Failure(408, nil, nil); e.Kind != provider.Timeout || e.Message != "Request Timeout" {
		t.Fatalf("Failure(408) = %+v", e)
	}
}

func TestCacheUsage(t *testing.T) {
	t.Parallel()
	f := aitest.NewAnthropic(t)
	f.Script(model, aitest.Reply{Text: "cached", Usage: aitest.Usage{Input: 100, Output: 20, Cached: 3000, CacheWrite: 500}})
	p := newClient(t, f, "")
	want := pricing.Usage{Input: 3600, Output: 20, CachedInput: 3000, CacheWrite: 500}

	res := complete(t, p, chatCall(`{"messages":[{"role":"user","content":"x"}]}`, false))
	if !res.HasUsage || res.Usage != want {
		t.Fatalf("Result usage = %+v, want %+v", res.Usage, want)
	}
	sameJSON(t, []byte(gjson.GetBytes(res.Body, "usage").Raw), `{"prompt_tokens":3600,"completion_tokens":20,"total_tokens":3620,"prompt_tokens_details":{"cached_tokens":3000}}`)

	s := streamCall(t, p, chatCall(`{"messages":[{"role":"user","content":"x"}]}`, true))
	if !s.hasUsage || s.usage != want {
		t.Fatalf("stream usage = %+v, want %+v", s.usage, want)
	}
	u := s.chunks[len(s.chunks)-1].Usage
	if u == nil || u.PromptTokens != 3600 || u.PromptTokensDetails.CachedTokens != 3000 || u.CompletionTokens != 20 {
		t.Fatalf("usage chunk = %s", s.raw[len(s.raw)-1])
	}
}

func TestDecodeRefusesNonMessages(t *testing.T) {
	t.Parallel()
	p, _ := New(provider.Config{Name: "a", BaseURL: DefaultBaseURL, Key: "k"})
	c := chatCall(`{"messages":[]}`, false)
	for _, body := range []string{``, `not json`, `{"type":"error","error":{"type":"api_error","message":"x"}}`, `[]`} {
		if _, err := p.Decode(c, []byte(body)); err == nil {
			t.Errorf("Decode(%q) accepted", body)
		}
	}
}

func TestStreamSkipsThinking(t *testing.T) {
	t.Parallel()
	p, _ := New(provider.Config{Name: "a", BaseURL: DefaultBaseURL, Key: "k"})
	st := p.Stream(chatCall(`{"messages":[]}`, true))
	events := [][2]string{
		{"message_start", `{"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":3,"output_tokens":1}}}`},
		{"content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}`},
		{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}`},
		{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"sig"}}`},
		{"content_block_stop", `{"type":"content_block_stop","index":0}`},
		{"content_block_start", `{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}`},
		{"ping", `{"type":"ping"}`},
		{"content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"answer"}}`},
		{"message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}`},
		{"message_stop", `{"type":"message_stop"}`},
	}
	var got []string
	emit := func(b []byte) error { got = append(got, string(b)); return nil }
	for _, ev := range events {
		if err := st.Event([]byte(ev[0]), []byte(ev[1]), emit); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := st.End(emit); !ok || err != nil {
		t.Fatalf("End = %v, %v", ok, err)
	}
	if len(got) != 4 || strings.Contains(strings.Join(got, ""), "hmm") || !strings.Contains(got[1], `"content":"answer"`) {
		t.Fatalf("chunks = %q", got)
	}
	if u, _ := st.Usage(); u != (pricing.Usage{Input: 3, Output: 9}) {
		t.Fatalf("usage = %+v", u)
	}
}

func TestStreamEmitErrorReturnedAsIs(t *testing.T) {
	t.Parallel()
	p, _ := New(provider.Config{Name: "a", BaseURL: DefaultBaseURL, Key: "k"})
	st := p.Stream(chatCall(`{"messages":[]}`, true))
	gone := errors.New("client went away")
	err := st.Event([]byte("message_start"), []byte(`{"type":"message_start","message":{"id":"m","usage":{"input_tokens":1}}}`), func([]byte) error { return gone })
	if err != gone {
		t.Fatalf("err = %v", err)
	}
}

func FuzzStreamEvent(f *testing.F) {
	f.Add("message_start", `{"type":"message_start","message":{"id":"msg_\"1","usage":{"input_tokens":3}}}`)
	f.Add("content_block_start", `{"index":0,"content_block":{"type":"tool_use","id":"t","name":"n"}}`)
	f.Add("content_block_delta", `{"index":0,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}`)
	f.Add("content_block_delta", `{"index":1,"delta":{"type":"text_delta","text":"x\ny"}}`)
	f.Add("message_delta", `{"delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":3}}`)
	f.Add("error", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)
	p, _ := New(provider.Config{Name: "a", BaseURL: DefaultBaseURL, Key: "k"})
	f.Fuzz(func(t *testing.T, name, data string) {
		st := p.Stream(chatCall(`{"messages":[]}`, true))
		emit := func(b []byte) error {
			if !json.Valid(b) {
				t.Fatalf("chunk is not JSON: %s", b)
			}
			return nil
		}
		// The same event twice, to also start blocks before deltas.
		for range 2 {
			if err := st.Event([]byte(name), []byte(data), emit); err != nil {
				var pe *provider.Error
				if !errors.As(err, &pe) {
					t.Fatalf("error %v is not a *provider.Error", err)
				}
			}
		}
		_ = st.Event([]byte("message_stop"), []byte(`{}`), emit)
		if _, err := st.End(emit); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzDecode(f *testing.F) {
	f.Add(`{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text","text":"hi"},{"type":"tool_use","id":"t","name":"f","input":{"a": [1, "x y"]}}],"stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":2}}`)
	f.Add(`{"type":"message","content":[{"type":"tool_use","name":"json_output","input":{"a":"\"q\""}}]}`)
	p, _ := New(provider.Config{Name: "a", BaseURL: DefaultBaseURL, Key: "k"})
	plain := chatCall(`{"messages":[]}`, false)
	forced := chatCall(`{"response_format":{"type":"json_schema","json_schema":{"schema":{}}}}`, false)
	f.Fuzz(func(t *testing.T, body string) {
		for _, c := range []*provider.Call{plain, forced} {
			res, err := p.Decode(c, []byte(body))
			if err == nil && !json.Valid(res.Body) {
				t.Fatalf("invalid JSON for %s:\n%s", body, res.Body)
			}
		}
	})
}
