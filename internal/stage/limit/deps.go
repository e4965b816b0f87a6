package limit

import (
	"time"

	"github.com/pinpointgw/pinpoint/internal/redisconn"
	"github.com/pinpointgw/pinpoint/internal/stage/limit/gcra"
	"github.com/pinpointgw/pinpoint/internal/stage/limit/quota"
)

// Deps is what the limit stages of every route and every config revision
// share. The gateway creates the stores once and passes the same ones to
// each revision, so a reload does not reset anybody's count.
type Deps struct {
	// Rates is the node-local store of rate-limit counters. Required when
	// the route has rate limits (store: redis limits use it as their
	// fail_open fallback).
	Rates *gcra.Store
	// Quotas counts quotas with store: local. Required when the route has
	// one. The gateway closes it at shutdown.
	Quotas *quota.Counter
	// Redis is the connection for store: redis limits and quotas; nil when
	// the config has no redis block.
	Redis *redisconn.Client
	// Observer is told of decisions and Redis fallbacks, for metrics. Nil:
	// nobody.
	Observer Observer
	// Clock is the time source. Nil: time.Now.
	Clock func() time.Time
}

// Observer receives what the metrics count. Its methods are called on the
// request path and must be cheap and safe for concurrent use.
type Observer interface {
	// StoreFallback is called when a limit or quota with store: redis and
	// on_store_error: fail_open could not reach Redis: the rate limit was
	// decided by this node's local count, the quota admitted uncounted.
	StoreFallback(route, limit string)
	// Decision is called once per request for every rate limit and quota
	// of the route, with the outcome: "pass" (fit and counted), "deny" (it
	// refused the request), "would_deny" (report_only: it would have),
	// "skip" (not counted because another one refused the request), or
	// "error" (fail_closed and Redis unreachable).
	Decision(route, limit, outcome string)
}
