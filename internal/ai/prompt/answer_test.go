package prompt

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/ai/aitest"
	"github.com/pinpointgw/pinpoint/internal/config"
)

// completion is an OpenAI chat.completion body with one choice; content
// and refusal are JSON values.
func completion(content, refusal, finish string) []byte {
	return []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,` +
		`"message":{"role":"assistant","content":` + content + `,"refusal":` + refusal + `,"annotations":[]},` +
		`"logprobs":null,"finish_reason":` + finish + `}],"usage":{"prompt_tokens":10,"completion_tokens":3,"total_tokens":13}}`)
}

func TestAnswerText(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, with(func(c *config.AIPrompt) { c.Output = "" }))
	tests := []struct {
		name string
		body []byte
		want string
	}{
		{"stop", completion(`"Hello \"you\"\n"`, `null`, `"stop"`), `{"text":"Hello \"you\"\n","finish_reason":"stop"}`},
		{"cut off text is still text", completion(`"Hel"`, `null`, `"length"`), `{"text":"Hel","finish_reason":"length"}`},
		{"refusal", completion(`null`, `"I can't help with that."`, `"stop"`), `{"text":"I can't help with that.","finish_reason":"stop"}`},
		{"no content", completion(`null`, `null`, `"tool_calls"`), `{"text":"","finish_reason":"tool_calls"}`},
		{"no finish reason", completion(`"x"`, `null`, `null`), `{"text":"x","finish_reason":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := p.Answer(tt.body)
			if err != nil {
				t.Fatalf("Answer: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("Answer = %s\nwant     %s", got, tt.want)
			}
		})
	}
}

func TestAnswerStructured(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, summarize)
	tests := []struct {
		name   string
		body   []byte
		want   string // the answer, or
		reason string // the OutputError's reason
	}{
		{"valid", completion(strconv.Quote(`{ "summary": "short",  "words": 1 }`), `null`, `"stop"`), `{"summary":"short","words":1}`, ""},
		{"valid, keeps the number as written", completion(strconv.Quote(`{"summary":"s","words":1e1}`), `null`, `"stop"`), `{"summary":"s","words":1e1}`, ""},
		{"not an integer", completion(strconv.Quote(`{"summary":"s","words":1.5}`), `null`, `"stop"`), "", "the answer does not match the output schema: /words: expected integer, got number"},
		{"not JSON", completion(`"Sure! Here is the summary: ..."`, `null`, `"stop"`), "", "the answer is not JSON"},
		{"trailing text", completion(strconv.Quote(`{"summary":"s"} and more`), `null`, `"stop"`), "", "the answer is not JSON"},
		{"invalid", completion(strconv.Quote(`{"words":"two","extra":1}`), `null`, `"stop"`), "",
			"the answer does not match the output schema: /extra: unknown property; /summary: missing property; /words: expected integer, got string"},
		{"an array", completion(strconv.Quote(`["s"]`), `null`, `"stop"`), "", "the answer does not match the output schema: /: expected object, got array"},
		{"cut off", completion(strconv.Quote(`{"summary":"the begi`), `null`, `"length"`), "", "the answer was cut off at max_tokens"},
		{"cut off though complete", completion(strconv.Quote(`{"summary":"s"}`), `null`, `"length"`), "", "the answer was cut off at max_tokens"},
		{"filtered", completion(`null`, `null`, `"content_filter"`), "", "the answer was stopped by the provider's content filter"},
		{"refused", completion(`null`, `"I can't."`, `"stop"`), "", "the model refused to answer: I can't."},
		{"empty", completion(`""`, `null`, `"stop"`), "", "the model gave no answer"},
		{"null", completion(`null`, `null`, `"stop"`), "", "the model gave no answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := p.Answer(tt.body)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Answer: %v", err)
				}
				if string(got) != tt.want {
					t.Errorf("Answer = %s\nwant     %s", got, tt.want)
				}
				return
			}
			var oe *OutputError
			if !errors.As(err, &oe) {
				t.Fatalf("Answer = %s, %v; want an *OutputError", got, err)
			}
			if oe.Reason != tt.reason {
				t.Errorf("reason = %q\nwant     %q", oe.Reason, tt.reason)
			}
		})
	}
}

func TestAnswerNotACompletion(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, summarize)
	for _, body := range []string{``, `{`, `{}`, `{"choices":[]}`, `{"choices":[{"message":"x"}]}`, `{"error":{"message":"x"}}`} {
		_, err := p.Answer([]byte(body))
		var oe *OutputError
		if err == nil || errors.As(err, &oe) {
			t.Errorf("Answer(%q) = %v; want an error that is no *OutputError", body, err)
		}
	}
}

// TestRoundTrip sends what Build makes to the OpenAI fake and answers
// what the fake returns.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	f := aitest.NewOpenAI(t)
	f.Script("gpt-fast", aitest.Reply{Text: `{"summary":"A fox jumps.","words":3}`, Usage: aitest.Usage{Input: 30, Output: 9}})
	p := mustCompile(t, summarize)

	body := []byte(`{"text":"The quick brown fox jumps over the lazy dog.","max_words":5,"lang":"English"}`)
	if err := p.Validate(body); err != nil {
		t.Fatal(err)
	}
	req, err := p.Build(body)
	if err != nil {
		t.Fatal(err)
	}
	completion := post(t, f.URL+"/v1/chat/completions", req)
	if last, ok := f.Last(); !ok || !bytes.Equal(last.Body, req) || last.Model != "gpt-fast" || last.Stream {
		t.Errorf("the fake got %+v", last)
	}
	got, err := p.Answer(completion)
	if err != nil {
		t.Fatalf("Answer: %v\n%s", err, completion)
	}
	if want := `{"summary":"A fox jumps.","words":3}`; string(got) != want {
		t.Errorf("Answer = %s; want %s", got, want)
	}

	f.Script("gpt-fast", aitest.Reply{Text: `{"summary":"A fox`, Finish: "length"})
	completion = post(t, f.URL+"/v1/chat/completions", req)
	var oe *OutputError
	if _, err := p.Answer(completion); !errors.As(err, &oe) || oe.Reason != "the answer was cut off at max_tokens" {
		t.Errorf("Answer of a cut-off answer = %v", err)
	}
}

// post sends a chat completion request the way the OpenAI provider does
// and returns the 200 answer's body.
func post(t *testing.T, url string, body []byte) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-test-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the fake answered %d %s (%v)", resp.StatusCode, b, err)
	}
	return b
}
