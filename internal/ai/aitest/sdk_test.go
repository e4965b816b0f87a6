package aitest_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/ai/aitest"
)

// sdkScripts is what each fake answers in TestOfficialSDKs, by model. The
// node tests read the same scripts (via $AITEST) and assert on them, so a
// fake that answers anything else fails.
var sdkScripts = map[aitest.Provider]map[string]aitest.Reply{
	aitest.OpenAI: {
		"sdk-chat":   {Text: "Paris is the capital of France.", Usage: aitest.Usage{Input: 21, Output: 7, Cached: 5}},
		"sdk-json":   {Text: `{"answer":42}`, Usage: aitest.Usage{Input: 40, Output: 6}},
		"sdk-stream": {Text: "One, two, three, four, five.", Chunks: 5, Usage: aitest.Usage{Input: 11, Output: 9}},
		"sdk-tools": {ToolCalls: []aitest.ToolCall{
			{Name: "get_weather", Arguments: `{"city":"Paris","unit":"celsius"}`},
			{Name: "get_time", Arguments: `{"tz":"Europe/Paris"}`},
		}, Chunks: 4, Usage: aitest.Usage{Input: 80, Output: 30}},
		"text-embedding-3-small": {Usage: aitest.Usage{Input: 6}},
		"sdk-ratelimit":          {Fail: &aitest.Failure{Status: 429, Message: "Rate limit reached for sdk-ratelimit on tokens per min (TPM): Limit 10, Used 10, Requested 5.", RetryAfter: 7 * time.Second}},
		"sdk-badrequest":         {Fail: &aitest.Failure{Status: 400, Message: "Invalid 'max_tokens': integer below minimum value.", Param: "max_tokens", Code: "integer_below_min_value"}},
		"sdk-unavailable":        {Fail: &aitest.Failure{Status: 503}},
		"sdk-retry":              {Text: "Recovered after one retry."},
		"sdk-stream-error":       {Text: "a b c d e", Fail: &aitest.Failure{Status: 500, Message: "The stream broke on the provider side."}, FailAfter: 3},
		"sdk-cut":                {Text: "a b c d e f g h", CutAfter: 3},
		"sdk-azure":              {Text: "Hello from an Azure deployment."},
	},
	aitest.Anthropic: {
		"claude-sdk-basic":  {Text: "Bonjour !", Usage: aitest.Usage{Input: 30, Output: 4, Cached: 12, CacheWrite: 3}},
		"claude-sdk-stream": {Text: "Streaming, word by word, to you.", Chunks: 4, Usage: aitest.Usage{Input: 14, Output: 8, Cached: 2}},
		"claude-sdk-tools": {Text: "Let me check.", ToolCalls: []aitest.ToolCall{
			{Name: "get_weather", Arguments: `{"city":"Paris","days":[1,2]}`},
			{Name: "get_time", Arguments: `{"tz":"Europe/Paris"}`},
		}, Chunks: 3, Usage: aitest.Usage{Input: 90, Output: 40}},
		"claude-sdk-length":       {Text: "This answer is cut", Finish: "length"},
		"claude-sdk-stopseq":      {Text: "Counting: 1, 2, 3", StopSequence: "END"},
		"claude-sdk-overloaded":   {Fail: &aitest.Failure{Status: 529, Message: "Overloaded"}},
		"claude-sdk-ratelimit":    {Fail: &aitest.Failure{Status: 429, RetryAfter: 12 * time.Second}},
		"claude-sdk-stream-error": {Text: "one two three four", Fail: &aitest.Failure{Status: 529, Message: "Overloaded mid-stream"}, FailAfter: 4},
	},
	aitest.Gemini: {
		"gemini-sdk-basic":  {Text: "Rayleigh scattering.", Usage: aitest.Usage{Input: 8, Output: 3, Cached: 4}},
		"gemini-sdk-stream": {Text: "Once upon a time, a fake told the truth.", Chunks: 6, Usage: aitest.Usage{Input: 5, Output: 10}},
		"gemini-sdk-tools": {ToolCalls: []aitest.ToolCall{
			{Name: "get_weather", Arguments: `{"city":"Paris"}`},
			{Name: "get_time", Arguments: `{"tz":"Europe/Paris","format":"24h"}`},
		}},
		"gemini-sdk-length":      {Text: "It went on and", Finish: "length"},
		"gemini-sdk-blocked":     {Blocked: "PROHIBITED_CONTENT", Usage: aitest.Usage{Input: 9}},
		"gemini-sdk-ratelimit":   {Fail: &aitest.Failure{Status: 429, Message: "You exceeded your current quota."}},
		"gemini-sdk-unavailable": {Fail: &aitest.Failure{Status: 503}},
		"gemini-embedding-001":   {},
	},
}

var sdkKeys = map[aitest.Provider]string{
	aitest.OpenAI:    "sk-aitest-openai-0123456789",
	aitest.Anthropic: "sk-ant-aitest-0123456789",
	aitest.Gemini:    "AIzaAitest0123456789",
}

// TestOfficialSDKs drives every fake with its provider's official SDK from
// npm (sdkcheck/), and checks both what the SDKs made of the answers (in
// node) and what the SDKs sent (here).
func TestOfficialSDKs(t *testing.T) {
	dir := filepath.Join("sdkcheck")
	aitest.RequireNode(t)
	aitest.NPMCI(t, dir)

	vectors := map[string][]float32{}
	for _, in := range []string{"first input", "second input", "a third, longer input"} {
		vectors[in] = aitest.Vector(in, 0)
	}
	env := map[string]any{}
	fakes := map[aitest.Provider]*aitest.Server{}
	for p, scripts := range sdkScripts {
		s := aitest.Start(p)
		t.Cleanup(s.Close)
		s.RequireKey(sdkKeys[p])
		var models []string
		for m, r := range scripts {
			s.Script(m, r)
			models = append(models, m)
		}
		slices.Sort(models)
		s.Models(models...)
		fakes[p] = s
		env[string(p)] = map[string]any{"url": s.URL, "key": sdkKeys[p], "scripts": scripts, "models": models, "vectors": vectors}
	}
	// sdk-retry fails once with a 503 whose retry-after-ms lets the SDK
	// retry at once, then answers.
	fakes[aitest.OpenAI].Enqueue("sdk-retry", aitest.Reply{Fail: &aitest.Failure{Status: 503, RetryAfter: time.Millisecond}})

	envJSON, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	aitest.NodeTests(t, dir, 3, 2*time.Minute, "AITEST="+string(envJSON))

	t.Run("what the openai SDK sent", func(t *testing.T) {
		s := fakes[aitest.OpenAI]
		var sawUsage, sawImage, sawAzure bool
		for _, r := range s.Requests() {
			if strings.HasPrefix(r.Path, "/openai/") {
				sawAzure = true
				if r.Path != "/openai/deployments/sdk-azure/chat/completions" || r.Query.Get("api-version") != "2024-10-21" {
					t.Errorf("Azure request %s ?%s", r.Path, r.Query.Encode())
				}
				if k := r.Header.Get("Api-Key"); k != sdkKeys[aitest.OpenAI] && k != "wrong" {
					t.Errorf("Azure api-key header %q", k)
				}
				continue
			}
			if got := r.Header.Get("Authorization"); got != "Bearer "+sdkKeys[aitest.OpenAI] && got != "Bearer sk-wrong-key-123456" {
				t.Errorf("%s: Authorization %q", r.Path, got)
			}
			var body struct {
				StreamOptions struct {
					IncludeUsage bool `json:"include_usage"`
				} `json:"stream_options"`
				Messages []struct {
					Content json.RawMessage `json:"content"`
				} `json:"messages"`
			}
			_ = r.Decode(&body)
			sawUsage = sawUsage || r.Model == "sdk-stream" && body.StreamOptions.IncludeUsage
			sawImage = sawImage || r.Model == "sdk-json" && bytes.Contains(body.Messages[0].Content, []byte(`"image_url"`))
		}
		if !sawUsage || !sawImage || !sawAzure {
			t.Errorf("include_usage stream seen %v, image part seen %v, Azure seen %v", sawUsage, sawImage, sawAzure)
		}
		if n := s.CallsFor("sdk-retry"); n != 2 {
			t.Errorf("sdk-retry got %d calls, want 2 (one 503, one retry)", n)
		}
	})
	t.Run("what the anthropic SDK sent", func(t *testing.T) {
		// @anthropic-ai/sdk 1.x sends the key as Authorization: Bearer;
		// the API (and the fake) also take x-api-key.
		for _, r := range fakes[aitest.Anthropic].Requests() {
			key := r.Header.Get("X-Api-Key") + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			if r.Header.Get("Anthropic-Version") == "" || key == "" {
				t.Errorf("%s %s without anthropic-version or key: %v", r.Method, r.Path, r.Header)
			}
		}
		if n := fakes[aitest.Anthropic].CallsFor("claude-sdk-overloaded"); n != 1 {
			t.Errorf("maxRetries 0 yet claude-sdk-overloaded got %d calls", n)
		}
	})
	t.Run("what the genai SDK sent", func(t *testing.T) {
		var sse bool
		for _, r := range fakes[aitest.Gemini].Requests() {
			if r.Header.Get("X-Goog-Api-Key") == "" {
				t.Errorf("%s without x-goog-api-key", r.Path)
			}
			sse = sse || strings.HasSuffix(r.Path, ":streamGenerateContent") && r.Query.Get("alt") == "sse"
		}
		if !sse {
			t.Error("no streamGenerateContent?alt=sse request")
		}
		if fakes[aitest.Gemini].CallsFor("gemini-embedding-001") == 0 {
			t.Error("embedContent never reached the fake")
		}
	})
}
