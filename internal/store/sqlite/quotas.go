package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// AddQuotaUsage adds every delta in one transaction.
func (s *Store) AddQuotaUsage(ctx context.Context, deltas []store.QuotaDelta) error {
	if len(deltas) == 0 {
		return nil
	}
	now := unixNanos(time.Now())
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO quota_usage (route, quota, key, period, used, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (route, quota, key, period) DO UPDATE SET used = used + excluded.used, updated_at = excluded.updated_at`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, d := range deltas {
			if _, err := stmt.ExecContext(ctx, d.Route, d.Quota, d.Key, unixNanos(d.Period), d.N, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: add quota usage: %w", err)
	}
	return nil
}

// QuotaUsage returns one counter; 0 when it does not exist.
func (s *Store) QuotaUsage(ctx context.Context, route, quota, key string, period time.Time) (int64, error) {
	var used int64
	err := s.r.QueryRowContext(ctx,
		`SELECT used FROM quota_usage WHERE route = ? AND quota = ? AND key = ? AND period = ?`,
		route, quota, key, unixNanos(period)).Scan(&used)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: quota usage: %w", err)
	}
	return used, nil
}

// ListQuotaUsage returns the counters matching f, newest period first.
func (s *Store) ListQuotaUsage(ctx context.Context, f store.QuotaFilter) ([]store.QuotaUsage, error) {
	q := `SELECT route, quota, key, period, used, updated_at FROM quota_usage WHERE period >= ?`
	args := []any{unixNanos(f.Since)}
	if f.Since.IsZero() {
		args[0] = int64(0)
	}
	for _, c := range []struct{ col, v string }{{"route", f.Route}, {"quota", f.Quota}, {"key", f.Key}} {
		if c.v != "" {
			q += " AND " + c.col + " = ?"
			args = append(args, c.v)
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	q += " ORDER BY period DESC, route, quota, key LIMIT ?"
	args = append(args, limit)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list quota usage: %w", err)
	}
	defer rows.Close()
	var out []store.QuotaUsage
	for rows.Next() {
		var (
			u               store.QuotaUsage
			period, updated int64
		)
		if err := rows.Scan(&u.Route, &u.Quota, &u.Key, &period, &u.Used, &updated); err != nil {
			return nil, fmt.Errorf("sqlite: list quota usage: %w", err)
		}
		u.Period, u.UpdatedAt = fromUnixNanos(period), fromUnixNanos(updated)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list quota usage: %w", err)
	}
	return out, nil
}

// DeleteQuotaUsageBefore removes counters of periods before t.
func (s *Store) DeleteQuotaUsageBefore(ctx context.Context, t time.Time) (int64, error) {
	var n int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM quota_usage WHERE period < ?`, unixNanos(t))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete quota usage: %w", err)
	}
	return n, nil
}
