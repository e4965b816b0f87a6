package calllog

import (
	"context"
	"time"
)

// prune applies Retention and MaxRows when the Writer starts and every
// PruneEvery after that, until ctx ends. It does nothing when neither is set.
func (w *Writer) prune(ctx context.Context) {
	defer close(w.pruneDone)
	if w.o.Retention <= 0 && w.o.MaxRows <= 0 {
		return
	}
	tick := time.NewTicker(w.o.PruneEvery)
	defer tick.Stop()
	for {
		w.pruneOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (w *Writer) pruneOnce(ctx context.Context) {
	var olderThan time.Time
	if w.o.Retention > 0 {
		olderThan = time.Now().Add(-w.o.Retention)
	}
	n, err := w.dst.PruneCalls(ctx, olderThan, w.o.MaxRows)
	switch {
	case err != nil && ctx.Err() == nil:
		w.o.Logger.Warn("call log: pruning failed", "deleted", n, "err", err)
	case n > 0:
		w.o.Logger.Debug("call log: pruned", "deleted", n)
	}
}
