package pricing

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// The embedded data must load and every entry must be complete and
// plausible: a typo such as "25.0" for "2.50" fails here, not on an invoice.
func TestBuiltinDataIsCompleteAndPlausible(t *testing.T) {
	t.Parallel()
	c := builtinCatalog(t)
	if _, err := time.Parse(time.DateOnly, c.AsOf()); err != nil {
		t.Fatalf("as_of %q: %v", c.AsOf(), err)
	}
	doc, err := parseData(builtinData, "prices.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range doc.models {
		if !strings.HasPrefix(m.source, "https://") {
			t.Errorf("%s/%s: source %q is not a https URL", m.Provider, m.Model, m.source)
		}
	}
	perProvider := map[string]int{}
	maxRate := MustRate("200")
	for _, p := range c.Models() {
		perProvider[p.Provider]++
		name := p.Provider + "/" + p.Model
		if p.Input.picoPerToken <= 0 || p.Input.Cmp(maxRate) > 0 {
			t.Errorf("%s: input %s is not a plausible price", name, p.Input)
		}
		switch p.Kind {
		case Chat:
			if p.Output.Cmp(p.Input) < 0 || p.Output.Cmp(maxRate) > 0 {
				t.Errorf("%s: output %s is below input %s or implausible", name, p.Output, p.Input)
			}
		case Embedding:
			if !p.Output.IsZero() {
				t.Errorf("%s: an embedding model with output %s", name, p.Output)
			}
		default:
			t.Errorf("%s: kind %q", name, p.Kind)
		}
		if p.CachedInput.Cmp(p.Input) > 0 || p.CachedInput.IsZero() {
			t.Errorf("%s: cached input %s must be in (0, input %s]", name, p.CachedInput, p.Input)
		}
		if p.CacheWrite.Cmp(p.Input) < 0 || p.CacheWrite1h.Cmp(p.CacheWrite) < 0 {
			t.Errorf("%s: cache writes %s/%s must be ≥ input %s", name, p.CacheWrite, p.CacheWrite1h, p.Input)
		}
		if lc := p.LongContext; lc.AbovePromptTokens > 0 {
			if lc.Input.Cmp(p.Input) <= 0 || lc.Output.Cmp(p.Output) < 0 || lc.CachedInput.Cmp(lc.Input) > 0 {
				t.Errorf("%s: long-context tier %+v is not above the base rates", name, lc.Rates)
			}
		}
		if p.Provider == "anthropic" && p.CacheWrite.Cmp(p.Input) <= 0 {
			t.Errorf("%s: Anthropic cache writes cost more than input", name)
		}
	}
	for _, prov := range []string{"openai", "anthropic", "gemini", "mistral"} {
		if perProvider[prov] < 4 {
			t.Errorf("provider %s has only %d models", prov, perProvider[prov])
		}
	}
	// Spot checks against the providers' published lists (see source).
	for _, tc := range []struct{ provider, model, in, cached, out string }{
		{"openai", "gpt-4o", "2.5", "1.25", "10"},
		{"openai", "gpt-4.1-nano", "0.1", "0.025", "0.4"},
		{"openai", "o4-mini", "1.1", "0.275", "4.4"},
		{"anthropic", "claude-opus-4-20250514", "15", "1.5", "75"},
		{"anthropic", "claude-3-5-haiku-20241022", "0.8", "0.08", "4"},
		{"gemini", "gemini-2.5-flash", "0.3", "0.3", "2.5"},
		{"mistral", "mistral-embed", "0.1", "0.1", "0"},
	} {
		p := mustLookup(t, c, tc.provider, tc.model)
		if p.Input.String() != tc.in || p.CachedInput.String() != tc.cached || p.Output.String() != tc.out {
			t.Errorf("%s/%s = %s/%s/%s, want %s/%s/%s", tc.provider, tc.model,
				p.Input, p.CachedInput, p.Output, tc.in, tc.cached, tc.out)
		}
	}
}

func TestLookupResolution(t *testing.T) {
	t.Parallel()
	c := builtinCatalog(t)
	cases := []struct{ provider, model, canonical string }{
		{"openai", "gpt-4o", "gpt-4o"},
		{"openai", "gpt-4o-2024-08-06", "gpt-4o"},            // listed alias
		{"openai", "gpt-4o-2024-05-13", "gpt-4o-2024-05-13"}, // exact snapshot with its own price
		{"openai", "gpt-4o-2030-02-03", "gpt-4o"},            // unlisted dated snapshot
		{"openai", "gpt-4o-mini-2030-02-03", "gpt-4o-mini"},  // the longest id, not gpt-4o
		{"openai", "o3-mini-20250131", "o3-mini"},            // compact date
		{"anthropic", "claude-sonnet-4-20250514", "claude-sonnet-4-0"},
		{"anthropic", "claude-3-5-sonnet@20240620", "claude-3-5-sonnet-latest"}, // Vertex-style id
		{"anthropic", "claude-opus-4-1-20991231", "claude-opus-4-1"},
		{"gemini", "models/gemini-2.5-pro", "gemini-2.5-pro"},
		{"gemini", "gemini-2.0-flash-001", "gemini-2.0-flash"},
		{"gemini", "models/gemini-1.5-flash-002", "gemini-1.5-flash"},
		{"mistral", "codestral-latest", "codestral-2501"},
	}
	for _, tc := range cases {
		p, ok := c.Lookup(tc.provider, tc.model)
		if !ok || p.Model != tc.canonical || p.Provider != tc.provider {
			t.Errorf("Lookup(%s, %s) = %s/%s %v, want %s", tc.provider, tc.model, p.Provider, p.Model, ok, tc.canonical)
		}
	}
	for _, miss := range [][2]string{
		{"openai", "gpt-5-turbo"},
		{"openai", "GPT-4O"},    // ids are case-sensitive
		{"anthropic", "gpt-4o"}, // wrong provider
		{"nosuch", "gpt-4o"},
		{"mistral", "mistral-large-latest"}, // deliberately not aliased: it moves
		{"openai", "gpt-4o-2024-08"},        // not a date suffix
	} {
		if p, ok := c.Lookup(miss[0], miss[1]); ok {
			t.Errorf("Lookup(%s, %s) = %s, want not found", miss[0], miss[1], p.Model)
		}
	}
}

func rp(s string) *Rate { r := MustRate(s); return &r }

func TestOverrides(t *testing.T) {
	t.Parallel()
	c, err := New([]Override{
		// A negotiated discount: only input changes.
		{Provider: "openai", Model: "gpt-4o", Input: rp("2.25")},
		// A new local model that costs nothing, with an alias.
		{Provider: "ollama", Model: "llama3.1:8b", Aliases: []string{"llama"}, Input: rp("0"), Output: rp("0")},
		// A new model with only input/output: cache prices default to input.
		{Provider: "together", Model: "meta-llama/Llama-3.3-70B", Input: rp("0.88"), Output: rp("0.88")},
		// An alias of a catalog entry becomes its own entry.
		{Provider: "openai", Model: "gpt-4o-2024-11-20", Output: rp("12")},
		// Adding an alias to an existing model; a later override wins.
		{Provider: "mistral", Model: "mistral-large-2411", Aliases: []string{"mistral-large-latest"}},
		{Provider: "mistral", Model: "mistral-large-2411", Output: rp("5")},
		// A tier on a new model.
		{Provider: "acme", Model: "big", Input: rp("1"), Output: rp("2"),
			LongContext: &TierOverride{AbovePromptTokens: 1000, Input: rp("3"), Output: rp("4")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := mustLookup(t, c, "openai", "gpt-4o-2024-08-06")
	if p.Input.String() != "2.25" || p.Output.String() != "10" || p.CachedInput.String() != "1.25" {
		t.Errorf("gpt-4o after override = %+v", p.Rates)
	}
	if p := mustLookup(t, c, "ollama", "llama"); p.Model != "llama3.1:8b" || !Cost(p, Usage{Input: 1e6, Output: 1e6}).IsZero() {
		t.Errorf("free local model = %+v", p)
	}
	if p := mustLookup(t, c, "together", "meta-llama/Llama-3.3-70B"); p.CachedInput.String() != "0.88" || p.CacheWrite1h.String() != "0.88" {
		t.Errorf("defaults for a new model = %+v", p.Rates)
	}
	p = mustLookup(t, c, "openai", "gpt-4o-2024-11-20")
	if p.Model != "gpt-4o-2024-11-20" || p.Output.String() != "12" || p.Input.String() != "2.25" {
		// It starts from gpt-4o's prices as overridden above.
		t.Errorf("alias override = %s %+v", p.Model, p.Rates)
	}
	if got := c.Aliases("openai", "gpt-4o"); len(got) != 1 || got[0] != "gpt-4o-2024-08-06" {
		t.Errorf("gpt-4o aliases now %v", got)
	}
	if p := mustLookup(t, c, "mistral", "mistral-large-latest"); p.Output.String() != "5" {
		t.Errorf("mistral-large-latest = %+v", p.Rates)
	}
	if got := Cost(mustLookup(t, c, "acme", "big"), Usage{Input: 1001, Output: 1}).String(); got != "0.003007" {
		t.Errorf("tier on a new model: %s", got)
	}
	// The built-in catalog is untouched.
	if p := mustLookup(t, builtinCatalog(t), "openai", "gpt-4o"); p.Input.String() != "2.5" {
		t.Errorf("override leaked into the built-in catalog: %s", p.Input)
	}
}

func TestOverrideErrorsNameTheField(t *testing.T) {
	t.Parallel()
	_, err := New([]Override{
		{Provider: "openai", Model: "gpt-4o"},                                                                                        // 0: fine (no change)
		{Provider: "OpenAI", Model: "x", Input: rp("1"), Output: rp("1")},                                                            // 1: provider
		{Provider: "acme", Model: "new-model", Output: rp("1")},                                                                      // 2: input required
		{Provider: "acme", Model: "emb", Kind: Embedding, Input: rp("1"), Output: rp("1")},                                           // 3: output on embedding
		{Provider: "acme", Model: "m", Kind: "image", Input: rp("1"), Output: rp("1")},                                               // 4: kind
		{Provider: "openai", Model: "o3", Aliases: []string{"gpt-4o"}},                                                               // 5: alias is a model
		{Provider: "acme", Model: "t", Input: rp("1"), Output: rp("1"), LongContext: &TierOverride{Input: rp("2"), Output: rp("2")}}, // 6
		{Provider: "acme", Model: "has space", Input: rp("1"), Output: rp("1")},                                                      // 7: model
	})
	var fe FieldErrors
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not FieldErrors", err)
	}
	want := map[string]string{
		"[1].provider":                         "not a provider name",
		"[2].input":                            "required",
		"[3].output":                           "embedding",
		"[4].kind":                             "not a kind",
		"[5].aliases[0]":                       "model of its own",
		"[6].long_context.above_prompt_tokens": "greater than 0",
		"[7].model":                            "not a model id",
	}
	got := map[string]string{}
	for _, e := range fe {
		got[e.Path()] = e.Message
	}
	for path, frag := range want {
		if !strings.Contains(got[path], frag) {
			t.Errorf("%s: got %q, want a message containing %q (all: %v)", path, got[path], frag, err)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d errors, want %d: %v", len(got), len(want), err)
	}
}

func TestParseOverridesStrict(t *testing.T) {
	t.Parallel()
	good := `
- provider: openai
  model: gpt-4o
  input: 2.25          # unquoted decimals parse exactly too
  cached_input: "1.125"
  long_context: {above_prompt_tokens: 100_000, input: "5", output: "20"}
- provider: ollama
  model: qwen
  aliases: [qwen-latest]
  input: "0"
  output: "0"
`
	os, err := ParseOverrides([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(os) != 2 || *os[0].Input != MustRate("2.25") || os[0].LongContext.AbovePromptTokens != 100_000 || os[1].Aliases[0] != "qwen-latest" {
		t.Fatalf("decoded %+v", os)
	}
	if _, err := New(os); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"- provider: openai\n  model: gpt-4o\n  inptu: \"2\"\n":                      `line 3: [0].inptu: unknown field`,
		"- provider: openai\n  model: gpt-4o\n  input: \"-2\"\n":                     `line 3: [0].input: "-2" is negative`,
		"- provider: openai\n  model: gpt-4o\n  input: 0.0000001\n":                  `line 3: [0].input: "0.0000001" has 7 decimal places`,
		"- provider: openai\n  model: gpt-4o\n  output: 1e-6\n":                      `line 3: [0].output: "1e-6" is not a price`,
		"- provider: a\n  model: b\n- provider: a\n  model: c\n  cache_write: [1]\n": `line 5: [1].cache_write: expected a single value`,
		"- provider: a\n  model: b\n  model: c\n":                                    `line 3: [0].model: given twice`,
		"- provider: a\n  model: b\n  long_context: {above: 3}\n":                    `[0].long_context.above: unknown field`,
		"- provider: a\n  model: b\n  long_context: {above_prompt_tokens: many}\n":   `[0].long_context.above_prompt_tokens: expected a whole number`,
		"provider: a\n": `expected a list of models`,
		"- provider: a\n  model: b\n  source: x\n": `[0].source: unknown field`,
	}
	for doc, want := range cases {
		_, err := ParseOverrides([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseOverrides(%q) error = %v, want %q", doc, err, want)
		}
	}
}

func TestDataFileErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"as_of: 2026-13-01\nmodels: []\n":               "as_of: must be a date",
		"models: []\n":                                  "as_of and models are required",
		"as_of: \"2026-01-01\"\nmodels: []\nextra: 1\n": "extra: unknown field",
		"as_of: \"2026-01-01\"\nmodels:\n  - provider: a\n    model: b\n    input: \"1\"\n    output: \"1\"\n    source: https://x\n": "",
	}
	for doc, want := range cases {
		_, err := parseData([]byte(doc), "test.yaml")
		if want == "" {
			if err != nil {
				t.Errorf("parseData(%q): %v", doc, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseData(%q) error = %v, want %q", doc, err, want)
		}
	}
}

func FuzzParseOverrides(f *testing.F) {
	f.Add([]byte("- provider: openai\n  model: gpt-4o\n  input: 2.25\n"))
	f.Add([]byte("- {provider: a, model: b, long_context: {above_prompt_tokens: 5, input: '1'}}\n"))
	f.Add([]byte("[1, 2, {x: y}]"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		os, err := ParseOverrides(doc)
		if err != nil {
			return
		}
		c, err := New(os)
		if err != nil {
			return
		}
		for _, p := range c.Models() {
			_ = Cost(p, Usage{Input: 1 << 40, Output: 1 << 40})
		}
	})
}
