package gemini

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/ai/aitest"
	"github.com/pinpointgw/pinpoint/internal/ai/provider"
	"github.com/tidwall/gjson"
)

func TestRegistered(t *testing.T) {
	t.Parallel()
	f, ok := provider.Lookup("gemini")
	if !ok {
		t.Fatal("kind gemini is not registered")
	}
	if f.DefaultBaseURL != "https://generativelanguage.googleapis.com/v1beta" || !f.NeedsKey || !f.Embeddings || f.New == nil {
		t.Fatalf("factory = %+v", f)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for _, c := range []provider.Config{
		{Name: "g", BaseURL: "generativelanguage.googleapis.com", Key: "k"},
		{Name: "g", BaseURL: "ftp://example.com", Key: "k"},
		{Name: "g", BaseURL: "https://example.com/v1beta?x=1", Key: "k"},
		{Name: "g", BaseURL: DefaultBaseURL},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) succeeded", c)
		}
	}
	if _, err := New(provider.Config{Name: "g", Key: "k"}); err != nil {
		t.Errorf("New with the default base URL: %v", err)
	}
}

func TestRequestURLAndHeaders(t *testing.T) {
	t.Parallel()
	p, err := New(provider.Config{Name: "g", BaseURL: "https://example.test/v1beta/", Key: "sekrit", Headers: map[string]string{"X-Extra": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		c    *provider.Call
		want string
	}{
		{chatCall("gemini-2.5-flash", `{"messages":[{"role":"user","content":"hi"}]}`), "https://example.test/v1beta/models/gemini-2.5-flash:generateContent"},
		{streamCall("models/gemini-2.5-pro", `{"messages":[{"role":"user","content":"hi"}],"stream":true}`), "https://example.test/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"},
		{&provider.Call{Op: provider.Embeddings, Model: "gemini-embedding-001", Body: []byte(`{"input":"x"}`)}, "https://example.test/v1beta/models/gemini-embedding-001:batchEmbedContents"},
	}
	for _, tc := range cases {
		req, err := p.Request(context.Background(), tc.c)
		if err != nil {
			t.Fatal(err)
		}
		if got := req.URL.String(); got != tc.want {
			t.Errorf("URL = %s, want %s", got, tc.want)
		}
		if req.Header.Get("X-Goog-Api-Key") != "sekrit" || req.Header.Get("X-Extra") != "1" || req.Header.Get("Content-Type") != "application/json" {
			t.Errorf("headers = %v", req.Header)
		}
		if req.GetBody == nil {
			t.Error("the request body cannot be replayed")
		}
	}
}

func TestChatText(t *testing.T) {
	t.Parallel()
	f, p := newFake(t)
	f.Script("gemini-2.5-flash", aitest.Reply{Text: "Blue, because of \"Rayleigh\".\n", Usage: aitest.Usage{Input: 20, Output: 7, Cached: 4, Reasoning: 3}})
	body := `{"model":"gemini-2.5-flash","messages":[
		{"role":"system","content":"Be brief."},
		{"role":"developer","content":[{"type":"text","text":"Answer in English."}]},
		{"role":"user","content":"Why is the sky blue?"}]}`
	res, pe := send(t, p, chatCall("gemini-2.5-flash", body))
	if pe != nil {
		t.Fatal(pe)
	}
	got := lastRequest(t, f)
	if got.Path != "/v1beta/models/gemini-2.5-flash:generateContent" || got.Header.Get("X-Goog-Api-Key") != "test-key" || got.Header.Get("X-Extra") != "yes" {
		t.Errorf("request %s %v", got.Path, got.Header)
	}
	sent := gjson.ParseBytes(got.Body)
	if s := sent.Get("systemInstruction").Raw; s != `{"parts":[{"text":"Be brief."},{"text":"Answer in English."}]}` {
		t.Errorf("systemInstruction = %s", s)
	}
	if s := sent.Get("contents").Raw; s != `[{"role":"user","parts":[{"text":"Why is the sky blue?"}]}]` {
		t.Errorf("contents = %s", s)
	}
	if sent.Get("generationConfig").Exists() || sent.Get("tools").Exists() {
		t.Errorf("unasked fields sent: %s", got.Body)
	}

	c := decodeCompletion(t, res.Body)
	if c.ID != "chatcmpl-"+got.ID || c.Object != "chat.completion" || c.Model != "gemini-2.5-flash" || c.Created == 0 {
		t.Errorf("head = %+v", c)
	}
	if len(c.Choices) != 1 || deref(c.Choices[0].Message.Content) != "Blue, because of \"Rayleigh\".\n" ||
		c.Choices[0].Message.Role != "assistant" || c.Choices[0].FinishReason != "stop" || c.Choices[0].Message.ToolCalls != nil {
		t.Errorf("choices = %+v", c.Choices)
	}
	// Thoughts are billed as output: 7 + 3.
	want := usage{PromptTokens: 20, CompletionTokens: 10, TotalTokens: 30}
	want.PromptTokensDetails.CachedTokens = 4
	want.CompletionTokensDetails.ReasoningTokens = 3
	if c.Usage == nil || *c.Usage != want {
		t.Errorf("usage = %+v, want %+v", c.Usage, want)
	}
	if !res.HasUsage || res.Usage.Input != 20 || res.Usage.Output != 10 || res.Usage.CachedInput != 4 {
		t.Errorf("Result usage = %+v %v", res.Usage, res.HasUsage)
	}
}

// TestChatRequestTranslation sends OpenAI requests through the fake and
// checks the Gemini body it received.
func TestChatRequestTranslation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		body string
		want map[string]string // gjson path → raw JSON
	}{
		{
			name: "images",
			body: `{"messages":[{"role":"user","content":[
				{"type":"text","text":"What is in these?"},
				{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"high"}},
				{"type":"image_url","image_url":{"url":"https://example.com/cat.WEBP?size=large"}},
				{"type":"image_url","image_url":{"url":"gs://bucket/photo"}},
				{"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}},
				{"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,JVBERi0="}}]}]}`,
			want: map[string]string{
				"contents.#":         `1`,
				"contents.0.role":    `"user"`,
				"contents.0.parts.0": `{"text":"What is in these?"}`,
				"contents.0.parts.1": `{"inlineData":{"mimeType":"image/png","data":"iVBORw0KGgo="}}`,
				"contents.0.parts.2": `{"fileData":{"fileUri":"https://example.com/cat.WEBP?size=large","mimeType":"image/webp"}}`,
				"contents.0.parts.3": `{"fileData":{"fileUri":"gs://bucket/photo","mimeType":"image/jpeg"}}`,
				"contents.0.parts.4": `{"inlineData":{"mimeType":"audio/wav","data":"UklGRg=="}}`,
				"contents.0.parts.5": `{"inlineData":{"mimeType":"application/pdf","data":"JVBERi0="}}`,
				"contents.0.parts.#": `6`,
				"systemInstruction":  ``,
				"generationConfig":   ``,
			},
		},
		{
			name: "plain data URL",
			body: `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/svg+xml,%3Csvg%2F%3E"}}]}]}`,
			want: map[string]string{
				"contents.0.parts.0": `{"inlineData":{"mimeType":"image/svg+xml","data":"PHN2Zy8+"}}`,
			},
		},
		{
			name: "tools round trip",
			body: `{"messages":[
				{"role":"user","content":"Weather in Paris and Rome?"},
				{"role":"assistant","content":null,"tool_calls":[
					{"id":"call_0","type":"function","function":{"name":"weather","arguments":"{\"city\": \"Paris\"}"}},
					{"id":"call_1","type":"function","function":{"name":"forecast","arguments":""}}]},
				{"role":"tool","tool_call_id":"call_0","content":"{\"temp\":21}"},
				{"role":"tool","tool_call_id":"call_1","content":"sunny"},
				{"role":"user","content":"And tomorrow?"},
				{"role":"assistant","content":"Let me check."},
				{"role":"assistant","content":[{"type":"text","text":"One moment."}]}],
				"tools":[{"type":"function","function":{"name":"weather","description":"Current weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false},"strict":true}},
					{"type":"function","function":{"name":"forecast"}}],
				"tool_choice":"required"}`,
			want: map[string]string{
				"contents.#":         `4`,
				"contents.0":         `{"role":"user","parts":[{"text":"Weather in Paris and Rome?"}]}`,
				"contents.1":         `{"role":"model","parts":[{"functionCall":{"name":"weather","args":{"city": "Paris"}},"thoughtSignature":"skip_thought_signature_validator"},{"functionCall":{"name":"forecast","args":{}},"thoughtSignature":"skip_thought_signature_validator"}]}`,
				"contents.2":         `{"role":"user","parts":[{"functionResponse":{"name":"weather","response":{"temp":21}}},{"functionResponse":{"name":"forecast","response":{"content":"sunny"}}},{"text":"And tomorrow?"}]}`,
				"contents.3":         `{"role":"model","parts":[{"text":"Let me check."},{"text":"One moment."}]}`,
				"tools":              `[{"functionDeclarations":[{"name":"weather","description":"Current weather","parametersJsonSchema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}},{"name":"forecast"}]}]`,
				"toolConfig":         `{"functionCallingConfig":{"mode":"ANY"}}`,
				"contents.3.parts.#": `2`,
			},
		},
		{
			name: "named tool choice",
			body: `{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"type":"function","function":{"name":"a"}}}`,
			want: map[string]string{"toolConfig": `{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["a"]}}`},
		},
		{
			name: "tool choice none",
			body: `{"messages":[{"role":"user","content":"x"}],"tool_choice":"none"}`,
			want: map[string]string{"toolConfig": `{"functionCallingConfig":{"mode":"NONE"}}`, "tools": ``},
		},
		{
			name: "generation config",
			body: `{"messages":[{"role":"user","content":"x"}],"temperature":0.2,"top_p":0.9,"max_tokens":50,"max_completion_tokens":100,
				"stop":"END","n":1,"seed":42,"presence_penalty":0.5,"frequency_penalty":-0.5,"response_format":{"type":"json_object"},"user":"u1"}`,
			want: map[string]string{
				"generationConfig": `{"temperature":0.2,"topP":0.9,"maxOutputTokens":100,"candidateCount":1,"seed":42,"presencePenalty":0.5,"frequencyPenalty":-0.5,"stopSequences":["END"],"responseMimeType":"application/json"}`,
			},
		},
		{
			name: "max_tokens and stop array",
			body: `{"messages":[{"role":"user","content":"x"}],"max_tokens":50,"stop":["a","b\n"],"temperature":null}`,
			want: map[string]string{"generationConfig": `{"maxOutputTokens":50,"stopSequences":["a","b\n"]}`},
		},
		{
			name: "json schema",
			body: `{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"person","strict":true,
				"schema":{"type":"object","properties":{"name":{"type":"string"},"age":{"type":["integer","null"]}},"required":["name","age"],"additionalProperties":false}}}}`,
			want: map[string]string{
				"generationConfig.responseMimeType":   `"application/json"`,
				"generationConfig.responseJsonSchema": `{"type":"object","properties":{"name":{"type":"string"},"age":{"type":["integer","null"]}},"required":["name","age"],"additionalProperties":false}`,
				"generationConfig.responseSchema":     ``,
			},
		},
		{
			name: "legacy function messages",
			body: `{"messages":[{"role":"user","content":"x"},{"role":"assistant","function_call":{"name":"f","arguments":"{\"a\":1}"}},{"role":"function","name":"f","content":[{"type":"text","text":"{\"ok\":true}"}]}]}`,
			want: map[string]string{
				"contents.1": `{"role":"model","parts":[{"functionCall":{"name":"f","args":{"a":1}},"thoughtSignature":"skip_thought_signature_validator"}]}`,
				"contents.2": `{"role":"user","parts":[{"functionResponse":{"name":"f","response":{"ok":true}}}]}`,
			},
		},
		{
			name: "empty texts leave no empty turns",
			body: `{"messages":[{"role":"system","content":""},{"role":"user","content":""},{"role":"user","content":"hi \u2028 \u0001"}]}`,
			want: map[string]string{
				"contents":          `[{"role":"user","parts":[{"text":"hi \u2028 \u0001"}]}]`,
				"systemInstruction": ``,
			},
		},
	}
	f, p := newFake(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Each subtest inspects the fake's last request: run in order.
			if _, pe := send(t, p, chatCall("gemini-2.5-flash", tc.body)); pe != nil {
				t.Fatal(pe)
			}
			got := lastRequest(t, f)
			if !json.Valid(got.Body) {
				t.Fatalf("invalid JSON sent: %s", got.Body)
			}
			sent := gjson.ParseBytes(got.Body)
			for path, want := range tc.want {
				if g := sent.Get(path).Raw; g != want {
					t.Errorf("%s = %s\nwant %s", path, g, want)
				}
			}
		})
	}
}

func TestChatRequestRefused(t *testing.T) {
	t.Parallel()
	_, p := newFake(t)
	cases := []struct{ name, body, param string }{
		{"not an object", `[1]`, ""},
		{"no messages", `{"model":"x"}`, "messages"},
		{"unknown role", `{"messages":[{"role":"robot","content":"x"}]}`, "messages[0].role"},
		{"unknown tool call id", `{"messages":[{"role":"user","content":"x"},{"role":"tool","tool_call_id":"call_9","content":"y"}]}`, "messages[1].tool_call_id"},
		{"arguments not an object", `{"messages":[{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"[1]"}}]}]}`, "messages[0].tool_calls[0].function.arguments"},
		{"file id", `{"messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-1"}}]}]}`, "messages[0].content[0].file"},
		{"unknown part", `{"messages":[{"role":"user","content":[{"type":"video","video":{}}]}]}`, "messages[0].content[0].type"},
		{"bad temperature", `{"messages":[{"role":"user","content":"x"}],"temperature":"hot"}`, "temperature"},
		{"bad stop", `{"messages":[{"role":"user","content":"x"}],"stop":[1]}`, "stop"},
		{"bad response format", `{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"yaml"}}`, "response_format.type"},
		{"non-function tool", `{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"custom","custom":{"name":"c"}}]}`, "tools[0].type"},
		{"bad tool choice", `{"messages":[{"role":"user","content":"x"}],"tool_choice":"always"}`, "tool_choice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := p.Request(context.Background(), chatCall("gemini-2.5-flash", tc.body))
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *provider.Error", err)
			}
			if pe.Kind != provider.Invalid || pe.Status != 400 || pe.Type != "invalid_request_error" || pe.Param != tc.param {
				t.Errorf("error = %+v", pe)
			}
		})
	}
}

func TestChatToolCalls(t *testing.T) {
	t.Parallel()
	f, p := newFake(t)
	f.Script("gemini-2.5-flash", aitest.Reply{ToolCalls: []aitest.ToolCall{
		{Name: "weather", Arguments: `{"city": "Paris", "units": {"temp": "C"}}`},
		{Name: "time", Arguments: `{"tz":"Europe/Paris"}`},
	}, Usage: aitest.Usage{Input: 30, Output: 12}})
	first := `{"messages":[{"role":"user","content":"Weather and time in Paris?"}],"tools":[{"type":"function","function":{"name":"weather"}},{"type":"function","function":{"name":"time"}}]}`
	res, pe := send(t, p, chatCall("gemini-2.5-flash", first))
	if pe != nil {
		t.Fatal(pe)
	}
	c := decodeCompletion(t, res.Body)
	if len(c.Choices) != 1 {
		t.Fatalf("choices = %+v", c.Choices)
	}
	ch := c.Choices[0]
	if ch.Message.Content != nil || ch.FinishReason != "tool_calls" || len(ch.Message.ToolCalls) != 2 {
		t.Fatalf("choice = %+v", ch)
	}
	wantArgs := []string{`{"city":"Paris","units":{"temp":"C"}}`, `{"tz":"Europe/Paris"}`}
	for i, tc := range ch.Message.ToolCalls {
		if tc.ID != "call_"+string(rune('0'+i)) || tc.Type != "function" || tc.Function.Arguments != wantArgs[i] || tc.Index != nil {
			t.Errorf("tool call %d = %+v", i, tc)
		}
	}

	// Send the calls back with their results, as a client does.
	msg, _ := json.Marshal(map[string]any{"role": "assistant", "content": nil, "tool_calls": ch.Message.ToolCalls})
	second := `{"messages":[{"role":"user","content":"Weather and time in Paris?"},` + string(msg) + `,
		{"role":"tool","tool_call_id":"call_1","content":"10:00"},
		{"role":"tool","tool_call_id":"call_0","content":"{\"temp\": 21}"}]}`
	f.Script("gemini-2.5-flash", aitest.Reply{Text: "21°C at 10:00."})
	if _, pe := send(t, p, chatCall("gemini-2.5-flash", second)); pe != nil {
		t.Fatal(pe)
	}
	sent := gjson.ParseBytes(lastRequest(t, f).Body)
	want := `[{"role":"user","parts":[{"text":"Weather and time in Paris?"}]},` +
		`{"role":"model","parts":[{"functionCall":{"name":"weather","args":{"city":"Paris","units":{"temp":"C"}}},"thoughtSignature":"skip_thought_signature_validator"},{"functionCall":{"name":"time","args":{"tz":"Europe/Paris"}},"thoughtSignature":"skip_thought_signature_validator"}]},` +
		`{"role":"user","parts":[{"functionResponse":{"name":"time","response":{"content":"10:00"}}},{"functionResponse":{"name":"weather","response":{"temp": 21}}}]}]`
	if g := sent.Get("contents").Raw; g != want {
		t.Errorf("contents =\n%s\nwant\n%s", g, want)
	}
}

func TestChatTextAndToolCall(t *testing.T) {
	t.Parallel()
	f, p := newFake(t)
	f.Script("m", aitest.Reply{Text: "Checking.", ToolCalls: []aitest.ToolCall{{Name: "f", Arguments: `{}`}}})
	res, pe := send(t, p, chatCall("m", `{"messages":[{"role":"user","content":"x"}]}`))
	if pe != nil {
		t.Fatal(pe)
	}
	ch := decodeCompletion(t, res.Body).Choices[0]
	if deref(ch.Message.Content) != "Checking." || len(ch.Message.ToolCalls) != 1 || ch.FinishReason != "tool_calls" {
		t.Errorf("choice = %+v", ch)
	}
}

func TestChatJSONSchema(t *testing.T) {
	t.Parallel()
	f, p := newFake(t)
	f.Script("gemini-2.5-pro", aitest.Reply{Text: `{"name":"Ada","age":36}`})
	body := `{"messages":[{"role":"user","content":"Who?"}],"response_format":{"type":"json_schema","json_schema":{"name":"p","schema":{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}}}}}}`
	res, pe := send(t, p, chatCall("gemini-2.5-pro", body))
	if pe != nil {
		t.Fatal(pe)
	}
	gc := gjson.GetBytes(lastRequest(t, f).Body, "generationConfig")
	if gc.Get("responseMimeType").String() != "application/json" || gc.Get("responseJsonSchema.properties.age.type").String() != "integer" {
		t.Errorf("generationConfig = %s", gc.Raw)
	}
	c := decodeCompletion(t, res.Body)
	var person struct {
		Name string
		Age  int
	}
	if err := json.Unmarshal([]byte(deref(c.Choices[0].Message.Content)), &person); err != nil || person.Name != "Ada" || person.Age != 36 {
		t.Errorf("content = %s (%v)", deref(c.Choices[0].Message.Content), err)
	}
}

func TestChatMultipleCandidates(t *testing.T) {
	t.Parallel()
	f, p := newFake(t)
	if _, pe := send(t, p, chatCall("gemini-2.5-flash", `{"messages":[{"role":"user","content":"x"}],"n":2}`)); pe != nil {
		t.Fatal(pe)
	}
	if g := gjson.GetBytes(lastRequest(t, f).Body, "generationConfig.candidateCount").Raw; g != "2" {
		t.Errorf("candidateCount = %q", g)
	}
	// The fake answers one candidate; Gemini answers n like this (the
	// first index left out, as proto3 JSON does for zero).
	body := `{"candidates":[
		{"content":{"parts":[{"text":"One"}],"role":"model"},"finishReason":"STOP","avgLogprobs":-0.1},
		{"content":{"parts":[{"text":"Two"}],"role":"model"},"finishReason":"MAX_TOKENS","index":1}],
		"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":4,"totalTokenCount":9},"modelVersion":"gemini-2.5-flash","responseId":"abc"}`
	res, err := p.Decode(chatCall("gemini-2.5-flash", `{}`), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	c := decodeCompletion(t, res.Body)
	if c.ID != "chatcmpl-abc" || len(c.Choices) != 2 {
		t.Fatalf("completion = %s", res.Body)
	}
	for i, want := range []struct{ text, finish string }{{"One", "stop"}, {"Two", "length"}} {
		if ch := c.Choices[i]; ch.Index != i || deref(ch.Message.Content) != want.text || ch.FinishReason != want.finish {
			t.Errorf("choice %d = %+v", i, ch)
		}
	}
}

func TestChatFinishReasons(t *testing.T) {
	t.Parallel()
	f, p := newFake(t)
	for _, tc := range []struct{ finish, want string }{
		{"length", "length"},
		{"content_filter", "content_filter"},
		{"RECITATION", "content_filter"},
		{"PROHIBITED_CONTENT", "content_filter"},
		{"SPII", "content_filter"},
		{"OTHER", "stop"},
		{"MALFORMED_FUNCTION_CALL", "stop"},
	} {
		f.Script("m", aitest.Reply{Text: "partial", Finish: tc.finish})
		res, pe := send(t, p, chatCall("m", `{"messages":[{"role":"user","content":"x"}]}`))
		if pe != nil {
			t.Fatal(pe)
		}
		if g := decodeCompletion(t, res.Body).Choices[0].FinishReason; g != tc.want {
			t.Errorf("finishReason %s → %s, want %s", tc.finish, g, tc.want)
		}
	}
}

func TestChatBlockedPrompt(t *testing.T) {
	t.Parallel()
	f, p := newFake(t)
	f.Script("m", aitest.Reply{Blocked: "PROHIBITED_CONTENT", Usage: aitest.Usage{Input: 8}})
	res, pe := send(t, p, chatCall("m", `{"messages":[{"role":"user","content":"forbidden"}]}`))
	if pe != nil {
		t.Fatal(pe)
	}
	c := decodeCompletion(t, res.Body)
	if len(c.Choices) != 1 || c.Choices[0].Message.Content == nil || *c.Choices[0].Message.Content != "" || c.Choices[0].FinishReason != "content_filter" {
		t.Errorf("completion = %s", res.Body)
	}
	if !res.HasUsage || res.Usage.Input != 8 || res.Usage.Output != 0 {
		t.Errorf("usage = %+v", res.Usage)
	}
}

func TestDecodeSkipsThoughts(t *testing.T) {
	t.Parallel()
	body := `{"candidates":[{"content":{"parts":[{"text":"Let me think…","thought":true},{"text":"Answer: "},{"text":"42"},
		{"functionCall":{"name":"hidden"},"thought":true}],"role":"model"},"finishReason":"STOP"}],
		"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2,"thoughtsTokenCount":50,"totalTokenCount":55}}`
	res, err := (&Provider{}).Decode(chatCall("m", `{}`), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	c := decodeCompletion(t, res.Body)
	ch := c.Choices[0]
	if deref(ch.Message.Content) != "Answer: 42" || ch.Message.ToolCalls != nil || ch.FinishReason != "stop" {
		t.Errorf("choice = %+v", ch)
	}
	if !strings.HasPrefix(c.ID, "chatcmpl-") || len(c.ID) <= len("chatcmpl-") {
		t.Errorf("generated id = %q", c.ID)
	}
	if c.Usage.CompletionTokens != 52 || c.Usage.CompletionTokensDetails.ReasoningTokens != 50 {
		t.Errorf("usage = %+v", c.Usage)
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	t.Parallel()
	p := &Provider{}
	for _, body := range []string{``, `not json`, `[1,2]`} {
		if _, err := p.Decode(chatCall("m", `{}`), []byte(body)); err == nil {
			t.Errorf("Decode(%q) succeeded", body)
		}
	}
}

func TestMimeOf(t *testing.T) {
	t.Parallel()
	for url, want := range map[string]string{
		"https://x.test/a.png":         "image/png",
		"https://x.test/a.JPG":         "image/jpeg",
		"https://x.test/a.gif#frag":    "image/gif",
		"https://x.test/doc.pdf?dl=1":  "application/pdf",
		"gs://bucket/clip.mp4":         "video/mp4",
		"https://x.test/song.mp3":      "audio/mp3",
		"https://x.test/photo":         "image/jpeg",
		"https://x.test/dir.png/photo": "image/jpeg",
		"https://x.test/a.heic":        "image/heic",
	} {
		if got := mimeOf(url); got != want {
			t.Errorf("mimeOf(%s) = %s, want %s", url, got, want)
		}
	}
}
