package azure_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/pinpointgw/pinpoint/internal/ai/aitest"
	_ "github.com/pinpointgw/pinpoint/internal/ai/azure"
	"github.com/pinpointgw/pinpoint/internal/ai/pricing"
	"github.com/pinpointgw/pinpoint/internal/ai/provider"
	"github.com/pinpointgw/pinpoint/internal/ai/sse"
)

const key = "0123456789abcdef0123456789abcdef"

func newAzure(t *testing.T, f *aitest.Server, version string) provider.Provider {
	t.Helper()
	fac, ok := provider.Lookup("azure")
	if !ok {
		t.Fatal("azure not registered")
	}
	p, err := fac.New(provider.Config{Name: "az", BaseURL: f.URL + "/openai", Key: key, APIVersion: version})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func chat(deployment string, stream bool) *provider.Call {
	body := `{"model":"` + deployment + `","messages":[{"role":"user","content":"hi"}]`
	if stream {
		body += `,"stream":true,"stream_options":{"include_usage":true}`
	}
	return &provider.Call{Op: provider.Chat, Body: []byte(body + "}"), Model: deployment, Stream: stream}
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

func body(t *testing.T, res *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFactory(t *testing.T) {
	t.Parallel()
	f, ok := provider.Lookup("azure")
	if !ok || f.DefaultBaseURL != "" || !f.NeedsKey || !f.Embeddings {
		t.Fatalf("factory %+v, %v", f, ok)
	}
	if _, err := f.New(provider.Config{Key: key}); err == nil || !strings.Contains(err.Error(), "base URL") {
		t.Errorf("New without base URL = %v", err)
	}
	if _, err := f.New(provider.Config{BaseURL: "https://x.openai.azure.com/openai"}); err == nil || !strings.Contains(err.Error(), "API key") {
		t.Errorf("New without key = %v", err)
	}
}

func TestChat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ version, want string }{
		{"", "2024-10-21"},
		{"2025-04-01-preview", "2025-04-01-preview"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			f := aitest.NewOpenAI(t)
			f.RequireKey(key)
			f.Script("prod-gpt4o", aitest.Reply{Text: "Hi from Azure.", Model: "gpt-4o-2024-11-20", Usage: aitest.Usage{Input: 13, Output: 4, Cached: 0}})
			p := newAzure(t, f, tc.version)
			c := chat("prod-gpt4o", false)
			res := send(t, p, c)
			raw := body(t, res)
			if res.StatusCode != 200 {
				t.Fatalf("status %d: %s", res.StatusCode, raw)
			}
			last, _ := f.Last()
			if last.Path != "/openai/deployments/prod-gpt4o/chat/completions" || last.Query.Get("api-version") != tc.want {
				t.Errorf("fake got %s?%s", last.Path, last.Query.Encode())
			}
			if last.Header.Get("Api-Key") != key || last.Header.Get("Authorization") != "" {
				t.Errorf("api-key %q, Authorization %q", last.Header.Get("Api-Key"), last.Header.Get("Authorization"))
			}
			if last.Model != "prod-gpt4o" || !bytes.Equal(last.Body, c.Body) {
				t.Errorf("model %q, body %s", last.Model, last.Body)
			}
			r, err := p.Decode(c, raw)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(r.Body, raw) || gjson.GetBytes(r.Body, "choices.0.message.content").Str != "Hi from Azure." {
				t.Errorf("body %s", r.Body)
			}
			if !r.HasUsage || r.Usage != (pricing.Usage{Input: 13, Output: 4}) {
				t.Errorf("usage %+v", r.Usage)
			}
		})
	}
}

func TestStream(t *testing.T) {
	t.Parallel()
	f := aitest.NewOpenAI(t)
	f.Script("dep", aitest.Reply{Text: "a b c", Usage: aitest.Usage{Input: 3, Output: 3}})
	p := newAzure(t, f, "")
	c := chat("dep", true)
	res := send(t, p, c)
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, body(t, res))
	}
	if last, _ := f.Last(); last.Header.Get("Accept") != "text/event-stream" || !last.Stream {
		t.Errorf("Accept %q, stream %v", last.Header.Get("Accept"), last.Stream)
	}
	st := p.Stream(c)
	r := sse.NewReader(res.Body)
	var fed, emitted int
	for {
		name, data, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		fed++
		want := bytes.Clone(data)
		if err := st.Event(name, data, func(b []byte) error {
			emitted++
			if !bytes.Equal(b, want) {
				t.Errorf("chunk changed: %s", b)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	complete, err := st.End(func([]byte) error { t.Error("End emitted"); return nil })
	if err != nil || !complete || emitted != fed-1 {
		t.Errorf("complete %v (%v), %d of %d events emitted", complete, err, emitted, fed)
	}
	if u, ok := st.Usage(); !ok || u != (pricing.Usage{Input: 3, Output: 3}) {
		t.Errorf("usage %+v (%v)", u, ok)
	}
}

func TestEmbeddings(t *testing.T) {
	t.Parallel()
	f := aitest.NewOpenAI(t)
	f.Script("emb", aitest.Reply{Usage: aitest.Usage{Input: 2}})
	p := newAzure(t, f, "")
	c := &provider.Call{Op: provider.Embeddings, Body: []byte(`{"model":"emb","input":"hello"}`), Model: "emb"}
	res := send(t, p, c)
	raw := body(t, res)
	if last, _ := f.Last(); res.StatusCode != 200 || last.Path != "/openai/deployments/emb/embeddings" || last.Query.Get("api-version") != "2024-10-21" {
		t.Fatalf("status %d, path %s?%s: %s", res.StatusCode, last.Path, last.Query.Encode(), raw)
	}
	r, err := p.Decode(c, raw)
	if err != nil || !bytes.Equal(r.Body, raw) || !r.HasUsage || r.Usage.Input != 2 {
		t.Errorf("Decode = %+v, %v", r, err)
	}
}

func TestFailure(t *testing.T) {
	t.Parallel()
	// Azure's own refusal of a wrong key, in its own error shape.
	f := aitest.NewOpenAI(t)
	f.RequireKey("another-key")
	p := newAzure(t, f, "")
	res := send(t, p, chat("dep", false))
	e := p.Failure(res.StatusCode, res.Header, body(t, res))
	if e.Kind != provider.Denied || e.Status != 401 || e.Code != "401" || !strings.HasPrefix(e.Message, "Access denied") {
		t.Errorf("wrong key: %+v", e)
	}

	f = aitest.NewOpenAI(t)
	f.FailNext(1, aitest.Failure{Status: 429, RetryAfter: 3 * time.Second})
	p = newAzure(t, f, "")
	res = send(t, p, chat("dep", false))
	e = p.Failure(res.StatusCode, res.Header, body(t, res))
	if e.Kind != provider.RateLimited || e.RetryAfter != 3*time.Second {
		t.Errorf("429: %+v", e)
	}

	f = aitest.NewOpenAI(t)
	f.Script("dep", aitest.Reply{Text: "one two three", Fail: &aitest.Failure{Status: 500}, FailAfter: 1})
	p = newAzure(t, f, "")
	c := chat("dep", true)
	res = send(t, p, c)
	st := p.Stream(c)
	r := sse.NewReader(res.Body)
	var err error
	for err == nil {
		var name, data []byte
		if name, data, err = r.Next(); err == nil {
			err = st.Event(name, data, func([]byte) error { return nil })
		}
	}
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Kind != provider.Server {
		t.Errorf("error chunk: %v", err)
	}
}

func TestDeploymentEscaped(t *testing.T) {
	t.Parallel()
	fac, _ := provider.Lookup("azure")
	p, err := fac.New(provider.Config{BaseURL: "https://r.openai.azure.com/openai/", Key: key, APIVersion: "2024-10-21"})
	if err != nil {
		t.Fatal(err)
	}
	req, err := p.Request(context.Background(), &provider.Call{Op: provider.Chat, Model: "a/b?c", Body: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if got := req.URL.String(); got != "https://r.openai.azure.com/openai/deployments/a%2Fb%3Fc/chat/completions?api-version=2024-10-21" {
		t.Errorf("URL %s", got)
	}
}
