package limit

import (
	"context"
	"time"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/limit/gcra"
	"github.com/pinpointgw/pinpoint/internal/stage/limit/quota"
	"github.com/pinpointgw/pinpoint/internal/stage/limit/redislimit"
)

// status is how a limit's decision went for one request.
type status uint8

const (
	notChecked  status = iota // an earlier step refused the request
	decided                   // decided by its own store
	fellBack                  // Redis failed; decided by the local store
	unavailable               // Redis failed and the limit fails closed
	uncounted                 // Redis failed; quota admitted uncounted
)

// rateRun is one rate limit's part of a request.
type rateRun struct {
	who     caller
	st      status
	fits    bool
	charged bool
	tat     int64
	batch   int // index in the local or fallback batch
}

// quotaRun is one quota's part of a request.
type quotaRun struct {
	who     caller
	st      status
	fits    bool
	charged bool
	loaded  bool
	used    int64
	limit   int64
	plan    string // the caller's plan when it has a listed one
	win     quota.Window
	batch   int
}

// request is the state of one Handle call. Requests are pooled per stage
// with slices sized for the route, so that deciding allocates nothing
// (the RateLimit headers cost two allocations).
type request struct {
	s     *Stage
	x     *pipeline.Exchange
	ctx   context.Context
	now   time.Time
	ns    int64
	rates []rateRun
	quots []quotaRun
	lreq  []gcra.Request // the store: local rate limits
	qitem []quota.Item   // the store: local quotas
	fb    []gcra.Request // the store: redis rate limits decided locally
	notes []string       // the pass step's notes
	// redisErr is the Redis failure when a step fell back.
	redisErr error
	// peek is set for a simulated request: every store is read, none is
	// charged (see pipeline.Simulation).
	peek bool
}

func (s *Stage) newRequest() any {
	n := len(s.rates) + len(s.quotas)
	return &request{
		rates: make([]rateRun, 0, len(s.rates)),
		quots: make([]quotaRun, 0, len(s.quotas)),
		lreq:  make([]gcra.Request, 0, s.nLocalRates),
		qitem: make([]quota.Item, 0, s.nLocalQuotas),
		fb:    make([]gcra.Request, 0, len(s.rates)-s.nLocalRates),
		notes: make([]string, 0, 2*n),
	}
}

// release returns r to the pool. The per-limit entries are overwritten
// by the next request; only the exchange and what hangs off it are let go
// now.
func (r *request) release() {
	s := r.s
	r.x, r.ctx, r.redisErr, r.peek = nil, nil, nil, false
	r.rates, r.quots, r.lreq, r.qitem, r.fb, r.notes = r.rates[:0], r.quots[:0], r.lreq[:0], r.qitem[:0], r.fb[:0], r.notes[:0]
	s.pool.Put(r)
}

func (r *request) init(s *Stage, x *pipeline.Exchange) {
	r.s, r.x = s, x
	r.peek = x.Simulation != nil
	r.now = s.clock()
	r.ns = r.now.UnixNano()
	for i := range s.rates {
		l := &s.rates[i]
		rr := rateRun{who: l.key.resolve(x), batch: -1}
		if !l.redis {
			rr.batch = len(r.lreq)
			r.lreq = append(r.lreq, gcra.Request{Key: rr.who.localKey(s.local, l.localID), Limit: l.limit, Enforce: l.enforce})
		}
		r.rates = append(r.rates, rr)
	}
	for i := range s.quotas {
		q := &s.quotas[i]
		qr := quotaRun{who: q.key.resolve(x), batch: -1, win: q.period.At(r.now), limit: q.limit}
		if id := &x.Identity; id.Authenticated && qr.who.kind != kindIP && len(q.plans) > 0 {
			if plan := id.Metadata[q.planField]; plan != "" {
				if n, ok := q.plans[plan]; ok {
					qr.limit, qr.plan = n, plan
				}
			}
		}
		if !q.redis {
			qr.batch = len(r.qitem)
			r.qitem = append(r.qitem, quota.Item{Ref: quotaRef(s.route, q, qr.who, qr.win), Limit: qr.limit, Enforce: q.enforce})
		}
		r.quots = append(r.quots, qr)
	}
}

func quotaRef(route string, q *quotaLimit, who caller, win quota.Window) quota.Ref {
	return quota.Ref{Route: route, Quota: q.name, Kind: kindNames[who.kind], ID: who.storedID(), Period: win.Start}
}

// decide runs the three steps and returns the refusal, or nil.
func (r *request) decide() *pipeline.Denial {
	s := r.s
	if len(r.lreq) > 0 {
		var ok bool
		if r.peek {
			ok = s.local.Peek(r.ns, r.lreq)
		} else {
			ok = s.local.Take(r.ns, r.lreq)
		}
		r.readLocal()
		if !ok {
			return r.refusal()
		}
	}
	if len(r.qitem) > 0 {
		if r.ctx == nil {
			r.ctx = r.x.Request.Context()
		}
		var ok bool
		if r.peek {
			ok = s.counter.Peek(r.ctx, r.qitem)
		} else {
			ok = s.counter.Take(r.ctx, r.qitem)
		}
		r.readQuotas()
		if !ok {
			r.giveBack()
			return r.refusal()
		}
	}
	if len(r.lreq) < len(r.rates) || len(r.qitem) < len(r.quots) {
		if d := r.remote(); d != nil {
			r.giveBack()
			return d
		}
	}
	return nil
}

// readLocal copies the local store's decisions to the rate limits.
func (r *request) readLocal() {
	for i := range r.rates {
		rr := &r.rates[i]
		if r.s.rates[i].redis || rr.batch < 0 {
			continue
		}
		q := &r.lreq[rr.batch]
		rr.st, rr.fits, rr.charged, rr.tat = decided, q.Fits, q.Charged, q.TAT
	}
}

func (r *request) readQuotas() {
	for i := range r.quots {
		qr := &r.quots[i]
		if r.s.quotas[i].redis {
			continue
		}
		it := &r.qitem[qr.batch]
		qr.st, qr.fits, qr.charged, qr.used, qr.loaded = decided, it.Fits, it.Charged, it.Used, it.Loaded
	}
}

// giveBack returns what the local steps charged, for a refused request.
func (r *request) giveBack() {
	if r.peek {
		gcra.Unpeek(r.lreq)
		quota.Unpeek(r.qitem)
		r.readLocal()
		r.readQuotas()
		return
	}
	if len(r.lreq) > 0 {
		r.s.local.Return(r.lreq)
		r.readLocal()
	}
	if len(r.qitem) > 0 {
		r.s.counter.Return(r.qitem)
		r.readQuotas()
	}
}

// remote decides the store: redis limits and quotas in one round trip, or
// takes their on_store_error choice when Redis fails.
func (r *request) remote() *pipeline.Denial {
	s := r.s
	rates := make([]redislimit.Rate, 0, len(r.rates)-len(r.lreq))
	quots := make([]redislimit.Quota, 0, len(r.quots)-len(r.qitem))
	for i := range r.rates {
		l, rr := &s.rates[i], &r.rates[i]
		if !l.redis {
			continue
		}
		rr.batch = len(rates)
		rates = append(rates, redislimit.Rate{Key: s.redis.RateKey(l.stableID, kindNames[rr.who.kind], rr.who.storedID()),
			Interval: l.limit.Interval, Burst: l.limit.Burst, Enforce: l.enforce})
	}
	for i := range r.quots {
		q, qr := &s.quotas[i], &r.quots[i]
		if !q.redis {
			continue
		}
		qr.batch = len(quots)
		quots = append(quots, redislimit.Quota{Key: s.redis.QuotaKey(q.stableID, kindNames[qr.who.kind], qr.who.storedID(), qr.win.Start),
			Limit: qr.limit, End: qr.win.End, Enforce: q.enforce})
	}
	if r.ctx == nil {
		r.ctx = r.x.Request.Context()
	}
	take := s.redis.Take
	if r.peek {
		take = s.redis.Peek
	}
	ok, err := take(r.ctx, r.now, rates, quots)
	if err != nil {
		r.redisErr = err
		return r.fallback()
	}
	for i := range r.rates {
		if l, rr := &s.rates[i], &r.rates[i]; l.redis {
			v := &rates[rr.batch]
			rr.st, rr.fits, rr.charged, rr.tat = decided, v.Fits, ok && v.Fits, v.TAT
		}
	}
	for i := range r.quots {
		if q, qr := &s.quotas[i], &r.quots[i]; q.redis {
			v := &quots[qr.batch]
			qr.st, qr.fits, qr.charged, qr.used, qr.loaded = decided, v.Fits, ok, v.Used, true
		}
	}
	if !ok {
		return r.refusal()
	}
	return nil
}

// fallback applies on_store_error to every store: redis limit and quota
// after Redis failed: fail_closed ones are unavailable, fail_open rate
// limits are decided together by the local store, fail_open quotas admit
// uncounted.
func (r *request) fallback() *pipeline.Denial {
	s := r.s
	closed := false
	batch := r.fb[:0]
	for i := range r.rates {
		l, rr := &s.rates[i], &r.rates[i]
		if !l.redis {
			continue
		}
		if l.failClosed {
			rr.st = unavailable
			closed = closed || l.enforce
			continue
		}
		rr.st, rr.batch = fellBack, len(batch)
		batch = append(batch, gcra.Request{Key: rr.who.localKey(s.local, l.localID), Limit: l.limit, Enforce: l.enforce})
	}
	for i := range r.quots {
		q, qr := &s.quotas[i], &r.quots[i]
		if !q.redis {
			continue
		}
		if q.failClosed {
			qr.st = unavailable
			closed = closed || q.enforce
			continue
		}
		qr.st, qr.fits = uncounted, true
	}
	if closed {
		for i := range r.rates {
			if r.rates[i].st == fellBack {
				r.rates[i].st = notChecked
			}
		}
		return r.refusal()
	}
	r.fb = batch
	ok := len(batch) == 0
	switch {
	case ok:
	case r.peek:
		ok = s.local.Peek(r.ns, batch)
	default:
		ok = s.local.Take(r.ns, batch)
	}
	for i := range r.rates {
		if rr := &r.rates[i]; rr.st == fellBack {
			q := &batch[rr.batch]
			rr.fits, rr.charged, rr.tat = q.Fits, q.Charged, q.TAT
		}
	}
	if !ok {
		return r.refusal()
	}
	return nil
}

// checked reports whether a decision was made for the limit.
func (st status) checked() bool { return st == decided || st == fellBack }
