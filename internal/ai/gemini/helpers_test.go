package gemini

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/ai/aitest"
	"github.com/pinpointgw/pinpoint/internal/ai/provider"
	"github.com/pinpointgw/pinpoint/internal/ai/sse"
)

// newFake starts a Gemini fake and a provider pointed at it.
func newFake(t testing.TB) (*aitest.Server, provider.Provider) {
	t.Helper()
	f := aitest.NewGemini(t)
	p, err := New(provider.Config{
		Name:    "google",
		BaseURL: f.URL + "/v1beta",
		Key:     "test-key",
		Headers: map[string]string{"X-Extra": "yes"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return f, p
}

func chatCall(model, body string) *provider.Call {
	return &provider.Call{Op: provider.Chat, Body: []byte(body), Model: model}
}

func streamCall(model, body string) *provider.Call {
	return &provider.Call{Op: provider.Chat, Body: []byte(body), Model: model, Stream: true}
}

// send performs c over real HTTP: a 2xx answer is decoded, another one
// classified.
func send(t *testing.T, p provider.Provider, c *provider.Call) (provider.Result, *provider.Error) {
	t.Helper()
	req, err := p.Request(context.Background(), c)
	if err != nil {
		var pe *provider.Error
		if errors.As(err, &pe) {
			return provider.Result{}, pe
		}
		t.Fatalf("Request: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10+1))
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if resp.StatusCode/100 != 2 {
		return provider.Result{}, p.Failure(resp.StatusCode, resp.Header, body)
	}
	res, err := p.Decode(c, body)
	if err != nil {
		t.Fatalf("Decode: %v\n%s", err, body)
	}
	if !json.Valid(res.Body) {
		t.Fatalf("Decode gave invalid JSON: %s", res.Body)
	}
	return res, nil
}

// streamed is what a streamed call yielded.
type streamed struct {
	chunks   []string
	complete bool
	err      error // from Event
	stream   provider.Stream
}

// runStream performs a streamed c over real HTTP and feeds every event
// to the translator, then End.
func runStream(t *testing.T, p provider.Provider, c *provider.Call) streamed {
	t.Helper()
	req, err := p.Request(context.Background(), c)
	if err != nil {
		t.Fatalf("Request: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	out := streamed{stream: p.Stream(c)}
	emit := func(chunk []byte) error {
		if !json.Valid(chunk) {
			t.Errorf("invalid chunk JSON: %s", chunk)
		}
		out.chunks = append(out.chunks, string(chunk))
		return nil
	}
	r := sse.NewReader(resp.Body)
	for {
		name, data, err := r.Next()
		if err != nil {
			break
		}
		if err := out.stream.Event(name, data, emit); err != nil {
			out.err = err
			break
		}
	}
	out.complete, err = out.stream.End(emit)
	if err != nil {
		t.Fatalf("End: %v", err)
	}
	return out
}

// completion is the part of a chat.completion the tests read.
type completion struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
	Choices []struct {
		Index   int `json:"index"`
		Message struct {
			Role      string     `json:"role"`
			Content   *string    `json:"content"`
			ToolCalls []toolCall `json:"tool_calls"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage *usage `json:"usage"`
}

type toolCall struct {
	Index    *int   `json:"index"`
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type usage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
}

// chunk is the part of a chat.completion.chunk the tests read.
type chunk struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
	Choices []struct {
		Index int `json:"index"`
		Delta struct {
			Role      string     `json:"role"`
			Content   *string    `json:"content"`
			ToolCalls []toolCall `json:"tool_calls"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *usage `json:"usage"`
}

func decodeCompletion(t *testing.T, b []byte) completion {
	t.Helper()
	var c completion
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return c
}

func decodeChunks(t *testing.T, chunks []string) []chunk {
	t.Helper()
	out := make([]chunk, len(chunks))
	for i, s := range chunks {
		if err := json.Unmarshal([]byte(s), &out[i]); err != nil {
			t.Fatalf("chunk %d: %v: %s", i, err, s)
		}
	}
	return out
}

func lastRequest(t *testing.T, f *aitest.Server) aitest.Request {
	t.Helper()
	r, ok := f.Last()
	if !ok {
		t.Fatal("the fake got no request")
	}
	return r
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func orEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
