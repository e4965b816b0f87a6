package upstream

import (
	"sync"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// Circuit breaker defaults (config.CircuitBreaker).
const (
	defaultFailureRatio     = 0.5
	defaultMinRequests      = 20
	defaultBreakerWindow    = 10 * time.Second
	defaultOpenFor          = 30 * time.Second
	defaultHalfOpenRequests = 3
	// breakerBuckets is how many buckets the sliding window is cut into; the
	// window slides by one bucket (a tenth of it) at a time.
	breakerBuckets = 10
)

type circuitState uint8

const (
	circuitClosed circuitState = iota
	circuitOpen
	circuitHalfOpen
)

func (s circuitState) String() string {
	switch s {
	case circuitOpen:
		return "open"
	case circuitHalfOpen:
		return "half_open"
	}
	return "closed"
}

// result is the outcome of one request as the breaker judges it.
type result uint8

const (
	resultSuccess result = iota
	resultFailure
	// resultNeutral says nothing about the upstream (the client went away,
	// the body was too large, no target was healthy); a probe slot is freed.
	resultNeutral
)

// breaker is a per-upstream circuit breaker. Closed, it counts successes and
// failures in a sliding window of buckets and opens when failures/requests
// reach ratio with at least minRequests in the window. Open, it refuses every
// request until openFor has passed, then half-opens: halfOpen requests are
// let through as probes; when all of them succeed it closes, and the first
// failure opens it again.
type breaker struct {
	ratio       float64
	minRequests int
	bucketSize  time.Duration
	openFor     time.Duration
	halfOpen    int

	mu       sync.Mutex
	state    circuitState
	buckets  [breakerBuckets]bucket
	openedAt time.Time
	gen      uint64 // increments on every transition; stale probes are ignored
	probes   int    // probes admitted in this half-open period
	passed   int    // probes that succeeded in this half-open period
}

type bucket struct {
	epoch     int64 // which bucketSize-long slot of time this bucket counts
	successes int
	failures  int
}

// ticket identifies an admitted request for done.
type ticket struct {
	probe bool
	gen   uint64
}

func newBreaker(c config.CircuitBreaker) *breaker {
	b := &breaker{
		ratio:       c.FailureRatio,
		minRequests: c.MinRequests,
		openFor:     c.OpenFor.Or(defaultOpenFor),
		halfOpen:    c.HalfOpenRequests,
	}
	if b.ratio <= 0 || b.ratio > 1 {
		b.ratio = defaultFailureRatio
	}
	if b.minRequests <= 0 {
		b.minRequests = defaultMinRequests
	}
	if b.halfOpen <= 0 {
		b.halfOpen = defaultHalfOpenRequests
	}
	b.bucketSize = max(c.Window.Or(defaultBreakerWindow)/breakerBuckets, time.Millisecond)
	return b
}

// allow decides whether a request may go upstream at now. When it may not,
// wait says how long until the circuit half-opens (at least one second).
func (b *breaker) allow(now time.Time) (ok bool, tk ticket, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == circuitOpen {
		if d := b.openedAt.Add(b.openFor).Sub(now); d > 0 {
			return false, ticket{}, max(d, time.Second)
		}
		b.transition(circuitHalfOpen, now)
	}
	if b.state == circuitHalfOpen {
		if b.probes >= b.halfOpen {
			// Probes are out; the verdict comes when they finish.
			return false, ticket{}, time.Second
		}
		b.probes++
		return true, ticket{probe: true, gen: b.gen}, 0
	}
	return true, ticket{gen: b.gen}, 0
}

// done records the outcome of a request admitted by allow.
func (b *breaker) done(now time.Time, tk ticket, r result) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if tk.gen != b.gen {
		return // admitted before the last transition; it says nothing now
	}
	if tk.probe {
		switch r {
		case resultNeutral:
			b.probes--
		case resultFailure:
			b.transition(circuitOpen, now)
		case resultSuccess:
			if b.passed++; b.passed >= b.halfOpen {
				b.transition(circuitClosed, now)
			}
		}
		return
	}
	if b.state != circuitClosed || r == resultNeutral {
		return
	}
	bk := b.bucketAt(now)
	if r == resultSuccess {
		bk.successes++
		return
	}
	bk.failures++
	total, failures := b.counts(now)
	if total >= b.minRequests && float64(failures) >= b.ratio*float64(total) {
		b.transition(circuitOpen, now)
	}
}

func (b *breaker) transition(to circuitState, now time.Time) {
	b.state = to
	b.gen++
	b.probes, b.passed = 0, 0
	switch to {
	case circuitOpen:
		b.openedAt = now
	case circuitClosed:
		b.buckets = [breakerBuckets]bucket{}
	}
}

func (b *breaker) epoch(now time.Time) int64 {
	return now.UnixNano() / int64(b.bucketSize)
}

// bucketAt returns the bucket for now, clearing it if it held an older slot.
func (b *breaker) bucketAt(now time.Time) *bucket {
	e := b.epoch(now)
	bk := &b.buckets[e%breakerBuckets]
	if bk.epoch != e {
		*bk = bucket{epoch: e}
	}
	return bk
}

// counts sums the buckets inside the window ending at now.
func (b *breaker) counts(now time.Time) (total, failures int) {
	e := b.epoch(now)
	for i := range b.buckets {
		bk := &b.buckets[i]
		if bk.epoch > e-breakerBuckets && bk.epoch <= e {
			total += bk.successes + bk.failures
			failures += bk.failures
		}
	}
	return total, failures
}

func (b *breaker) status(now time.Time) (string, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == circuitOpen {
		at := b.openedAt.Add(b.openFor)
		if !now.Before(at) {
			return circuitHalfOpen.String(), time.Time{}
		}
		return circuitOpen.String(), at
	}
	return b.state.String(), time.Time{}
}
