package pricing

import (
	"bytes"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The gateway's config embeds []Override and decodes it with the YAML
// library's struct tags and encoding.TextUnmarshaler, not with
// ParseOverrides: the tags and the Rate type must work on that path too.
func TestOverrideDecodesThroughYAMLStructTags(t *testing.T) {
	t.Parallel()
	doc := `
prices:
  - provider: openai
    model: gpt-4o
    kind: chat
    aliases: [my-4o]
    input: 2.25
    output: "9"
    cached_input: "1.125"
    cache_write: "2.25"
    cache_write_1h: "2.25"
    long_context: {above_prompt_tokens: 100000, input: "4.5", output: "18"}
`
	var cfg struct {
		Prices []Override `yaml:"prices"`
	}
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	c, err := New(cfg.Prices)
	if err != nil {
		t.Fatal(err)
	}
	p := mustLookup(t, c, "openai", "my-4o")
	if p.Input.String() != "2.25" || p.Output.String() != "9" || p.CachedInput.String() != "1.125" ||
		p.LongContext.AbovePromptTokens != 100000 || p.LongContext.Output.String() != "18" {
		t.Fatalf("decoded price %+v", p)
	}

	for bad, want := range map[string]string{
		"prices:\n  - provider: openai\n    model: x\n    input: \"1.0000001\"\n": "7 decimal places",
		"prices:\n  - provider: openai\n    model: x\n    input: -1\n":            "negative",
		"prices:\n  - provider: openai\n    model: x\n    price: 1\n":             "field price not found",
	} {
		dec := yaml.NewDecoder(bytes.NewReader([]byte(bad)))
		dec.KnownFields(true)
		err := dec.Decode(&cfg)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("decoding %q: error %v, want %q", bad, err, want)
		}
	}
}

func TestRateMarshalRoundTrip(t *testing.T) {
	t.Parallel()
	o := Override{Provider: "openai", Model: "gpt-4o", Input: rp("0.01875")}
	b, err := yaml.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var back Override
	if err := yaml.Unmarshal(b, &back); err != nil || back.Input == nil || *back.Input != *o.Input {
		t.Fatalf("round trip of %s: %+v %v", b, back, err)
	}
}

func TestKindChangeToEmbeddingNeedsNoOutput(t *testing.T) {
	t.Parallel()
	_, err := New([]Override{{Provider: "openai", Model: "gpt-4o", Kind: Embedding}})
	if err == nil || !strings.Contains(err.Error(), "[0].output") {
		t.Fatalf("error = %v", err)
	}
	c, err := New([]Override{{Provider: "openai", Model: "gpt-4o", Kind: Embedding, Output: rp("0")}})
	if err != nil || mustLookup(t, c, "openai", "gpt-4o").Kind != Embedding {
		t.Fatalf("kind change: %v", err)
	}
}

func TestAnthropicLongContextKeepsCacheMultipliers(t *testing.T) {
	t.Parallel()
	p := mustLookup(t, builtinCatalog(t), "anthropic", "claude-sonnet-4-5-20250929")
	u := AnthropicUsage{InputTokens: 150_000, OutputTokens: 1000, CacheReadInputTokens: 100_000}.Usage()
	// 250k prompt tokens > 200k: 150k×6 + 100k×0.60 + 1k×22.50 per 1M
	// = 0.9 + 0.06 + 0.0225
	if got := Cost(p, u).String(); got != "0.9825" {
		t.Fatalf("cost = %s", got)
	}
}
