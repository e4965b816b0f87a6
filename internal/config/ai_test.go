package config

import (
	"strings"
	"testing"
	"time"
)

// fullAI is what the ai parts of testdata/full.yaml decode to.
func fullAI(want *Config) {
	want.Routes = append(want.Routes,
		Route{Name: "ai", Paths: []string{"/ai/v1/*"}, Timeout: Duration(30 * time.Second),
			AI: &RouteAI{API: "openai", Models: []string{"gpt-fast", "embed"}}},
		Route{Name: "prompts", Paths: []string{"/prompts/{name}"}, Timeout: Duration(30 * time.Second),
			AI: &RouteAI{API: "prompts", Prompts: []string{"summarize"}}},
	)
	want.AI = AI{
		Providers: []AIProvider{
			{Name: "openai", Kind: "openai", APIKey: "env:OPENAI_API_KEY", Headers: map[string]string{"OpenAI-Project": "proj_123"},
				Timeout: Duration(90 * time.Second), StreamIdleTimeout: Duration(20 * time.Second), MaxConcurrency: 200},
			{Name: "azure-eu", Kind: "azure", BaseURL: "https://example-eu.openai.azure.com/openai",
				APIKey: "file:/run/secrets/azure-eu", APIVersion: "2024-10-21"},
		},
		Models: []AIModel{
			{Name: "gpt-fast", Targets: []AIModelTarget{
				{Provider: "openai", Model: "gpt-4o-mini", Weight: 3},
				{Provider: "azure-eu", Model: "gpt4o-mini-eu", Priority: 1},
			}},
			{Name: "embed", Kind: "embedding", Targets: []AIModelTarget{{Provider: "openai", Model: "text-embedding-3-small"}}},
		},
		Access: []AIAccess{{
			Name: "free-plan", Plans: []string{"free"}, PlanField: "tier", Consumers: []string{"alice"},
			Groups: []string{"trial"}, Tenants: []string{"acme"}, Models: []string{"gpt-fast"}, Key: "credential",
			TokensPerMinute: 20000, DailyBudgetUSD: "1.50", MonthlyBudgetUSD: "20", ReserveOutputTokens: 512,
		}},
		Prices: []AIPrice{{
			Provider: "azure-eu", Model: "gpt4o-mini-eu", Kind: "chat", Aliases: []string{"gpt4o-mini-eu-2"},
			Input: "0.165", Output: "0.66", CachedInput: "0.083", CacheWrite: "0.165", CacheWrite1h: "0.165",
		}},
		Prompts: []AIPrompt{{
			Name: "summarize", Model: "gpt-fast", System: "You write short, factual summaries.",
			Template:   "Summarize in at most {{max_words}} words:\n\n{{text}}",
			Variables:  `{"properties":{"max_words":{"default":50,"type":"integer"},"text":{"maxLength":20000,"type":"string"}},"required":["text"],"type":"object"}`,
			Parameters: `{"max_tokens":300,"temperature":0.2}`,
			Output:     `{"properties":{"summary":{"type":"string"}},"required":["summary"],"type":"object"}`,
		}},
		Usage: AIUsage{Retention: Duration(2400 * time.Hour)},
	}
}

func TestAIConfigErrors(t *testing.T) {
	base := `version: 1
routes:
  - name: ai
    paths: ["/v1/*"]
    ai: {api: openai, models: [gpt-fast]}
`
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"inline key is refused and not echoed", `
ai:
  providers: [{name: p, kind: openai, api_key: sk-live-123}]
  models: [{name: gpt-fast, targets: [{provider: p, model: m}]}]
`, []string{`ai.providers[0].api_key: must be a reference, "env:NAME" or "file:/path", never the key itself`}},
		{"unknown provider and kind", `
ai:
  providers: [{name: openai, kind: opnai}]
  models: [{name: gpt-fast, targets: [{provider: opena, model: m}]}]
`, []string{`ai.providers[0].kind: invalid kind "opnai"`, `(did you mean "openai"?)`,
			`ai.models[0].targets[0].provider: unknown provider "opena" (not in ai.providers) (did you mean "openai"?)`}},
		{"route names an unknown model", `
ai:
  providers: [{name: p, kind: openai}]
  models: [{name: gpt-slow, targets: [{provider: p, model: m}]}]
`, []string{`routes[0].ai.models[0]: unknown model "gpt-fast"`}},
		{"azure needs base_url; targets required", `
ai:
  providers: [{name: p, kind: azure, api_key: env:K}]
  models: [{name: gpt-fast}]
`, []string{"ai.providers[0].base_url: required", "ai.models[0].targets: required"}},
		{"access and prompts", `
ai:
  providers: [{name: p, kind: openai}]
  models: [{name: gpt-fast, targets: [{provider: p, model: m}]}]
  access: [{name: r, key: user, models: [gpt-fat], tokens_per_minute: -1}]
  prompts: [{name: "bad name", model: gpt-fast}]
`, []string{`ai.access[0].key: invalid key "user"`, `ai.access[0].models[0]: unknown model "gpt-fat"`,
			"ai.access[0].tokens_per_minute: must not be negative", `ai.prompts[0].name: invalid prompt name "bad name"`,
			"ai.prompts[0].template: required", "ai.prompts[0].variables: required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("ai.yaml", []byte(base+tc.doc), testEnv)
			if err == nil {
				t.Fatal("Load accepted the document")
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not contain %q:\n%s", w, msg)
				}
			}
			if strings.Contains(msg, "sk-live-123") {
				t.Errorf("error echoes the inline key:\n%s", msg)
			}
		})
	}
}

func TestAIRouteNeedsNoUpstream(t *testing.T) {
	doc := `version: 1
routes:
  - {name: ai, paths: ["/v1/*"], ai: {}}
  - {name: both, paths: ["/x"], upstream: u, ai: {}}
upstreams: [{name: u, targets: [{url: "http://127.0.0.1:1"}]}]
`
	_, err := Load("ai.yaml", []byte(doc), testEnv)
	if err == nil || !strings.Contains(err.Error(), "routes[1].upstream: a route with an ai block") || strings.Contains(err.Error(), "routes[0]") {
		t.Fatalf("got %v", err)
	}
}
