package gemini

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/ai/provider"
)

var benchAnswer = []byte(`{"candidates":[{"content":{"parts":[{"text":"` + strings.Repeat("The sky is blue because of Rayleigh scattering. ", 20) +
	`"},{"functionCall":{"name":"lookup","args":{"topic":"Rayleigh scattering","depth":2}}}],"role":"model"},"finishReason":"STOP","index":0}],` +
	`"usageMetadata":{"promptTokenCount":120,"candidatesTokenCount":210,"totalTokenCount":330,"cachedContentTokenCount":64},` +
	`"modelVersion":"gemini-2.5-flash","responseId":"aitestResp000000000001"}`)

func BenchmarkDecode(b *testing.B) {
	p := &Provider{}
	c := chatCall("gemini-2.5-flash", `{}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchAnswer)))
	for b.Loop() {
		if _, err := p.Decode(c, benchAnswer); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStreamEvent(b *testing.B) {
	ev := []byte(`{"candidates":[{"content":{"parts":[{"text":" scattering"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":120,"candidatesTokenCount":3,"totalTokenCount":123},"modelVersion":"gemini-2.5-flash","responseId":"r1"}`)
	s := (&Provider{}).Stream(streamCall("gemini-2.5-flash", `{}`))
	emit := func([]byte) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Event(nil, ev, emit); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRequestBody(b *testing.B) {
	body := []byte(`{"model":"gemini-2.5-flash","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"` +
		strings.Repeat("Why is the sky blue? ", 50) + `"}],"temperature":0.3,"max_tokens":200,
		"tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object","properties":{"topic":{"type":"string"}}}}}]}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := chatBody(body); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzChatBody checks that any request the translator accepts becomes
// valid JSON, and that it never panics.
func FuzzChatBody(f *testing.F) {
	for _, s := range []string{
		plainChat,
		`{"messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"a\"b"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}}]}],"stop":["x"],"n":2}`,
		`{"messages":[{"role":"assistant","tool_calls":[{"id":"1","function":{"name":"f","arguments":"{\"a\":1}"}}]},{"role":"tool","tool_call_id":"1","content":"{\"r\":[1]}"}],"tools":[{"function":{"name":"f","parameters":{}}}],"tool_choice":{"type":"function","function":{"name":"f"}}}`,
		`{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"schema":{"type":"object"}}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := chatBody(body)
		if err != nil {
			if _, ok := err.(*provider.Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON from %s:\n%s", body, out)
		}
	})
}

// FuzzDecode checks that every answer either fails to decode or decodes
// to valid JSON, for chats, streams and embeddings alike.
func FuzzDecode(f *testing.F) {
	f.Add(benchAnswer)
	f.Add([]byte(`{"promptFeedback":{"blockReason":"SAFETY"}}`))
	f.Add([]byte(`{"embeddings":[{"values":[0.1,0.2]}]}`))
	f.Add([]byte(`{"error":{"code":500,"message":"x"}}`))
	p := &Provider{}
	f.Fuzz(func(t *testing.T, body []byte) {
		if res, err := p.Decode(chatCall("m", `{}`), body); err == nil && !json.Valid(res.Body) {
			t.Fatalf("chat: invalid JSON from %s:\n%s", body, res.Body)
		}
		for _, format := range []string{`{}`, `{"encoding_format":"base64"}`} {
			c := &provider.Call{Op: provider.Embeddings, Model: "e", Body: []byte(format)}
			if res, err := p.Decode(c, body); err == nil && !json.Valid(res.Body) {
				t.Fatalf("embeddings: invalid JSON from %s:\n%s", body, res.Body)
			}
		}
		s := p.Stream(streamCall("m", `{}`))
		emit := func(chunk []byte) error {
			if !json.Valid(chunk) {
				t.Fatalf("stream: invalid chunk from %s:\n%s", body, chunk)
			}
			return nil
		}
		if s.Event(nil, body, emit) == nil {
			_, _ = s.End(emit)
		}
		_ = p.Failure(400, nil, body)
	})
}
