package idempotency

import (
	"context"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// DefaultSweepEvery is a reasonable interval for Sweep.
const DefaultSweepEvery = time.Minute

// Sweep deletes the records of st that expired, at once and then every
// `every` (zero: DefaultSweepEvery), until ctx ends. The gateway runs it in
// a goroutine for its local store; a RedisStore needs none. onError, when
// not nil, hears of each failed sweep (the next one tries again); onSwept,
// when not nil, of each sweep that removed records.
func Sweep(ctx context.Context, st store.Idempotency, every time.Duration, onSwept func(n int64), onError func(error)) {
	if every <= 0 {
		every = DefaultSweepEvery
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		n, err := st.DeleteExpiredIdempotency(ctx, time.Now())
		switch {
		case err != nil && ctx.Err() == nil && onError != nil:
			onError(err)
		case err == nil && n > 0 && onSwept != nil:
			onSwept(n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
