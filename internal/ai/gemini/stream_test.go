package gemini

import (
	"errors"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/ai/aitest"
	"github.com/pinpointgw/pinpoint/internal/ai/provider"
)

const streamBody = `{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Tell me a story."}],"stream":true,"stream_options":{"include_usage":true}}`

// sameHead checks that every chunk has the same id, created and model.
func sameHead(t *testing.T, cs []chunk, model string) {
	t.Helper()
	for i, c := range cs {
		if c.ID != cs[0].ID || c.Created != cs[0].Created || c.Model != model || c.Object != "chat.completion.chunk" {
			t.Errorf("chunk %d head = %s %d %s %s, want %s %d %s", i, c.ID, c.Created, c.Model, c.Object, cs[0].ID, cs[0].Created, model)
		}
	}
	if !strings.HasPrefix(cs[0].ID, "chatcmpl-") {
		t.Errorf("id = %q", cs[0].ID)
	}
}

func TestStreamText(t *testing.T) {
	t.Parallel()
	f, p := newFake(t)
	text := "Once upon a time, a \"gateway\" streamed.\nThe end."
	f.Script("gemini-2.5-flash", aitest.Reply{Text: text, Chunks: 5, Usage: aitest.Usage{Input: 11, Output: 9, Cached: 2}})
	out := runStream(t, p, streamCall("gemini-2.5-flash", streamBody))
	if out.err != nil || !out.complete {
		t.Fatalf("err %v, complete %v", out.err, out.complete)
	}
	got := lastRequest(t, f)
	if got.Path != "/v1beta/models/gemini-2.5-flash:streamGenerateContent" || got.Query.Get("alt") != "sse" {
		t.Errorf("request %s?%s", got.Path, got.Query.Encode())
	}
	cs := decodeChunks(t, out.chunks)
	sameHead(t, cs, "gemini-2.5-flash")
	if cs[0].ID != "chatcmpl-"+got.ID {
		t.Errorf("id = %s, want chatcmpl-%s", cs[0].ID, got.ID)
	}
	// 5 text chunks, a finish chunk, the usage chunk.
	if len(cs) != 7 {
		t.Fatalf("%d chunks:\n%s", len(cs), strings.Join(out.chunks, "\n"))
	}
	var b strings.Builder
	for i, c := range cs[:5] {
		if len(c.Choices) != 1 || c.Choices[0].FinishReason != nil || c.Usage != nil {
			t.Errorf("chunk %d = %s", i, out.chunks[i])
		}
		if role := c.Choices[0].Delta.Role; (i == 0) != (role == "assistant") {
			t.Errorf("chunk %d role = %q", i, role)
		}
		b.WriteString(orEmpty(c.Choices[0].Delta.Content))
	}
	if b.String() != text {
		t.Errorf("text = %q, want %q", b.String(), text)
	}
	if fin := cs[5]; len(fin.Choices) != 1 || deref(fin.Choices[0].FinishReason) != "stop" {
		t.Errorf("finish chunk = %s", out.chunks[5])
	}
	last := cs[6]
	if len(last.Choices) != 0 || last.Usage == nil || last.Usage.PromptTokens != 11 || last.Usage.CompletionTokens != 9 ||
		last.Usage.TotalTokens != 20 || last.Usage.PromptTokensDetails.CachedTokens != 2 {
		t.Errorf("usage chunk = %s", out.chunks[6])
	}
	if !strings.Contains(out.chunks[6], `"choices":[]`) {
		t.Errorf("usage chunk has no empty choices: %s", out.chunks[6])
	}
	if u, ok := out.stream.Usage(); !ok || u.Input != 11 || u.Output != 9 || u.CachedInput != 2 {
		t.Errorf("Usage() = %+v %v", u, ok)
	}
}

func TestStreamToolCall(t *testing.T) {
	t.Parallel()
	f, p := newFake(t)
	f.Script("gemini-2.5-flash", aitest.Reply{Text: "Let me look.", Chunks: 2, ToolCalls: []aitest.ToolCall{
		{Name: "weather", Arguments: `{"city": "Paris"}`},
		{Name: "time", Arguments: `{}`},
	}, Usage: aitest.Usage{Input: 20, Output: 6}})
	out := runStream(t, p, streamCall("gemini-2.5-flash", streamBody))
	if out.err != nil || !out.complete {
		t.Fatalf("err %v, complete %v", out.err, out.complete)
	}
	cs := decodeChunks(t, out.chunks)
	sameHead(t, cs, "gemini-2.5-flash")
	var text strings.Builder
	var calls []toolCall
	var finish []string
	for _, c := range cs {
		for _, ch := range c.Choices {
			text.WriteString(orEmpty(ch.Delta.Content))
			calls = append(calls, ch.Delta.ToolCalls...)
			if ch.FinishReason != nil {
				finish = append(finish, *ch.FinishReason)
			}
		}
	}
	if text.String() != "Let me look." {
		t.Errorf("text = %q", text.String())
	}
	if len(calls) != 2 {
		t.Fatalf("tool calls = %+v", calls)
	}
	want := []struct{ id, name, args string }{{"call_0", "weather", `{"city":"Paris"}`}, {"call_1", "time", `{}`}}
	for i, c := range calls {
		if c.Index == nil || *c.Index != i || c.ID != want[i].id || c.Type != "function" || c.Function.Name != want[i].name || c.Function.Arguments != want[i].args {
			t.Errorf("tool call %d = %+v", i, c)
		}
	}
	if len(finish) != 1 || finish[0] != "tool_calls" {
		t.Errorf("finish reasons = %v", finish)
	}
	if u := cs[len(cs)-1].Usage; u == nil || u.CompletionTokens != 6 {
		t.Errorf("usage chunk = %s", out.chunks[len(out.chunks)-1])
	}
}

func TestStreamOnlyToolCall(t *testing.T) {
	t.Parallel()
	f, p := newFake(t)
	f.Script("m", aitest.Reply{ToolCalls: []aitest.ToolCall{{Name: "f", Arguments: `{"a":[1, 2]}`}}})
	out := runStream(t, p, streamCall("m", streamBody))
	cs := decodeChunks(t, out.chunks)
	first := cs[0].Choices[0].Delta
	if first.Role != "assistant" || first.Content != nil || len(first.ToolCalls) != 1 || first.ToolCalls[0].Function.Arguments != `{"a":[1,2]}` {
		t.Errorf("first chunk = %s", out.chunks[0])
	}
}

func TestStreamCutOff(t *testing.T) {
	t.Parallel()
	f, p := newFake(t)
	f.Script("m", aitest.Reply{Text: "one two three four", Chunks: 4, CutAfter: 2})
	out := runStream(t, p, streamCall("m", streamBody))
	if out.complete {
		t.Error("a cut stream reported complete")
	}
	cs := decodeChunks(t, out.chunks)
	if len(cs) != 2 {
		t.Fatalf("%d chunks, want the 2 pieces sent:\n%s", len(cs), strings.Join(out.chunks, "\n"))
	}
	for _, c := range cs {
		if c.Usage != nil || c.Choices[0].FinishReason != nil {
			t.Errorf("a cut stream emitted %+v", c)
		}
	}
	// Usage so far is still known for the call log.
	if _, ok := out.stream.Usage(); !ok {
		t.Error("no usage from the events that arrived")
	}
}

func TestStreamBlocked(t *testing.T) {
	t.Parallel()
	f, p := newFake(t)
	f.Script("m", aitest.Reply{Blocked: "SAFETY", Usage: aitest.Usage{Input: 6}})
	out := runStream(t, p, streamCall("m", streamBody))
	if out.err != nil || !out.complete {
		t.Fatalf("err %v, complete %v", out.err, out.complete)
	}
	cs := decodeChunks(t, out.chunks)
	if len(cs) != 3 {
		t.Fatalf("chunks:\n%s", strings.Join(out.chunks, "\n"))
	}
	if d := cs[0].Choices[0].Delta; d.Role != "assistant" || deref(d.Content) != "" {
		t.Errorf("role chunk = %s", out.chunks[0])
	}
	if deref(cs[1].Choices[0].FinishReason) != "content_filter" {
		t.Errorf("finish chunk = %s", out.chunks[1])
	}
	if u := cs[2].Usage; u == nil || u.PromptTokens != 6 {
		t.Errorf("usage chunk = %s", out.chunks[2])
	}
}

func TestStreamMaxTokens(t *testing.T) {
	t.Parallel()
	f, p := newFake(t)
	f.Script("m", aitest.Reply{Text: "and then", Finish: "length", Usage: aitest.Usage{Input: 3, Output: 2}})
	out := runStream(t, p, streamCall("m", streamBody))
	cs := decodeChunks(t, out.chunks)
	var finish []string
	for _, c := range cs {
		for _, ch := range c.Choices {
			if ch.FinishReason != nil {
				finish = append(finish, *ch.FinishReason)
			}
		}
	}
	if !out.complete || len(finish) != 1 || finish[0] != "length" {
		t.Errorf("complete %v, finish %v", out.complete, finish)
	}
}

func TestStreamEmptyReply(t *testing.T) {
	t.Parallel()
	f, p := newFake(t)
	f.Script("m", aitest.Reply{Text: "", Usage: aitest.Usage{Input: 3}})
	out := runStream(t, p, streamCall("m", streamBody))
	cs := decodeChunks(t, out.chunks)
	if !out.complete || len(cs) != 3 || cs[0].Choices[0].Delta.Role != "assistant" || deref(cs[0].Choices[0].Delta.Content) != "" {
		t.Errorf("chunks:\n%s", strings.Join(out.chunks, "\n"))
	}
}

func TestStreamErrorEvent(t *testing.T) {
	t.Parallel()
	s := (&Provider{}).Stream(streamCall("m", streamBody))
	var n int
	emit := func([]byte) error { n++; return nil }
	if err := s.Event(nil, []byte(`{"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"}}]}`), emit); err != nil {
		t.Fatal(err)
	}
	err := s.Event(nil, []byte(`{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}`), emit)
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Kind != provider.Server || pe.Status != 503 || pe.Message != "The model is overloaded." {
		t.Fatalf("err = %#v", err)
	}
	if complete, _ := s.End(emit); complete || n != 1 {
		t.Errorf("complete %v after %d chunks", complete, n)
	}
	if err := s.Event(nil, []byte(`not json`), emit); !errors.As(err, &pe) || pe.Kind != provider.Server {
		t.Errorf("garbage event: %v", err)
	}
}

func TestStreamEmitErrorReturnedAsIs(t *testing.T) {
	t.Parallel()
	s := (&Provider{}).Stream(streamCall("m", streamBody))
	gone := errors.New("client went away")
	ev := []byte(`{"candidates":[{"content":{"parts":[{"text":"Hi"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":1}}`)
	if err := s.Event(nil, ev, func([]byte) error { return gone }); err != gone {
		t.Errorf("err = %v", err)
	}
	s = (&Provider{}).Stream(streamCall("m", streamBody))
	if err := s.Event(nil, ev, func([]byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.End(func([]byte) error { return gone }); err != gone {
		t.Errorf("End err = %v", err)
	}
}

func TestStreamUsageLastWins(t *testing.T) {
	t.Parallel()
	s := (&Provider{}).Stream(streamCall("m", streamBody))
	emit := func([]byte) error { return nil }
	for _, ev := range []string{
		`{"candidates":[{"content":{"parts":[{"text":"a"}]}}],"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":1}}`,
		`{"candidates":[{"content":{"parts":[{"text":"b"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":4,"thoughtsTokenCount":2}}`,
	} {
		if err := s.Event(nil, []byte(ev), emit); err != nil {
			t.Fatal(err)
		}
	}
	if u, ok := s.Usage(); !ok || u.Input != 10 || u.Output != 6 {
		t.Errorf("Usage() = %+v", u)
	}
}
