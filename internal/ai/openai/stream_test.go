package openai

import (
	"bytes"
	"errors"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/pinpointgw/pinpoint/internal/ai/pricing"
	"github.com/pinpointgw/pinpoint/internal/ai/provider"
)

// collect returns an emit function that keeps copies of the chunks.
func collect(out *[][]byte) func([]byte) error {
	return func(b []byte) error {
		*out = append(*out, bytes.Clone(b))
		return nil
	}
}

// Mistral and some OpenAI-compatible servers put usage on the last
// content chunk; it is split so the gateway can drop the usage alone.
func TestStreamSplitsUsageFromContent(t *testing.T) {
	t.Parallel()
	s := &stream{}
	var got [][]byte
	last := `{"id":"c1","object":"chat.completion.chunk","model":"mistral-small","choices":[{"index":0,"delta":{"content":"!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"total_tokens":13,"completion_tokens":3}}`
	if err := s.Event(nil, []byte(last), collect(&got)); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("emitted %d chunks, want 2: %q", len(got), got)
	}
	content, usage := gjson.ParseBytes(got[0]), gjson.ParseBytes(got[1])
	if content.Get("usage").Exists() || content.Get("choices.0.finish_reason").Str != "stop" || content.Get("choices.0.delta.content").Str != "!" {
		t.Errorf("content chunk %s", got[0])
	}
	if usage.Get("choices.#").Int() != 0 || !usage.Get("choices").IsArray() || usage.Get("usage.completion_tokens").Int() != 3 || usage.Get("id").Str != "c1" {
		t.Errorf("usage chunk %s", got[1])
	}
	if u, ok := s.Usage(); !ok || u != (pricing.Usage{Input: 10, Output: 3}) {
		t.Errorf("usage %+v (%v)", u, ok)
	}
}

func TestStreamEvents(t *testing.T) {
	t.Parallel()
	chunk := []byte(`{"id":"c","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}],"usage":null}`)
	t.Run("after done", func(t *testing.T) {
		t.Parallel()
		s := &stream{}
		var got [][]byte
		for _, d := range [][]byte{chunk, []byte("[DONE]"), chunk} {
			if err := s.Event(nil, d, collect(&got)); err != nil {
				t.Fatal(err)
			}
		}
		if len(got) != 1 {
			t.Errorf("emitted %d chunks, want 1 (none after [DONE])", len(got))
		}
		if ok, _ := s.End(collect(&got)); !ok || len(got) != 1 {
			t.Errorf("End = %v, %d chunks", ok, len(got))
		}
		if _, ok := s.Usage(); ok {
			t.Error(`"usage": null counted as usage`)
		}
	})
	t.Run("no done", func(t *testing.T) {
		t.Parallel()
		s := &stream{}
		var got [][]byte
		if err := s.Event(nil, chunk, collect(&got)); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.End(collect(&got)); ok {
			t.Error("a stream without [DONE] reported complete")
		}
	})
	t.Run("emit error returned as is", func(t *testing.T) {
		t.Parallel()
		gone := errors.New("client went away")
		err := (&stream{}).Event(nil, chunk, func([]byte) error { return gone })
		if err != gone {
			t.Errorf("Event = %v, want the emit error", err)
		}
	})
	for name, data := range map[string]string{
		"not json":     "Internal Server Error",
		"truncated":    `{"id":"c","choices":[`,
		"array":        `[1]`,
		"error string": `{"error":"model crashed"}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var got [][]byte
			err := (&stream{}).Event(nil, []byte(data), collect(&got))
			var pe *provider.Error
			if !errors.As(err, &pe) || pe.Kind != provider.Server || len(got) != 0 {
				t.Errorf("Event(%q) = %v, emitted %d", data, err, len(got))
			}
		})
	}
	t.Run("error event", func(t *testing.T) {
		t.Parallel()
		err := (&stream{}).Event([]byte("error"), []byte(`{"message":"overloaded","code":503}`), collect(new([][]byte)))
		var pe *provider.Error
		if !errors.As(err, &pe) || pe.Kind != provider.Server || pe.Status != 503 || pe.Message != "overloaded" {
			t.Errorf("Event = %#v", err)
		}
	})
	t.Run("finish reason error is content", func(t *testing.T) {
		t.Parallel()
		var got [][]byte
		d := []byte(`{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"error"}]}`)
		if err := (&stream{}).Event(nil, d, collect(&got)); err != nil || len(got) != 1 {
			t.Errorf("Event = %v, emitted %d", err, len(got))
		}
	})
}

// chatBody is a typical complete answer, as OpenAI sends it.
var chatBody = []byte(`{"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion","created":1741570283,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"The image shows a wooden boardwalk path running through a lush green field or meadow, surrounded by tall grass and shrubs.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1117,"completion_tokens":46,"total_tokens":1163,"prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_fc9f1d7035"}`)

func TestDecodeUsage(t *testing.T) {
	t.Parallel()
	p, _ := New(provider.Config{BaseURL: "http://h/v1"}, Dialect{})
	r, err := p.Decode(&provider.Call{Op: provider.Chat}, chatBody)
	if err != nil {
		t.Fatal(err)
	}
	if !r.HasUsage || r.Usage != (pricing.Usage{Input: 1117, Output: 46, CachedInput: 1024}) || &r.Body[0] != &chatBody[0] {
		t.Errorf("Decode = %+v", r.Usage)
	}
	for _, body := range []string{`{"choices":[],"usage":null}`, `{"choices":[],"usage":7}`, `{"choices":[]}`} {
		if r, err := p.Decode(&provider.Call{Op: provider.Chat}, []byte(body)); err != nil || r.HasUsage {
			t.Errorf("Decode(%s) = %+v, %v: want no usage", body, r, err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	p, _ := New(provider.Config{BaseURL: "http://h/v1", Key: "k"}, Dialect{})
	c := &provider.Call{Op: provider.Chat}
	b.ReportAllocs()
	b.SetBytes(int64(len(chatBody)))
	for b.Loop() {
		if _, err := p.Decode(c, chatBody); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStreamEvent(b *testing.B) {
	chunk := []byte(`{"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_fc9f1d7035","usage":null,"choices":[{"index":0,"delta":{"content":" boardwalk"},"logprobs":null,"finish_reason":null}]}`)
	s := &stream{}
	emit := func([]byte) error { return nil }
	b.ReportAllocs()
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		if err := s.Event(nil, chunk, emit); err != nil {
			b.Fatal(err)
		}
	}
}

func TestMayHaveUsage(t *testing.T) {
	for chunk, want := range map[string]bool{
		`{"choices":[{"delta":{"content":"x"}}],"usage":null}`:                    false,
		`{"choices":[{"delta":{"content":"x"}}], "usage" : null }`:                false,
		`{"choices":[],"usage":{"prompt_tokens":3}}`:                              true,
		`{"choices":[{"delta":{"content":"x"}}]}`:                                 false,
		`{"choices":[{"delta":{"content":"the \"usage\" word"}}],"usage":null}`:   false, // an escaped quote: no "usage" key there
		`{"usage":{"prompt_tokens":1},"choices":[{"delta":{"content":"usage"}}]}`: true,
	} {
		if got := mayHaveUsage([]byte(chunk)); got != want {
			t.Errorf("mayHaveUsage(%s) = %v, want %v", chunk, got, want)
		}
	}
}
