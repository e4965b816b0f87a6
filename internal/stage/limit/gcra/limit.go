// Package gcra is the generic cell rate algorithm the limit stage enforces
// rate limits with, and the node-local store of its counters.
//
// GCRA keeps one number per caller, the theoretical arrival time (TAT): when
// the caller's next request would be due if it sent at exactly the limit's
// rate. A request at now fits when, after adding one emission interval, the
// TAT is at most Burst intervals ahead of now. That is a token bucket of
// Burst tokens refilled one per interval, kept in a single integer, with no
// window edges a caller could game.
package gcra

import (
	"errors"
	"math"
	"time"
)

// MinInterval is the shortest emission interval a limit may have: the
// Redis store counts in microseconds, so a rate above one request per
// microsecond per caller cannot be enforced there.
const MinInterval = time.Microsecond

// Limit is the shape of one rate limit: on average one request per
// Interval, up to Burst at once. Build it with NewLimit.
type Limit struct {
	// Interval is the emission interval in nanoseconds (period / count).
	Interval int64
	// Burst is how many requests fit at once.
	Burst int64
	// tolerance is Interval*Burst: how far ahead of now the TAT may run
	// after a request is admitted.
	tolerance int64
}

// NewLimit returns the limit of count requests per period with the given
// burst (0: count).
func NewLimit(count int, per time.Duration, burst int) (Limit, error) {
	if count <= 0 || per <= 0 {
		return Limit{}, errors.New("the rate needs a positive count and period")
	}
	if burst < 0 {
		return Limit{}, errors.New("burst must not be negative")
	}
	if burst == 0 {
		burst = count
	}
	// Round to the nearest nanosecond: 3/s is 333333333ns, not 333333334.
	interval := (per.Nanoseconds() + int64(count)/2) / int64(count)
	if interval < int64(MinInterval) {
		return Limit{}, errors.New("more than one request per microsecond per caller cannot be enforced; lower the rate")
	}
	if int64(burst) > math.MaxInt64/4/interval {
		return Limit{}, errors.New("burst × interval is beyond what a counter can hold; lower the burst")
	}
	return Limit{Interval: interval, Burst: int64(burst), tolerance: interval * int64(burst)}, nil
}

// Tolerance is Interval × Burst: the time a full burst takes to refill.
func (l Limit) Tolerance() time.Duration { return time.Duration(l.tolerance) }

// Fits reports whether one more request fits at now, given the key's TAT
// (0 for a key never seen), and returns the TAT the key has after it is
// charged.
func (l Limit) Fits(tat, now int64) (next int64, ok bool) {
	tat = max(tat, now)
	next = tat + l.Interval
	return next, next-l.tolerance <= now
}

// Refund is the TAT after giving back one request charged at tat.
func (l Limit) Refund(tat int64) int64 { return tat - l.Interval }

// State is what a limit looks like to one caller: what the RateLimit
// headers and a refusal report.
type State struct {
	// Remaining is how many requests would fit right now.
	Remaining int64
	// Reset is how long until the whole burst is available again.
	Reset time.Duration
	// RetryAfter is how long until the next request fits; 0 when one fits
	// now.
	RetryAfter time.Duration
}

// State describes the limit at now for a key whose TAT is tat (after the
// decision: charged or not).
func (l Limit) State(tat, now int64) State {
	tat = max(tat, now)
	var s State
	s.Reset = time.Duration(tat - now)
	if room := now + l.tolerance - tat; room > 0 {
		s.Remaining = room / l.Interval
	}
	if wait := tat + l.Interval - l.tolerance - now; wait > 0 {
		s.RetryAfter = time.Duration(wait)
	}
	return s
}
