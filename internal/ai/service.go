// Package ai is the AI gateway: the OpenAI-compatible endpoints
// (chat/completions, embeddings, models) and the prompt APIs that routes
// with an ai block serve, in front of the providers of ai.providers.
//
// A Service is compiled from one config revision. For every call it
// resolves the model name to provider targets, applies the caller's
// access rules (allowed models, token rate, budgets), tries the targets
// in priority order (falling back on 429, 5xx, timeouts and refused
// provider keys, never once a streamed answer has started), translates
// the request and answer through the provider's package, and records
// usage and exact cost.
package ai

import (
	"cmp"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/ai/meter"
	"github.com/pinpointgw/pinpoint/internal/ai/pricing"
	"github.com/pinpointgw/pinpoint/internal/ai/prompt"
	"github.com/pinpointgw/pinpoint/internal/ai/provider"
	// The provider kinds the gateway ships.
	_ "github.com/pinpointgw/pinpoint/internal/ai/providers"
	"github.com/pinpointgw/pinpoint/internal/config"
)

// Deps are what a Service needs beyond its config; they outlive revisions.
type Deps struct {
	// Meter counts tokens and spend for ai.access rules. Nil: a fresh one.
	Meter *meter.Meter
	// Usage receives one record per call. Nil: usage is not recorded.
	Usage *Recorder
	// Metrics counts calls, tokens and cost. Nil: not counted.
	Metrics *Metrics
	// LookupEnv resolves env: key references; default os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// ReadFile resolves file: key references; default os.ReadFile.
	ReadFile func(string) ([]byte, error)
	// Transport, when set, is used for every provider (tests). Nil: one
	// pooled transport per provider.
	Transport http.RoundTripper
}

// Service is the AI gateway of one config revision. It is immutable and
// safe for concurrent use.
type Service struct {
	providers map[string]*backend
	models    map[string]*model
	names     []string // model names, sorted
	access    []*rule
	prices    *pricing.Catalog
	prompts   map[string]*prompt.Prompt
	// promptNames are the prompt names, sorted.
	promptNames []string
	meter       *meter.Meter
	usage       *Recorder
	metrics     *Metrics
}

// backend is one configured provider account.
type backend struct {
	name, kind string
	p          provider.Provider
	// rt sends the requests: no redirects are followed and no cookies
	// kept, so the transport is used directly rather than an http.Client.
	rt      http.RoundTripper
	timeout time.Duration
	idle    time.Duration
	// sem caps calls in flight (nil: no cap).
	sem chan struct{}
	// transport is the backend's own connection pool (nil when Deps
	// gave one).
	transport *http.Transport
}

// model is one ai.models entry.
type model struct {
	name  string
	embed bool
	// groups are the targets by ascending priority.
	groups [][]target
	// maxPrice is the highest price of any target, for reservations.
	maxPrice pricing.Price
	priced   bool
}

type target struct {
	b      *backend
	model  string
	weight int
	price  pricing.Price
	priced bool
}

// rule is one compiled ai.access entry.
type rule struct {
	name                      string
	consumers, groups, tenant map[string]bool
	plans                     map[string]bool
	planField                 string
	models                    map[string]bool // nil: every model
	key                       string
	tpm                       int64
	daily, monthly            pricing.Money
	reserve                   int64
}

// New compiles the ai block of cfg. Every problem is reported with its
// field path; a config without providers yields a Service that serves no
// model.
func New(cfg *config.Config, d Deps) (*Service, config.Errors) {
	if d.LookupEnv == nil {
		d.LookupEnv = os.LookupEnv
	}
	if d.ReadFile == nil {
		d.ReadFile = os.ReadFile
	}
	if d.Meter == nil {
		d.Meter = meter.New(nil)
	}
	var errs config.Errors
	fail := func(path, format string, args ...any) { errs = append(errs, cfg.Errorf(path, format, args...)) }
	ac := &cfg.AI
	s := &Service{
		providers: make(map[string]*backend, len(ac.Providers)),
		models:    make(map[string]*model, len(ac.Models)),
		prompts:   make(map[string]*prompt.Prompt, len(ac.Prompts)),
		meter:     d.Meter,
		usage:     d.Usage,
		metrics:   d.Metrics,
	}

	overrides, perrs := priceOverrides(ac.Prices)
	for _, e := range perrs {
		fail("ai.prices"+e.path, "%s", e.msg)
	}
	if c, err := pricing.New(overrides); err != nil {
		if fe, ok := err.(pricing.FieldErrors); ok {
			for _, e := range fe {
				fail("ai.prices"+e.Path(), "%s", e.Message)
			}
		} else {
			fail("ai.prices", "%v", err)
		}
	} else {
		s.prices = c
	}

	for i := range ac.Providers {
		pc := &ac.Providers[i]
		path := fmt.Sprintf("ai.providers[%d]", i)
		b, field, err := newBackend(pc, d)
		if err != nil {
			fail(path+field, "%v", err)
			continue
		}
		s.providers[pc.Name] = b
	}
	for i := range ac.Models {
		mc := &ac.Models[i]
		path := fmt.Sprintf("ai.models[%d]", i)
		m := &model{name: mc.Name, embed: mc.Kind == "embedding"}
		byPrio := map[int][]target{}
		for j, tc := range mc.Targets {
			b := s.providers[tc.Provider]
			if b == nil {
				continue // reported by validation, or by the provider's own error
			}
			if m.embed {
				if f, _ := provider.Lookup(b.kind); !f.Embeddings {
					fail(fmt.Sprintf("%s.targets[%d].provider", path, j), "provider %q (%s) serves no embeddings models", tc.Provider, b.kind)
					continue
				}
			}
			t := target{b: b, model: tc.Model, weight: max(tc.Weight, 1)}
			if s.prices != nil {
				t.price, t.priced = s.prices.Lookup(priceProvider(b), tc.Model)
			}
			if t.priced && (!m.priced || pricier(t.price, m.maxPrice)) {
				m.maxPrice, m.priced = t.price, true
			}
			byPrio[tc.Priority] = append(byPrio[tc.Priority], t)
		}
		prios := make([]int, 0, len(byPrio))
		for p := range byPrio {
			prios = append(prios, p)
		}
		slices.Sort(prios)
		for _, p := range prios {
			m.groups = append(m.groups, byPrio[p])
		}
		s.models[mc.Name] = m
		s.names = append(s.names, mc.Name)
	}
	slices.Sort(s.names)

	for i := range ac.Access {
		r, rerrs := compileRule(&ac.Access[i])
		for _, e := range rerrs {
			fail(fmt.Sprintf("ai.access[%d].%s", i, e.path), "%s", e.msg)
		}
		s.access = append(s.access, r)
	}
	for i := range ac.Prompts {
		p, err := prompt.Compile(ac.Prompts[i])
		if err != nil {
			if fe, ok := err.(*prompt.FieldError); ok {
				fail(fmt.Sprintf("ai.prompts[%d].%s", i, fe.Field), "%s", fe.Msg)
			} else {
				fail(fmt.Sprintf("ai.prompts[%d]", i), "%v", err)
			}
			continue
		}
		if m := s.models[ac.Prompts[i].Model]; m != nil && m.embed {
			fail(fmt.Sprintf("ai.prompts[%d].model", i), "model %q is an embedding model; a prompt needs a chat model", m.name)
		}
		s.prompts[p.Name()] = p
		s.promptNames = append(s.promptNames, p.Name())
	}
	slices.Sort(s.promptNames)
	if len(errs) > 0 {
		s.Close()
		return nil, errs
	}
	return s, nil
}

// Close releases the providers' idle connections.
func (s *Service) Close() {
	if s == nil {
		return
	}
	for _, b := range s.providers {
		if b.transport != nil {
			b.transport.CloseIdleConnections()
		}
	}
}

func pricier(a, b pricing.Price) bool {
	return a.Input.Cmp(b.Input) > 0 || a.Output.Cmp(b.Output) > 0
}

// priceProvider is the catalog provider of a backend: its kind for the
// public APIs (Azure bills OpenAI's models), its name for any other.
func priceProvider(b *backend) string {
	switch b.kind {
	case "azure":
		return "openai"
	case "openai", "anthropic", "gemini", "mistral":
		return b.kind
	}
	return b.name
}

// newBackend builds one provider; field is the sub-path of a failure.
func newBackend(pc *config.AIProvider, d Deps) (*backend, string, error) {
	f, ok := provider.Lookup(pc.Kind)
	if !ok {
		return nil, ".kind", fmt.Errorf("unknown provider kind %q (want one of %s)", pc.Kind, strings.Join(provider.Kinds(), ", "))
	}
	base := strings.TrimRight(cmp.Or(pc.BaseURL, f.DefaultBaseURL), "/")
	if base == "" {
		return nil, ".base_url", fmt.Errorf("a %s provider needs base_url", pc.Kind)
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, ".base_url", fmt.Errorf("base_url %q is not an http or https URL", base)
	}
	key, err := ResolveKey(pc.APIKey, d.LookupEnv, d.ReadFile)
	if err != nil {
		return nil, ".api_key", err
	}
	if key == "" && f.NeedsKey {
		return nil, ".api_key", fmt.Errorf("a %s provider needs api_key (env:NAME or file:/path)", pc.Kind)
	}
	p, err := f.New(provider.Config{Name: pc.Name, BaseURL: base, Key: key, APIVersion: pc.APIVersion, Headers: pc.Headers})
	if err != nil {
		return nil, "", err
	}
	b := &backend{
		name: pc.Name, kind: pc.Kind, p: p,
		timeout: pc.Timeout.Or(60 * time.Second),
		idle:    pc.StreamIdleTimeout.Or(30 * time.Second),
	}
	if pc.MaxConcurrency > 0 {
		b.sem = make(chan struct{}, pc.MaxConcurrency)
	}
	rt := d.Transport
	if rt == nil {
		b.transport = &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:   true,
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
			// Answers are read by the translators; a provider's gzip is
			// decoded by the transport.
		}
		rt = b.transport
	}
	b.rt = rt
	return b, "", nil
}

// ResolveKey reads a provider key reference: "env:NAME" or "file:/path".
// An empty reference is no key. The key itself is never accepted inline,
// so that it cannot end up in a stored revision.
func ResolveKey(ref string, lookupEnv func(string) (string, bool), readFile func(string) ([]byte, error)) (string, error) {
	switch {
	case ref == "":
		return "", nil
	case strings.HasPrefix(ref, "env:"):
		name := strings.TrimPrefix(ref, "env:")
		v, ok := lookupEnv(name)
		if !ok || strings.TrimSpace(v) == "" {
			return "", fmt.Errorf("environment variable %s (from %q) is not set", name, ref)
		}
		return strings.TrimSpace(v), nil
	case strings.HasPrefix(ref, "file:"):
		path := strings.TrimPrefix(ref, "file:")
		b, err := readFile(path)
		if err != nil {
			return "", fmt.Errorf("reading %s: %v", ref, unwrapPathError(err))
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("%s is empty", ref)
		}
		return v, nil
	}
	return "", fmt.Errorf("api_key must be a reference, env:NAME or file:/path, never the key itself")
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

type fieldErr struct{ path, msg string }

func compileRule(ac *config.AIAccess) (*rule, []fieldErr) {
	var errs []fieldErr
	set := func(v []string) map[string]bool {
		if len(v) == 0 {
			return nil
		}
		m := make(map[string]bool, len(v))
		for _, s := range v {
			m[s] = true
		}
		return m
	}
	r := &rule{
		name: ac.Name, consumers: set(ac.Consumers), groups: set(ac.Groups), tenant: set(ac.Tenants),
		plans: set(ac.Plans), planField: cmp.Or(ac.PlanField, "plan"), models: set(ac.Models),
		key: cmp.Or(ac.Key, "consumer"), tpm: ac.TokensPerMinute, reserve: ac.ReserveOutputTokens,
	}
	if r.reserve <= 0 {
		r.reserve = 1024
	}
	for _, b := range []struct {
		field, v string
		dst      *pricing.Money
	}{{"daily_budget_usd", ac.DailyBudgetUSD, &r.daily}, {"monthly_budget_usd", ac.MonthlyBudgetUSD, &r.monthly}} {
		if b.v == "" {
			continue
		}
		m, err := pricing.ParseMoney(b.v)
		if err != nil {
			errs = append(errs, fieldErr{b.field, err.Error()})
			continue
		}
		*b.dst = m
	}
	return r, errs
}

// applies reports whether the rule selects the caller.
func (r *rule) applies(c *caller) bool {
	if r.consumers == nil && r.groups == nil && r.tenant == nil && r.plans == nil {
		return true
	}
	if c.consumer != "" && r.consumers[c.consumer] || c.tenant != "" && r.tenant[c.tenant] {
		return true
	}
	for _, g := range c.groups {
		if r.groups[g] {
			return true
		}
	}
	if r.plans != nil && c.metadata != nil {
		if p, ok := c.metadata[r.planField]; ok && r.plans[p] {
			return true
		}
	}
	return false
}

// meters reports whether the rule counts tokens or spend.
func (r *rule) meters() bool { return r.tpm > 0 || !r.daily.IsZero() || !r.monthly.IsZero() }

// priceOverrides converts ai.prices to pricing overrides.
func priceOverrides(in []config.AIPrice) ([]pricing.Override, []fieldErr) {
	var errs []fieldErr
	out := make([]pricing.Override, 0, len(in))
	for i, p := range in {
		o := pricing.Override{Provider: p.Provider, Model: p.Model, Kind: pricing.Kind(p.Kind), Aliases: p.Aliases}
		for _, f := range []struct {
			name, v string
			dst     **pricing.Rate
		}{{"input", p.Input, &o.Input}, {"output", p.Output, &o.Output}, {"cached_input", p.CachedInput, &o.CachedInput},
			{"cache_write", p.CacheWrite, &o.CacheWrite}, {"cache_write_1h", p.CacheWrite1h, &o.CacheWrite1h}} {
			if f.v == "" {
				continue
			}
			r, err := pricing.ParseRate(f.v)
			if err != nil {
				errs = append(errs, fieldErr{fmt.Sprintf("[%d].%s", i, f.name), err.Error()})
				continue
			}
			*f.dst = &r
		}
		out = append(out, o)
	}
	return out, errs
}
