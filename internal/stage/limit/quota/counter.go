package quota

import (
	"context"
	"encoding/binary"
	"hash/maphash"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// Defaults of Options.
const (
	DefaultFlushEvery = time.Second
	DefaultIdleAfter  = 10 * time.Minute
	DefaultRetryLoad  = time.Second
	// storeTimeout bounds one load or flush call to the store.
	storeTimeout = 5 * time.Second
)

const counterShards = 64

// Options tune a Counter; the zero value is the default.
type Options struct {
	// FlushEvery is how often counted requests are added to the store.
	// Default 1s. Negative: never in the background; call Flush.
	FlushEvery time.Duration
	// IdleAfter is how long a counter stays in memory after its last use
	// once everything it counted is in the store; it is read from the store
	// again when next used. Default 10m.
	IdleAfter time.Duration
	// RetryLoad is how long after a failed read of the store a counter
	// tries again. Default 1s.
	RetryLoad time.Duration
	// Clock is the time source. Default time.Now.
	Clock func() time.Time
	// Logger receives store errors. Default slog.Default().
	Logger *slog.Logger
}

// Ref names one counter: a quota of a route, a caller and a period.
type Ref struct {
	// Route and Quota name the quota.
	Route, Quota string
	// Kind ("consumer", "tenant", "credential" or "ip") and ID are the
	// caller; the key stored is "Kind:ID".
	Kind, ID string
	// Period is the start of the day or month counted, in UTC.
	Period time.Time
}

// Key is the key stored for r: "consumer:c_123".
func (r Ref) Key() string { return r.Kind + ":" + r.ID }

// Counter counts quota usage in memory and adds it to a store.Quotas every
// FlushEvery and on Close. A counter's value is read from the store the
// first time it is used (and again after it was idle), so a restart
// resumes where the last flush left off; at most FlushEvery of counts is
// lost if the process dies without Close. With several gateway nodes on
// one store, each node sees what was stored when it read a counter plus
// its own counts since: use store: redis for a quota that several nodes
// must enforce exactly.
//
// A Counter is safe for concurrent use. The gateway creates one, shares it
// between config revisions, and calls Close at shutdown.
type Counter struct {
	st                          store.Quotas
	clock                       func() time.Time
	log                         *slog.Logger
	idleAfter, retryLoad, every time.Duration
	seed                        maphash.Seed
	shards                      [counterShards]counterShard

	flushMu   sync.Mutex // one Flush at a time
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

type counterShard struct {
	mu sync.Mutex
	m  map[string]*entry
}

// entry is one counter. Its fields are guarded by its shard's mutex.
type entry struct {
	ref Ref
	key string // ref.Key()
	// base is the store's value when read plus what this node flushed
	// since; pending is what this node counted and has not flushed.
	base, pending int64
	// loaded is true once base holds the store's value. An entry that is
	// not loaded counts in pending only and is not flushed until it is, so
	// a load never races a flush.
	loaded bool
	// loading is closed when the running load ends; nil when none runs.
	loading chan struct{}
	// lastTry and lastUse are Unix nanoseconds of the last load attempt
	// and the last request.
	lastTry, lastUse int64
	// evicted is set when the entry left its shard's map.
	evicted bool
}

// NewCounter returns a counter that persists through st and starts its
// flusher (unless o.FlushEvery is negative).
func NewCounter(st store.Quotas, o Options) *Counter {
	c := &Counter{
		st:        st,
		clock:     o.Clock,
		log:       o.Logger,
		idleAfter: o.IdleAfter,
		retryLoad: o.RetryLoad,
		every:     o.FlushEvery,
		seed:      maphash.MakeSeed(),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	if c.clock == nil {
		c.clock = time.Now
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.idleAfter <= 0 {
		c.idleAfter = DefaultIdleAfter
	}
	if c.retryLoad <= 0 {
		c.retryLoad = DefaultRetryLoad
	}
	if c.every == 0 {
		c.every = DefaultFlushEvery
	}
	for i := range c.shards {
		c.shards[i].m = make(map[string]*entry)
	}
	if c.every > 0 {
		go c.flushLoop()
	} else {
		close(c.done)
	}
	return c
}

// Item is one quota's part of a decision: the input (Ref, Limit,
// Enforce) and what Take decided (Fits, Charged, Used, Loaded).
type Item struct {
	Ref Ref
	// Limit is the number of requests allowed in the period.
	Limit int64
	// Enforce makes this quota refuse the whole request when it is used
	// up. A report_only quota refuses nothing and counts every request it
	// sees, so its usage is the caller's real demand.
	Enforce bool

	// Fits is whether one more request fit the quota.
	Fits bool
	// Charged is whether Take counted the request.
	Charged bool
	// Used is the count after the decision.
	Used int64
	// Loaded is false when the store could not be read: Used then counts
	// only this node's requests since.
	Loaded bool

	e     *entry
	shard int
}

// Take decides one request against every quota of items, atomically: it
// reads counters not yet in memory from the store, then locks their
// shards, checks every quota and, only when every enforced one fits,
// counts the request in each quota. It returns false, counting nothing,
// when an enforced quota is used up.
func (c *Counter) Take(ctx context.Context, items []Item) bool {
	for {
		for i := range items {
			c.prepare(ctx, &items[i])
		}
		var idx [16]int
		shards := c.lock(items, idx[:0])
		if ok, retry := c.decide(items); !retry {
			c.unlock(shards)
			return ok
		}
		c.unlock(shards)
	}
}

// decide checks and charges items under their shards' locks; retry is
// true when an entry was evicted since prepare.
func (c *Counter) decide(items []Item) (ok, retry bool) {
	admitted := true
	for i := range items {
		it := &items[i]
		if it.e.evicted {
			return false, true
		}
		used := it.e.base + it.e.pending
		it.Fits = used < it.Limit
		it.Charged, it.Used, it.Loaded = false, used, it.e.loaded
		if !it.Fits && it.Enforce {
			admitted = false
		}
	}
	if !admitted {
		return false, false
	}
	for i := range items {
		it := &items[i]
		it.e.pending++
		it.Used++
		it.Charged = true
	}
	return true, false
}

// Return takes back what Take counted in items, for a request that a
// later check refused.
func (c *Counter) Return(items []Item) {
	var idx [16]int
	shards := c.lock(items, idx[:0])
	defer c.unlock(shards)
	for i := range items {
		it := &items[i]
		if !it.Charged {
			continue
		}
		e := it.e
		if e.evicted {
			// Evicted only with nothing pending and idle: the request's
			// count was flushed. Count the return in a fresh entry, which
			// is read from the store and flushed like any other.
			sh := &c.shards[it.shard]
			var buf [160]byte
			k := mapKey(buf[:0], it.Ref)
			if e = sh.m[string(k)]; e == nil {
				e = newEntry(it.Ref)
				sh.m[string(k)] = e
			}
		}
		e.pending--
		it.Charged = false
		it.Used--
	}
}

// prepare finds or creates the item's entry and, when the entry does not hold
// the store's value yet, reads it (or waits for the read under way).
func (c *Counter) prepare(ctx context.Context, it *Item) {
	now := c.clock().UnixNano()
	var buf [160]byte
	k := mapKey(buf[:0], it.Ref)
	it.shard = int(maphash.Bytes(c.seed, k) % counterShards)
	sh := &c.shards[it.shard]
	sh.mu.Lock()
	e := sh.m[string(k)]
	if e == nil {
		e = newEntry(it.Ref)
		sh.m[string(k)] = e
	}
	e.lastUse = now
	it.e = e
	var wait chan struct{}
	load := false
	switch {
	case e.loaded:
	case e.loading != nil:
		wait = e.loading
	case e.lastTry == 0 || now-e.lastTry >= int64(c.retryLoad):
		e.loading, e.lastTry, load = make(chan struct{}), now, true
	}
	sh.mu.Unlock()
	switch {
	case load:
		c.load(ctx, sh, e)
	case wait != nil:
		select {
		case <-wait:
		case <-ctx.Done():
		}
	}
}

// load reads e's value from the store. It runs without the shard's lock;
// e.loading keeps other loads and the flusher away meanwhile.
func (c *Counter) load(ctx context.Context, sh *counterShard, e *entry) {
	// A request that goes away must not fail the read for the others
	// waiting on it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	v, err := c.st.QuotaUsage(ctx, e.ref.Route, e.ref.Quota, e.key, e.ref.Period)
	sh.mu.Lock()
	if err == nil {
		e.base, e.loaded = v, true
	}
	close(e.loading)
	e.loading = nil
	sh.mu.Unlock()
	if err != nil {
		c.log.Warn("quota: reading a counter from the store failed; counting this node's requests meanwhile",
			"route", e.ref.Route, "quota", e.ref.Quota, "err", err)
	}
}

func newEntry(r Ref) *entry { return &entry{ref: r, key: r.Key()} }

// mapKey appends the in-memory key of r: each part with its length, then
// the period.
func mapKey(b []byte, r Ref) []byte {
	for _, p := range [4]string{r.Route, r.Quota, r.Kind, r.ID} {
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
	}
	return binary.AppendVarint(b, r.Period.Unix())
}

func (c *Counter) lock(items []Item, idx []int) []int {
	for i := range items {
		idx = append(idx, items[i].shard)
	}
	if len(idx) > 1 {
		slices.Sort(idx)
		idx = slices.Compact(idx)
	}
	for _, i := range idx {
		c.shards[i].mu.Lock()
	}
	return idx
}

func (c *Counter) unlock(idx []int) {
	for _, i := range idx {
		c.shards[i].mu.Unlock()
	}
}

// Usage returns the count of r: the store's value plus what this node
// counted and has not flushed yet.
func (c *Counter) Usage(ctx context.Context, r Ref) (int64, error) {
	v, err := c.st.QuotaUsage(ctx, r.Route, r.Quota, r.Key(), r.Period)
	if err != nil {
		return 0, err
	}
	var buf [160]byte
	k := mapKey(buf[:0], r)
	sh := &c.shards[maphash.Bytes(c.seed, k)%counterShards]
	sh.mu.Lock()
	if e := sh.m[string(k)]; e != nil {
		v += e.pending
	}
	sh.mu.Unlock()
	return v, nil
}

// Len returns the number of counters in memory.
func (c *Counter) Len() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// flushed is one delta of a flush and the entry it came from.
type flushed struct {
	e     *entry
	shard int
	n     int64
}

// Flush adds everything counted since the last flush to the store, in one
// all-or-none call, and drops idle counters. On error nothing is lost: the
// counts are added by a later flush. Counters whose read failed are read
// again first.
func (c *Counter) Flush(ctx context.Context) error {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	now := c.clock().UnixNano()
	var (
		deltas []store.QuotaDelta
		from   []flushed
		reload []flushed
	)
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		for k, e := range sh.m {
			switch {
			case e.loading != nil:
			case e.loaded && e.pending != 0:
				deltas = append(deltas, store.QuotaDelta{Route: e.ref.Route, Quota: e.ref.Quota, Key: e.key, Period: e.ref.Period, N: e.pending})
				from = append(from, flushed{e: e, shard: i, n: e.pending})
			case !e.loaded && e.pending != 0 && now-e.lastTry >= int64(c.retryLoad):
				e.loading, e.lastTry = make(chan struct{}), now
				reload = append(reload, flushed{e: e, shard: i})
			case e.pending == 0 && now-e.lastUse > int64(c.idleAfter):
				delete(sh.m, k)
				e.evicted = true
			}
		}
		sh.mu.Unlock()
	}
	for _, r := range reload {
		c.load(ctx, &c.shards[r.shard], r.e)
	}
	if len(deltas) == 0 {
		return nil
	}
	sctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	if err := c.st.AddQuotaUsage(sctx, deltas); err != nil {
		return err
	}
	for _, f := range from {
		sh := &c.shards[f.shard]
		sh.mu.Lock()
		f.e.pending -= f.n
		f.e.base += f.n
		sh.mu.Unlock()
	}
	return nil
}

func (c *Counter) flushLoop() {
	defer close(c.done)
	t := time.NewTicker(c.every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			if err := c.Flush(context.Background()); err != nil {
				c.log.Warn("quota: adding counts to the store failed; retrying at the next flush", "err", err)
			}
		}
	}
}

// Close stops the flusher and flushes what is left, returning the flush's
// error (the counts since the last successful flush are then lost). The
// gateway calls it at shutdown, after the last request; later calls
// return the first call's result.
func (c *Counter) Close() error {
	c.closeOnce.Do(func() {
		close(c.stop)
		<-c.done
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		c.closeErr = c.Flush(ctx)
	})
	return c.closeErr
}
