// Package meter keeps the token-rate and budget counters of the AI
// gateway's access rules (ai.access: tokens_per_minute, daily_budget_usd,
// monthly_budget_usd).
//
// A call reserves what it may use before it runs and settles what it did
// use when it ends:
//
//	res, ref := m.Reserve(limits, meter.Ask{Tokens: 1800, Cost: maxCost})
//	if ref != nil {
//		return refuse(ref) // 429, with ref.RetryAfter
//	}
//	defer func() { res.Settle(meter.Ask{Tokens: used, Cost: cost}) }()
//
// One Meter serves the whole process and every config revision: counters
// are keyed by rule name and caller key, so a reload that keeps a rule's
// name keeps its counts. Counters live in memory; spend survives a restart
// through Seed, from the usage records. Tokens per minute do not (a restart
// forgets at most one minute of tokens).
package meter

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pinpointgw/pinpoint/internal/ai/pricing"
)

// Kind is what a refusal ran out of.
type Kind string

const (
	// Tokens is the rule's tokens_per_minute.
	Tokens Kind = "tokens"
	// Daily is the rule's daily_budget_usd (a UTC day).
	Daily Kind = "daily"
	// Monthly is the rule's monthly_budget_usd (a UTC calendar month).
	Monthly Kind = "monthly"
)

// Limit is one access rule's caps for one caller.
type Limit struct {
	// Rule is the access rule's name.
	Rule string
	// Key is whose usage counts together under the rule: "consumer:<id>",
	// "tenant:<id>" or "credential:<id>" (the forms Seed reads from the
	// usage records), or any other string for a counter Seed never fills.
	Key string
	// TokensPerMinute caps tokens in any minute; 0: no cap.
	TokensPerMinute int64
	// Daily and Monthly cap the spend per UTC day and calendar month;
	// zero: no cap.
	Daily, Monthly pricing.Money
}

// Ask is what a call may use (to Reserve) or did use (to Settle).
// Negative values count as 0.
type Ask struct {
	// Tokens are prompt plus completion tokens. A call counts at most
	// 2^40 of them.
	Tokens int64
	// Cost is the call's price.
	Cost pricing.Money
}

// maxTokens bounds one call's tokens so that no sum of counters can
// overflow (2^23 calls of 2^40 tokens fit in an int64).
const maxTokens = 1 << 40

func (a Ask) clamp() Ask {
	a.Tokens = min(max(a.Tokens, 0), maxTokens)
	if a.Cost.Less(pricing.Money{}) {
		a.Cost = pricing.Money{}
	}
	return a
}

// Refusal says why Reserve refused a call: the first limit, by severity,
// that the call would break. A refusal reserves nothing.
type Refusal struct {
	// Rule and Key are the refusing limit's.
	Rule, Key string
	// Kind is the cap the call would break.
	Kind Kind
	// For Kind Tokens: the cap, the tokens counted in the last minute and
	// the tokens reserved by calls in flight.
	TokenLimit, TokensUsed, TokensReserved int64
	// For Kind Daily and Monthly: the budget, the spend of the period and
	// the cost reserved by calls in flight.
	Budget, Spent, Reserved pricing.Money
	// Ask is what the call asked for.
	Ask Ask
	// NeverFits is true when the ask alone is larger than the cap: the call
	// will be refused however long the caller waits.
	NeverFits bool
	// Reset is when the call may fit: when enough tokens have aged out of
	// the minute, or the next UTC midnight or first of the month for a
	// budget. Zero when NeverFits.
	Reset time.Time
	// RetryAfter is the time until Reset, at least one second; one second
	// when only calls in flight stand in the way (they may settle for less
	// than they reserved). Zero when NeverFits. Round it up for a
	// Retry-After header.
	RetryAfter time.Duration
}

// worse reports whether r should be reported rather than o: one that can
// never fit, then the one that lasts longer.
func (r *Refusal) worse(o *Refusal) bool {
	if r.NeverFits != o.NeverFits {
		return r.NeverFits
	}
	return !o.NeverFits && r.RetryAfter > o.RetryAfter
}

// Status is one limit's counters, for the admin API.
type Status struct {
	// Tokens are the tokens counted in the last minute; ReservedTokens
	// those reserved by calls in flight.
	Tokens, ReservedTokens int64
	// Daily and Monthly are the spend of the current UTC day and month,
	// seeded spend included; ReservedCost the cost reserved by calls in
	// flight.
	Daily, Monthly, ReservedCost pricing.Money
	// InFlight is the number of reserved calls not yet settled.
	InFlight int64
	// DailyReset and MonthlyReset are when the day's and month's spend
	// start again from zero.
	DailyReset, MonthlyReset time.Time
}

// shards is how many locks the counters are spread over; a call locks
// only the shards of its own limits.
const shards = 256

// sweepEvery is how often a shard drops idle counters, in seconds.
const sweepEvery = 60

// Meter holds every counter. It is safe for concurrent use; make one with
// New.
type Meter struct {
	now    func() time.Time
	hash   maphash.Seed
	seeded atomic.Pointer[seedSet]
	shards [shards]shard
}

// shard is a lock and the counters it guards, padded to a cache line so
// that two shards' locks never share one.
type shard struct {
	mu      sync.Mutex
	entries map[entryKey]*entry
	swept   int64 // unix second of the last sweep
	_       [40]byte
}

type entryKey struct{ rule, key string }

// New returns an empty Meter reading the time from now (time.Now when
// nil; tests pass a fake clock).
func New(now func() time.Time) *Meter {
	if now == nil {
		now = time.Now
	}
	m := &Meter{now: now, hash: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].entries = map[entryKey]*entry{}
	}
	return m
}

// shardOf returns the index of the shard that holds l's counter.
func (m *Meter) shardOf(l *Limit) uint16 {
	h := maphash.String(m.hash, l.Key) ^ maphash.String(m.hash, l.Rule)*0x9e3779b97f4a7c15
	return uint16(h % shards)
}

// Reservation is an admitted call's hold on its limits. Settle it once,
// when the call ends, whatever its outcome: until then its ask counts
// against every limit. A second Settle does nothing.
type Reservation struct {
	m     *Meter
	items []item   // one per distinct counter
	locks []uint16 // the items' shards, ascending, distinct
	// itemBuf and lockBuf hold items and locks for calls under up to
	// four limits, so that a reservation is one allocation.
	itemBuf [4]item
	lockBuf [4]uint16
}

// item is what a reservation holds on one counter.
type item struct {
	e      *entry
	shard  uint16
	tokens int64         // reserved tokens, 0 when the limit has no token cap
	cost   pricing.Money // reserved cost, 0 when the limit has no budget
}

// Reserve admits a call when its ask fits every limit: for each, the tokens
// counted in the last minute plus those reserved by calls in flight plus
// the ask are at most TokensPerMinute, and the same holds for the cost
// against the spend of the current UTC day (Daily) and month (Monthly).
// Admitted, the ask is reserved on every limit until Settle. Refused,
// nothing is reserved and the Refusal names the most binding limit.
//
// With no limits Reserve returns (nil, nil); Settle on nil does nothing.
// Reserve allocates only the Reservation once a caller's counters exist.
func (m *Meter) Reserve(limits []Limit, ask Ask) (*Reservation, *Refusal) {
	if len(limits) == 0 {
		return nil, nil
	}
	ask = ask.clamp()
	c := at(m.now())
	r := &Reservation{}
	r.items, r.locks = r.itemBuf[:0], r.lockBuf[:0]
	r.m = m
	for i := range limits {
		s := m.shardOf(&limits[i])
		r.items = append(r.items, item{shard: s})
		r.locks = insertSorted(r.locks, s)
	}
	m.lock(r.locks)
	seeds := m.seeded.Load()
	var (
		ref     Refusal
		refused bool
		n       int // distinct items so far
	)
	for i := range limits {
		l := &limits[i]
		e := m.shards[r.items[i].shard].get(l)
		if hasEntry(r.items[:n], e) {
			continue // the same rule and key twice
		}
		e.advance(c)
		it := item{e: e, shard: r.items[i].shard}
		if cand, ok := e.check(l, ask, c, seeds); !ok {
			if !refused || cand.worse(&ref) {
				ref, refused = cand, true
			}
		} else {
			if l.TokensPerMinute > 0 {
				it.tokens = ask.Tokens
			}
			if !l.Daily.IsZero() || !l.Monthly.IsZero() {
				it.cost = ask.Cost
			}
		}
		r.items[n] = it
		n++
	}
	r.items = r.items[:n]
	if !refused {
		for _, it := range r.items {
			it.e.reservedTokens += it.tokens
			it.e.reservedCost = it.e.reservedCost.Add(it.cost)
			it.e.inFlight++
		}
	}
	sweep := -1
	for _, s := range r.locks {
		if sh := &m.shards[s]; c.sec-sh.swept >= sweepEvery {
			sh.swept = c.sec
			sweep = int(s)
			break
		}
	}
	m.unlock(r.locks)
	if sweep >= 0 {
		m.sweep(sweep, c)
	}
	if refused {
		r.release()
		out := new(Refusal)
		*out = ref
		out.Ask = ask
		return nil, out
	}
	return r, nil
}

// Settle ends the call: it removes the reservation from every limit and
// counts what the call actually used, which may be more or less than it
// asked: its tokens in the minute window of now, its cost in the spend of
// today and this month. Settle on a nil Reservation does nothing, and so
// does a second Settle before the Reservation is reused.
func (r *Reservation) Settle(actual Ask) {
	if r == nil || r.m == nil {
		return
	}
	m := r.m
	actual = actual.clamp()
	c := at(m.now())
	m.lock(r.locks)
	for _, it := range r.items {
		e := it.e
		e.reservedTokens -= it.tokens
		e.reservedCost = e.reservedCost.Sub(it.cost)
		e.inFlight--
		e.advance(c)
		if actual.Tokens > 0 {
			e.addTokens(c.sec, actual.Tokens)
		}
		if !actual.Cost.IsZero() {
			e.daySpend = e.daySpend.Add(actual.Cost)
			e.monthSpend = e.monthSpend.Add(actual.Cost)
		}
	}
	m.unlock(r.locks)
	r.release()
}

// release empties r, so that a second Settle finds nothing to do.
func (r *Reservation) release() {
	r.m, r.items, r.locks = nil, nil, nil
}

// Usage returns l's counters now. It creates no counter.
func (m *Meter) Usage(l Limit) Status {
	c := at(m.now())
	seedDay, seedMonth := m.seeded.Load().spend(l.Key, c)
	st := Status{Daily: seedDay, Monthly: seedMonth, DailyReset: c.nextDay(), MonthlyReset: c.nextMonth()}
	sh := &m.shards[m.shardOf(&l)]
	sh.mu.Lock()
	if e := sh.entries[entryKey{l.Rule, l.Key}]; e != nil {
		e.advance(c)
		st.Tokens = e.tokens()
		st.ReservedTokens, st.ReservedCost, st.InFlight = e.reservedTokens, e.reservedCost, e.inFlight
		st.Daily = st.Daily.Add(e.daySpend)
		st.Monthly = st.Monthly.Add(e.monthSpend)
	}
	sh.mu.Unlock()
	return st
}

// lock takes the shard locks in ascending order, the one order every
// caller uses, so two calls never wait for each other in a cycle.
func (m *Meter) lock(locks []uint16) {
	for _, s := range locks {
		m.shards[s].mu.Lock()
	}
}

func (m *Meter) unlock(locks []uint16) {
	for _, s := range locks {
		m.shards[s].mu.Unlock()
	}
}

// get returns l's counter, creating it. The shard must be locked.
func (sh *shard) get(l *Limit) *entry {
	if e := sh.entries[entryKey{l.Rule, l.Key}]; e != nil {
		return e
	}
	e := new(entry)
	// Clone: the map outlives the request whose strings these may be.
	sh.entries[entryKey{strings.Clone(l.Rule), strings.Clone(l.Key)}] = e
	return e
}

// sweep drops a shard's idle counters: a counter with no call in flight
// gives back its minute window once no tokens are left in it, and is
// dropped once it also has no spend this month. A counter with spend this
// month is kept (about 100 bytes) so that its budgets hold until the
// month ends.
func (m *Meter) sweep(i int, c clock) {
	sh := &m.shards[i]
	sh.mu.Lock()
	for k, e := range sh.entries {
		if e.inFlight > 0 {
			continue
		}
		e.advance(c)
		if e.window != nil && e.window.sum == 0 {
			windows.Put(e.window)
			e.window = nil
		}
		if e.window == nil && e.monthSpend.IsZero() && e.daySpend.IsZero() {
			delete(sh.entries, k)
		}
	}
	sh.mu.Unlock()
	if s := m.seeded.Load(); s != nil && s.month < c.month {
		m.seeded.CompareAndSwap(s, nil)
	}
}

// insertSorted adds s to the ascending list if it is not there yet.
func insertSorted(list []uint16, s uint16) []uint16 {
	i := 0
	for i < len(list) && list[i] < s {
		i++
	}
	if i < len(list) && list[i] == s {
		return list
	}
	list = append(list, 0)
	copy(list[i+1:], list[i:])
	list[i] = s
	return list
}

func hasEntry(items []item, e *entry) bool {
	for _, it := range items {
		if it.e == e {
			return true
		}
	}
	return false
}
