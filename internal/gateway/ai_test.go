package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/ai"
	"github.com/pinpointgw/pinpoint/internal/ai/aitest"
	"github.com/pinpointgw/pinpoint/internal/ai/pricing"
	"github.com/pinpointgw/pinpoint/internal/store"
)

const aiProviderKey = "sk-aitest-provider-0123456789"

// aiFixture is a gateway with an OpenAI-compatible route in front of an
// OpenAI-wire fake, one consumer key and the usage recorder on.
type aiFixture struct {
	h     *harness
	fake  *aitest.Server
	key   string
	usage *ai.Recorder
}

func newAIFixture(t testing.TB, access string) *aiFixture {
	t.Helper()
	fake := aitest.NewOpenAI(t)
	fake.RequireKey(aiProviderKey)
	key, sum := accessKey("live", "aiai0000aiai")
	doc := fmt.Sprintf(`version: 1
authenticators:
  - {name: keys, type: api_key}
consumers:
  - id: team-a
    api_keys: [{id: aiai0000aiai, sha256: %s}]
routes:
  - name: ai
    paths: ["/v1/*"]
    auth: {methods: [keys]}
    ai: {api: openai}
  - name: prompts
    paths: ["/prompts/{name}"]
    auth: {methods: [keys]}
    ai: {api: prompts}
ai:
  prompts:
    - name: summarize
      model: fast
      template: "Summarize in {{words}} words: {{text}}"
      variables:
        type: object
        required: [text]
        properties: {text: {type: string}, words: {type: integer, default: 10}}
      output:
        type: object
        required: [summary]
        properties: {summary: {type: string}}
  providers:
    - {name: oai, kind: openai, base_url: "%s/v1", api_key: "env:AI_TEST_KEY"}
    - {name: down, kind: openai, base_url: "http://127.0.0.1:1/v1", api_key: "env:AI_TEST_KEY", timeout: 2s}
  models:
    - name: fast
      targets: [{provider: oai, model: gpt-4o-mini}]
    - name: resilient
      targets:
        - {provider: down, model: gpt-4o-mini}
        - {provider: oai, model: gpt-4o-mini, priority: 1}
%s`, sum, fake.URL, access)
	f := &aiFixture{fake: fake, key: key}
	f.h = newHarness(t, "", func(o *Options) {
		o.LookupEnv = func(k string) (string, bool) {
			if k == "AI_TEST_KEY" {
				return aiProviderKey, true
			}
			return "", false
		}
	})
	f.usage = ai.NewRecorder(f.h.st, ai.RecorderOptions{Interval: 5 * time.Millisecond})
	t.Cleanup(f.usage.Close)
	f.h.g.o.AIUsage = f.usage
	f.h.apply(doc)
	return f
}

func (f *aiFixture) post(t *testing.T, body string) (*http.Response, string) {
	t.Helper()
	return f.h.do("POST", "/v1/chat/completions", map[string]string{"Authorization": "Bearer " + f.key, "Content-Type": "application/json"}, body)
}

func (f *aiFixture) usageRecords(t *testing.T, n int) []store.AIUsageRecord {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		f.usage.Flush(context.Background())
		groups, err := f.h.st.AIUsageReport(context.Background(), store.AIUsageQuery{GroupBy: []string{"model"}})
		if err != nil {
			t.Fatal(err)
		}
		total := int64(0)
		for _, g := range groups {
			total += g.Calls
		}
		if total >= int64(n) || time.Now().After(deadline) {
			if total < int64(n) {
				t.Fatalf("%d usage records, want %d", total, n)
			}
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAIChatThroughTheGateway(t *testing.T) {
	f := newAIFixture(t, "")
	f.fake.Script("gpt-4o-mini", aitest.Reply{Text: "Hello there.", Usage: aitest.Usage{Input: 1000, Output: 500, Cached: 200}})
	resp, body := f.post(t, `{"model":"fast","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var got struct {
		Choices []struct {
			Message struct{ Content string }
		}
		Usage struct{ PromptTokens, CompletionTokens int64 } `json:"usage"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || len(got.Choices) != 1 || got.Choices[0].Message.Content != "Hello there." {
		t.Fatalf("answer %s (%v)", body, err)
	}
	last, _ := f.fake.Last()
	if last.Model != "gpt-4o-mini" || last.Header.Get("Authorization") != "Bearer "+aiProviderKey {
		t.Errorf("the fake got model %q with Authorization %q", last.Model, last.Header.Get("Authorization"))
	}
	if strings.Contains(fmt.Sprint(last.Header), f.key) {
		t.Error("the caller's key reached the provider")
	}
	f.usageRecords(t, 1)
	groups, _ := f.h.st.AIUsageReport(context.Background(), store.AIUsageQuery{GroupBy: []string{"consumer", "model", "provider"}})
	if len(groups) != 1 {
		t.Fatalf("groups %+v", groups)
	}
	g := groups[0]
	// gpt-4o-mini: $0.15 in, $0.075 cached in, $0.60 out per 1M.
	cat, _ := pricing.Builtin()
	price, _ := cat.Lookup("openai", "gpt-4o-mini")
	want := pricing.Cost(price, pricing.Usage{Input: 1000, Output: 500, CachedInput: 200})
	if g.Keys["consumer"] != "team-a" || g.Keys["model"] != "fast" || g.Keys["provider"] != "oai" ||
		g.InputTokens != 1000 || g.OutputTokens != 500 || g.CachedTokens != 200 || g.CostPico != want.Picodollars() {
		t.Errorf("usage %+v, want cost %s", g, want)
	}
	for kind, want := range map[string]float64{"input": 1000, "output": 500, "cached": 200} {
		if got := aiMetric(t, f.h, "pinpoint_ai_tokens_total", map[string]string{"model": "fast", "provider": "oai", "kind": kind}); got != want {
			t.Errorf("pinpoint_ai_tokens_total{kind=%s} = %v, want %v", kind, got, want)
		}
	}
	if got := aiMetric(t, f.h, "pinpoint_ai_cost_usd_total", map[string]string{"model": "fast"}); got != float64(want.Picodollars())/1e12 {
		t.Errorf("pinpoint_ai_cost_usd_total = %v, want %s", got, want)
	}
}

// aiMetric is the value of the counter with these labels (among others).
func aiMetric(t *testing.T, h *harness, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := h.g.o.Metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue next
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return -1
}

func TestAIFallbackAndRefusals(t *testing.T) {
	f := newAIFixture(t, `  access:
    - {name: small, models: [fast, resilient]}
`)
	f.fake.Script("gpt-4o-mini", aitest.Reply{Text: "ok", Usage: aitest.Usage{Input: 3, Output: 1}})
	resp, body := f.post(t, `{"model":"resilient","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("fallback: status %d: %s", resp.StatusCode, body)
	}
	resp, body = f.post(t, `{"model":"gpt-5","messages":[{"role":"user","content":"hi"}]}`)
	p := openAIProblem(t, resp, body, 404, "ai.model_unknown")
	if p["request_id"] == "" {
		t.Error("no request_id")
	}
	f.fake.FailNext(1, aitest.Failure{Status: 503})
	resp, body = f.post(t, `{"model":"fast","messages":[{"role":"user","content":"hi"}]}`)
	openAIProblem(t, resp, body, 503, "ai.provider_unavailable")
	resp, body = f.post(t, `{"model":"fast"}`)
	openAIProblem(t, resp, body, 400, "ai.request_invalid")
	resp, body = f.h.do("POST", "/v1/chat/completions", map[string]string{"Authorization": "Bearer pp_live_unkn0000unkn_" + strings.Repeat("A", 32)}, `{}`)
	openAIProblem(t, resp, body, 401, "authn.key_unknown")
}

// openAIProblem checks an OpenAI-shaped refusal and returns its body.
func openAIProblem(t *testing.T, resp *http.Response, body string, status int, code string) map[string]any {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	e, _ := p["error"].(map[string]any)
	if e == nil || e["code"] != code || p["code"] != code || e["message"] == "" {
		t.Fatalf("body %s, want error.code and code %s", body, code)
	}
	return p
}

// TestAILimitsHoldUnderConcurrentStreams: many streams at once against
// a tokens_per_minute rule, then against a daily budget. Every call sets
// max_tokens to what the fake then produces, so reservations are nearly
// exact: the admitted calls' tokens (and cost) must never exceed the
// limit, while calls beyond it are refused with the rule's code.
func TestAILimitsHoldUnderConcurrentStreams(t *testing.T) {
	cat, _ := pricing.Builtin()
	price, _ := cat.Lookup("openai", "gpt-4o-mini")
	perCall := pricing.Cost(price, pricing.Usage{Input: 30, Output: 1000})
	budget := pricing.USD(0)
	for range 9 {
		budget = budget.Add(perCall)
	}
	for _, tc := range []struct {
		name, rule, code string
		maxFit           int64
	}{
		// ~1028 tokens reserved a call (body/4 + max_tokens): 19 fit.
		{"tokens per minute", `{name: tpm, tokens_per_minute: 20000}`, "ai.tokens_rate_exceeded", 20000 / 1030},
		// A budget of exactly 9 calls' cost.
		{"daily budget", fmt.Sprintf(`{name: daily, daily_budget_usd: "%s"}`, budget), "ai.budget_exceeded", 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAIFixture(t, "  access:\n    - "+tc.rule+"\n")
			f.fake.Script("gpt-4o-mini", aitest.Reply{Text: strings.Repeat("tok ", 40), Chunks: 20, ChunkDelay: 2 * time.Millisecond,
				Usage: aitest.Usage{Input: 30, Output: 1000}})
			body := `{"model":"fast","stream":true,"max_tokens":1000,"messages":[{"role":"user","content":"count to a thousand"}]}`
			ok, refused := concurrentStreams(t, f, body, 40, tc.code)
			if ok > tc.maxFit || ok == 0 || refused == 0 {
				t.Fatalf("%d streams admitted (at most %d fit), %d refused", ok, tc.maxFit, refused)
			}
			f.usageRecords(t, int(ok))
			groups, err := f.h.st.AIUsageReport(context.Background(), store.AIUsageQuery{})
			if err != nil || len(groups) != 1 {
				t.Fatalf("report %+v %v", groups, err)
			}
			g := groups[0]
			if g.Calls != ok || g.InputTokens+g.OutputTokens != ok*1030 || g.CostPico != perCall.Picodollars()*ok {
				t.Errorf("usage %+v for %d streams of 1030 tokens at %s", g, ok, perCall)
			}
			if tc.code == "ai.budget_exceeded" && g.CostPico > budget.Picodollars() {
				t.Errorf("spent %d pico, over the budget %s", g.CostPico, budget)
			}
			t.Logf("%d streams admitted, %d refused", ok, refused)
		})
	}
}

// concurrentStreams sends n streamed calls at once and counts those
// streamed to [DONE] and those refused with 429 and code; anything else
// fails the test.
func concurrentStreams(t *testing.T, f *aiFixture, body string, n int, code string) (ok, refused int64) {
	t.Helper()
	var okN, refusedN, other atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", f.h.srv.URL+"/v1/chat/completions", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+f.key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				other.Add(1)
				return
			}
			defer resp.Body.Close()
			switch {
			case resp.StatusCode == 200:
				sc := bufio.NewScanner(resp.Body)
				done := false
				for sc.Scan() {
					done = done || sc.Text() == "data: [DONE]"
				}
				if done {
					okN.Add(1)
					return
				}
			case resp.StatusCode == 429 && resp.Header.Get("Pinpoint-Code") == code:
				if code != "ai.tokens_rate_exceeded" || resp.Header.Get("Retry-After") != "" {
					refusedN.Add(1)
					return
				}
			}
			other.Add(1)
		}()
	}
	wg.Wait()
	if other.Load() != 0 {
		t.Fatalf("%d calls neither streamed to [DONE] nor were refused with %s", other.Load(), code)
	}
	return okN.Load(), refusedN.Load()
}

func TestAIStreamInterruptedIsCountedAndEndsWithAnError(t *testing.T) {
	f := newAIFixture(t, "")
	f.fake.Script("gpt-4o-mini", aitest.Reply{Text: "one two three four five six seven eight", Chunks: 8, CutAfter: 3,
		Usage: aitest.Usage{Input: 12, Output: 8}})
	resp, body := f.post(t, `{"model":"fast","stream":true,"messages":[{"role":"user","content":"count"}]}`)
	if resp.StatusCode != 200 || !strings.Contains(body, `"code":"ai.provider_unavailable"`) || strings.Contains(body, "[DONE]") {
		t.Fatalf("status %d, body:\n%s", resp.StatusCode, body)
	}
	f.usageRecords(t, 1)
	g, _ := f.h.st.AIUsageReport(context.Background(), store.AIUsageQuery{})
	// The fake's usage never arrived: the gateway counted the prompt and
	// the three chunks' text with the tokenizer.
	if len(g) != 1 || g[0].InputTokens == 0 || g[0].OutputTokens == 0 || g[0].OutputTokens > 8 || g[0].Errors != 0 {
		t.Fatalf("usage %+v", g)
	}
}

func TestAIStreamFallsBackBeforeTheFirstByte(t *testing.T) {
	f := newAIFixture(t, "")
	f.fake.Script("gpt-4o-mini", aitest.Reply{Text: "fine", Chunks: 2, Usage: aitest.Usage{Input: 2, Output: 1}})
	resp, body := f.post(t, `{"model":"resilient","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 || !strings.HasSuffix(body, "data: [DONE]\n\n") || strings.Contains(body, `"usage":{`) {
		t.Fatalf("status %d, body:\n%s", resp.StatusCode, body)
	}
	id := resp.Header.Get("X-Request-Id")
	call := f.h.waitCall(id)
	if call.Attempts != 2 {
		t.Errorf("call log attempts %d, want 2 (the down provider, then the fake)", call.Attempts)
	}
}

func TestAIModelsListAndAccess(t *testing.T) {
	f := newAIFixture(t, `  access:
    - {name: only-fast, consumers: [team-a], models: [fast]}
`)
	resp, body := f.h.do("GET", "/v1/models", map[string]string{"Authorization": "Bearer " + f.key}, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"id":"fast"`) || strings.Contains(body, "resilient") {
		t.Fatalf("models: %d %s", resp.StatusCode, body)
	}
	resp, body = f.post(t, `{"model":"resilient","messages":[{"role":"user","content":"hi"}]}`)
	p := openAIProblem(t, resp, body, 403, "ai.model_not_allowed")
	if !strings.Contains(p["error"].(map[string]any)["message"].(string), "resilient") {
		t.Errorf("message does not name the model: %v", p["error"])
	}
}

func TestAIProviderDenied(t *testing.T) {
	f := newAIFixture(t, "")
	f.fake.RequireKey("sk-a-different-key")
	resp, body := f.post(t, `{"model":"fast","messages":[{"role":"user","content":"hi"}]}`)
	p := openAIProblem(t, resp, body, 502, "ai.provider_denied")
	msg := p["error"].(map[string]any)["message"].(string)
	if !strings.Contains(msg, "not your key") || strings.Contains(body, aiProviderKey) || strings.Contains(body, "sk-a-different") {
		t.Errorf("message %q / body %s", msg, body)
	}
	if resp.Header.Get("X-Should-Retry") != "false" {
		t.Error("SDKs would retry a configuration error")
	}
}

func TestAIPromptAPI(t *testing.T) {
	f := newAIFixture(t, "")
	f.fake.Script("gpt-4o-mini", aitest.Reply{Text: `{"summary":"Gateways route calls."}`, Usage: aitest.Usage{Input: 20, Output: 6}})
	auth := map[string]string{"Authorization": "Bearer " + f.key}
	resp, body := f.h.do("POST", "/prompts/summarize", auth, `{"text":"An API gateway sits in front of services."}`)
	if resp.StatusCode != 200 || strings.TrimSpace(body) != `{"summary":"Gateways route calls."}` {
		t.Fatalf("prompt: %d %s", resp.StatusCode, body)
	}
	last, _ := f.fake.Last()
	var sent struct {
		Messages []struct{ Content string }
		Format   struct{ Type string } `json:"response_format"`
	}
	if err := last.Decode(&sent); err != nil || len(sent.Messages) != 1 || sent.Messages[0].Content != "Summarize in 10 words: An API gateway sits in front of services." || sent.Format.Type != "json_schema" {
		t.Errorf("sent %+v (%v)", sent, err)
	}
	resp, body = f.h.do("POST", "/prompts/summarize", auth, `{"words":"ten"}`)
	p := problemBody(t, resp, body, 422, "ai.prompt_input_invalid")
	if !strings.Contains(p["detail"].(string), "/text") {
		t.Errorf("detail %q", p["detail"])
	}
	resp, body = f.h.do("POST", "/prompts/nope", auth, `{}`)
	problemBody(t, resp, body, 404, "ai.prompt_unknown")
	f.fake.Script("gpt-4o-mini", aitest.Reply{Text: `not json`})
	resp, body = f.h.do("POST", "/prompts/summarize", auth, `{"text":"x"}`)
	problemBody(t, resp, body, 502, "ai.output_invalid")
}
