package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// quotaKey names one counter.
type quotaKey struct {
	route, quota, key string
	period            time.Time
}

// AddQuotaUsage adds every delta atomically, in one statement. Deltas of one
// counter are summed first (an upsert may touch a row once), and counters
// are written in key order so concurrent batches lock rows in the same
// order and never deadlock.
func (s *Store) AddQuotaUsage(ctx context.Context, deltas []store.QuotaDelta) error {
	if len(deltas) == 0 {
		return nil
	}
	sums := make(map[quotaKey]int64, len(deltas))
	for _, d := range deltas {
		sums[quotaKey{d.Route, d.Quota, d.Key, micro(d.Period)}] += d.N
	}
	keys := make([]quotaKey, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b quotaKey) int {
		return cmp.Or(cmp.Compare(a.route, b.route), cmp.Compare(a.quota, b.quota),
			cmp.Compare(a.key, b.key), a.period.Compare(b.period))
	})
	var (
		routes, quotas, names = make([]string, len(keys)), make([]string, len(keys)), make([]string, len(keys))
		periods               = make([]time.Time, len(keys))
		ns                    = make([]int64, len(keys))
	)
	for i, k := range keys {
		routes[i], quotas[i], names[i], periods[i], ns[i] = k.route, k.quota, k.key, k.period, sums[k]
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO quota_usage AS q (route, quota, key, period, used, updated_at)
		SELECT d.route, d.quota, d.key, d.period, d.n, $6
		FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::bigint[])
			WITH ORDINALITY AS d(route, quota, key, period, n, ord)
		ORDER BY d.ord
		ON CONFLICT (route, quota, key, period) DO UPDATE SET used = q.used + excluded.used, updated_at = excluded.updated_at`,
		routes, quotas, names, periods, ns, now())
	if err != nil {
		return fmt.Errorf("postgres: add quota usage: %w", err)
	}
	return nil
}

// QuotaUsage returns one counter; 0 when it does not exist.
func (s *Store) QuotaUsage(ctx context.Context, route, quota, key string, period time.Time) (int64, error) {
	var used int64
	err := s.pool.QueryRow(ctx,
		`SELECT COALESCE(SUM(used), 0) FROM quota_usage WHERE route = $1 AND quota = $2 AND key = $3 AND period = $4`,
		route, quota, key, period).Scan(&used)
	if err != nil {
		return 0, fmt.Errorf("postgres: quota usage: %w", err)
	}
	return used, nil
}

// ListQuotaUsage returns the counters matching f, newest period first, then
// by route, quota and key.
func (s *Store) ListQuotaUsage(ctx context.Context, f store.QuotaFilter) ([]store.QuotaUsage, error) {
	q := `SELECT route, quota, key, period, used, updated_at FROM quota_usage WHERE true`
	var args []any
	cond := func(col string, v any) {
		args = append(args, v)
		q += " AND " + col + " $" + strconv.Itoa(len(args))
	}
	if !f.Since.IsZero() {
		cond("period >=", f.Since)
	}
	for _, c := range []struct{ col, v string }{{"route", f.Route}, {"quota", f.Quota}, {"key", f.Key}} {
		if c.v != "" {
			cond(c.col+" =", c.v)
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	args = append(args, limit)
	q += " ORDER BY period DESC, route, quota, key LIMIT $" + strconv.Itoa(len(args))
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list quota usage: %w", err)
	}
	defer rows.Close()
	var out []store.QuotaUsage
	for rows.Next() {
		var u store.QuotaUsage
		if err := rows.Scan(&u.Route, &u.Quota, &u.Key, &u.Period, &u.Used, &u.UpdatedAt); err != nil {
			return nil, fmt.Errorf("postgres: list quota usage: %w", err)
		}
		u.Period, u.UpdatedAt = u.Period.UTC(), u.UpdatedAt.UTC()
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list quota usage: %w", err)
	}
	return out, nil
}

// DeleteQuotaUsageBefore removes counters of periods before t.
func (s *Store) DeleteQuotaUsageBefore(ctx context.Context, t time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM quota_usage WHERE period < $1`, t)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete quota usage: %w", err)
	}
	return tag.RowsAffected(), nil
}
