package gateway

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"reflect"
	"time"

	"github.com/pinpointgw/pinpoint/internal/ai"
	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/problem"
	"github.com/pinpointgw/pinpoint/internal/redact"
	"github.com/pinpointgw/pinpoint/internal/redisconn"
	"github.com/pinpointgw/pinpoint/internal/router"
	"github.com/pinpointgw/pinpoint/internal/stage/accept"
	"github.com/pinpointgw/pinpoint/internal/stage/waf"
	"github.com/pinpointgw/pinpoint/internal/telemetry"
	"github.com/pinpointgw/pinpoint/internal/upstream"
)

// Snapshot is one compiled revision. It is immutable once published: a new
// revision builds a new snapshot aside and swaps the pointer, and requests in
// flight finish on the snapshot they started with.
type Snapshot struct {
	// Revision is the store's revision number (0 for a dry run).
	Revision int64
	// Hash is the hex SHA-256 of the document.
	Hash string
	// Config is the decoded configuration, defaults applied.
	Config *config.Config

	accept      *accept.Stage
	routes      *router.Table[*Route]
	byName      map[string]*Route // the routes by name, for quota usage
	upstreams   map[string]*upstream.Upstream
	upstreamCfg map[string]config.Upstream
	disclosure  problem.Disclosure
	idHeader    string
	logCalls    bool
	redactQuery bool
	// keepInputs keeps each request's decision inputs in the call log
	// (explain.keep_inputs); redaction is the one redaction policy of the
	// revision, built once.
	keepInputs bool
	redaction  *redact.Policy
	// headerVerdicts caches redaction.Header per header name for inputs.
	headerVerdicts headerVerdicts
	// access holds the directory, authenticators and policies.
	access *access
	// redis is the client of the config's redis block, or nil;
	// freshRedis is set when this snapshot opened it.
	redis      *redisconn.Client
	freshRedis bool
	// firewall is the revision's WAF, nil when no route runs it.
	firewall *waf.Firewall
	// tracer exports spans (telemetry.tracing), nil when tracing is off;
	// freshTracer is set when this snapshot built it.
	tracer      *telemetry.Tracer
	freshTracer bool
	// ai is the revision's AI gateway (nil when compile failed).
	ai *ai.Service
}

// Redaction is the revision's redaction policy (the config's redact block,
// gateway.call_log.redact_query and its authenticators' key headers).
func (s *Snapshot) Redaction() *redact.Policy { return s.redaction }

// Directory resolves the snapshot's consumers, tenants and keys.
func (s *Snapshot) Directory() *identity.Directory { return s.access.dir }

// discard releases what a snapshot that will never be published started:
// its fresh upstreams and its authenticators' background work.
func discard(s *Snapshot, fresh []*upstream.Upstream) {
	for _, u := range fresh {
		u.Close()
	}
	if s != nil {
		s.ai.Close()
		s.access.close()
		if s.freshRedis {
			s.redis.Close()
		}
		if s.freshTracer {
			shutdownTracer(s.tracer, slog.New(slog.DiscardHandler))
		}
	}
}

// compile builds a snapshot from a validated config. Upstreams whose
// configuration did not change since prev are reused, so their connection
// pools, health state and circuit breakers survive reloads. The returned
// fresh list holds the upstreams this snapshot created (to start on publish,
// or to close when the snapshot is discarded).
func compile(cfg *config.Config, prev *Snapshot, gw Options) (s *Snapshot, fresh []*upstream.Upstream, err error) {
	o := upstream.Options{Logger: gw.Logger}
	var (
		acc   *access
		built *Snapshot // s itself is nil by the time a failed compile's defer runs
		// newTracer is the tracer this compile built, if any.
		newTracer *telemetry.Tracer
	)
	defer func() {
		if err != nil {
			for _, u := range fresh {
				u.Close()
			}
			fresh = nil
			acc.close()
			if built != nil {
				built.ai.Close()
			}
			if built != nil && built.freshRedis {
				built.redis.Close()
			}
			if newTracer != nil {
				shutdownTracer(newTracer, gw.Logger)
			}
		}
	}()
	var errs config.Errors
	fail := func(path string, format string, args ...any) {
		errs = append(errs, cfg.Errorf(path, format, args...))
	}

	s = &Snapshot{
		Config:      cfg,
		upstreams:   make(map[string]*upstream.Upstream, len(cfg.Upstreams)),
		upstreamCfg: make(map[string]config.Upstream, len(cfg.Upstreams)),
		byName:      make(map[string]*Route, len(cfg.Routes)),
		idHeader:    http.CanonicalHeaderKey(cfg.Gateway.RequestIDHeader),
		logCalls:    cfg.Gateway.CallLog.IsEnabled(),
		redactQuery: cfg.Gateway.CallLog.RedactsQuery(),
		keepInputs:  cfg.Explain.KeepInputs == nil || *cfg.Explain.KeepInputs,
		redaction:   redactionPolicy(cfg),
	}
	if s.idHeader == "" {
		s.idHeader = "X-Request-Id"
	}
	if s.disclosure, err = problem.ParseDisclosure(cfg.Gateway.Disclosure); err != nil {
		fail("gateway.disclosure", "%v", err)
	}

	trusted := make([]netip.Prefix, 0, len(cfg.Gateway.TrustedProxies))
	for i, t := range cfg.Gateway.TrustedProxies {
		p, perr := parsePrefix(t)
		if perr != nil {
			fail(fmt.Sprintf("gateway.trusted_proxies[%d]", i), "%v", perr)
			continue
		}
		trusted = append(trusted, p)
	}
	// The accept stage runs before routing, so it enforces the largest limit
	// any route allows; routes whose limits differ re-check after routing.
	entry := acceptLimits(cfg.Gateway.Limits)
	routeLimits := make([]accept.Limits, len(cfg.Routes))
	for i := range cfg.Routes {
		routeLimits[i] = acceptLimits(cfg.Gateway.Limits.Merge(cfg.Routes[i].Limits))
		entry = widest(entry, routeLimits[i])
	}
	var sample func([16]byte) bool
	if s.tracer, s.freshTracer, err = tracerFor(cfg, prev, gw); err != nil {
		fail("telemetry.tracing", "%v", err)
	} else if s.tracer != nil {
		sample = s.tracer.Sample
		if s.freshTracer {
			newTracer = s.tracer
		}
	}
	s.accept, err = accept.New(accept.Config{
		TrustedProxies:  trusted,
		RequestIDHeader: s.idHeader,
		ForwardedHeader: cfg.Gateway.ForwardedHeader,
		Limits:          entry,
		SampleTrace:     sample,
	})
	if err != nil {
		fail("gateway", "%v", err)
	}

	for i, uc := range cfg.Upstreams {
		if prev != nil {
			if old, ok := prev.upstreams[uc.Name]; ok && reflect.DeepEqual(prev.upstreamCfg[uc.Name], uc) {
				s.upstreams[uc.Name], s.upstreamCfg[uc.Name] = old, uc
				continue
			}
		}
		u, uerr := upstream.New(uc, o)
		if uerr != nil {
			fail(fmt.Sprintf("upstreams[%d]", i), "%v", uerr)
			continue
		}
		fresh = append(fresh, u)
		s.upstreams[uc.Name], s.upstreamCfg[uc.Name] = u, uc
	}

	built = s
	if s.redis, s.freshRedis, err = redisFor(cfg.Redis, prev); err != nil {
		fail("redis.url", "%v", err)
	}

	var prevAccess *access
	if prev != nil {
		prevAccess = prev.access
	}
	acc, aerrs := compileAccess(cfg, prevAccess, gw.Identities, gw)
	errs = append(errs, aerrs...)
	s.access = acc

	var werrs config.Errors
	s.firewall, werrs = compileFirewall(cfg, gw.counters.waf)
	errs = append(errs, werrs...)

	var aerrs2 config.Errors
	s.ai, aerrs2 = ai.New(cfg, ai.Deps{Meter: gw.AIMeter, Usage: gw.AIUsage, Metrics: gw.AIMetrics, LookupEnv: lookupEnvOr(gw.LookupEnv), Transport: gw.AITransport})
	errs = append(errs, aerrs2...)

	table := make([]router.Route[*Route], 0, len(cfg.Routes))
	for i := range cfg.Routes {
		rc := &cfg.Routes[i]
		rt, rerr := compileRoute(rc, routeLimits[i], entry, s.upstreams[rc.Upstream], s.idHeader)
		if rerr != nil {
			fail(fmt.Sprintf("routes[%d]", i), "%v", rerr)
			continue
		}
		ws, werrs := wafStage(cfg, i, s.firewall)
		errs = append(errs, werrs...)
		stages, serrs := acc.routeStages(cfg, i, routeLimits[i].MaxBodyBytes, ws)
		errs = append(errs, serrs...)
		rt.stages = stages
		if rc.AI != nil && s.ai != nil {
			rt.ai = s.ai.Endpoint(rc.Name, rc.AI, routeLimits[i].MaxBodyBytes)
		}
		errs = append(errs, compileProtection(cfg, i, rt, s, gw)...)
		if rc.CORS != nil {
			rt.forward.Response = rt.forward.Response.WithRemoved(corsHeaders)
			rt.cors = true
		}
		table = append(table, router.Route[*Route]{Hosts: rc.Hosts, Paths: rc.Paths, Methods: rc.Methods, Value: rt})
		s.byName[rc.Name] = rt
	}
	if len(errs) == 0 {
		if s.routes, err = router.New(table); err != nil {
			fail("routes", "%v", err)
		}
	}
	if len(errs) > 0 {
		return nil, fresh, errs
	}
	return s, fresh, nil
}

// release closes the upstreams of old that next no longer uses.
func release(old, next *Snapshot) {
	if old == nil {
		return
	}
	for name, u := range old.upstreams {
		if next == nil || next.upstreams[name] != u {
			u.Close()
		}
	}
	if old.ai != nil {
		// Streams still running on old keep their provider connections.
		time.AfterFunc(old.longestAITimeout(), old.ai.Close)
	}
	if t := old.tracer; t != nil && (next == nil || next.tracer != t) {
		if next == nil {
			shutdownTracer(t, slog.Default())
		} else {
			// Requests still running on old end their spans on it.
			time.AfterFunc(old.longestTimeout(), func() { shutdownTracer(t, slog.Default()) })
		}
	}
	var nextAccess *access
	if next != nil {
		nextAccess = next.access
	}
	if next == nil {
		old.access.retire(nil)
		retireRedis(old, nil)
		return
	}
	// Requests still running on old may be waiting on an authenticator
	// (an introspection call): stop the retired ones only after the
	// longest upstream timeout of old, when those requests are over.
	time.AfterFunc(old.longestTimeout(), func() {
		old.access.retire(nextAccess)
		retireRedis(old, next)
	})
}

// longestTimeout is the longest route timeout of s (at least a second).
func (s *Snapshot) longestTimeout() time.Duration {
	d := time.Second
	for _, r := range s.Config.Routes {
		d = max(d, r.Timeout.Or(30*time.Second))
	}
	return d
}

func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is neither an IP address nor a CIDR", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// longestAITimeout bounds how long a call on s may still run after s
// was replaced: the longest provider timeout, plus a stream's idle
// allowance, at least a minute.
func (s *Snapshot) longestAITimeout() time.Duration {
	d := time.Minute
	for _, p := range s.Config.AI.Providers {
		d = max(d, p.Timeout.Or(60*time.Second)+p.StreamIdleTimeout.Or(30*time.Second))
	}
	return d
}

func lookupEnvOr(f func(string) (string, bool)) func(string) (string, bool) {
	if f != nil {
		return f
	}
	return os.LookupEnv
}
