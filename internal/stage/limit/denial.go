package limit

import (
	"net/http"
	"strconv"
	"time"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// refusal picks the denial of a refused request: of the enforced limits
// and quotas that did not fit, the one with the longest wait; failing
// that, one that was unavailable.
func (r *request) refusal() *pipeline.Denial {
	s := r.s
	best := time.Duration(-1)
	rate, quota := -1, -1
	for i := range r.rates {
		l, rr := &s.rates[i], &r.rates[i]
		if !l.enforce || !rr.st.checked() || rr.fits {
			continue
		}
		if w := l.limit.State(rr.tat, r.ns).RetryAfter; w > best {
			best, rate, quota = w, i, -1
		}
	}
	for i := range r.quots {
		q, qr := &s.quotas[i], &r.quots[i]
		if !q.enforce || qr.st != decided || qr.fits {
			continue
		}
		if w := qr.win.End.Sub(r.now); w > best {
			best, rate, quota = w, -1, i
		}
	}
	switch {
	case rate >= 0:
		return r.rateDenial(rate)
	case quota >= 0:
		return r.quotaDenial(quota)
	}
	for i := range r.rates {
		if s.rates[i].enforce && r.rates[i].st == unavailable {
			return r.rateUnavailable(i)
		}
	}
	for i := range r.quots {
		if s.quotas[i].enforce && r.quots[i].st == unavailable {
			return r.quotaUnavailable(i)
		}
	}
	// Unreachable: every refusing path has a refusing limit.
	return &pipeline.Denial{Code: "ratelimit.unavailable", Stage: stageName, Rule: s.passRule,
		Params: map[string]string{"limit": s.passRule}, Reason: "the limit stage refused without a refusing limit"}
}

// ceilSeconds is d in whole seconds, rounded up.
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

func (r *request) rateDenial(i int) *pipeline.Denial {
	l := &r.s.rates[i]
	retry := strconv.FormatInt(max(1, ceilSeconds(l.limit.State(r.rates[i].tat, r.ns).RetryAfter)), 10)
	return &pipeline.Denial{
		Code:   "ratelimit.exceeded",
		Stage:  stageName,
		Rule:   l.rule,
		Params: map[string]string{"limit": l.name, "rate": l.rate, "retry_after": retry},
		Header: http.Header{"Retry-After": {retry}},
		Reason: r.rateReason(i),
	}
}

// rateReason explains a rate limit's refusal to the operator.
func (r *request) rateReason(i int) string {
	l, rr := &r.s.rates[i], &r.rates[i]
	st := l.limit.State(rr.tat, r.ns)
	msg := "rate limit " + l.name + " (" + l.shape + ", store " + storeName(l.redis) + ") refused " + rr.who.describe() +
		": the next request fits in " + st.RetryAfter.Round(time.Millisecond).String()
	if rr.st == fellBack {
		msg += " (redis unavailable: decided by this node's local count; " + r.redisErr.Error() + ")"
	}
	return msg
}

func (r *request) quotaDenial(i int) *pipeline.Denial {
	q, qr := &r.s.quotas[i], &r.quots[i]
	retry := strconv.FormatInt(max(1, ceilSeconds(qr.win.End.Sub(r.now))), 10)
	return &pipeline.Denial{
		Code:  "quota.exceeded",
		Stage: stageName,
		Rule:  q.rule,
		Params: map[string]string{
			"quota":  q.name,
			"limit":  strconv.FormatInt(qr.limit, 10),
			"period": q.period.Kind(),
			"reset":  qr.win.End.Format(time.RFC3339),
		},
		Header: http.Header{"Retry-After": {retry}},
		Reason: r.quotaReason(i),
	}
}

// quotaReason explains a quota's refusal to the operator.
func (r *request) quotaReason(i int) string {
	q, qr := &r.s.quotas[i], &r.quots[i]
	limit := strconv.FormatInt(qr.limit, 10) + " per " + q.period.Kind()
	switch {
	case qr.plan != "":
		limit = "plan " + qr.plan + ": " + limit
	case len(q.plans) > 0 && qr.limit == 0:
		limit = "no limit: the caller has no plan listed in plans and the quota has no default limit"
	case len(q.plans) > 0:
		limit = "default " + limit + " (the caller has no listed plan)"
	}
	msg := "quota " + q.name + " (" + limit + ", " + q.period.Location().String() + ", store " + storeName(q.redis) + ") used up by " +
		qr.who.describe() + ": " + strconv.FormatInt(qr.used, 10) + " of " + strconv.FormatInt(qr.limit, 10) +
		" used in the period " + qr.win.Start.Format(time.RFC3339) + " to " + qr.win.End.Format(time.RFC3339)
	if !qr.loaded {
		msg += " (the store could not be read: counted by this node only)"
	}
	return msg
}

func (r *request) rateUnavailable(i int) *pipeline.Denial {
	l := &r.s.rates[i]
	return &pipeline.Denial{
		Code:   "ratelimit.unavailable",
		Stage:  stageName,
		Rule:   l.rule,
		Params: map[string]string{"limit": l.name},
		Header: http.Header{"Retry-After": {"1"}},
		Reason: "rate limit " + l.name + " has store: redis with on_store_error: fail_closed, and Redis failed: " + r.redisErr.Error(),
	}
}

func (r *request) quotaUnavailable(i int) *pipeline.Denial {
	q := &r.s.quotas[i]
	return &pipeline.Denial{
		Code:   "quota.unavailable",
		Stage:  stageName,
		Rule:   q.rule,
		Params: map[string]string{"quota": q.name},
		Header: http.Header{"Retry-After": {"1"}},
		Reason: "quota " + q.name + " has store: redis with on_store_error: fail_closed, and Redis failed: " + r.redisErr.Error(),
	}
}

func storeName(redis bool) string {
	if redis {
		return "redis"
	}
	return "local"
}
