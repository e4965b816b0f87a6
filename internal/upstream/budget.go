package upstream

import (
	"sync"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// budgetSeconds is the length of the retry budget's window, in one-second buckets.
const budgetSeconds = 10

// budget caps retries so that they cannot multiply an outage: a retry is
// allowed while the retries of the last 10 seconds stay below ratio × the
// requests of the last 10 seconds, and minPerSecond retries per second are
// always allowed so that a quiet upstream can still retry at all.
type budget struct {
	ratio        float64
	minPerSecond int
	clock        func() time.Time // time.Now; fixed in tests

	mu      sync.Mutex
	buckets [budgetSeconds]budgetBucket
}

type budgetBucket struct {
	second   int64
	requests int
	retries  int
}

func newBudget(c config.Retry) *budget {
	b := &budget{ratio: c.BudgetRatio, minPerSecond: c.MinPerSecond, clock: time.Now}
	if b.ratio <= 0 {
		b.ratio = defaultBudgetRatio
	}
	if b.minPerSecond <= 0 {
		b.minPerSecond = defaultMinRetriesPerSec
	}
	return b
}

func (b *budget) slot(sec int64) *budgetBucket {
	bk := &b.buckets[sec%budgetSeconds]
	if bk.second != sec {
		*bk = budgetBucket{second: sec}
	}
	return bk
}

// request counts one request (not its retries) toward the budget.
func (b *budget) request() {
	sec := b.clock().Unix()
	b.mu.Lock()
	b.slot(sec).requests++
	b.mu.Unlock()
}

// tryRetry takes one retry from the budget and reports whether it was allowed.
func (b *budget) tryRetry() bool {
	sec := b.clock().Unix()
	b.mu.Lock()
	defer b.mu.Unlock()
	cur := b.slot(sec)
	requests, retries := 0, 0
	for i := range b.buckets {
		if bk := &b.buckets[i]; bk.second > sec-budgetSeconds && bk.second <= sec {
			requests += bk.requests
			retries += bk.retries
		}
	}
	if cur.retries < b.minPerSecond || float64(retries) < b.ratio*float64(requests) {
		cur.retries++
		return true
	}
	return false
}
