package pricing

import (
	"encoding/json"
	"testing"
)

func mustLookup(t testing.TB, c *Catalog, provider, model string) Price {
	t.Helper()
	p, ok := c.Lookup(provider, model)
	if !ok {
		t.Fatalf("Lookup(%s, %s) found nothing", provider, model)
	}
	return p
}

func builtinCatalog(t testing.TB) *Catalog {
	t.Helper()
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCostEdgeValues(t *testing.T) {
	t.Parallel()
	c := builtinCatalog(t)
	gpt4o := mustLookup(t, c, "openai", "gpt-4o")
	cases := []struct {
		name string
		u    Usage
		want string
	}{
		{"one input token", Usage{Input: 1}, "0.0000025"},
		{"one output token", Usage{Output: 1}, "0.00001"},
		{"one cached token", Usage{Input: 1, CachedInput: 1}, "0.00000125"},
		{"a billion input tokens", Usage{Input: 1_000_000_000}, "2500"},
		{"a billion of each", Usage{Input: 1_000_000_000, Output: 1_000_000_000}, "12500"},
		{"nothing", Usage{}, "0"},
		{"negative counts", Usage{Input: -5, Output: -7}, "0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Cost(gpt4o, tc.u).String(); got != tc.want {
				t.Fatalf("Cost = %s, want %s", got, tc.want)
			}
		})
	}
	// The smallest price in the catalog, one token: 0.025/1M = 2.5e-8 USD.
	nano := mustLookup(t, c, "openai", "gpt-4.1-nano")
	if got := Cost(nano, Usage{Input: 1, CachedInput: 1}).String(); got != "0.000000025" {
		t.Fatalf("one cached nano token = %s", got)
	}
}

// A million small costs must add up to exactly a million times one cost:
// float64 accumulation of 0.0000025 drifts after a few thousand additions.
func TestSumOfManySmallCostsIsExact(t *testing.T) {
	t.Parallel()
	c := builtinCatalog(t)
	p := mustLookup(t, c, "openai", "gpt-4o-mini")
	one := Cost(p, Usage{Input: 7, Output: 3, CachedInput: 2}) // 5×0.15 + 2×0.075 + 3×0.60 per 1M
	if one.String() != "0.0000027" {
		t.Fatalf("one call = %s", one)
	}
	var sum Money
	var f float64
	for range 1_000_000 {
		sum = sum.Add(one)
		f += 0.0000027
	}
	if sum.String() != "2.7" {
		t.Fatalf("sum = %s, want 2.7", sum)
	}
	if f == 2.7 {
		t.Log("float64 happened to be exact here; the integer sum is exact by construction")
	}
}

func TestCostPerProviderShape(t *testing.T) {
	t.Parallel()
	c := builtinCatalog(t)
	t.Run("openai cached tokens are part of prompt_tokens", func(t *testing.T) {
		t.Parallel()
		var u OpenAIUsage
		body := `{"prompt_tokens":2000,"completion_tokens":500,"total_tokens":2500,
			"prompt_tokens_details":{"cached_tokens":1500},"completion_tokens_details":{"reasoning_tokens":100}}`
		if err := json.Unmarshal([]byte(body), &u); err != nil {
			t.Fatal(err)
		}
		// 500 uncached × 2.50 + 1500 cached × 1.25 + 500 out × 10 (per 1M)
		// = 0.00125 + 0.001875 + 0.005 = 0.008125
		if got := Cost(mustLookup(t, c, "openai", "gpt-4o"), u.Usage()).String(); got != "0.008125" {
			t.Fatalf("cost = %s", got)
		}
	})
	t.Run("anthropic cache reads and writes are beside input_tokens", func(t *testing.T) {
		t.Parallel()
		var u AnthropicUsage
		body := `{"input_tokens":100,"output_tokens":200,"cache_read_input_tokens":3000,
			"cache_creation_input_tokens":1000,
			"cache_creation":{"ephemeral_5m_input_tokens":600,"ephemeral_1h_input_tokens":400}}`
		if err := json.Unmarshal([]byte(body), &u); err != nil {
			t.Fatal(err)
		}
		got := u.Usage()
		if got != (Usage{Input: 4100, Output: 200, CachedInput: 3000, CacheWrite: 600, CacheWrite1h: 400}) {
			t.Fatalf("usage = %+v", got)
		}
		// sonnet 4: 100×3 + 3000×0.30 + 600×3.75 + 400×6 + 200×15 per 1M
		// = 300 + 900 + 2250 + 2400 + 3000 = 8850 µ$ = 0.00885
		if cost := Cost(mustLookup(t, c, "anthropic", "claude-sonnet-4-20250514"), got).String(); cost != "0.00885" {
			t.Fatalf("cost = %s", cost)
		}
		// Without the TTL split every write is a 5-minute write.
		u.CacheCreation.Ephemeral5mInputTokens, u.CacheCreation.Ephemeral1hInputTokens = 0, 0
		if cost := Cost(mustLookup(t, c, "anthropic", "claude-sonnet-4-0"), u.Usage()).String(); cost != "0.00795" {
			t.Fatalf("cost without split = %s", cost) // 300+900+3750+3000
		}
	})
	t.Run("gemini thoughts are output, cached content is part of the prompt", func(t *testing.T) {
		t.Parallel()
		u := GeminiUsage{PromptTokenCount: 11500, CandidatesTokenCount: 1000, ThoughtsTokenCount: 10000, CachedContentTokenCount: 10000}
		// 1500×1.25 + 10000×0.125 + 11000×10 per 1M = 1875 + 1250 + 110000 µ$
		if got := Cost(mustLookup(t, c, "gemini", "gemini-2.5-pro"), u.Usage()).String(); got != "0.113125" {
			t.Fatalf("cost = %s", got)
		}
	})
	t.Run("mistral uses the openai shape", func(t *testing.T) {
		t.Parallel()
		u := OpenAIUsage{PromptTokens: 1_000_000, CompletionTokens: 1_000_000}
		if got := Cost(mustLookup(t, c, "mistral", "codestral-latest"), u.Usage()).String(); got != "1.2" {
			t.Fatalf("cost = %s", got)
		}
	})
	t.Run("embeddings bill input only", func(t *testing.T) {
		t.Parallel()
		u := OpenAIUsage{PromptTokens: 1_000_000}
		if got := Cost(mustLookup(t, c, "openai", "text-embedding-3-large"), u.Usage()).String(); got != "0.13" {
			t.Fatalf("cost = %s", got)
		}
	})
}

func TestCostInconsistentUsageBillsEveryToken(t *testing.T) {
	t.Parallel()
	p := mustLookup(t, builtinCatalog(t), "openai", "gpt-4o")
	// More cached tokens than prompt tokens: Input is taken as the cache sum.
	if got := Cost(p, Usage{Input: 10, CachedInput: 1_000_000}).String(); got != "1.25" {
		t.Fatalf("cost = %s", got)
	}
}

func TestLongContextTier(t *testing.T) {
	t.Parallel()
	c := builtinCatalog(t)
	pro := mustLookup(t, c, "gemini", "gemini-2.5-pro")
	cases := []struct {
		name string
		u    Usage
		want string
	}{
		// 200000 × 1.25/1M = 0.25; exactly at the threshold is the ordinary tier.
		{"at threshold", Usage{Input: 200_000}, "0.25"},
		// 200001 × 2.50/1M, the whole prompt at the long rate.
		{"one above", Usage{Input: 200_001}, "0.5000025"},
		{"long with output", Usage{Input: 300_000, Output: 1000}, "0.765"},
		// Cached tokens count towards the threshold and use the long cached rate.
		{"cached counts", Usage{Input: 250_000, CachedInput: 200_000}, "0.175"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Cost(pro, tc.u).String(); got != tc.want {
				t.Fatalf("Cost = %s, want %s", got, tc.want)
			}
		})
	}
	flash := mustLookup(t, c, "gemini", "gemini-1.5-flash-latest")
	if got := Cost(flash, Usage{Input: 128_001, CachedInput: 1}).String(); got != "0.01920015" {
		t.Fatalf("1.5 flash long = %s", got) // all at 0.15: no cache discount is known
	}
	if pro.RatesFor(100).Input != MustRate("1.25") || pro.RatesFor(200_001).Output != MustRate("15") {
		t.Fatal("RatesFor picks the wrong tier")
	}
}

func BenchmarkLookupCost(b *testing.B) {
	c := builtinCatalog(b)
	u := AnthropicUsage{InputTokens: 1200, OutputTokens: 350, CacheReadInputTokens: 4000}.Usage()
	var total Money
	b.ReportAllocs()
	for b.Loop() {
		p, ok := c.Lookup("anthropic", "claude-sonnet-4-20250514")
		if !ok {
			b.Fatal("not found")
		}
		total = total.Add(Cost(p, u))
	}
	if total.IsZero() {
		b.Fatal("no cost")
	}
}

func BenchmarkLookupSnapshotSuffix(b *testing.B) {
	c := builtinCatalog(b)
	u := Usage{Input: 1000, Output: 100}
	b.ReportAllocs()
	for b.Loop() {
		p, ok := c.Lookup("gemini", "models/gemini-2.5-pro-001")
		if !ok {
			b.Fatal("not found")
		}
		_ = Cost(p, u)
	}
}

func TestLookupCostDoesNotAllocate(t *testing.T) {
	c := builtinCatalog(t)
	u := Usage{Input: 1000, Output: 100, CachedInput: 10}
	allocs := testing.AllocsPerRun(1000, func() {
		for _, m := range []string{"gpt-4o", "gpt-4o-2024-08-06", "gpt-4o-2031-01-01", "o3-mini-20250131"} {
			p, _ := c.Lookup("openai", m)
			_ = Cost(p, u)
		}
		p, _ := c.Lookup("gemini", "models/gemini-2.0-flash-001")
		_ = Cost(p, u)
	})
	if allocs != 0 {
		t.Fatalf("Lookup+Cost allocates %v times per run", allocs)
	}
}
