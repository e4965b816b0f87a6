package config

import (
	"fmt"
	"slices"
	"strings"
)

// AIProviderKinds are the provider kinds the AI gateway ships.
var AIProviderKinds = []string{"openai", "azure", "anthropic", "gemini", "mistral", "openai_compatible"}

// ai checks the ai block and the routes that serve it. Prices, prompt
// schemas and key references are checked when the revision is compiled
// (they need the price catalog, a JSON Schema compiler and the
// environment), and reported at their fields too.
func (v *validator) ai(c *Config) {
	a := &c.AI
	providers := v.aiProviders(a.Providers)
	models := v.aiModels(a.Models, providers)
	seen := map[string]string{}
	for i := range a.Access {
		r := &a.Access[i]
		path := index("ai.access", i)
		v.unique(path, r.Name, "ai access rule", seen)
		v.oneOf(join(path, "key"), r.Key, "key", "consumer", "credential", "tenant")
		v.aiRefs(join(path, "models"), r.Models, models, "model", "ai.models")
		if r.TokensPerMinute < 0 {
			v.fail(join(path, "tokens_per_minute"), "must not be negative")
		}
		if r.ReserveOutputTokens < 0 {
			v.fail(join(path, "reserve_output_tokens"), "must not be negative")
		}
	}
	prompts := map[string]string{}
	var promptNames []string
	for i := range a.Prompts {
		p := &a.Prompts[i]
		path := index("ai.prompts", i)
		if v.unique(path, p.Name, "prompt", prompts) {
			if !validName(p.Name, "-_") {
				v.failValue(join(path, "name"), p.Name, fmt.Sprintf("invalid prompt name %q: use letters, digits, \"-\" and \"_\" (it is a URL path segment)", p.Name))
			}
			promptNames = append(promptNames, p.Name)
		}
		switch {
		case p.Model == "":
			v.required(join(path, "model"), "the ai.models chat model that answers the prompt")
		default:
			v.aiRefs(join(path, "model"), []string{p.Model}, models, "model", "ai.models")
		}
		if p.Template == "" {
			v.required(join(path, "template"), `the user message, e.g. "Summarize: {{text}}"`)
		}
		if !p.Variables.IsSet() {
			v.required(join(path, "variables"), "a JSON Schema of type object for the request body")
		}
	}
	for i := range c.Routes {
		r := &c.Routes[i]
		if r.AI == nil {
			continue
		}
		path := join(index("routes", i), "ai")
		v.oneOf(join(path, "api"), r.AI.API, "api", "openai", "prompts")
		v.aiRefs(join(path, "models"), r.AI.Models, models, "model", "ai.models")
		v.aiRefs(join(path, "prompts"), r.AI.Prompts, promptNames, "prompt", "ai.prompts")
		if len(r.AI.Prompts) > 0 && r.AI.API != "prompts" {
			v.fail(join(path, "prompts"), `prompts are served by routes with api: prompts`)
		}
	}
	if a.Usage.Retention < 0 {
		v.fail("ai.usage.retention", "must not be negative")
	}
}

func (v *validator) aiProviders(ps []AIProvider) []string {
	seen := map[string]string{}
	var names []string
	for i := range ps {
		p := &ps[i]
		path := index("ai.providers", i)
		if v.unique(path, p.Name, "ai provider", seen) {
			names = append(names, p.Name)
		}
		if p.Kind == "" {
			v.required(join(path, "kind"), strings.Join(AIProviderKinds, ", "))
		} else {
			v.oneOf(join(path, "kind"), p.Kind, "kind", AIProviderKinds...)
		}
		if p.APIKey != "" && !strings.HasPrefix(p.APIKey, "env:") && !strings.HasPrefix(p.APIKey, "file:") {
			// Never echo the value: it is probably the key itself.
			v.fail(join(path, "api_key"), `must be a reference, "env:NAME" or "file:/path", never the key itself`)
		}
		if (p.Kind == "azure" || p.Kind == "openai_compatible") && p.BaseURL == "" {
			v.required(join(path, "base_url"), "the API's base URL (a "+p.Kind+" provider has no default)")
		}
		if p.Timeout < 0 {
			v.fail(join(path, "timeout"), "must not be negative")
		}
		if p.StreamIdleTimeout < 0 {
			v.fail(join(path, "stream_idle_timeout"), "must not be negative")
		}
		v.notNegative(join(path, "max_concurrency"), p.MaxConcurrency, 0)
		for name := range p.Headers {
			v.headerKey(join(path, "headers"), name)
		}
	}
	return names
}

func (v *validator) aiModels(ms []AIModel, providers []string) []string {
	seen := map[string]string{}
	var names []string
	for i := range ms {
		m := &ms[i]
		path := index("ai.models", i)
		if v.unique(path, m.Name, "ai model", seen) {
			if !validName(m.Name, "-_.:/@") {
				v.failValue(join(path, "name"), m.Name, fmt.Sprintf("invalid model name %q: use letters, digits and - _ . : / @", m.Name))
			}
			names = append(names, m.Name)
		}
		v.oneOf(join(path, "kind"), m.Kind, "kind", "chat", "embedding")
		if len(m.Targets) == 0 {
			v.required(join(path, "targets"), "at least one {provider, model} that serves this model")
		}
		for j := range m.Targets {
			t := &m.Targets[j]
			tp := index(join(path, "targets"), j)
			if t.Provider == "" {
				v.required(join(tp, "provider"), "an ai.providers name")
			} else {
				v.aiRefs(join(tp, "provider"), []string{t.Provider}, providers, "provider", "ai.providers")
			}
			if t.Model == "" {
				v.required(join(tp, "model"), `the provider's model id, e.g. "gpt-4o-mini"`)
			}
			v.notNegative(join(tp, "weight"), t.Weight, 0)
			v.notNegative(join(tp, "priority"), t.Priority, 0)
		}
	}
	return names
}

// aiRefs checks that every name in refs is one of known.
func (v *validator) aiRefs(path string, refs, known []string, what, where string) {
	for j, r := range refs {
		if slices.Contains(known, r) {
			continue
		}
		p := path
		if len(refs) > 1 || strings.HasSuffix(path, "s") {
			p = index(path, j)
		}
		msg := fmt.Sprintf("unknown %s %q (not in %s)", what, r, where)
		if s, ok := closest(r, known); ok {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		v.failValue(p, r, msg)
	}
}

// validName reports whether s holds only ASCII letters, digits and the
// extra characters.
func validName(s, extra string) bool {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune(extra, r):
		default:
			return false
		}
	}
	return s != ""
}
