// Package calllog writes call-log records to the store without ever slowing
// the request path: Log hands a record to a bounded queue and returns at once,
// a background goroutine stores the queue in batches, and a second one prunes
// old records. When the store cannot keep up the queue fills and Log drops
// records, counting every drop so the operator sees it in metrics.
package calllog

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// A failed batch is retried after retryFirst, then after twice as long each
// time, up to retryMax between attempts: quick enough for a briefly locked
// database file, gentle on a store that is down for minutes.
const (
	retryFirst = 250 * time.Millisecond
	retryMax   = 5 * time.Second
)

// Options tune a Writer. The zero value is usable: every field has a default.
type Options struct {
	// Buffer is how many records may wait to be stored before Log starts
	// dropping them. Default 10000.
	Buffer int
	// BatchSize is how many records are stored in one transaction at most.
	// Default 256.
	BatchSize int
	// FlushInterval is the longest a record waits for its batch to fill
	// before it is stored anyway. Default 200ms.
	FlushInterval time.Duration
	// Retention deletes records older than this, for example 720h for 30
	// days. 0 keeps them forever.
	Retention time.Duration
	// MaxRows keeps at most about this many of the newest records, for
	// example 1000000. 0 means no limit.
	MaxRows int
	// PruneEvery is how often Retention and MaxRows are applied; the first
	// pass runs when the Writer starts. Default 1m.
	PruneEvery time.Duration
	// Logger receives store failures (never record contents). Default: discard.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Buffer <= 0 {
		o.Buffer = 10000
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 256
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 200 * time.Millisecond
	}
	if o.PruneEvery <= 0 {
		o.PruneEvery = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Writer is the asynchronous call-log writer. Create it with New, feed it with
// Log from any number of goroutines, and stop it with Close.
type Writer struct {
	dst store.CallLog
	o   Options

	// mu makes "not closed, so send" atomic with respect to Close closing ch:
	// Log holds it shared, Close exclusively.
	mu     sync.RWMutex
	closed bool
	ch     chan store.Call

	dropped, written, failed atomic.Uint64
	abandoned                uint64 // failed because Close gave up; run's own

	ctx       context.Context // ends when Close gives up; aborts store calls
	cancel    context.CancelFunc
	stopPrune context.CancelFunc
	closeOnce sync.Once
	done      chan struct{} // batching loop has returned
	pruneDone chan struct{} // pruner has returned
}

// New starts a Writer storing into dst. Close it to flush and stop it.
func New(dst store.CallLog, o Options) *Writer {
	o = o.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	pruneCtx, stopPrune := context.WithCancel(ctx)
	w := &Writer{
		dst:       dst,
		o:         o,
		ch:        make(chan store.Call, o.Buffer),
		ctx:       ctx,
		cancel:    cancel,
		stopPrune: stopPrune,
		done:      make(chan struct{}),
		pruneDone: make(chan struct{}),
	}
	go w.run()
	go w.prune(pruneCtx)
	return w
}

// Log queues c to be stored and reports whether it was accepted. It never
// blocks: when the buffer is full or the Writer is closed, c is dropped,
// counted in Dropped, and Log returns false. The Writer keeps c.Trace, so the
// caller must not modify it afterwards.
func (w *Writer) Log(c store.Call) bool {
	w.mu.RLock()
	if !w.closed {
		select {
		case w.ch <- c:
			w.mu.RUnlock()
			return true
		default:
		}
	}
	w.mu.RUnlock()
	w.dropped.Add(1)
	return false
}

// Dropped is how many records Log refused: the buffer was full (the store is
// not keeping up) or the Writer was already closed.
func (w *Writer) Dropped() uint64 { return w.dropped.Load() }

// Written is how many records have been stored.
func (w *Writer) Written() uint64 { return w.written.Load() }

// Failed is how many accepted records were lost: the store refused them
// twice while answering pings, or Close ran out of time before storing them
// (a store that is down is retried until then).
func (w *Writer) Failed() uint64 { return w.failed.Load() }

// Close stops accepting records, stores those already queued and stops the
// pruner. If ctx ends first, Close aborts the store call in progress and
// returns ctx's error; the records still queued are then counted as failed. Later calls
// wait again and return nil once the Writer has stopped.
func (w *Writer) Close(ctx context.Context) error {
	w.closeOnce.Do(func() {
		w.mu.Lock()
		w.closed = true
		close(w.ch)
		w.mu.Unlock()
		w.stopPrune()
	})
	for _, ch := range []chan struct{}{w.done, w.pruneDone} {
		select {
		case <-ch:
		case <-ctx.Done():
			w.cancel()
			return fmt.Errorf("calllog: close: %w", ctx.Err())
		}
	}
	w.cancel()
	return nil
}

// run collects records into batches and stores a batch when it is full or
// FlushInterval after its first record arrived, whichever comes first.
func (w *Writer) run() {
	defer close(w.done)
	batch := make([]store.Call, 0, w.o.BatchSize)
	timer := time.NewTimer(w.o.FlushInterval)
	timer.Stop()
	flush := func() {
		timer.Stop()
		w.store(batch)
		clear(batch) // drop references to traces
		batch = batch[:0]
	}
	for {
		select {
		case c, ok := <-w.ch:
			if !ok {
				if len(batch) > 0 {
					flush()
				}
				if w.abandoned > 0 {
					w.o.Logger.Error("call log: records not stored, close timed out", "records", w.abandoned)
				}
				return
			}
			batch = append(batch, c)
			if len(batch) == 1 {
				timer.Reset(w.o.FlushInterval)
			}
			if len(batch) >= w.o.BatchSize {
				flush()
			}
		case <-timer.C:
			flush()
		}
	}
}

// storePingTimeout bounds the ping that tells a refused batch from a store
// that is down.
const storePingTimeout = 2 * time.Second

// storeAnswers reports whether the store can be pinged and answers.
func (w *Writer) storeAnswers() bool {
	p, ok := w.dst.(store.Pinger)
	if !ok {
		return false
	}
	ctx, cancel := context.WithTimeout(w.ctx, storePingTimeout)
	defer cancel()
	return p.Ping(ctx) == nil
}

// store writes one batch. While the store fails it keeps the batch and tries
// again after a growing delay (retryFirst doubling up to retryMax), so an
// outage loses no record: meanwhile the batching loop reads nothing, new
// records wait in the buffer, and once that is full Log drops and counts
// them. The batch is given up when Close runs out of time, or when a retry
// fails too while the store answers a ping (store.Pinger): then the batch,
// not the store, is at fault. Errors are logged with the record count only:
// records hold client addresses and paths.
func (w *Writer) store(batch []store.Call) {
	n := uint64(len(batch))
	delay := retryFirst
	for attempt := 1; ; attempt++ {
		if w.ctx.Err() != nil { // Close gave up: leave the store alone
			w.failed.Add(n)
			w.abandoned += n
			return
		}
		err := w.dst.InsertCalls(w.ctx, batch)
		if err == nil {
			w.written.Add(n)
			if attempt > 1 {
				w.o.Logger.Info("call log: records stored after the store recovered", "records", n, "attempts", attempt)
			}
			return
		}
		if w.ctx.Err() != nil {
			continue
		}
		if attempt > 1 && w.storeAnswers() {
			// The store is up and still refuses the batch: the records
			// themselves are the problem, and retrying would stall the log.
			w.failed.Add(n)
			w.o.Logger.Error("call log: records lost, the store refused them twice", "records", n, "err", err)
			return
		}
		w.o.Logger.Warn("call log: storing records failed, retrying", "records", n, "attempt", attempt, "retry_in", delay, "err", err)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-w.ctx.Done():
			t.Stop()
		}
		delay = min(2*delay, retryMax)
	}
}
