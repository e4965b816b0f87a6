package meter

import (
	"sync"
	"time"

	"github.com/pinpointgw/pinpoint/internal/ai/pricing"
)

// entry is one rule's counters for one caller key. Its shard's lock
// guards it.
type entry struct {
	// window holds the tokens counted in the last minute; nil when there
	// are none, to keep idle counters small.
	window *window
	// reservedTokens, reservedCost and inFlight are the holds of the calls
	// not yet settled.
	reservedTokens int64
	reservedCost   pricing.Money
	inFlight       int64
	// daySpend and monthSpend are the spend counted by this process in
	// the UTC day and month numbered day and month.
	day, month           int32
	daySpend, monthSpend pricing.Money
}

// windowSeconds is the length of the sliding token window.
const windowSeconds = 60

// window counts tokens per second over the last minute: the bucket of
// second s counts from s until s+60, so tokens age out second by second.
type window struct {
	last int64 // the unix second of the newest bucket
	sum  int64 // the sum of the buckets
	b    [windowSeconds]int64
}

var windows = sync.Pool{New: func() any { return new(window) }}

func slot(sec int64) int { return int((sec%windowSeconds + windowSeconds) % windowSeconds) }

// advance moves the window to second sec, emptying the buckets of the
// seconds that left it. A clock that went back leaves it where it is.
func (w *window) advance(sec int64) {
	d := sec - w.last
	if d <= 0 {
		return
	}
	if d >= windowSeconds {
		w.b, w.sum = [windowSeconds]int64{}, 0
	} else {
		for s := w.last + 1; s <= sec; s++ {
			i := slot(s)
			w.sum -= w.b[i]
			w.b[i] = 0
		}
	}
	w.last = sec
}

// advance brings the entry to the clock: a new day or month starts its
// spend from zero, and old tokens leave the window.
func (e *entry) advance(c clock) {
	if c.day > e.day {
		e.day, e.daySpend = c.day, pricing.Money{}
	}
	if c.month > e.month {
		e.month, e.monthSpend = c.month, pricing.Money{}
	}
	if e.window != nil {
		e.window.advance(c.sec)
	}
}

// tokens returns the tokens counted in the window (advance first).
func (e *entry) tokens() int64 {
	if e.window == nil {
		return 0
	}
	return e.window.sum
}

// addTokens counts n tokens at second sec (advance first).
func (e *entry) addTokens(sec, n int64) {
	if e.window == nil {
		e.window = windows.Get().(*window) // emptied by sweep before Put
		e.window.last = sec
	}
	e.window.b[slot(e.window.last)] += n
	e.window.sum += n
}

// check reports whether ask fits l on this counter (advance first), and
// when it does not, the refusal.
func (e *entry) check(l *Limit, ask Ask, c clock, seeds *seedSet) (Refusal, bool) {
	var (
		ref     Refusal
		refused bool
	)
	refuse := func(cand Refusal) {
		cand.Rule, cand.Key = l.Rule, l.Key
		if !refused || cand.worse(&ref) {
			ref, refused = cand, true
		}
	}
	if tpm := l.TokensPerMinute; tpm > 0 {
		used := e.tokens()
		switch {
		case ask.Tokens > tpm:
			refuse(Refusal{Kind: Tokens, TokenLimit: tpm, TokensUsed: used, TokensReserved: e.reservedTokens, NeverFits: true})
		case ask.Tokens > tpm-used-e.reservedTokens:
			wait := e.tokenWait(c, tpm, ask.Tokens)
			refuse(Refusal{Kind: Tokens, TokenLimit: tpm, TokensUsed: used, TokensReserved: e.reservedTokens,
				Reset: c.t.Add(wait), RetryAfter: wait})
		}
	}
	if !l.Daily.IsZero() || !l.Monthly.IsZero() {
		seedDay, seedMonth := seeds.spend(l.Key, c)
		if !l.Daily.IsZero() {
			if cand, ok := e.budget(Daily, l.Daily, seedDay.Add(e.daySpend), ask, c); !ok {
				refuse(cand)
			}
		}
		if !l.Monthly.IsZero() {
			if cand, ok := e.budget(Monthly, l.Monthly, seedMonth.Add(e.monthSpend), ask, c); !ok {
				refuse(cand)
			}
		}
	}
	return ref, !refused
}

// budget checks ask against one budget given the period's spend.
func (e *entry) budget(kind Kind, budget, spent pricing.Money, ask Ask, c clock) (Refusal, bool) {
	ref := Refusal{Kind: kind, Budget: budget, Spent: spent, Reserved: e.reservedCost}
	left := budget.Sub(spent)
	switch {
	case budget.Less(ask.Cost):
		ref.NeverFits = true
	case left.Sub(e.reservedCost).Less(ask.Cost):
		reset := c.nextDay()
		if kind == Monthly {
			reset = c.nextMonth()
		}
		ref.Reset, ref.RetryAfter = reset, max(reset.Sub(c.t), time.Second)
		if !left.Less(ask.Cost) {
			// Only calls in flight stand in the way, and they may settle
			// for less than they reserved.
			ref.Reset, ref.RetryAfter = c.t.Add(time.Second), time.Second
		}
	default:
		return Refusal{}, true
	}
	return ref, false
}

// tokenWait returns how long until enough counted tokens age out of the
// window for ask to fit, at least a second; a second when the calls in
// flight alone leave no room for it.
func (e *entry) tokenWait(c clock, limit, ask int64) time.Duration {
	need := e.reservedTokens + ask
	w := e.window
	if need > limit || w == nil {
		return time.Second
	}
	excess := w.sum + need - limit
	var freed int64
	for s := w.last - windowSeconds + 1; s <= w.last; s++ {
		if freed += w.b[slot(s)]; freed >= excess {
			return max(time.Unix(s+windowSeconds, 0).Sub(c.t), time.Second)
		}
	}
	return time.Second // unreachable: an empty window leaves room
}

// clock is an instant with its second, UTC day and month numbers.
type clock struct {
	t     time.Time
	sec   int64 // unix seconds
	day   int32 // days since 1970-01-01 UTC
	month int32 // months since January of year 0, UTC
}

func at(t time.Time) clock {
	sec := t.Unix()
	y, m, _ := t.UTC().Date()
	return clock{t: t, sec: sec, day: dayOf(sec), month: int32(y*12 + int(m) - 1)}
}

func dayOf(sec int64) int32 {
	d := sec / 86400
	if sec%86400 < 0 {
		d--
	}
	return int32(d)
}

// nextDay is the next UTC midnight.
func (c clock) nextDay() time.Time { return time.Unix(int64(c.day+1)*86400, 0).UTC() }

// nextMonth is the first of the next UTC month.
func (c clock) nextMonth() time.Time {
	n := int(c.month) + 1
	return time.Date(n/12, time.Month(n%12+1), 1, 0, 0, 0, 0, time.UTC)
}
