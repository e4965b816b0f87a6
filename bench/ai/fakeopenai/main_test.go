package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// completion is a chat.completion or chat.completion.chunk as OpenAI's
// clients read it; unknown fields are rejected so a typo in the fake shows.
type completion struct {
	ID                string   `json:"id"`
	Object            string   `json:"object"`
	Created           int64    `json:"created"`
	Model             string   `json:"model"`
	ServiceTier       string   `json:"service_tier"`
	SystemFingerprint string   `json:"system_fingerprint"`
	Choices           []choice `json:"choices"`
	Usage             *usage   `json:"usage"`
}

type choice struct {
	Index   int      `json:"index"`
	Message *message `json:"message"`
	Delta   *message `json:"delta"`
	// Logprobs is always null here.
	Logprobs     json.RawMessage `json:"logprobs"`
	FinishReason *string         `json:"finish_reason"`
}

type message struct {
	Role        string          `json:"role"`
	Content     *string         `json:"content"`
	Refusal     json.RawMessage `json:"refusal"`
	Annotations json.RawMessage `json:"annotations"`
}

type usage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
		AudioTokens  int `json:"audio_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens          int `json:"reasoning_tokens"`
		AudioTokens              int `json:"audio_tokens"`
		AcceptedPredictionTokens int `json:"accepted_prediction_tokens"`
		RejectedPredictionTokens int `json:"rejected_prediction_tokens"`
	} `json:"completion_tokens_details"`
}

type apiError struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

func decodeStrict(t *testing.T, data []byte, v any) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	if d.More() {
		t.Fatalf("trailing data after the JSON value in %s", data)
	}
}

// sseEvent is one event as the EventSource algorithm dispatches it.
type sseEvent struct {
	name string
	data string
}

// readSSE parses a stream by the WHATWG EventSource rules: lines end in
// LF, CR or CRLF; "field: value" lines build an event, a blank line
// dispatches it (only when it has data), lines starting with ':' are
// comments. It fails the test on any other field, which OpenAI never sends.
func readSSE(t *testing.T, r io.Reader) []sseEvent {
	t.Helper()
	var out []sseEvent
	var data []string
	name := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	sawBlankEnd := false
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		sawBlankEnd = line == ""
		switch {
		case line == "":
			if data != nil {
				out = append(out, sseEvent{name: name, data: strings.Join(data, "\n")})
			}
			data, name = nil, ""
		case strings.HasPrefix(line, ":"):
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "data":
				data = append(data, value)
			case "event":
				name = value
			default:
				t.Fatalf("unexpected SSE field %q in line %q", field, line)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if !sawBlankEnd || data != nil {
		t.Fatal("stream does not end with a blank line after its last event")
	}
	return out
}

func post(t *testing.T, srv *httptest.Server, auth, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

const chatBody = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say something."}]`

func checkUsage(t *testing.T, u *usage, completionTokens int) {
	t.Helper()
	if u == nil {
		t.Fatal("no usage")
	}
	if u.PromptTokens != PromptTokens || u.CompletionTokens != completionTokens || u.TotalTokens != PromptTokens+completionTokens {
		t.Errorf("usage = %+v, want prompt %d, completion %d, total %d", u, PromptTokens, completionTokens, PromptTokens+completionTokens)
	}
}

// nonStreamed returns the fake's non-streamed message for o.
func nonStreamed(t *testing.T, o options) string {
	t.Helper()
	srv := httptest.NewServer(handler(o))
	t.Cleanup(srv.Close)
	resp := post(t, srv, "", chatBody+`}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if resp.ContentLength <= 0 {
		t.Errorf("no Content-Length (got %d): the reply must not be chunked", resp.ContentLength)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var c completion
	decodeStrict(t, body, &c)
	if c.ID != CompletionID || c.Object != "chat.completion" || c.Model != Model || c.Created == 0 {
		t.Errorf("envelope = %q %q %q %d", c.ID, c.Object, c.Model, c.Created)
	}
	if len(c.Choices) != 1 || c.Choices[0].Message == nil || c.Choices[0].Message.Content == nil {
		t.Fatalf("choices = %+v, want one with a message", c.Choices)
	}
	ch := c.Choices[0]
	if ch.Message.Role != "assistant" || ch.FinishReason == nil || *ch.FinishReason != "stop" || ch.Delta != nil {
		t.Errorf("choice = role %q finish %v delta %v", ch.Message.Role, ch.FinishReason, ch.Delta)
	}
	checkUsage(t, c.Usage, o.chunks)
	return *ch.Message.Content
}

func TestNonStreamedCompletion(t *testing.T) {
	t.Parallel()
	content := nonStreamed(t, options{chunks: 50})
	if n := len(strings.Fields(content)); n != 50 {
		t.Errorf("content has %d words, want 50 (one per token): %q", n, content)
	}
}

func TestStreamedCompletion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		chunks       int
		streamOpts   string
		includeUsage bool
	}{
		{"50 chunks with usage", 50, `,"stream_options":{"include_usage":true}`, true},
		{"3 chunks without stream_options", 3, ``, false},
		{"include_usage false", 5, `,"stream_options":{"include_usage":false}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := options{chunks: tc.chunks}
			srv := httptest.NewServer(handler(o))
			t.Cleanup(srv.Close)
			resp := post(t, srv, "", chatBody+`,"stream":true`+tc.streamOpts+`}`)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
				t.Errorf("Content-Type %q, want text/event-stream", ct)
			}
			events := readSSE(t, resp.Body)
			want := tc.chunks + 3 // role, content…, finish, [DONE]
			if tc.includeUsage {
				want++
			}
			if len(events) != want {
				t.Fatalf("got %d events, want %d", len(events), want)
			}
			if last := events[len(events)-1]; last.data != "[DONE]" || last.name != "" {
				t.Fatalf("last event = %+v, want data: [DONE]", last)
			}
			var text strings.Builder
			for i, ev := range events[:len(events)-1] {
				var c completion
				decodeStrict(t, []byte(ev.data), &c)
				if c.ID != CompletionID || c.Object != "chat.completion.chunk" || c.Model != Model {
					t.Errorf("event %d envelope = %q %q %q", i, c.ID, c.Object, c.Model)
				}
				// With include_usage every chunk carries "usage": null,
				// and the last one the usage and no choices.
				hasUsageKey := strings.Contains(ev.data, `"usage":`)
				if hasUsageKey != tc.includeUsage {
					t.Errorf("event %d has a usage key: %v, want %v", i, hasUsageKey, tc.includeUsage)
				}
				isUsage := tc.includeUsage && i == len(events)-2
				if isUsage {
					if len(c.Choices) != 0 {
						t.Errorf("usage chunk has choices %+v", c.Choices)
					}
					checkUsage(t, c.Usage, tc.chunks)
					continue
				}
				if c.Usage != nil {
					t.Errorf("event %d has usage %+v before the usage chunk", i, c.Usage)
				}
				if len(c.Choices) != 1 || c.Choices[0].Delta == nil || c.Choices[0].Message != nil {
					t.Fatalf("event %d choices = %+v, want one delta", i, c.Choices)
				}
				d, finish := c.Choices[0].Delta, c.Choices[0].FinishReason
				switch {
				case i == 0:
					if d.Role != "assistant" || d.Content == nil || *d.Content != "" || finish != nil {
						t.Errorf("first event = %s, want the assistant role and empty content", ev.data)
					}
				case i <= tc.chunks:
					if d.Role != "" || d.Content == nil || *d.Content == "" || finish != nil {
						t.Errorf("content event %d = %s", i, ev.data)
					} else {
						text.WriteString(*d.Content)
					}
				default:
					if d.Content != nil || finish == nil || *finish != "stop" {
						t.Errorf("finish event = %s, want an empty delta and finish_reason stop", ev.data)
					}
				}
			}
			if whole := nonStreamed(t, o); text.String() != whole {
				t.Errorf("streamed text %q differs from the non-streamed message %q", text.String(), whole)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(handler(options{chunks: 2, apiKey: "sk-bench"}))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		name, path, auth, body string
		status                 int
		code                   string
	}{
		{"no key", "/v1/chat/completions", "", chatBody + `}`, http.StatusUnauthorized, "invalid_api_key"},
		{"wrong key", "/v1/chat/completions", "Bearer sk-other", chatBody + `}`, http.StatusUnauthorized, "invalid_api_key"},
		{"bad JSON", "/v1/chat/completions", "Bearer sk-bench", `{"model":`, http.StatusBadRequest, ""},
		{"no messages", "/v1/chat/completions", "Bearer sk-bench", `{"model":"m","messages":[]}`, http.StatusBadRequest, ""},
		{"unknown path", "/v1/embeddings", "Bearer sk-bench", `{}`, http.StatusNotFound, "unknown_url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(http.MethodPost, srv.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			var e apiError
			decodeStrict(t, body, &e)
			if e.Error.Message == "" || e.Error.Type != "invalid_request_error" {
				t.Errorf("error = %+v", e.Error)
			}
			if got := ""; e.Error.Code != nil {
				got = *e.Error.Code
				if got != tc.code {
					t.Errorf("code %q, want %q", got, tc.code)
				}
			} else if tc.code != "" {
				t.Errorf("no code, want %q", tc.code)
			}
		})
	}
	t.Run("right key", func(t *testing.T) {
		t.Parallel()
		if resp := post(t, srv, "Bearer sk-bench", chatBody+`}`); resp.StatusCode != http.StatusOK {
			t.Errorf("status %d with the right key", resp.StatusCode)
		}
	})
}

// The fake must stay cheap next to the proxies it serves: this reports what
// a non-streamed request costs it (go test -bench . ./bench/ai/fakeopenai).
func BenchmarkNonStreamed(b *testing.B) {
	h := handler(options{chunks: 50})
	body := []byte(chatBody + `,"max_tokens":128,"temperature":0.2}`)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", bytes.NewReader(body))
		h.ServeHTTP(discard{}, req)
	}
}

// discard is a ResponseWriter that keeps nothing.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}
