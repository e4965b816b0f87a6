package ai

import (
	"context"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// Recorder writes usage records to the store in batches, off the request
// path. Record never blocks: when the buffer is full the record is
// dropped and counted (Dropped), like the call log.
type Recorder struct {
	st      store.AIUsage
	log     *slog.Logger
	ch      chan store.AIUsageRecord
	dropped atomic.Int64
	written atomic.Int64
	flushMu sync.Mutex
	done    chan struct{}
	stop    context.CancelFunc
	// retention says how long records are kept (nil: forever).
	retention atomic.Pointer[func() time.Duration]
}

// DefaultUsageRetention keeps usage records 93 days, so that every
// budget month and the one before it stay complete.
const DefaultUsageRetention = 93 * 24 * time.Hour

// RecorderOptions configure a Recorder.
type RecorderOptions struct {
	// Buffer is how many records may wait; default 10000.
	Buffer int
	// Interval between batch writes; default 500ms.
	Interval time.Duration
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// NewRecorder starts a recorder writing to st.
func NewRecorder(st store.AIUsage, o RecorderOptions) *Recorder {
	if o.Buffer <= 0 {
		o.Buffer = 10000
	}
	if o.Interval <= 0 {
		o.Interval = 500 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Recorder{st: st, log: o.Logger, ch: make(chan store.AIUsageRecord, o.Buffer), done: make(chan struct{}), stop: cancel}
	go r.loop(ctx, o.Interval)
	return r
}

// SetRetention sets how long records are kept; keep is asked hourly
// (the current revision's ai.usage.retention).
func (r *Recorder) SetRetention(keep func() time.Duration) {
	if r != nil {
		r.retention.Store(&keep)
	}
}

// Record queues one record. A nil Recorder records nothing.
func (r *Recorder) Record(rec store.AIUsageRecord) {
	if r == nil {
		return
	}
	select {
	case r.ch <- rec:
	default:
		r.dropped.Add(1)
	}
}

// Dropped is how many records were dropped because the buffer was full
// or the store failed.
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

// Written is how many records were stored.
func (r *Recorder) Written() int64 { return r.written.Load() }

// Flush writes every queued record now.
func (r *Recorder) Flush(ctx context.Context) {
	if r == nil {
		return
	}
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	var batch []store.AIUsageRecord
	for {
		select {
		case rec := <-r.ch:
			batch = append(batch, rec)
			if len(batch) < flushBatch {
				continue
			}
		default:
		}
		if len(batch) == 0 {
			return
		}
		if err := r.st.InsertAIUsage(ctx, batch); err != nil {
			r.dropped.Add(int64(len(batch)))
			r.log.Error("writing AI usage records", "records", len(batch), "error", err)
		} else {
			r.written.Add(int64(len(batch)))
		}
		batch = batch[:0]
		// Let requests run between transactions: on a gateway with one
		// core a flush of thousands of records otherwise holds it for tens
		// of milliseconds at a time (bench/ai.sh: p99 38 ms with one
		// 1000-record transaction, 22 ms with 64 and a yield).
		runtime.Gosched()
	}
}

// flushBatch is how many records one transaction stores.
const flushBatch = 64

// Close writes what is queued and stops the recorder.
func (r *Recorder) Close() {
	if r == nil {
		return
	}
	r.stop()
	<-r.done
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r.Flush(ctx)
}

func (r *Recorder) loop(ctx context.Context, every time.Duration) {
	defer close(r.done)
	tick := time.NewTicker(every)
	defer tick.Stop()
	sweep := time.NewTicker(time.Hour)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			r.Flush(fctx)
			cancel()
		case <-sweep.C:
			if keep := r.retention.Load(); keep != nil {
				if d := (*keep)(); d > 0 {
					if _, err := r.st.DeleteAIUsageBefore(ctx, time.Now().Add(-d)); err != nil {
						r.log.Warn("deleting old AI usage records", "error", err)
					}
				}
			}
		}
	}
}
