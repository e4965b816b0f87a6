package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/idempotency"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/redisconn"
	"github.com/pinpointgw/pinpoint/internal/stage/limit"
	"github.com/pinpointgw/pinpoint/internal/stage/limit/gcra"
	"github.com/pinpointgw/pinpoint/internal/stage/limit/quota"
	"github.com/pinpointgw/pinpoint/internal/stage/validate"
	"github.com/pinpointgw/pinpoint/internal/stage/waf"
	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/telemetry"
)

// counters is the traffic-protection state every revision shares, so a
// reload keeps everybody's counts: the node-local rate-limit store and the
// quota counter (created when a revision first needs it, closed by
// Gateway.Close after the last request).
type counters struct {
	rates *gcra.Store
	// waf caches WAF engines (a CRS build takes ~100 ms) by settings.
	waf *waf.Engines

	mu     sync.Mutex
	quotas *quota.Counter
	st     store.Quotas
	log    *slog.Logger
}

func newCounters(st store.Quotas, log *slog.Logger) *counters {
	return &counters{rates: gcra.NewStore(), waf: waf.NewEngines(log), st: st, log: log}
}

// quotaCounter returns the shared quota counter, starting it on first use.
func (c *counters) quotaCounter() *quota.Counter {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.quotas == nil && c.st != nil {
		c.quotas = quota.NewCounter(c.st, quota.Options{Logger: c.log})
	}
	return c.quotas
}

// close flushes and stops the quota counter.
func (c *counters) close() {
	c.mu.Lock()
	q := c.quotas
	c.quotas = nil
	c.mu.Unlock()
	_ = c.waf.Close()
	if q != nil {
		if err := q.Close(); err != nil {
			c.log.Error("quota counts not persisted at shutdown", "error", err)
		}
	}
}

// limitObserver counts limit decisions and Redis fallbacks.
type limitObserver struct{ m *telemetry.Metrics }

func (o limitObserver) StoreFallback(route, limit string) { o.m.LimitFallback(route, limit, "local") }

func (o limitObserver) Decision(route, limit, outcome string) {
	if outcome == "error" {
		o.m.LimitFallback(route, limit, "fail_closed")
	}
}

// compileFirewall builds the revision's WAF when any route runs it.
func compileFirewall(cfg *config.Config, engines *waf.Engines) (*waf.Firewall, config.Errors) {
	used := false
	for i := range cfg.Routes {
		used = used || cfg.WAF.RouteEnabled(cfg.Routes[i].WAF)
	}
	if !used {
		return nil, nil
	}
	fw, err := engines.Compile(&cfg.WAF)
	if err != nil {
		return nil, cfg.BlockErrors("waf", err)
	}
	return fw, nil
}

// wafStage builds route i's waf stage; nil when the WAF does not run there.
func wafStage(cfg *config.Config, i int, fw *waf.Firewall) (pipeline.Stage, config.Errors) {
	if fw == nil {
		return nil, nil
	}
	s, err := fw.Stage(cfg.Routes[i].WAF)
	if err != nil {
		return nil, cfg.BlockErrors(fmt.Sprintf("routes[%d].waf", i), err)
	}
	if s == nil {
		return nil, nil
	}
	return s, nil
}

// redisFor returns the Redis client for cfg's redis block (nil without
// one): prev's when the block did not change, so a reload keeps the pool,
// else a fresh one that the snapshot owns (closed by discard, or by
// release once a later snapshot stops using it).
func redisFor(c *config.Redis, prev *Snapshot) (cl *redisconn.Client, fresh bool, err error) {
	if c == nil {
		return nil, false, nil
	}
	if prev != nil && prev.redis != nil && prev.redis.Same(c) {
		return prev.redis, false, nil
	}
	cl, err = redisconn.Open(c)
	return cl, err == nil, err
}

// compileProtection builds a route's validate stage and idempotency gate.
func compileProtection(cfg *config.Config, i int, rt *Route, s *Snapshot, gw Options) config.Errors {
	rc := &cfg.Routes[i]
	path := fmt.Sprintf("routes[%d]", i)
	var errs config.Errors
	eff := cfg.Gateway.Limits.Merge(rc.Limits)

	if len(rc.RateLimits) > 0 || len(rc.Quotas) > 0 {
		deps := limit.Deps{Rates: gw.counters.rates, Redis: s.redis, Observer: limitObserver{gw.Metrics}}
		if len(rc.Quotas) > 0 {
			deps.Quotas = gw.counters.quotaCounter()
		}
		l, err := limit.New(rc.Name, rc.RateLimits, rc.Quotas, deps)
		switch {
		case err != nil:
			errs = append(errs, cfg.BlockErrors(path, err)...)
		case l != nil:
			rt.stages = append(rt.stages, l)
			rt.limit = l
		}
	}

	if rc.OpenAPI != nil || rc.Limits.MaxJSONDepth != 0 || rc.Limits.MaxJSONFieldBytes != 0 {
		v, err := validate.New(validate.Options{
			Route: rc.Name, OpenAPI: rc.OpenAPI, MaxBodyBytes: int64(eff.MaxBodyBytes),
			MaxJSONDepth: eff.MaxJSONDepth, MaxJSONFieldBytes: int64(eff.MaxJSONFieldBytes),
		})
		switch {
		case err != nil:
			errs = append(errs, cfg.BlockErrors(path+".openapi", err)...)
		case v != nil:
			rt.stages = append(rt.stages, v)
		}
	}

	if d := rc.Idempotency; d != nil {
		var st store.Idempotency = gw.Store
		if d.Store == "redis" {
			if s.redis == nil {
				errs = append(errs, cfg.Errorf(path+".idempotency.store", `store "redis" needs the top-level redis block`))
				return errs
			}
			st = idempotency.NewRedisStore(s.redis)
		}
		metrics := gw.Metrics
		g, err := idempotency.New(idempotency.Options{
			Route: rc.Name, Config: d, LockTimeout: rc.Timeout.Or(30 * time.Second),
			MaxBodyBytes: int64(eff.MaxBodyBytes), Store: st,
			Observer: func(route, op string, err error) { metrics.StoreError("idempotency", route, op) },
		})
		if err != nil {
			errs = append(errs, cfg.BlockErrors(path+".idempotency", err)...)
		} else {
			rt.idem = g
			rt.forward.KeyHeader = g.Header()
		}
	}
	return errs
}

// serveUpstream calls the route's upstream, through its idempotency gate
// when it has one (which may refuse, or replay a stored response instead).
// It returns the refusal to answer, if any.
func (g *Gateway) serveUpstream(st *state, rt *Route) (dn *pipeline.Denial) {
	x, rw := &st.x, &st.rw
	if rt.idem == nil {
		return rt.upstream.Serve(rw, x, &st.forward)
	}
	tx, d := rt.idem.Begin(x)
	switch {
	case d.Denial != nil:
		if d.Denial.Stage == "" {
			d.Denial.Stage = "idempotency"
		}
		return d.Denial
	case d.Answer != nil:
		writeAnswer(rw, d.Answer)
		return nil
	}
	failed := true
	// Deferred so that a panicking upstream call releases the key too.
	defer func() { tx.Finish(x.Request.Context(), failed) }()
	dn = rt.upstream.Serve(tx.Wrap(rw), x, &st.forward)
	failed = dn != nil
	return dn
}

// retireRedis closes old's Redis client when next does not use it.
func retireRedis(old, next *Snapshot) {
	if old == nil || old.redis == nil || (next != nil && next.redis == old.redis) {
		return
	}
	old.redis.Close()
}

// QuotaRetention is how long quota counters are kept after their period
// started: long enough to compare this month with the same month last year.
const QuotaRetention = 400 * 24 * time.Hour

// RunSweeper deletes expired idempotency records (every minute) and quota
// counters older than QuotaRetention (every hour) from the gateway's
// store, until ctx ends. Redis expires its own keys.
func (g *Gateway) RunSweeper(ctx context.Context) {
	if g.o.Store == nil {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		idempotency.Sweep(ctx, g.o.Store, idempotency.DefaultSweepEvery, nil, func(err error) {
			g.log.Warn("sweeping expired idempotency keys failed", "error", err)
		})
	}()
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		if _, err := g.o.Store.DeleteQuotaUsageBefore(ctx, time.Now().Add(-QuotaRetention)); err != nil && ctx.Err() == nil {
			g.log.Warn("deleting old quota counters failed", "error", err)
		}
		select {
		case <-ctx.Done():
			<-done
			return
		case <-tick.C:
		}
	}
}
