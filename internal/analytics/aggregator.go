package analytics

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pinpointgw/pinpoint/internal/analytics/sketch"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// Defaults of Options.
const (
	DefaultFlushInterval = 10 * time.Second
	DefaultMaxKeys       = 10000
	// flushTimeout bounds one write of the roll-ups to the store.
	flushTimeout = 30 * time.Second
	// pendingMinutes bounds the rows kept while the store refuses them:
	// this many minutes' worth of max_keys rows.
	pendingMinutes = 60
)

// Options configure an Aggregator.
type Options struct {
	// Node names this gateway node in its minute rows. Required.
	Node string
	// Store receives the rows. Required.
	Store store.Rollups
	// FlushInterval is how often Start's loop writes the rows; default 10s.
	FlushInterval time.Duration
	// MaxKeys caps the distinct rows per minute; default 10000. Requests
	// beyond it count under consumer "(other)".
	MaxKeys int
	// Logger receives flush failures; default slog.Default().
	Logger *slog.Logger
	// Registerer, when set, receives the aggregator's counters.
	Registerer prometheus.Registerer
}

// Aggregator counts finished requests per minute in memory and adds its
// counts to the store. Record is safe for concurrent use and never blocks
// on the store: the store is written by Flush, from Start's goroutine.
type Aggregator struct {
	o   Options
	log *slog.Logger

	// mu guards cells, seen, free and spare. Record holds it for a map
	// lookup and a few additions; one lock beats sharding here because the
	// critical section is far shorter than the request around it.
	mu    sync.Mutex
	cells map[cellKey]*cell
	// seen holds the distinct rows of each recent minute (by bucket), so
	// the max_keys cap holds per minute across flushes.
	seen map[int64]map[cellKey]struct{}
	// free holds reset cells for reuse, so steady traffic allocates nothing.
	free []*cell
	// spare is the emptied map of the last flush, swapped back in.
	spare map[cellKey]*cell

	// flushMu serializes flushes; pending holds rows a failed flush could
	// not store (retried with the next one).
	flushMu sync.Mutex
	pending map[store.RollupKey]*store.Rollup

	overflow, flushed, flushErrors, dropped atomic.Uint64

	stop    context.CancelFunc
	stopped chan struct{}
}

// cellKey identifies a cell: the store.RollupKey of its row without the
// parts every cell of the aggregator shares (level minute, the node), so
// that Record hashes less.
type cellKey struct {
	wouldDeny                                 bool
	route, consumer, code, stage, layer, rule string
	bucket                                    int64
	class                                     int
}

// cell is the in-memory counterpart of one row.
type cell struct {
	count, upstreamErrors int64
	latencySum            time.Duration
	// latency is nil in would_deny cells.
	latency *sketch.Sketch
}

// New returns an aggregator; call Start to flush it periodically and Close
// to stop and write what is left.
func New(o Options) *Aggregator {
	if o.FlushInterval <= 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = DefaultMaxKeys
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	a := &Aggregator{
		o: o, log: o.Logger,
		cells: map[cellKey]*cell{}, seen: map[int64]map[cellKey]struct{}{}, spare: map[cellKey]*cell{},
		pending: map[store.RollupKey]*store.Rollup{},
	}
	if o.Registerer != nil {
		a.register(o.Registerer)
	}
	return a
}

func (a *Aggregator) register(r prometheus.Registerer) {
	counter := func(name, help string, v *atomic.Uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(v.Load()) })
	}
	r.MustRegister(
		counter("pinpoint_analytics_overflow_total",
			"Requests and would-be refusals counted under consumer (other) because their minute reached analytics.max_keys distinct rows.", &a.overflow),
		counter("pinpoint_analytics_rows_flushed_total", "Roll-up rows added to the store.", &a.flushed),
		counter("pinpoint_analytics_flush_errors_total", "Roll-up flushes the store refused (the rows are retried).", &a.flushErrors),
		counter("pinpoint_analytics_rows_dropped_total",
			"Roll-up rows dropped because the store refused them for longer than the pending bound.", &a.dropped),
	)
}

// Stats are the aggregator's counters.
type Stats struct {
	// Overflow counts events counted under consumer "(other)".
	Overflow uint64
	// Flushed counts rows added to the store.
	Flushed uint64
	// FlushErrors counts failed flushes.
	FlushErrors uint64
	// Dropped counts rows given up after failed flushes.
	Dropped uint64
}

// Stats returns the aggregator's counters.
func (a *Aggregator) Stats() Stats {
	return Stats{Overflow: a.overflow.Load(), Flushed: a.flushed.Load(), FlushErrors: a.flushErrors.Load(), Dropped: a.dropped.Load()}
}

const minuteNs = int64(time.Minute)

// Record counts one finished request, and one would_deny row per
// would-deny step of its trace. It does not allocate once a row exists.
func (a *Aggregator) Record(e Event) {
	t := e.Time
	if t.IsZero() {
		t = time.Now()
	}
	ns := t.UnixNano()
	bucket := ns - ns%minuteNs
	if ns < 0 && ns%minuteNs != 0 {
		bucket -= minuteNs
	}
	k := cellKey{
		route: e.Route, consumer: e.Consumer, code: e.Code, stage: e.Stage, layer: e.Layer, rule: e.Rule,
		bucket: bucket, class: StatusClass(e.Status),
	}
	a.mu.Lock()
	c := a.cell(&k, true)
	c.count++
	if e.UpstreamError {
		c.upstreamErrors++
	}
	c.latencySum += e.Latency
	c.latency.Add(float64(e.Latency))
	for i := range e.Trace {
		s := &e.Trace[i]
		if s.Outcome != pipeline.OutcomeWouldDeny {
			continue
		}
		k.wouldDeny, k.consumer, k.code, k.stage, k.layer, k.rule = true, e.Consumer, s.Code, s.Stage, "", s.Rule
		a.cell(&k, false).count++
	}
	a.mu.Unlock()
}

// cell returns the cell of k, creating it (or, past the minute's cap, the
// "(other)" consumer's cell, rewriting k) when new. Called with mu held.
func (a *Aggregator) cell(k *cellKey, latency bool) *cell {
	if c, ok := a.cells[*k]; ok {
		return c
	}
	seen := a.seen[k.bucket]
	if seen == nil {
		seen = map[cellKey]struct{}{}
		a.seen[k.bucket] = seen
	}
	if _, ok := seen[*k]; !ok {
		if len(seen) >= a.o.MaxKeys && k.consumer != OtherConsumer {
			a.overflow.Add(1)
			k.consumer = OtherConsumer
			if c, ok := a.cells[*k]; ok {
				return c
			}
		}
		seen[*k] = struct{}{}
	}
	var c *cell
	if n := len(a.free); n > 0 {
		c, a.free = a.free[n-1], a.free[:n-1]
	} else {
		c = &cell{}
	}
	if latency && c.latency == nil {
		c.latency = sketch.New()
	}
	if !latency && c.latency != nil {
		// Keep the sketch for a later request cell; would_deny cells have none.
		a.free = append(a.free, c)
		c = &cell{}
	}
	a.cells[*k] = c
	return c
}

// SetMaxKeys changes the cap on distinct rows per minute (n ≤ 0: the default).
func (a *Aggregator) SetMaxKeys(n int) {
	if n <= 0 {
		n = DefaultMaxKeys
	}
	a.mu.Lock()
	a.o.MaxKeys = n
	a.mu.Unlock()
}

// Start flushes every interval (≤ 0: Options.FlushInterval) until Close
// (or until ctx ends). Call it once.
func (a *Aggregator) Start(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = a.o.FlushInterval
	}
	ctx, a.stop = context.WithCancel(ctx)
	a.stopped = make(chan struct{})
	go func() {
		defer close(a.stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fctx, cancel := context.WithTimeout(ctx, flushTimeout)
				if err := a.Flush(fctx); err != nil && ctx.Err() == nil {
					a.log.Warn("analytics roll-ups not stored; retrying with the next flush", "error", err)
				}
				cancel()
			}
		}
	}()
}

// Close stops Start's loop and writes what was counted since the last
// flush (graceful shutdown: call it after the last request finished).
func (a *Aggregator) Close(ctx context.Context) error {
	if a.stop != nil {
		a.stop()
		<-a.stopped
	}
	return a.Flush(ctx)
}

// Flush adds the rows counted since the last flush (and those a failed
// flush kept) to the store. On failure the rows are kept for the next
// flush, up to pendingMinutes minutes' worth; beyond that the oldest are
// dropped and counted.
func (a *Aggregator) Flush(ctx context.Context) error {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()

	a.mu.Lock()
	cells := a.cells
	a.cells, a.spare = a.spare, nil
	// Minutes two behind the newest are over (finish times only move on).
	newest := int64(math.MinInt64)
	for b := range a.seen {
		newest = max(newest, b)
	}
	for b := range a.seen {
		if b < newest-minuteNs {
			delete(a.seen, b)
		}
	}
	a.mu.Unlock()

	rows := make([]store.Rollup, 0, len(cells)+len(a.pending))
	free := make([]*cell, 0, len(cells))
	for ck, c := range cells {
		kind := store.RollupRequest
		if ck.wouldDeny {
			kind = store.RollupWouldDeny
		}
		r := store.Rollup{
			Level: store.LevelMinute, Bucket: time.Unix(0, ck.bucket).UTC(), Node: a.o.Node, Kind: kind,
			Route: ck.route, Consumer: ck.consumer, Code: ck.code, Stage: ck.stage, Layer: ck.layer, Rule: ck.rule,
			StatusClass: ck.class, Count: c.count, UpstreamErrors: c.upstreamErrors, LatencySum: c.latencySum,
		}
		k := r.Key()
		if c.latency != nil {
			r.Latency = c.latency.Encode()
			c.latency.Reset()
		}
		if p, ok := a.pending[k]; ok {
			mergeRow(p, &r)
		} else {
			rows = append(rows, r)
		}
		c.count, c.upstreamErrors, c.latencySum = 0, 0, 0
		free = append(free, c)
	}
	clear(cells)
	a.mu.Lock()
	a.spare = cells
	a.free = append(a.free, free...)
	a.mu.Unlock()

	for _, p := range a.pending {
		rows = append(rows, *p)
	}
	if len(rows) == 0 {
		return nil
	}
	if err := a.o.Store.AddRollups(ctx, rows, sketch.MergeEncoded); err != nil {
		a.flushErrors.Add(1)
		a.keep(rows)
		return errors.Join(errors.New("analytics: adding roll-ups"), err)
	}
	clear(a.pending)
	a.flushed.Add(uint64(len(rows)))
	return nil
}

// keep remembers rows a flush could not store, within the pending bound.
func (a *Aggregator) keep(rows []store.Rollup) {
	clear(a.pending)
	a.mu.Lock()
	limit := pendingMinutes * a.o.MaxKeys
	a.mu.Unlock()
	if len(rows) > limit {
		// Keep the newest minutes.
		newest := rows[0].Bucket
		for i := range rows {
			if rows[i].Bucket.After(newest) {
				newest = rows[i].Bucket
			}
		}
		cut := newest.Add(-pendingMinutes * time.Minute)
		kept := rows[:0]
		for _, r := range rows {
			if r.Bucket.After(cut) && len(kept) < limit {
				kept = append(kept, r)
			}
		}
		a.dropped.Add(uint64(len(rows) - len(kept)))
		rows = kept
	}
	for i := range rows {
		r := rows[i]
		a.pending[r.Key()] = &r
	}
}

// mergeRow adds r into into (rows of the same key).
func mergeRow(into, r *store.Rollup) {
	into.Count += r.Count
	into.UpstreamErrors += r.UpstreamErrors
	into.LatencySum += r.LatencySum
	switch {
	case into.Latency == nil:
		into.Latency = r.Latency
	case r.Latency != nil:
		into.Latency = sketch.MergeEncoded(into.Latency, r.Latency)
	}
}
