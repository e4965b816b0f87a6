package config

// AI configures the AI gateway.
//
//	ai:
//	  providers:
//	    - {name: openai, kind: openai, api_key: env:OPENAI_API_KEY}
//	    - {name: claude, kind: anthropic, api_key: file:/run/secrets/anthropic}
//	  models:
//	    - name: gpt-fast
//	      targets:
//	        - {provider: openai, model: gpt-4o-mini}
//	        - {provider: claude, model: claude-3-5-haiku-latest, priority: 1}
//	  access:
//	    - name: everyone
//	      tokens_per_minute: 100000
//	      daily_budget_usd: "5.00"
type AI struct {
	// Providers are the model providers and the keys the gateway calls them with.
	Providers []AIProvider `yaml:"providers"`
	// Models are the model names callers send in "model", each served by
	// one or more provider targets.
	Models []AIModel `yaml:"models"`
	// Access rules say which models callers may use and how many tokens
	// and dollars they may spend. Every rule that matches a caller applies.
	Access []AIAccess `yaml:"access"`
	// Prices override or extend the built-in price catalog (USD per
	// million tokens). See docs/ai-pricing.md.
	Prices []AIPrice `yaml:"prices"`
	// Prompts are prompt templates served as REST endpoints by routes
	// with ai.api "prompts".
	Prompts []AIPrompt `yaml:"prompts"`
	// Usage configures the usage records.
	Usage AIUsage `yaml:"usage"`
}

// AIProvider is one provider account.
type AIProvider struct {
	// Name identifies the provider in model targets, usage and traces.
	// Required, unique.
	Name string `yaml:"name"`
	// Kind is the API the provider speaks: "openai", "azure",
	// "anthropic", "gemini", "mistral" or "openai_compatible" (Ollama,
	// vLLM, llama.cpp, Together, Groq and other servers of OpenAI's
	// format). Required.
	Kind string `yaml:"kind"`
	// BaseURL is the API's base URL. Default: the provider's public API
	// ("https://api.openai.com/v1", "https://api.anthropic.com/v1",
	// "https://generativelanguage.googleapis.com/v1beta",
	// "https://api.mistral.ai/v1"). Required for azure
	// ("https://NAME.openai.azure.com/openai") and openai_compatible
	// ("http://127.0.0.1:11434/v1").
	BaseURL string `yaml:"base_url"`
	// APIKey is a reference to the provider key, never the key itself:
	// "env:NAME" (an environment variable) or "file:/path" (a file whose
	// content, trimmed, is the key). Required except for
	// openai_compatible servers that need none.
	APIKey string `yaml:"api_key"`
	// APIVersion is Azure OpenAI's api-version (default "2024-10-21") or
	// Anthropic's anthropic-version (default "2023-06-01").
	APIVersion string `yaml:"api_version"`
	// Headers are extra headers sent with every call (an organization or
	// project id).
	Headers map[string]string `yaml:"headers"`
	// Timeout bounds waiting for the provider: the whole answer of a
	// non-streamed call, the first event of a streamed one. Default "60s".
	Timeout Duration `yaml:"timeout"`
	// StreamIdleTimeout bounds the gap between two events of a streamed
	// answer. Default "30s".
	StreamIdleTimeout Duration `yaml:"stream_idle_timeout"`
	// MaxConcurrency caps the calls in flight to this provider; a call
	// over the cap moves on to the next target. Default 0: no cap.
	MaxConcurrency int `yaml:"max_concurrency"`
}

// AIModel is a model name callers may send.
type AIModel struct {
	// Name is what callers send in "model": a provider's own model id
	// ("gpt-4o-mini") or an alias ("gpt-fast"). Required, unique.
	Name string `yaml:"name"`
	// Kind is "chat" (default) or "embedding".
	Kind string `yaml:"kind"`
	// Targets are the provider models that serve the name. Required.
	// Targets of the lowest priority are tried first, picked by weight;
	// on a 429, a 5xx, a timeout or a refused provider key the next one
	// is tried, but never once a streamed answer has started.
	Targets []AIModelTarget `yaml:"targets"`
}

// AIModelTarget is one provider model behind a model name.
type AIModelTarget struct {
	// Provider names an ai.providers entry. Required.
	Provider string `yaml:"provider"`
	// Model is the provider's model id (for azure, the deployment name).
	// Required.
	Model string `yaml:"model"`
	// Weight picks among targets of the same priority. Default 1.
	Weight int `yaml:"weight"`
	// Priority orders fallbacks: 0 (default) first, then 1, and so on.
	Priority int `yaml:"priority"`
}

// AIAccess is one access rule: whom it applies to, what they may use and
// how much.
type AIAccess struct {
	// Name identifies the rule in refusals and usage. Required, unique.
	Name string `yaml:"name"`
	// Consumers, Groups, Tenants and Plans select the callers the rule
	// applies to; a caller matching any of them is selected. All empty:
	// every caller.
	Consumers []string `yaml:"consumers"`
	// Groups selects the consumers of these groups.
	Groups []string `yaml:"groups"`
	// Tenants selects the consumers of these tenants.
	Tenants []string `yaml:"tenants"`
	// Plans selects consumers whose plan_field metadata is one of these.
	Plans []string `yaml:"plans"`
	// PlanField is the consumer metadata field that holds the plan.
	// Default "plan".
	PlanField string `yaml:"plan_field"`
	// Models the selected callers may use (names of ai.models). Empty:
	// every model.
	Models []string `yaml:"models"`
	// Key says whose tokens and spend are counted together: "consumer"
	// (default), "credential" (each API key apart) or "tenant".
	Key string `yaml:"key"`
	// TokensPerMinute caps prompt plus completion tokens in any minute,
	// streamed output included. 0: no cap.
	TokensPerMinute int64 `yaml:"tokens_per_minute"`
	// DailyBudgetUSD caps the cost per UTC day, in USD ("5.00"). Empty: no cap.
	DailyBudgetUSD string `yaml:"daily_budget_usd"`
	// MonthlyBudgetUSD caps the cost per UTC calendar month, in USD. Empty: no cap.
	MonthlyBudgetUSD string `yaml:"monthly_budget_usd"`
	// ReserveOutputTokens is how many completion tokens a call is assumed
	// to produce while it runs, when it sets no max_tokens: the gateway
	// admits a call only if the tokens and cost it may use fit. Default 1024.
	ReserveOutputTokens int64 `yaml:"reserve_output_tokens"`
}

// AIPrice overrides or adds one model's price, USD per million tokens.
type AIPrice struct {
	// Provider is the provider kind the price applies to: "openai",
	// "anthropic", "gemini", "mistral", or an ai.providers name for any
	// other. Required.
	Provider string `yaml:"provider"`
	// Model is the provider's model id. Required.
	Model string `yaml:"model"`
	// Kind is "chat" (default for a new model) or "embedding".
	Kind string `yaml:"kind"`
	// Aliases are other ids priced as this model.
	Aliases []string `yaml:"aliases"`
	// Input is the price of uncached prompt tokens ("2.50").
	Input string `yaml:"input"`
	// Output is the price of generated tokens.
	Output string `yaml:"output"`
	// CachedInput is the price of prompt tokens read from cache.
	CachedInput string `yaml:"cached_input"`
	// CacheWrite is the price of prompt tokens written to a 5-minute cache.
	CacheWrite string `yaml:"cache_write"`
	// CacheWrite1h is the price of prompt tokens written to a 1-hour cache.
	CacheWrite1h string `yaml:"cache_write_1h"`
}

// AIPrompt is a prompt template served as a REST endpoint:
// POST <route prefix>/<name> with a JSON object of its variables.
type AIPrompt struct {
	// Name is the endpoint's last path segment. Required, unique;
	// letters, digits, "-" and "_".
	Name string `yaml:"name"`
	// Model names an ai.models chat model. Required.
	Model string `yaml:"model"`
	// System is the system message template. Optional.
	System string `yaml:"system"`
	// Template is the user message template; {{name}} inserts a variable
	// (strings as they are, other values as JSON). Required.
	Template string `yaml:"template"`
	// Variables is the JSON Schema (an object schema) the request body
	// must match. Required.
	Variables JSON `yaml:"variables"`
	// Parameters are chat completion parameters sent with every call
	// (temperature, max_tokens, top_p, ...).
	Parameters JSON `yaml:"parameters"`
	// Output, when set, is the JSON Schema of the answer: the model is
	// asked for structured output and the endpoint returns the parsed
	// JSON. Unset: the endpoint returns {"text": ...}.
	Output JSON `yaml:"output"`
}

// AIUsage configures the usage records of AI calls.
type AIUsage struct {
	// Retention deletes usage records older than this. Default "2232h"
	// (93 days, so every budget month stays complete).
	Retention Duration `yaml:"retention"`
}

// RouteAI serves the AI gateway on a route.
//
//	routes:
//	  - name: ai
//	    paths: ["/v1/*"]
//	    auth: {authenticators: [keys]}
//	    ai: {api: openai}
type RouteAI struct {
	// API is "openai" (default): POST chat/completions, POST embeddings
	// and GET models under the route's path prefix, answering refusals
	// in OpenAI's error shape; or "prompts": POST <prefix>/<prompt name>.
	API string `yaml:"api"`
	// Models the route serves (names of ai.models). Empty: every model.
	Models []string `yaml:"models"`
	// Prompts the route serves (names of ai.prompts). Empty: every prompt.
	Prompts []string `yaml:"prompts"`
}
