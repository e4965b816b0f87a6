package analytics

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/pinpointgw/pinpoint/internal/analytics/sketch"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// Retention is how long each roll-up level is kept.
type Retention struct {
	Minute, Hour, Day time.Duration
}

// Default retention and compaction timing.
const (
	DefaultRetentionMinute = 48 * time.Hour
	DefaultRetentionHour   = 720 * time.Hour
	DefaultRetentionDay    = 9600 * time.Hour
	// DefaultGrace is how long after an hour (or day) closes it is
	// compacted, so that every node's last flush of it has landed.
	DefaultGrace = 5 * time.Minute
	// DefaultCompactEvery is how often the compactor runs.
	DefaultCompactEvery = time.Minute
)

const day = 24 * time.Hour

// CompactorOptions configure a Compactor.
type CompactorOptions struct {
	// Store holds the roll-ups. Required.
	Store store.Rollups
	// Retention returns the retention in force (read at every run, so a
	// new revision's applies at once); nil or zero fields: the defaults.
	Retention func() Retention
	// Grace delays the compaction of a closed hour or day; default
	// DefaultGrace. Keep it longer than the flush interval.
	Grace time.Duration
	// Every is how often Run compacts; default DefaultCompactEvery.
	Every time.Duration
	// Logger receives failures; default slog.Default().
	Logger *slog.Logger
}

// Compactor merges the minute rows of every node into one row per key
// and hour once the hour has closed (plus grace), hour rows into day rows
// likewise, and deletes the rows each level's retention no longer covers.
// Every node runs one: compaction replaces a period's rows whole
// (store.Rollups.ReplaceRollups), so running it twice, or on two nodes at
// once, gives the same rows.
type Compactor struct {
	o CompactorOptions
	// hourDone and dayDone are the newest hour and day compacted by this
	// compactor; zero until the first run, which finds the missing ones.
	hourDone, dayDone time.Time
}

// NewCompactor returns a compactor; call Run, or Compact for one pass.
func NewCompactor(o CompactorOptions) *Compactor {
	if o.Grace <= 0 {
		o.Grace = DefaultGrace
	}
	if o.Every <= 0 {
		o.Every = DefaultCompactEvery
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Compactor{o: o}
}

// CompactResult says what one pass did.
type CompactResult struct {
	// Hours and Days are the periods compacted.
	Hours, Days []time.Time
	// Deleted counts the rows retention deleted, per level.
	Deleted map[string]int64
}

// Run compacts every Every until ctx ends.
func (c *Compactor) Run(ctx context.Context) {
	t := time.NewTicker(c.o.Every)
	defer t.Stop()
	for {
		if _, err := c.Compact(ctx, time.Now()); err != nil && ctx.Err() == nil {
			c.o.Logger.Warn("analytics compaction failed; retrying at the next run", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (c *Compactor) retention() Retention {
	var r Retention
	if c.o.Retention != nil {
		r = c.o.Retention()
	}
	if r.Minute <= 0 {
		r.Minute = DefaultRetentionMinute
	}
	if r.Hour <= 0 {
		r.Hour = DefaultRetentionHour
	}
	if r.Day <= 0 {
		r.Day = DefaultRetentionDay
	}
	return r
}

// Compact runs one pass at now: closed hours, then closed days, then retention.
func (c *Compactor) Compact(ctx context.Context, now time.Time) (CompactResult, error) {
	now = now.UTC()
	ret := c.retention()
	res := CompactResult{Deleted: map[string]int64{}}

	// An hour H is closed once H+1h+grace has passed. The oldest hour whose
	// minute rows retention may have cut is left alone.
	lastHour := now.Add(-c.o.Grace - time.Hour).Truncate(time.Hour)
	hours, err := c.pending(ctx, store.LevelHour, ceil(now.Add(-ret.Minute), time.Hour), lastHour, time.Hour, c.hourDone)
	if err != nil {
		return res, err
	}
	for _, h := range hours {
		done, err := c.compact(ctx, store.LevelMinute, store.LevelHour, h, time.Hour)
		if err != nil {
			return res, err
		}
		if done {
			res.Hours = append(res.Hours, h)
		}
		c.hourDone = h
	}
	if c.hourDone.IsZero() || c.hourDone.Before(lastHour) {
		c.hourDone = lastHour
	}

	// A day D is closed once D+24h+grace has passed; its last hour was
	// compacted above.
	lastDay := now.Add(-c.o.Grace).Truncate(day).Add(-day)
	days, err := c.pending(ctx, store.LevelDay, ceil(now.Add(-ret.Hour), day), lastDay, day, c.dayDone)
	if err != nil {
		return res, err
	}
	for _, d := range days {
		done, err := c.compact(ctx, store.LevelHour, store.LevelDay, d, day)
		if err != nil {
			return res, err
		}
		if done {
			res.Days = append(res.Days, d)
		}
		c.dayDone = d
	}
	if c.dayDone.IsZero() || c.dayDone.Before(lastDay) {
		c.dayDone = lastDay
	}

	for _, l := range []struct {
		level string
		keep  time.Duration
	}{{store.LevelMinute, ret.Minute}, {store.LevelHour, ret.Hour}, {store.LevelDay, ret.Day}} {
		n, err := c.o.Store.DeleteRollups(ctx, l.level, now.Add(-l.keep))
		if err != nil {
			return res, fmt.Errorf("analytics: retention of %s rows: %w", l.level, err)
		}
		res.Deleted[l.level] = n
	}
	return res, nil
}

// pending lists the periods from first to last (inclusive) to compact
// into level: after done, or, on the first run, those without rows yet.
func (c *Compactor) pending(ctx context.Context, level string, first, last time.Time, step time.Duration, done time.Time) ([]time.Time, error) {
	if last.Before(first) {
		return nil, nil
	}
	if !done.IsZero() {
		var out []time.Time
		for p := done.Add(step); !p.After(last); p = p.Add(step) {
			if !p.Before(first) {
				out = append(out, p)
			}
		}
		return out, nil
	}
	// One period at a time, so memory stays bounded by one period's rows.
	var out []time.Time
	for p := first; !p.After(last); p = p.Add(step) {
		rows, err := c.o.Store.QueryRollups(ctx, store.RollupQuery{Level: level, Since: p, Until: p.Add(step)})
		if err != nil {
			return nil, fmt.Errorf("analytics: finding %s rows to compact: %w", level, err)
		}
		if len(rows) == 0 {
			out = append(out, p)
		}
	}
	return out, nil
}

// compact merges the from rows of [start, start+span) into to rows of
// bucket start. It leaves a period without from rows alone (its rows, if
// any, were compacted before retention removed the source rows).
func (c *Compactor) compact(ctx context.Context, from, to string, start time.Time, span time.Duration) (bool, error) {
	rows, err := c.o.Store.QueryRollups(ctx, store.RollupQuery{Level: from, Since: start, Until: start.Add(span)})
	if err != nil {
		return false, fmt.Errorf("analytics: reading %s rows of %s: %w", from, start.Format(time.RFC3339), err)
	}
	if len(rows) == 0 {
		return false, nil
	}
	merged := Merge(rows, func(r *store.Rollup) { r.Level, r.Bucket, r.Node = to, start, "" })
	if err := c.o.Store.ReplaceRollups(ctx, to, start, merged); err != nil {
		return false, fmt.Errorf("analytics: writing %s rows of %s: %w", to, start.Format(time.RFC3339), err)
	}
	return true, nil
}

// Merge combines rows that become equal after relabel rewrites their key
// (set Node to "" to merge nodes, Bucket to merge periods). Counts and
// sums add and latency sketches merge; an undecodable sketch is dropped
// from the merge. The result is in order of each key's first row.
func Merge(rows []store.Rollup, relabel func(*store.Rollup)) []store.Rollup {
	out := make([]store.Rollup, 0, len(rows))
	at := make(map[store.RollupKey]int, len(rows))
	sketches := map[int]*sketch.Sketch{}
	for _, r := range rows {
		relabel(&r)
		k := r.Key()
		i, ok := at[k]
		if !ok {
			at[k] = len(out)
			r.Latency = append([]byte(nil), r.Latency...)
			out = append(out, r)
			continue
		}
		o := &out[i]
		o.Count += r.Count
		o.UpstreamErrors += r.UpstreamErrors
		o.LatencySum += r.LatencySum
		if len(r.Latency) == 0 {
			continue
		}
		s, ok := sketches[i]
		if !ok {
			var err error
			if s, err = sketch.Decode(o.Latency); err != nil {
				s = sketch.New()
			}
			sketches[i] = s
		}
		if add, err := sketch.Decode(r.Latency); err == nil {
			s.Merge(add)
		}
	}
	for i, s := range sketches {
		out[i].Latency = s.Encode()
	}
	return out
}

// ceil rounds t up to a multiple of d (UTC).
func ceil(t time.Time, d time.Duration) time.Time {
	f := t.Truncate(d)
	if f.Equal(t) {
		return f
	}
	return f.Add(d)
}
