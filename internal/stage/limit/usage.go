package limit

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/stage/limit/quota"
)

// QuotaUsage is how much of one quota one caller has used in one period:
// what `pinpoint quotas usage` and the admin API show.
type QuotaUsage struct {
	Route string `json:"route"`
	Quota string `json:"quota"`
	// Key is the caller: "consumer:c_123", "tenant:t_1",
	// "credential:pp_live_k7f3", or "ip:192.0.2.7" for unauthenticated
	// callers.
	Key string `json:"key"`
	// Store is "local" or "redis".
	Store string `json:"store"`
	// Period is the start of the period, Reset its end (both UTC).
	Period time.Time `json:"period"`
	Reset  time.Time `json:"reset"`
	// Used is the count; for store: local it includes what this node has
	// not flushed yet.
	Used int64 `json:"used"`
	// Limit is the caller's limit: its plan's, or the quota's default.
	Limit int64 `json:"limit"`
	// Plan is the plan the limit comes from ("" for the default).
	Plan string `json:"plan,omitempty"`
}

// ErrUnknownQuota is returned by QuotaUsage for a quota the route does not
// have.
var ErrUnknownQuota = errors.New("the route has no such quota")

// QuotaNames lists the route's quotas in config order.
func (s *Stage) QuotaNames() []string {
	names := make([]string, len(s.quotas))
	for i := range s.quotas {
		names[i] = s.quotas[i].name
	}
	return names
}

// QuotaUsage returns how much the caller key (see QuotaUsage.Key) has
// used of the route's quota named name in the period that holds at (zero:
// now). plan is the caller's plan, the value of its consumer's plan_field
// metadata ("" or an unlisted plan: the default limit).
func (s *Stage) QuotaUsage(ctx context.Context, name, key, plan string, at time.Time) (QuotaUsage, error) {
	var q *quotaLimit
	for i := range s.quotas {
		if s.quotas[i].name == name {
			q = &s.quotas[i]
		}
	}
	if q == nil {
		return QuotaUsage{}, fmt.Errorf("%w: %q (route %s has %s)", ErrUnknownQuota, name, s.route, strings.Join(s.QuotaNames(), ", "))
	}
	who, err := parseCaller(key)
	if err != nil {
		return QuotaUsage{}, err
	}
	if at.IsZero() {
		at = s.clock()
	}
	win := q.period.At(at)
	u := QuotaUsage{Route: s.route, Quota: q.name, Key: kindNames[who.kind] + ":" + who.storedID(),
		Store: storeName(q.redis), Period: win.Start, Reset: win.End, Limit: q.limit}
	if n, ok := q.plans[plan]; ok && plan != "" {
		u.Limit, u.Plan = n, plan
	}
	if q.redis {
		u.Used, err = s.redis.Used(ctx, s.redis.QuotaKey(q.stableID, kindNames[who.kind], who.storedID(), win.Start))
	} else {
		u.Used, err = s.counter.Usage(ctx, quotaRef(s.route, q, who, quota.Window{Start: win.Start}))
	}
	return u, err
}

// parseCaller reads a caller key as QuotaUsage.Key shows it.
func parseCaller(key string) (caller, error) {
	k, id, ok := strings.Cut(key, ":")
	if !ok || id == "" {
		return caller{}, fmt.Errorf(`invalid caller %q: write KIND:ID, e.g. "consumer:c_123" or "ip:192.0.2.7"`, key)
	}
	switch k {
	case "consumer":
		return caller{kind: kindConsumer, id: id}, nil
	case "tenant":
		return caller{kind: kindTenant, id: id}, nil
	case "credential":
		return caller{kind: kindCredential, id: id}, nil
	case "ip":
		a, err := netip.ParseAddr(id)
		if err != nil {
			return caller{}, fmt.Errorf("invalid caller %q: %v", key, err)
		}
		return caller{kind: kindIP, ip: a.Unmap()}, nil
	}
	return caller{}, fmt.Errorf(`invalid caller %q: the kind is consumer, tenant, credential or ip`, key)
}
