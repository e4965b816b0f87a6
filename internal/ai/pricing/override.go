package pricing

import (
	"fmt"
	"strconv"
	"strings"
)

// Override changes or adds one model's prices. In Pinpoint's config it is an
// entry of the AI gateway's price list, for example
//
//	# price list entries
//	- provider: openai
//	  model: gpt-4o
//	  input: "2.25"        # a negotiated discount
//	  output: "9.00"
//	- provider: ollama
//	  model: llama3.1:8b
//	  input: "0"           # a local model costs nothing per token
//	  output: "0"
//
// Prices are USD per 1M tokens written as decimals ("2.50"), parsed exactly
// with at most 6 decimal places. For a model the catalog knows, only the
// fields set here change; for a new model input is required (and output,
// for a chat model), cached_input and cache_write default to input and
// cache_write_1h to cache_write.
type Override struct {
	// Provider is the provider name the gateway uses: openai, anthropic,
	// gemini, mistral, or the name of any OpenAI-compatible provider.
	Provider string `yaml:"provider"`
	// Model is the model id as the provider names it ("gpt-4o"). When it is
	// an alias of a catalog entry, it becomes an entry of its own, starting
	// from that entry's prices.
	Model string `yaml:"model"`
	// Kind is "chat" (the default for a new model) or "embedding".
	Kind Kind `yaml:"kind"`
	// Aliases are other ids that price as this model (dated snapshots,
	// "-latest" names, deployment names).
	Aliases []string `yaml:"aliases"`
	// Input is the price of uncached prompt tokens, USD per 1M.
	Input *Rate `yaml:"input"`
	// Output is the price of generated tokens (reasoning included), USD per 1M.
	Output *Rate `yaml:"output"`
	// CachedInput is the price of prompt tokens read from cache, USD per 1M.
	CachedInput *Rate `yaml:"cached_input"`
	// CacheWrite is the price of prompt tokens written to a 5-minute cache
	// (Anthropic), USD per 1M.
	CacheWrite *Rate `yaml:"cache_write"`
	// CacheWrite1h is the price of prompt tokens written to a 1-hour cache
	// (Anthropic), USD per 1M.
	CacheWrite1h *Rate `yaml:"cache_write_1h"`
	// LongContext replaces the model's long-prompt tier, if given.
	LongContext *TierOverride `yaml:"long_context"`
}

// TierOverride sets a long-prompt tier: its prices apply to the whole call
// when the prompt is longer than above_prompt_tokens. input (and output,
// for a chat model) are required; cached_input and cache_write default to
// the tier's input and cache_write_1h to its cache_write, as for a new model.
type TierOverride struct {
	// AbovePromptTokens is the threshold, e.g. 200000. Required, > 0.
	AbovePromptTokens int64 `yaml:"above_prompt_tokens"`
	// Input, Output, CachedInput, CacheWrite and CacheWrite1h are as in Override.
	Input        *Rate `yaml:"input"`
	Output       *Rate `yaml:"output"`
	CachedInput  *Rate `yaml:"cached_input"`
	CacheWrite   *Rate `yaml:"cache_write"`
	CacheWrite1h *Rate `yaml:"cache_write_1h"`
}

// FieldError is one problem in an override, located by its index in the
// list and its field, so the config loader can point at the line.
type FieldError struct {
	// Index is the override's position in the list given to New (or the
	// entry's position in the data file).
	Index int
	// Field is the field's YAML name ("input", "long_context.output",
	// "aliases[1]"), or "" for the entry as a whole.
	Field string
	// Message says what is wrong.
	Message string
}

// Path returns the location relative to the list: "[3].input".
func (e FieldError) Path() string {
	p := "[" + strconv.Itoa(e.Index) + "]"
	if e.Field != "" {
		p += "." + e.Field
	}
	return p
}

func (e FieldError) Error() string { return "pricing" + e.Path() + ": " + e.Message }

// FieldErrors lists every problem New found.
type FieldErrors []FieldError

func (es FieldErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// apply merges one override into c. strict (for the built-in data) refuses
// any redefinition.
func (c *Catalog) apply(i int, o Override, strict bool) error {
	var errs FieldErrors
	fail := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Index: i, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if !validName(o.Provider, true) {
		fail("provider", "%s is not a provider name (lowercase letters, digits, '.', '_' or '-')", quoteOrEmpty(o.Provider))
	}
	if !validName(o.Model, false) {
		fail("model", "%s is not a model id (required; no spaces)", quoteOrEmpty(o.Model))
	}
	if o.Kind != "" && o.Kind != Chat && o.Kind != Embedding {
		fail("kind", "%q is not a kind; use chat or embedding", string(o.Kind))
	}
	for j, a := range o.Aliases {
		if !validName(a, false) || a == o.Model {
			fail("aliases["+strconv.Itoa(j)+"]", "%s is not a usable alias", quoteOrEmpty(a))
		}
	}
	if o.LongContext != nil && o.LongContext.AbovePromptTokens <= 0 {
		fail("long_context.above_prompt_tokens", "must be a number of tokens greater than 0")
	}
	if len(errs) > 0 {
		return errs
	}

	models := c.providers[o.Provider]
	if models == nil {
		models = map[string]*entry{}
		c.providers[o.Provider] = models
	}
	existing := models[o.Model]
	if strict && existing != nil {
		fail("model", "%s/%s is listed twice", o.Provider, o.Model)
		return errs
	}
	var p Price
	fresh := existing == nil
	if fresh {
		p = Price{Provider: o.Provider, Model: o.Model, Kind: Chat}
	} else {
		p = existing.price
		p.Model = o.Model // an override of an alias becomes its own entry
	}
	if o.Kind != "" {
		p.Kind = o.Kind
	}
	if fresh {
		if o.Input == nil {
			fail("input", "required for a model the catalog does not know")
		}
		if o.Output == nil && p.Kind == Chat {
			fail("output", "required for a chat model the catalog does not know")
		}
	}
	if len(errs) > 0 {
		return errs
	}
	setRates(&p.Rates, fresh, o.Input, o.Output, o.CachedInput, o.CacheWrite, o.CacheWrite1h)
	if p.Kind == Embedding && !p.Output.IsZero() {
		fail("output", "an embedding model bills no output tokens; leave output out or set it to 0")
		return errs
	}
	if t := o.LongContext; t != nil {
		if t.Input == nil {
			fail("long_context.input", "required: the input price of long prompts")
		}
		if t.Output == nil && p.Kind == Chat {
			fail("long_context.output", "required: the output price of long prompts")
		}
		if len(errs) > 0 {
			return errs
		}
		p.LongContext = Tier{AbovePromptTokens: t.AbovePromptTokens}
		setRates(&p.LongContext.Rates, true, t.Input, t.Output, t.CachedInput, t.CacheWrite, t.CacheWrite1h)
	}

	var e *entry
	if existing != nil && existing.price.Model == o.Model {
		e = existing
		e.price = p
	} else {
		e = &entry{price: p}
		models[o.Model] = e
	}
	for j, a := range o.Aliases {
		if owner := models[a]; owner != nil {
			if owner.price.Model == a {
				fail("aliases["+strconv.Itoa(j)+"]", "%q is a model of its own; it cannot be an alias", a)
				continue
			}
			if strict {
				fail("aliases["+strconv.Itoa(j)+"]", "%q is already an alias of %s", a, owner.price.Model)
				continue
			}
		}
		models[a] = e
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// setRates writes the rates that are set; for a fresh entry the cache
// prices default to the input price, and the 1-hour write to the 5-minute one.
func setRates(r *Rates, fresh bool, in, out, cached, write, write1h *Rate) {
	if in != nil {
		r.Input = *in
	}
	if out != nil {
		r.Output = *out
	}
	if cached != nil {
		r.CachedInput = *cached
	} else if fresh {
		r.CachedInput = r.Input
	}
	if write != nil {
		r.CacheWrite = *write
	} else if fresh {
		r.CacheWrite = r.Input
	}
	if write1h != nil {
		r.CacheWrite1h = *write1h
	} else if fresh {
		r.CacheWrite1h = r.CacheWrite
	}
}

// validName accepts provider names (lowercase, strict) and model ids (any
// printable text without spaces: "llama3.1:8b", "models/gemini-2.5-pro").
func validName(s string, provider bool) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if provider {
			if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '.' || ch == '_' || ch == '-') {
				return false
			}
		} else if ch <= ' ' || ch == 0x7f {
			return false
		}
	}
	return true
}

func quoteOrEmpty(s string) string {
	if s == "" {
		return "an empty value"
	}
	return strconv.Quote(s)
}
