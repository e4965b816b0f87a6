package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/ai"
	"github.com/pinpointgw/pinpoint/internal/ai/aitest"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// sdkProvider is one provider of TestOpenAISDKThroughPinpoint: an
// ai.providers entry in front of an aitest fake, and the models
// <name>-chat, <name>-stream, <name>-tools (and <name>-embed) it serves.
type sdkProvider struct {
	// Name is the ai.providers name and the prefix of its models.
	Name string `json:"name"`
	// Wire is the fake's wire format.
	Wire  aitest.Provider `json:"wire"`
	Embed bool            `json:"embed"`
	// Replies are the scripted answers by model suffix.
	Replies map[string]aitest.Reply `json:"replies"`

	kind, base, keyEnv, key string
	fake                    *aitest.Server
}

// sdkReplies are what every provider answers; each text names the
// provider, so an answer from the wrong one fails.
func sdkReplies(name string) map[string]aitest.Reply {
	return map[string]aitest.Reply{
		"chat":   {Text: "Paris is the capital of France, says " + name + ".", Usage: aitest.Usage{Input: 21, Output: 7}},
		"stream": {Text: "One, two, three, four, five, counts " + name + ".", Chunks: 5, Usage: aitest.Usage{Input: 11, Output: 9}},
		"tools": {ToolCalls: []aitest.ToolCall{
			{Name: "get_weather", Arguments: `{"city":"Paris","unit":"celsius"}`},
			{Name: "get_time", Arguments: `{"tz":"Europe/Paris"}`},
		}, Chunks: 4, Usage: aitest.Usage{Input: 80, Output: 30}},
		"embed": {Usage: aitest.Usage{Input: 6}},
	}
}

// upstreamModel is the provider's model id behind an ai.models name, so
// that what the fakes receive shows the gateway rewrote the model.
func upstreamModel(alias string) string { return "up-" + alias }

// sdkUsage is an in-memory store.AIUsage holding the usage records.
type sdkUsage struct {
	mu   sync.Mutex
	rows []store.AIUsageRecord
}

func (u *sdkUsage) InsertAIUsage(_ context.Context, rows []store.AIUsageRecord) error {
	u.mu.Lock()
	u.rows = append(u.rows, rows...)
	u.mu.Unlock()
	return nil
}

func (u *sdkUsage) AIUsageReport(context.Context, store.AIUsageQuery) ([]store.AIUsageGroup, error) {
	return nil, nil
}

func (u *sdkUsage) AISpend(context.Context, time.Time) ([]store.AISpendRow, error) { return nil, nil }

func (u *sdkUsage) DeleteAIUsageBefore(context.Context, time.Time) (int64, error) { return 0, nil }

func (u *sdkUsage) byID(id string) (store.AIUsageRecord, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, r := range u.rows {
		if r.RequestID == id {
			return r, true
		}
	}
	return store.AIUsageRecord{}, false
}

// TestOpenAISDKThroughPinpoint drives Pinpoint's OpenAI-compatible API with
// the official openai npm SDK, unchanged (testdata/aisdk), in front of
// fakes of OpenAI, an OpenAI-compatible server, Anthropic and Gemini: chat,
// streams, tools, embeddings, models and the errors the SDK surfaces. Node
// checks what the SDK made of the answers; this side then checks what the
// providers received and what the gateway recorded.
func TestOpenAISDKThroughPinpoint(t *testing.T) {
	aitest.RequireNode(t)
	dir := filepath.Join("testdata", "aisdk")
	aitest.NPMCI(t, dir)

	env := map[string]string{
		"OPENAI_KEY":    "sk-proj-aitest-openai-0123456789abcdef",
		"ANTHROPIC_KEY": "sk-ant-api03-aitest-0123456789abcdef",
		"GEMINI_KEY":    "AIzaSyAitest0123456789abcdefGHIJ",
		"COMPAT_KEY":    "vllm-aitest-0123456789abcdef",
		"WRONG_KEY":     "sk-proj-aitest-revoked-9876543210fedcba",
	}
	oai, compat, claude, gem := aitest.NewOpenAI(t), aitest.NewOpenAI(t), aitest.NewAnthropic(t), aitest.NewGemini(t)
	oai.RequireKey(env["OPENAI_KEY"])
	claude.RequireKey(env["ANTHROPIC_KEY"])
	gem.RequireKey(env["GEMINI_KEY"])
	// The OpenAI-compatible fake takes any key, as a self-hosted server
	// behind a shared token does; the gateway must still send its own.
	providers := []*sdkProvider{
		{Name: "openai", Wire: aitest.OpenAI, Embed: true, kind: "openai", base: oai.URL + "/v1", keyEnv: "OPENAI_KEY", fake: oai},
		{Name: "compat", Wire: aitest.OpenAI, Embed: true, kind: "openai_compatible", base: compat.URL + "/v1", keyEnv: "COMPAT_KEY", fake: compat},
		{Name: "claude", Wire: aitest.Anthropic, kind: "anthropic", base: claude.URL + "/v1", keyEnv: "ANTHROPIC_KEY", fake: claude},
		{Name: "gemini", Wire: aitest.Gemini, Embed: true, kind: "gemini", base: gem.URL + "/v1beta", keyEnv: "GEMINI_KEY", fake: gem},
	}

	// models are the ai.models entries: name, kind, targets.
	type sdkTarget struct {
		provider, model string
		priority        int
	}
	type sdkModel struct {
		name, kind string
		targets    []sdkTarget
	}
	var models []sdkModel
	for _, p := range providers {
		p.Replies = sdkReplies(p.Name)
		if p.keyEnv != "" {
			p.key = env[p.keyEnv]
		}
		for _, op := range []string{"chat", "stream", "tools", "embed"} {
			if op == "embed" && !p.Embed {
				continue
			}
			alias := p.Name + "-" + op
			p.fake.Script(upstreamModel(alias), p.Replies[op])
			m := sdkModel{name: alias, targets: []sdkTarget{{p.Name, upstreamModel(alias), 0}}}
			if op == "embed" {
				m.kind = "embedding"
			}
			models = append(models, m)
		}
	}

	// The error scenarios.
	badParams := aitest.Reply{Fail: &aitest.Failure{Status: 400, Message: "Invalid 'max_tokens': integer below minimum value.", Param: "max_tokens", Code: "integer_below_min_value"}}
	cut := aitest.Reply{Text: "a b c d e f g h", CutAfter: 5}
	claudeBroken := aitest.Reply{Text: "one two three four five six", Fail: &aitest.Failure{Status: 529, Message: "Overloaded mid-stream"}, FailAfter: 5}
	fallback := aitest.Reply{Text: "Answered by the second target.", Usage: aitest.Usage{Input: 13, Output: 6}}
	oai.Script(upstreamModel("forbidden"), aitest.Reply{Text: "must never be asked"})
	oai.Script("gpt-4o-mini", aitest.Reply{Text: "must never be asked: the budget is spent"})
	oai.Script(upstreamModel("down"), aitest.Reply{Fail: &aitest.Failure{Status: 503}})
	claude.Script(upstreamModel("down"), aitest.Reply{Fail: &aitest.Failure{Status: 529}})
	oai.Script(upstreamModel("denied"), aitest.Reply{Text: "must never be answered: the key is wrong"})
	oai.Script(upstreamModel("fallback-primary"), aitest.Reply{Fail: &aitest.Failure{Status: 503, Message: "The engine is currently overloaded."}})
	compat.Script(upstreamModel("fallback-secondary"), fallback)
	oai.Script(upstreamModel("badparams"), badParams)
	oai.Script(upstreamModel("cut"), cut)
	claude.Script(upstreamModel("claude-broken"), claudeBroken)
	models = append(models,
		sdkModel{name: "forbidden", targets: []sdkTarget{{"openai", upstreamModel("forbidden"), 0}}},
		sdkModel{name: "priced", targets: []sdkTarget{{"openai", "gpt-4o-mini", 0}}},
		sdkModel{name: "down", targets: []sdkTarget{{"openai", upstreamModel("down"), 0}, {"claude", upstreamModel("down"), 1}}},
		sdkModel{name: "denied", targets: []sdkTarget{{"openai-wrongkey", upstreamModel("denied"), 0}}},
		sdkModel{name: "fallback", targets: []sdkTarget{{"openai", upstreamModel("fallback-primary"), 0}, {"compat", upstreamModel("fallback-secondary"), 1}}},
		sdkModel{name: "badparams", targets: []sdkTarget{{"openai", upstreamModel("badparams"), 0}}},
		sdkModel{name: "cut", targets: []sdkTarget{{"openai", upstreamModel("cut"), 0}}},
		sdkModel{name: "claude-broken", targets: []sdkTarget{{"claude", upstreamModel("claude-broken"), 0}}},
	)
	var allowed []string // what alice may use: every model but forbidden
	for _, m := range models {
		if m.name != "forbidden" {
			allowed = append(allowed, m.name)
		}
	}
	slices.Sort(allowed)

	callers := map[string]string{}
	var doc strings.Builder
	doc.WriteString(`version: 1
listeners:
  - {name: public, kind: proxy, address: "127.0.0.1:0"}
authenticators:
  - {name: keys, type: api_key}
consumers:
`)
	for _, c := range []struct{ id, keyID string }{{"alice", "alic0000alic"}, {"tiny", "tiny0000tiny"}, {"broke", "brok0000brok"}} {
		key, sha := accessKey("live", c.keyID)
		callers[c.id] = key
		fmt.Fprintf(&doc, "  - id: %s\n    api_keys: [{id: %s, sha256: %s}]\n", c.id, c.keyID, sha)
	}
	doc.WriteString(`routes:
  - name: ai
    paths: ["/v1/*"]
    auth: {methods: [keys]}
    ai: {api: openai}
ai:
  providers:
`)
	for _, p := range providers {
		fmt.Fprintf(&doc, "    - {name: %s, kind: %s, base_url: %q", p.Name, p.kind, p.base)
		if p.keyEnv != "" {
			fmt.Fprintf(&doc, ", api_key: \"env:%s\"", p.keyEnv)
		}
		doc.WriteString("}\n")
	}
	fmt.Fprintf(&doc, "    - {name: openai-wrongkey, kind: openai, base_url: %q, api_key: \"env:WRONG_KEY\"}\n", oai.URL+"/v1")
	doc.WriteString("  models:\n")
	for _, m := range models {
		fmt.Fprintf(&doc, "    - name: %s\n", m.name)
		if m.kind != "" {
			fmt.Fprintf(&doc, "      kind: %s\n", m.kind)
		}
		doc.WriteString("      targets:\n")
		for _, tg := range m.targets {
			fmt.Fprintf(&doc, "        - {provider: %s, model: %s, priority: %d}\n", tg.provider, tg.model, tg.priority)
		}
	}
	fmt.Fprintf(&doc, `  access:
    - {name: alice-models, consumers: [alice], models: [%s]}
    - {name: tiny-rate, consumers: [tiny], tokens_per_minute: 10}
    - {name: broke-budget, consumers: [broke], daily_budget_usd: "0.000001"}
`, strings.Join(allowed, ", "))

	usage := &sdkUsage{}
	rec := ai.NewRecorder(usage, ai.RecorderOptions{Interval: 10 * time.Millisecond})
	t.Cleanup(rec.Close)
	h := newHarness(t, doc.String(), func(o *Options) {
		o.LookupEnv = func(name string) (string, bool) { v, ok := env[name]; return v, ok }
		o.AIUsage = rec
	})

	vectors := map[string]map[string][]float32{"8": {}, "4": {}}
	for _, in := range []string{"first input", "second input", "a third, longer input"} {
		vectors["8"][in] = aitest.Vector(in, 8)
		vectors["4"][in] = aitest.Vector(in, 4)
	}
	secrets := make([]string, 0, len(env))
	for _, k := range env {
		secrets = append(secrets, k)
	}
	out := t.TempDir()
	envJSON, err := json.Marshal(map[string]any{
		"url": h.srv.URL, "callers": callers, "secrets": secrets, "providers": providers,
		"models": allowed, "vectors": vectors, "fallback": fallback, "out": out,
		"errors": map[string]any{"badparams": badParams, "cut": cut, "claudeBroken": claudeBroken},
	})
	if err != nil {
		t.Fatal(err)
	}

	files := aitest.NodeTests(t, dir, 2, 3*time.Minute, "AISDK="+string(envJSON))

	// What node saw: every request id, and the ids of named scenarios.
	var ids []string
	named := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(out, filepath.Base(f)+".json"))
		if err != nil {
			t.Fatalf("node left no report: %v", err)
		}
		var r struct {
			IDs   []string          `json:"ids"`
			Named map[string]string `json:"named"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.IDs...)
		for k, v := range r.Named {
			named[k] = v
		}
	}

	t.Run("what the providers received", func(t *testing.T) {
		aliases := map[string]bool{}
		for _, m := range models {
			aliases[m.name] = true
		}
		for _, p := range providers {
			reqs := p.fake.Requests()
			if len(reqs) == 0 {
				t.Errorf("%s: the fake got no request", p.Name)
			}
			for _, r := range reqs {
				where := fmt.Sprintf("%s: %s %s (model %q)", p.Name, r.Method, r.Path, r.Model)
				if aliases[r.Model] || !strings.HasPrefix(r.Model, "up-") && r.Model != "gpt-4o-mini" {
					t.Errorf("%s: the model is not rewritten to the provider's id", where)
				}
				wantKey := p.key
				if r.Model == upstreamModel("denied") {
					wantKey = env["WRONG_KEY"]
				}
				if got := sentKey(p.Wire, r); got != wantKey {
					t.Errorf("%s: sent key %q, want %q", where, got, wantKey)
				}
				for _, c := range callers {
					if requestHolds(r, c) {
						t.Errorf("%s: the caller's Pinpoint key reached the provider", where)
					}
				}
				if p.Wire == aitest.OpenAI && r.Stream {
					var body struct {
						StreamOptions struct {
							IncludeUsage bool `json:"include_usage"`
						} `json:"stream_options"`
					}
					if err := r.Decode(&body); err != nil || !body.StreamOptions.IncludeUsage {
						t.Errorf("%s: a stream without stream_options.include_usage (%v): %s", where, err, r.Body)
					}
				}
			}
		}
		// The SDK asks for base64 embeddings by default: OpenAI-format
		// servers get the request as it is, Gemini its own request with
		// the dimensions translated.
		for _, p := range providers {
			if !p.Embed {
				continue
			}
			var formats, dims []string
			for _, r := range p.fake.Requests() {
				if r.Model != upstreamModel(p.Name+"-embed") {
					continue
				}
				var body struct {
					EncodingFormat string `json:"encoding_format"`
					Dimensions     int    `json:"dimensions"`
					// Gemini: embedContent, or batchEmbedContents' requests.
					OutputDimensionality int `json:"outputDimensionality"`
					Requests             []struct {
						OutputDimensionality int `json:"outputDimensionality"`
					} `json:"requests"`
				}
				_ = r.Decode(&body)
				d := max(body.Dimensions, body.OutputDimensionality)
				for _, q := range body.Requests {
					d = max(d, q.OutputDimensionality)
				}
				formats, dims = append(formats, body.EncodingFormat), append(dims, fmt.Sprint(d))
			}
			wantFormats := []string{"base64", "float"}
			if p.Wire == aitest.Gemini {
				wantFormats = []string{"", ""}
			}
			if !slices.Equal(formats, wantFormats) || !slices.Equal(dims, []string{"0", "4"}) {
				t.Errorf("%s-embed: the provider got encoding formats %q and dimensions %v, want %q and [0 4]", p.Name, formats, dims, wantFormats)
			}
		}
		// Each streamed alias was asked twice: with and without
		// include_usage, and both times upstream with it.
		for _, p := range providers {
			if n := p.fake.CallsFor(upstreamModel(p.Name + "-stream")); n != 2 {
				t.Errorf("%s-stream: %d calls, want 2", p.Name, n)
			}
		}
		for model, n := range map[string]int{
			"gpt-4o-mini":                     0, // refused by the budget before any call
			upstreamModel("forbidden"):        0,
			upstreamModel("down"):             1,
			upstreamModel("fallback-primary"): 1,
			upstreamModel("badparams"):        1, // a 400 is not retried elsewhere
			upstreamModel("denied"):           1,
		} {
			if got := oai.CallsFor(model); got != n {
				t.Errorf("openai fake: %d calls for %s, want %d", got, model, n)
			}
		}
		if got := claude.CallsFor(upstreamModel("down")); got != 1 {
			t.Errorf("claude fake: %d calls for the fallback of down, want 1", got)
		}
		if got := compat.CallsFor(upstreamModel("fallback-secondary")); got != 1 {
			t.Errorf("compat fake: %d calls for fallback-secondary, want 1", got)
		}
	})

	t.Run("usage and attempts", func(t *testing.T) {
		rec.Flush(context.Background())
		for _, p := range providers {
			id := named[p.Name+"-chat"]
			u, ok := usage.byID(id)
			want := p.Replies["chat"].Usage
			if !ok {
				t.Errorf("%s-chat (%s): no usage record", p.Name, id)
				continue
			}
			if u.Provider != p.Name || u.ProviderModel != upstreamModel(p.Name+"-chat") || u.Model != p.Name+"-chat" ||
				u.InputTokens != int64(want.Input) || u.OutputTokens != int64(want.Output) || u.Status != 200 || u.Attempts != 1 || u.ConsumerID != "alice" {
				t.Errorf("%s-chat usage record %+v", p.Name, u)
			}
		}
		u, ok := usage.byID(named["fallback"])
		if !ok || u.Attempts != 2 || u.Provider != "compat" || u.ProviderModel != upstreamModel("fallback-secondary") ||
			u.InputTokens != int64(fallback.Usage.Input) || u.OutputTokens != int64(fallback.Usage.Output) {
			t.Errorf("fallback usage record %+v (found %v), want 2 attempts served by compat", u, ok)
		}
		if c := h.waitCall(named["fallback"]); c.Attempts != 2 || c.Status != 200 {
			t.Errorf("fallback call log: status %d, %d attempts", c.Status, c.Attempts)
		}
		down := h.waitCall(named["down"])
		if down.Attempts != 2 || down.Code != "ai.provider_unavailable" ||
			!bytes.Contains(down.Trace, []byte("openai/"+upstreamModel("down"))) || !bytes.Contains(down.Trace, []byte("claude/"+upstreamModel("down"))) {
			t.Errorf("down call log: code %s, %d attempts, trace %s", down.Code, down.Attempts, down.Trace)
		}
		if c := h.waitCall(named["budget"]); c.Code != "ai.budget_exceeded" || c.ConsumerID != "broke" {
			t.Errorf("budget call log: %+v", c)
		}
	})

	t.Run("no provider key in the call log", func(t *testing.T) {
		if len(ids) == 0 {
			t.Fatal("node reported no request ids")
		}
		for _, id := range ids {
			c := h.waitCall(id)
			b, _ := json.Marshal(c)
			for name, k := range env {
				if bytes.Contains(b, []byte(k)) {
					t.Errorf("call %s (%s %s): the call log holds %s", id, c.Method, c.Path, name)
				}
			}
		}
	})
}

// sentKey is the provider key a request carried, in its wire's header.
func sentKey(wire aitest.Provider, r aitest.Request) string {
	switch wire {
	case aitest.Anthropic:
		if k := r.Header.Get("X-Api-Key"); k != "" {
			return k
		}
	case aitest.Gemini:
		if k := r.Header.Get("X-Goog-Api-Key"); k != "" {
			return k
		}
		return r.Query.Get("key")
	}
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

// requestHolds reports whether s appears anywhere in what the provider got.
func requestHolds(r aitest.Request, s string) bool {
	if bytes.Contains(r.Body, []byte(s)) || strings.Contains(r.Path, s) || strings.Contains(r.Query.Encode(), url.QueryEscape(s)) {
		return true
	}
	for _, vs := range r.Header {
		for _, v := range vs {
			if strings.Contains(v, s) {
				return true
			}
		}
	}
	return false
}
