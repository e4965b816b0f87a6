// Package redislimit keeps rate limits and quotas with store: redis in
// Redis, shared by every gateway node: one Lua script per request decides
// all of them in one round trip.
package redislimit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pinpointgw/pinpoint/internal/redisconn"
)

// Backoff is how long after a failed call the store answers ErrDown
// without trying Redis, so that an outage does not cost every request a
// timeout. The first request after it tries again.
const Backoff = time.Second

// QuotaSlack is how long a quota's key outlives its period, so the last
// period's usage can still be read for a while.
const QuotaSlack = 24 * time.Hour

// ErrDown is returned while the store backs off after a failure.
var ErrDown = errors.New("redis failed less than a second ago; not retried yet")

// Store runs the limit checks of requests in Redis. It is safe for
// concurrent use.
type Store struct {
	c *redisconn.Client
	// downUntil is the Unix nanosecond (of the gateway's clock) until which
	// calls answer ErrDown.
	downUntil atomic.Int64
}

// New returns a store on c.
func New(c *redisconn.Client) *Store { return &Store{c: c} }

// Rate is one GCRA rate limit of a request: the input (Key, Interval,
// Burst, Enforce) and what Take decided (Fits, TAT).
type Rate struct {
	// Key is the limit's Redis key for the caller (see RateKey).
	Key string
	// Interval is the emission interval in nanoseconds; Redis counts in
	// microseconds, so it is rounded to one.
	Interval int64
	// Burst is how many requests fit at once.
	Burst int64
	// Enforce makes a refusal refuse the request; a report_only limit
	// that does not fit refuses nothing and is not charged.
	Enforce bool

	// Fits is whether one more request fit.
	Fits bool
	// TAT is the caller's TAT after the decision, in Unix nanoseconds.
	TAT int64
}

// Quota is one calendar quota of a request.
type Quota struct {
	// Key is the quota's Redis key for the caller and period (QuotaKey).
	Key string
	// Limit is the number of requests allowed in the period.
	Limit int64
	// End is when the period ends; the key expires QuotaSlack later.
	End time.Time
	// Enforce makes a used-up quota refuse the request; a report_only
	// quota refuses nothing and counts every admitted request.
	Enforce bool

	// Fits is whether one more request fit.
	Fits bool
	// Used is the count after the decision.
	Used int64
}

// Take decides one request against rates and quotas at now, atomically,
// in one round trip; see the script. It returns whether the request is
// admitted, or an error when Redis could not be asked (then nothing was
// decided, and the caller takes each limit's on_store_error choice).
func (s *Store) Take(ctx context.Context, now time.Time, rates []Rate, quotas []Quota) (bool, error) {
	return s.run(ctx, decide, true, now, rates, quotas)
}

// Peek is Take without the charge, for simulated requests: one round trip
// that decides rates and quotas as Take would and answers what Take would
// have left (TATs, counts), writing nothing. A failure is returned like
// Take's but does not start the backoff, which belongs to real traffic.
func (s *Store) Peek(ctx context.Context, now time.Time, rates []Rate, quotas []Quota) (bool, error) {
	return s.run(ctx, peek, false, now, rates, quotas)
}

// run calls script (decide or peek); backoff says whether a failure
// starts (and a success ends) the backoff.
func (s *Store) run(ctx context.Context, script *redis.Script, backoff bool, now time.Time, rates []Rate, quotas []Quota) (bool, error) {
	nowNs := now.UnixNano()
	if nowNs < s.downUntil.Load() {
		return false, ErrDown
	}
	nowUs := nowNs / 1000
	keys := make([]string, 0, len(rates)+len(quotas))
	args := make([]any, 0, 2+3*(len(rates)+len(quotas)))
	args = append(args, nowUs, len(rates))
	for _, r := range rates {
		keys = append(keys, r.Key)
		args = append(args, max(1, (r.Interval+500)/1000), r.Burst, flag(r.Enforce))
	}
	for _, q := range quotas {
		keys = append(keys, q.Key)
		ttl := max(1, q.End.Add(QuotaSlack).Sub(now).Milliseconds())
		args = append(args, q.Limit, ttl, flag(q.Enforce))
	}
	ctx, cancel := context.WithTimeout(ctx, s.c.Timeout)
	defer cancel()
	res, err := script.Run(ctx, s.c, keys, args...).Int64Slice()
	if err == nil && len(res) != 1+2*len(keys) {
		err = fmt.Errorf("the limit script answered %d values for %d keys", len(res), len(keys))
	}
	if err != nil {
		if backoff {
			s.downUntil.Store(nowNs + int64(Backoff))
		}
		return false, err
	}
	if backoff {
		s.downUntil.Store(0)
	}
	v := res[1:]
	for i := range rates {
		rates[i].Fits = v[0] == 1
		rates[i].TAT = (nowUs + v[1]) * 1000
		v = v[2:]
	}
	for i := range quotas {
		quotas[i].Fits = v[0] == 1
		quotas[i].Used = v[1]
		v = v[2:]
	}
	return res[0] == 1, nil
}

func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

// RateKey is the Redis key of a rate limit for one caller: limitID is a
// stable id of the limit (the same on every node), kind and id the
// caller ("consumer", "c_123").
func (s *Store) RateKey(limitID, kind, id string) string {
	return s.c.Key("rl", limitID, kind, id)
}

// QuotaKey is the Redis key of a quota for one caller and period.
func (s *Store) QuotaKey(quotaID, kind, id string, period time.Time) string {
	return s.c.Key("q", quotaID, strconv.FormatInt(period.Unix(), 10), kind, id)
}

// Used reads a quota's count (0 when the key does not exist).
func (s *Store) Used(ctx context.Context, key string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.c.Timeout)
	defer cancel()
	n, err := s.c.Get(ctx, key).Int64()
	if err != nil && errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return n, err
}
