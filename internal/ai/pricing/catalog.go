// Package pricing is the AI gateway's price catalog and its exact cost
// arithmetic.
//
// The catalog ships as data (prices.yaml, embedded) and operators override
// or extend it in config with []Override. The gateway looks a model up once
// per call with Catalog.Lookup and prices the provider's usage with Cost:
//
//	price, ok := catalog.Lookup("openai", "gpt-4o-2024-08-06")
//	cost := pricing.Cost(price, pricing.OpenAIUsage{PromptTokens: 1200, ...}.Usage())
//
// Prices and costs are integers (picodollars), never floats, so a cost is
// exactly tokens × the catalog's price and a sum of costs is exact.
package pricing

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Kind says what a model is billed for.
type Kind string

const (
	// Chat models bill input (prompt) and output (completion) tokens.
	Chat Kind = "chat"
	// Embedding models bill input tokens only.
	Embedding Kind = "embedding"
)

// Rates are the per-token prices of one model at one prompt size.
type Rates struct {
	// Input is the price of a prompt token that was neither read from nor
	// written to a cache.
	Input Rate
	// Output is the price of a generated token, reasoning/thinking included.
	Output Rate
	// CachedInput is the price of a prompt token read from the provider's
	// cache (OpenAI cached_tokens, Anthropic cache_read_input_tokens, Gemini
	// cachedContentTokenCount). Equal to Input when the provider gives no
	// discount or the catalog does not know one.
	CachedInput Rate
	// CacheWrite is the price of a prompt token written to the cache with
	// the default lifetime (Anthropic's 5-minute cache writes). Equal to
	// Input where writes cost nothing extra.
	CacheWrite Rate
	// CacheWrite1h is the price of a prompt token written to a 1-hour cache
	// (Anthropic). Equal to CacheWrite when the catalog has no separate price.
	CacheWrite1h Rate
}

// Tier is a higher price that applies to a whole call once its prompt is
// longer than a threshold (Gemini 1.5 above 128k tokens, Gemini 2.5 Pro
// above 200k).
type Tier struct {
	// AbovePromptTokens is the threshold: the tier applies when the call's
	// prompt (Usage.Input, cached tokens included) is strictly longer.
	// 0 means the model has no such tier.
	AbovePromptTokens int64
	Rates
}

// Price is what one model costs: the catalog's answer to Lookup.
type Price struct {
	// Provider and Model are the catalog entry's canonical names, which may
	// differ from the model the caller asked for (an alias or snapshot).
	Provider, Model string
	// Kind is Chat or Embedding.
	Kind Kind
	// Rates apply to prompts up to LongContext.AbovePromptTokens tokens, and
	// to every prompt when there is no long-context tier.
	Rates
	// LongContext holds the rates for long prompts; its AbovePromptTokens is
	// 0 when the model has none.
	LongContext Tier
}

// RatesFor returns the rates that apply to a call whose prompt has
// promptTokens tokens, cached ones included (the tier rule).
func (p Price) RatesFor(promptTokens int64) Rates {
	if p.LongContext.AbovePromptTokens > 0 && promptTokens > p.LongContext.AbovePromptTokens {
		return p.LongContext.Rates
	}
	return p.Rates
}

// Catalog is an immutable set of prices: the built-in data merged with the
// config's overrides. Build a new one on every config revision; a Catalog is
// safe for concurrent use.
type Catalog struct {
	asOf      string
	providers map[string]map[string]*entry // provider → model id or alias → entry
	entries   []*entry                     // canonical entries, sorted
}

type entry struct {
	price   Price
	aliases []string
	source  string
}

//go:embed prices.yaml
var builtinData []byte

var builtin = sync.OnceValues(func() (*Catalog, error) {
	doc, err := parseData(builtinData, "prices.yaml")
	if err != nil {
		return nil, err
	}
	c := &Catalog{asOf: doc.asOf, providers: map[string]map[string]*entry{}}
	for i, o := range doc.models {
		if err := c.apply(i, o.Override, true); err != nil {
			return nil, err
		}
		c.find(o.Provider, o.Model).source = o.source
	}
	c.index()
	return c, nil
})

// Builtin returns the catalog shipped with Pinpoint, without overrides.
func Builtin() (*Catalog, error) { return builtin() }

// New returns the built-in catalog with overrides merged over it, in order
// (a later override of the same model wins). Each override's fields replace
// only the fields it sets; a model the catalog does not know is added and
// must set input (and output, for a chat model). The error is a
// FieldErrors listing every problem with its index and field.
func New(overrides []Override) (*Catalog, error) {
	base, err := builtin()
	if err != nil {
		return nil, fmt.Errorf("pricing: built-in price data: %w", err)
	}
	if len(overrides) == 0 {
		return base, nil
	}
	c := base.clone()
	var errs FieldErrors
	for i, o := range overrides {
		if err := c.apply(i, o, false); err != nil {
			errs = append(errs, err.(FieldErrors)...)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	c.index()
	return c, nil
}

// AsOf returns the date the built-in prices were taken from the providers'
// price lists (YYYY-MM-DD).
func (c *Catalog) AsOf() string { return c.asOf }

// Models lists every canonical entry, sorted by provider then model.
func (c *Catalog) Models() []Price {
	out := make([]Price, len(c.entries))
	for i, e := range c.entries {
		out[i] = e.price
	}
	return out
}

// Aliases returns the other model ids that Lookup resolves to the canonical
// entry (provider, model), sorted.
func (c *Catalog) Aliases(provider, model string) []string {
	e := c.find(provider, model)
	if e == nil || e.price.Model != model {
		return nil
	}
	return append([]string(nil), e.aliases...)
}

// Lookup returns the price of a model as a provider names it, and false
// when the catalog does not know it (the caller then records the call with
// no cost rather than a guessed one). It does not allocate.
//
// Resolution: the exact id or a listed alias; then the id without a leading
// "models/" (Gemini's resource names); then the id without a trailing
// snapshot suffix "-YYYY-MM-DD", "-YYYYMMDD", "@YYYYMMDD" or "-NNN" (so
// "gpt-4o-2025-01-01" prices as "gpt-4o" until the catalog lists that
// snapshot). Ids are case-sensitive, as providers treat them.
func (c *Catalog) Lookup(provider, model string) (Price, bool) {
	models := c.providers[provider]
	if models == nil {
		return Price{}, false
	}
	if e := models[model]; e != nil {
		return e.price, true
	}
	if m, ok := strings.CutPrefix(model, "models/"); ok {
		if e := models[m]; e != nil {
			return e.price, true
		}
		model = m
	}
	if m, ok := cutSnapshot(model); ok {
		if e := models[m]; e != nil {
			return e.price, true
		}
	}
	return Price{}, false
}

// cutSnapshot removes a dated or numbered snapshot suffix.
func cutSnapshot(m string) (string, bool) {
	n := len(m)
	switch {
	case n > 11 && m[n-11] == '-' && m[n-6] == '-' && m[n-3] == '-' &&
		allDigits(m[n-10:n-6]) && allDigits(m[n-5:n-3]) && allDigits(m[n-2:]):
		return m[:n-11], true // -YYYY-MM-DD
	case n > 9 && (m[n-9] == '-' || m[n-9] == '@') && allDigits(m[n-8:]):
		return m[:n-9], true // -YYYYMMDD, @YYYYMMDD
	case n > 4 && m[n-4] == '-' && allDigits(m[n-3:]):
		return m[:n-4], true // -001
	}
	return "", false
}

func (c *Catalog) find(provider, model string) *entry {
	return c.providers[provider][model]
}

// clone copies c so that overrides never touch the shared built-in catalog.
func (c *Catalog) clone() *Catalog {
	n := &Catalog{asOf: c.asOf, providers: make(map[string]map[string]*entry, len(c.providers))}
	copies := make(map[*entry]*entry, len(c.entries))
	for _, e := range c.entries {
		cp := *e
		cp.aliases = append([]string(nil), e.aliases...)
		copies[e] = &cp
	}
	for p, models := range c.providers {
		m := make(map[string]*entry, len(models))
		for id, e := range models {
			m[id] = copies[e]
		}
		n.providers[p] = m
	}
	return n
}

// index rebuilds the sorted entry list and alias lists from the maps.
func (c *Catalog) index() {
	c.entries = c.entries[:0]
	for _, models := range c.providers {
		for id, e := range models {
			if id == e.price.Model {
				c.entries = append(c.entries, e)
			}
		}
	}
	for _, e := range c.entries {
		e.aliases = e.aliases[:0]
	}
	for _, models := range c.providers {
		for id, e := range models {
			if id != e.price.Model {
				e.aliases = append(e.aliases, id)
			}
		}
	}
	for _, e := range c.entries {
		sort.Strings(e.aliases)
	}
	sort.Slice(c.entries, func(i, j int) bool {
		a, b := c.entries[i].price, c.entries[j].price
		if a.Provider != b.Provider {
			return a.Provider < b.Provider
		}
		return a.Model < b.Model
	})
}
