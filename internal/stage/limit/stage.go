// Package limit is pipeline stage 9: the route's rate limits
// (routes[].rate_limits, GCRA) and calendar quotas (routes[].quotas).
//
// A request must fit every rate limit and quota of its route, and one that
// is refused is counted in none of them. The stage decides in up to three
// steps, cheapest first:
//
//  1. The rate limits with store: local are checked and charged together
//     in the node-local store (gcra.Store.Take locks their shards and
//     charges only when all fit).
//  2. The quotas with store: local are checked and counted together
//     (quota.Counter.Take, the same way).
//  3. Every rate limit and quota with store: redis is decided by one Lua
//     script in one round trip, which also charges all or none.
//
// A refusal at step 1 stops there. A refusal at step 2 or 3 gives back
// what the earlier steps charged (gcra.Store.Return, quota.Counter.Return);
// a concurrent request may have seen those charges meanwhile, so the error
// is towards refusing, never towards admitting more than a limit allows.
// So a request refused by a rate limit consumes no quota, and one refused
// by a quota consumes no rate-limit tokens. Rate limits go first because
// they are the cheap check that also shields the quota store from floods;
// when several limits of one step refuse, the answer names the one whose
// wait is longest, so that the client's Retry-After is not too short.
//
// When Redis cannot be reached (or answered an error less than a second
// ago, see redislimit.Backoff), each store: redis limit takes its
// on_store_error choice: fail_open rate limits are decided by this node's
// local store meanwhile (the cluster then admits up to nodes × rate),
// fail_open quotas admit the request uncounted, and fail_closed ones
// refuse with 503 ratelimit.unavailable or quota.unavailable. The trace
// and the Observer say so.
//
// Limits and quotas in report_only mode are checked and traced (would_deny)
// but refuse nothing; a report_only rate limit that does not fit is not
// charged, so its would-deny count is what enforcing it would refuse.
//
// Every answer, allowed or refused, carries RateLimit-Policy (every rate
// limit of the route), RateLimit and X-RateLimit-Limit/-Remaining/-Reset
// (the most constrained limit, or the one that refused) per
// draft-ietf-httpapi-ratelimit-headers: q is the burst, w the seconds a
// full burst takes to refill, r the requests that fit now and t the
// seconds until the whole burst is back. Refusals add Retry-After.
package limit

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/limit/gcra"
	"github.com/pinpointgw/pinpoint/internal/stage/limit/quota"
	"github.com/pinpointgw/pinpoint/internal/stage/limit/redislimit"
)

const stageName = "limit"

// Stage is the limit stage of one route. It is safe for concurrent use.
type Stage struct {
	route   string
	rates   []rateLimit
	quotas  []quotaLimit
	local   *gcra.Store
	counter *quota.Counter
	redis   *redislimit.Store // nil without store: redis limits
	obs     Observer
	clock   func() time.Time
	// policy is the RateLimit-Policy value, shared by every answer and
	// never modified.
	policy   []string
	passRule string
	// nLocalRates and nLocalQuotas count the store: local ones.
	nLocalRates, nLocalQuotas int
	// pool holds *request values sized for this route.
	pool sync.Pool
}

var _ pipeline.Stage = (*Stage)(nil)

// New builds the limit stage of route from its rate_limits and quotas
// (defaults applied or not: an empty field takes its default). It returns
// nil (and no error) when both are empty, and the gateway leaves the stage
// out of the chain. Errors are config.FieldErrors with paths relative to
// the route ("rate_limits[1].rate"), joined.
func New(route string, limits []config.RateLimit, quotas []config.Quota, deps Deps) (*Stage, error) {
	if len(limits) == 0 && len(quotas) == 0 {
		return nil, nil
	}
	s := &Stage{route: route, local: deps.Rates, counter: deps.Quotas, obs: deps.Observer, clock: deps.Clock}
	if s.clock == nil {
		s.clock = time.Now
	}
	var errs []error
	redisAt := "" // the first limit or quota with store: redis
	for i := len(quotas) - 1; i >= 0; i-- {
		if quotas[i].Store == "redis" {
			redisAt = "quotas[" + strconv.Itoa(i) + "].store"
		}
	}
	for i := len(limits) - 1; i >= 0; i-- {
		if limits[i].Store == "redis" {
			redisAt = "rate_limits[" + strconv.Itoa(i) + "].store"
		}
	}
	switch {
	case len(limits) > 0 && deps.Rates == nil:
		return nil, errors.New("limit: Deps.Rates is required for rate limits")
	case redisAt != "" && deps.Redis == nil:
		errs = append(errs, config.Fieldf(redisAt, `store "redis" needs the top-level redis block (redis: {url: …})`))
	case redisAt != "":
		s.redis = redislimit.New(deps.Redis)
	}
	names := map[string]string{}
	unique := func(at, name string) {
		if name == "" {
			return
		}
		if first, dup := names[name]; dup {
			errs = append(errs, config.Fieldf(at+".name", "duplicate rate limit or quota name %q (also %s)", name, first))
		}
		names[name] = at
	}
	var policy []string
	var rules []string
	for i := range limits {
		l, err := compileRate(route, i, &limits[i], deps.Rates)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		unique("rate_limits["+strconv.Itoa(i)+"]", l.name)
		if !l.redis {
			s.nLocalRates++
		}
		s.rates = append(s.rates, l)
		policy = append(policy, l.policy)
		rules = append(rules, l.rule)
	}
	for i := range quotas {
		q, err := compileQuota(route, i, &quotas[i])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		unique("quotas["+strconv.Itoa(i)+"]", q.name)
		if !q.redis {
			s.nLocalQuotas++
		}
		s.quotas = append(s.quotas, q)
		rules = append(rules, q.rule)
	}
	if s.nLocalQuotas > 0 && deps.Quotas == nil {
		return nil, errors.New("limit: Deps.Quotas is required for quotas with store: local")
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(policy) > 0 {
		v := strings.Join(policy, ", ")
		s.policy = []string{v}
	}
	s.passRule = strings.Join(rules, ", ")
	s.pool.New = s.newRequest
	return s, nil
}

// Name returns "limit".
func (s *Stage) Name() string { return stageName }

// Handle decides x against every rate limit and quota of the route; see
// the package documentation for the order and what is charged.
func (s *Stage) Handle(x *pipeline.Exchange) pipeline.Decision {
	r := s.pool.Get().(*request)
	r.init(s, x)
	d := r.decide()
	r.report(d)
	if d != nil && r.peek {
		d.Reason += peekNote
	}
	r.release()
	if d != nil {
		return pipeline.Deny(d)
	}
	return pipeline.Continue()
}
