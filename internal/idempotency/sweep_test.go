package idempotency

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestSweep(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		st := newMemStore()
		now := time.Now()
		mustBegin(t, st, inflight("s", "now", "fp", now.Add(-time.Second), time.Second), now)
		mustBegin(t, st, inflight("s", "soon", "fp", now, 90*time.Second), now)
		mustBegin(t, st, inflight("s", "late", "fp", now, time.Hour), now)

		ctx, cancel := context.WithCancel(context.Background())
		var swept atomic.Int64
		stopped := make(chan struct{})
		go func() {
			Sweep(ctx, st, time.Minute, func(n int64) { swept.Add(n) }, func(err error) { t.Error(err) })
			close(stopped)
		}()
		synctest.Wait()
		if st.len() != 2 || swept.Load() != 1 {
			t.Fatalf("first sweep: %d left, %d swept; want 2, 1", st.len(), swept.Load())
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if st.len() != 2 {
			t.Fatalf("after 1m: %d left, want 2 (soon lapses at 90s)", st.len())
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if st.len() != 1 || swept.Load() != 2 {
			t.Fatalf("after 2m: %d left, %d swept; want 1, 2", st.len(), swept.Load())
		}
		cancel()
		<-stopped
	})
}

func TestSweepReportsErrors(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var errs atomic.Int64
		ctx, cancel := context.WithCancel(context.Background())
		go Sweep(ctx, failingSweeper{newMemStore()}, 0, nil, func(error) { errs.Add(1) })
		synctest.Wait()
		time.Sleep(DefaultSweepEvery)
		synctest.Wait()
		if errs.Load() != 2 {
			t.Errorf("%d errors reported, want 2 (one per sweep)", errs.Load())
		}
		cancel()
	})
}

// failingSweeper is a store whose sweeps fail.
type failingSweeper struct{ *memStore }

func (failingSweeper) DeleteExpiredIdempotency(context.Context, time.Time) (int64, error) {
	return 0, errors.New("database is locked")
}
