package mistral_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/pinpointgw/pinpoint/internal/ai/aitest"
	"github.com/pinpointgw/pinpoint/internal/ai/mistral"
	"github.com/pinpointgw/pinpoint/internal/ai/pricing"
	"github.com/pinpointgw/pinpoint/internal/ai/provider"
	"github.com/pinpointgw/pinpoint/internal/ai/sse"
)

const key = "mistral-test-key-0123456789"

func newMistral(t *testing.T, base string) provider.Provider {
	t.Helper()
	fac, ok := provider.Lookup("mistral")
	if !ok {
		t.Fatal("mistral not registered")
	}
	p, err := fac.New(provider.Config{BaseURL: base, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func send(t *testing.T, p provider.Provider, c *provider.Call) *http.Response {
	t.Helper()
	req, err := p.Request(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// streamAll feeds every event to the translator and returns the fed
// data, the emitted chunks and whether the stream was complete.
func streamAll(t *testing.T, p provider.Provider, c *provider.Call) (fed, emitted [][]byte, st provider.Stream, complete bool) {
	t.Helper()
	res := send(t, p, c)
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("status %d: %s", res.StatusCode, b)
	}
	st = p.Stream(c)
	emit := func(b []byte) error {
		emitted = append(emitted, bytes.Clone(b))
		return nil
	}
	r := sse.NewReader(res.Body)
	for {
		name, data, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		fed = append(fed, bytes.Clone(data))
		if err := st.Event(name, data, emit); err != nil {
			t.Fatal(err)
		}
	}
	n := len(emitted)
	complete, err := st.End(emit)
	if err != nil || len(emitted) != n {
		t.Fatalf("End: %v, emitted %d", err, len(emitted)-n)
	}
	return fed, emitted, st, complete
}

func jsonEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}
}

func TestFactory(t *testing.T) {
	t.Parallel()
	f, ok := provider.Lookup("mistral")
	if !ok || f.DefaultBaseURL != "https://api.mistral.ai/v1" || !f.NeedsKey || !f.Embeddings {
		t.Fatalf("factory %+v, %v", f, ok)
	}
	if _, err := f.New(provider.Config{BaseURL: mistral.DefaultBaseURL}); err == nil {
		t.Error("New accepted a config without key")
	}
}

func TestRequestEdits(t *testing.T) {
	t.Parallel()
	msgs := `"messages":[{"role":"user","content":"hi"}]`
	for _, tc := range []struct {
		name string
		op   provider.Op
		in   string
		want string
	}{
		{
			name: "openai-only fields",
			in: `{"model":"mistral-small-latest",` + msgs + `,"stream":true,"stream_options":{"include_usage":true},"store":true,` +
				`"metadata":{"a":"b"},"service_tier":"auto","logprobs":true,"top_logprobs":2,"user":"u1","modalities":["text"],` +
				`"max_completion_tokens":100,"seed":7,"tool_choice":"required","tools":[{"type":"function","function":{"name":"f","parameters":{}}}],"temperature":0.2}`,
			want: `{"model":"mistral-small-latest",` + msgs + `,"stream":true,"max_tokens":100,"random_seed":7,"tool_choice":"any",` +
				`"tools":[{"type":"function","function":{"name":"f","parameters":{}}}],"temperature":0.2}`,
		},
		{
			name: "mistral names win",
			in:   `{"model":"m",` + msgs + `,"max_tokens":50,"max_completion_tokens":100,"random_seed":1,"seed":2}`,
			want: `{"model":"m",` + msgs + `,"max_tokens":50,"random_seed":1}`,
		},
		{
			name: "tool choice auto and object kept",
			in:   `{"model":"m",` + msgs + `,"tool_choice":{"type":"function","function":{"name":"f"}},"user":null}`,
			want: `{"model":"m",` + msgs + `,"tool_choice":{"type":"function","function":{"name":"f"}}}`,
		},
		{
			name: "nested fields untouched",
			in:   `{"model":"m","messages":[{"role":"user","content":"hi","user":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"properties":{"seed":{"type":"integer"}}}}}}`,
			want: `{"model":"m","messages":[{"role":"user","content":"hi","user":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"properties":{"seed":{"type":"integer"}}}}}}`,
		},
		{
			name: "embeddings",
			op:   provider.Embeddings,
			in:   `{"model":"mistral-embed","input":["a"],"user":"u","dimensions":256,"encoding_format":"float"}`,
			want: `{"model":"mistral-embed","input":["a"],"output_dimension":256,"encoding_format":"float"}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := aitest.NewOpenAI(t)
			p := newMistral(t, f.URL+"/v1")
			op := tc.op
			if op == 0 {
				op = provider.Chat
			}
			c := &provider.Call{Op: op, Body: []byte(tc.in), Model: "m", Stream: gjson.Get(tc.in, "stream").Bool()}
			res := send(t, p, c)
			_, _ = io.Copy(io.Discard, res.Body)
			if string(c.Body) != tc.in {
				t.Errorf("Call.Body modified: %s", c.Body)
			}
			last, ok := f.Last()
			if !ok {
				t.Fatal("fake saw no request")
			}
			jsonEqual(t, last.Body, tc.want)
			if last.Header.Get("Authorization") != "Bearer "+key {
				t.Errorf("Authorization %q", last.Header.Get("Authorization"))
			}
		})
	}
}

// A body that needs no edit is sent as is, not re-encoded.
func TestRequestUnedited(t *testing.T) {
	t.Parallel()
	p := newMistral(t, mistral.DefaultBaseURL)
	in := []byte(`{"model":"m",  "messages":[{"role":"user","content":"hi"}], "max_tokens":5}`)
	req, err := p.Request(context.Background(), &provider.Call{Op: provider.Chat, Body: in, Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(req.Body)
	if !bytes.Equal(got, in) || req.URL.String() != "https://api.mistral.ai/v1/chat/completions" {
		t.Errorf("sent %s to %s", got, req.URL)
	}
}

func TestModelLength(t *testing.T) {
	t.Parallel()
	f := aitest.NewOpenAI(t)
	f.Script("mistral-large-latest", aitest.Reply{Text: "cut short", Finish: "model_length", Usage: aitest.Usage{Input: 8, Output: 2}})
	p := newMistral(t, f.URL+"/v1")

	c := &provider.Call{Op: provider.Chat, Body: []byte(`{"model":"mistral-large-latest","messages":[{"role":"user","content":"hi"}]}`), Model: "mistral-large-latest"}
	res := send(t, p, c)
	raw, _ := io.ReadAll(res.Body)
	r, err := p.Decode(c, bytes.Clone(raw))
	if err != nil {
		t.Fatal(err)
	}
	if got := gjson.GetBytes(r.Body, "choices.0.finish_reason").Str; got != "length" {
		t.Errorf("finish_reason %q, want length", got)
	}
	if want := bytes.Replace(raw, []byte(`"model_length"`), []byte(`"length"`), 1); !bytes.Equal(r.Body, want) {
		t.Errorf("body\n got %s\nwant %s", r.Body, want)
	}
	if !r.HasUsage || r.Usage != (pricing.Usage{Input: 8, Output: 2}) {
		t.Errorf("usage %+v", r.Usage)
	}

	c.Stream = true
	c.Body = []byte(`{"model":"mistral-large-latest","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}`)
	fed, emitted, _, complete := streamAll(t, p, c)
	if !complete || len(emitted) != len(fed)-1 {
		t.Fatalf("complete %v, %d chunks for %d events", complete, len(emitted), len(fed))
	}
	for i, chunk := range emitted {
		want := bytes.Replace(fed[i], []byte(`"model_length"`), []byte(`"length"`), 1)
		if !bytes.Equal(chunk, want) {
			t.Errorf("chunk %d\n got %s\nwant %s", i, chunk, want)
		}
	}
	if got := gjson.GetBytes(emitted[len(emitted)-1], "choices.0.finish_reason").Str; got != "length" {
		t.Errorf("last finish_reason %q", got)
	}
}

// mistralStream is a streamed answer as Mistral sends it: usage on the
// last content chunk, unasked.
const mistralStream = `data: {"id":"a1","object":"chat.completion.chunk","created":1750000000,"model":"mistral-small-latest","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}

data: {"id":"a1","object":"chat.completion.chunk","created":1750000000,"model":"mistral-small-latest","choices":[{"index":0,"delta":{"content":"Bonjour"},"finish_reason":null}]}

data: {"id":"a1","object":"chat.completion.chunk","created":1750000000,"model":"mistral-small-latest","choices":[{"index":0,"delta":{"content":"!"},"finish_reason":"model_length"}],"usage":{"prompt_tokens":9,"total_tokens":11,"completion_tokens":2}}

data: [DONE]

`

func TestMistralStreamUsage(t *testing.T) {
	t.Parallel()
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, mistralStream)
	}))
	t.Cleanup(srv.Close)
	p := newMistral(t, srv.URL+"/v1")
	c := &provider.Call{Op: provider.Chat, Model: "mistral-small-latest", Stream: true,
		Body: []byte(`{"model":"mistral-small-latest","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}`)}
	fed, emitted, st, complete := streamAll(t, p, c)
	if strings.Contains(string(got), "stream_options") {
		t.Errorf("stream_options sent: %s", got)
	}
	if !complete || len(fed) != 4 {
		t.Fatalf("complete %v, %d events", complete, len(fed))
	}
	// The last content chunk is split: content and finish reason, then
	// OpenAI's usage chunk.
	if len(emitted) != 4 {
		t.Fatalf("emitted %d chunks, want 4: %q", len(emitted), emitted)
	}
	for i := range 2 {
		if !bytes.Equal(emitted[i], fed[i]) {
			t.Errorf("chunk %d changed: %s", i, emitted[i])
		}
	}
	jsonEqual(t, emitted[2], `{"id":"a1","object":"chat.completion.chunk","created":1750000000,"model":"mistral-small-latest","choices":[{"index":0,"delta":{"content":"!"},"finish_reason":"length"}]}`)
	jsonEqual(t, emitted[3], `{"id":"a1","object":"chat.completion.chunk","created":1750000000,"model":"mistral-small-latest","choices":[],"usage":{"prompt_tokens":9,"total_tokens":11,"completion_tokens":2}}`)
	if u, ok := st.Usage(); !ok || u != (pricing.Usage{Input: 9, Output: 2}) {
		t.Errorf("usage %+v (%v)", u, ok)
	}
}

func TestFailure(t *testing.T) {
	t.Parallel()
	f := aitest.NewOpenAI(t)
	p := newMistral(t, f.URL+"/v1")
	for _, tc := range []struct {
		status int
		kind   provider.Kind
	}{{401, provider.Denied}, {422, provider.Invalid}, {429, provider.RateLimited}, {503, provider.Server}} {
		f.FailNext(1, aitest.Failure{Status: tc.status})
		res := send(t, p, &provider.Call{Op: provider.Chat, Model: "m", Body: []byte(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`)})
		b, _ := io.ReadAll(res.Body)
		if e := p.Failure(res.StatusCode, res.Header, b); e.Kind != tc.kind || e.Status != tc.status {
			t.Errorf("%d: %+v, want %s", tc.status, e, tc.kind)
		}
	}
}
