package anthropic

import (
	"testing"

	"github.com/pinpointgw/pinpoint/internal/ai/provider"
)

// benchAnswer is a typical Messages answer: text, one tool call, cache usage.
const benchAnswer = `{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",` +
	`"content":[{"type":"text","text":"I'll check the current weather in San Francisco for you. \"Quoted\" and\nmultiline text follows, long enough to look like a real answer from the model."},` +
	`{"type":"tool_use","id":"toolu_01A09q90qw90lq917835lq9","name":"get_weather","input":{"location": "San Francisco, CA", "unit": "celsius", "days": [1, 2, 3]}}],` +
	`"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":472,"cache_creation_input_tokens":120,"cache_read_input_tokens":2048,"output_tokens":89,"service_tier":"standard"}}`

func BenchmarkDecode(b *testing.B) {
	p, err := New(provider.Config{Name: "a", BaseURL: DefaultBaseURL, Key: "k"})
	if err != nil {
		b.Fatal(err)
	}
	c := &provider.Call{Op: provider.Chat, Model: "claude-sonnet-4-5", Body: []byte(`{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"Weather in SF?"}],"tools":[{"type":"function","function":{"name":"get_weather"}}]}`)}
	body := []byte(benchAnswer)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := p.Decode(c, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTranslateRequest(b *testing.B) {
	c := &provider.Call{Op: provider.Chat, Model: "claude-sonnet-4-5", Body: []byte(`{"model":"claude-sonnet-4-5","max_tokens":512,"temperature":0.3,` +
		`"messages":[{"role":"system","content":"You are a helpful assistant that answers briefly."},{"role":"user","content":"Weather in SF?"},` +
		`{"role":"assistant","content":null,"tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"San Francisco, CA\"}"}}]},` +
		`{"role":"tool","tool_call_id":"toolu_1","content":"18C and sunny"},{"role":"user","content":"Thanks! And tomorrow?"}],` +
		`"tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}}]}`)}
	b.ReportAllocs()
	b.SetBytes(int64(len(c.Body)))
	for b.Loop() {
		if _, err := translateRequest(c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStreamEvent(b *testing.B) {
	p, err := New(provider.Config{Name: "a", BaseURL: DefaultBaseURL, Key: "k"})
	if err != nil {
		b.Fatal(err)
	}
	c := &provider.Call{Op: provider.Chat, Model: "claude-sonnet-4-5", Stream: true, Body: []byte(`{"messages":[]}`)}
	st := p.Stream(c)
	emit := func([]byte) error { return nil }
	_ = st.Event([]byte("message_start"), []byte(`{"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":3,"output_tokens":1}}}`), emit)
	_ = st.Event([]byte("content_block_start"), []byte(`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`), emit)
	name := []byte("content_block_delta")
	data := []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" quick"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := st.Event(name, data, emit); err != nil {
			b.Fatal(err)
		}
	}
}
