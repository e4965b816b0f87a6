package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

var _ store.AIUsage = (*Store)(nil)

const aiUsageColumns = `time, request_id, route, revision, consumer_id, tenant_id, credential_id, op, model,
provider, provider_model, stream, status, code, input_tokens, output_tokens, cached_tokens,
cache_write_tokens, estimated, cost_pico, priced, latency_ns, ttft_ns, attempts`

// aiUsageParams is the number of columns of one ai_usage row.
const aiUsageParams = 24

// aiUsageRows is how many records one INSERT statement carries, for the
// reason insertRows gives (24 parameters a row).
const aiUsageRows = 32

// aiUsageDeleteChunk is how many records one DeleteAIUsageBefore
// transaction deletes at most, so the write lock is held briefly.
const aiUsageDeleteChunk = 5000

const nanosPerDay = int64(24 * time.Hour)

// aiGroupColumns maps each store.AIUsageGroupKeys key to the SQL that
// yields its value as text.
var aiGroupColumns = map[string]string{
	"consumer":   "consumer_id",
	"tenant":     "tenant_id",
	"credential": "credential_id",
	"model":      "model",
	"provider":   "provider",
	"route":      "route",
	"day":        "strftime('%Y-%m-%d', time / 1000000000, 'unixepoch')",
}

// insertAIUsage returns the INSERT statement for n records.
func insertAIUsage(n int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", aiUsageParams), ", ") + ")"
	return "INSERT INTO ai_usage (" + aiUsageColumns + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

var insertAIUsageFull = insertAIUsage(aiUsageRows)

// InsertAIUsage stores the batch in one transaction, in multi-row INSERT
// statements. An empty batch is a no-op.
func (s *Store) InsertAIUsage(ctx context.Context, rows []store.AIUsageRecord) error {
	if len(rows) == 0 {
		return nil
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var full *sql.Stmt
		args := make([]any, 0, aiUsageRows*aiUsageParams)
		for start := 0; start < len(rows); start += aiUsageRows {
			chunk := rows[start:min(start+aiUsageRows, len(rows))]
			args = args[:0]
			for i := range chunk {
				r := &chunk[i]
				args = append(args,
					unixNanos(r.Time), r.RequestID, r.Route, r.Revision, r.ConsumerID, r.TenantID,
					r.CredentialID, r.Op, r.Model, r.Provider, r.ProviderModel, boolInt(r.Stream),
					r.Status, r.Code, r.InputTokens, r.OutputTokens, r.CachedTokens, r.CacheWriteTokens,
					boolInt(r.Estimated), r.CostPico, boolInt(r.Priced), int64(r.Latency), int64(r.TTFT),
					r.Attempts)
			}
			var err error
			if len(chunk) == aiUsageRows {
				if full == nil {
					if full, err = tx.PrepareContext(ctx, insertAIUsageFull); err != nil {
						return err
					}
					defer full.Close()
				}
				_, err = full.ExecContext(ctx, args...)
			} else {
				_, err = tx.ExecContext(ctx, insertAIUsage(len(chunk)), args...)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: insert ai usage: %w", err)
	}
	return nil
}

// AIUsageReport sums the records matching q per group of q.GroupBy, in
// ascending order of the keys as GroupBy lists them (text compared
// bytewise). An unknown or repeated key is an error; no matching record
// is an empty, non-nil slice. A sum beyond the int64 range is an error.
func (s *Store) AIUsageReport(ctx context.Context, q store.AIUsageQuery) ([]store.AIUsageGroup, error) {
	query, args, err := buildAIUsageReport(q)
	if err != nil {
		return nil, fmt.Errorf("sqlite: ai usage report: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: ai usage report: %w", err)
	}
	defer rows.Close()
	out := []store.AIUsageGroup{}
	for rows.Next() {
		g, err := q.ScanGroup(rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("sqlite: ai usage report: %w", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: ai usage report: %w", err)
	}
	return out, nil
}

// buildAIUsageReport turns q into SQL with every value bound as a parameter.
func buildAIUsageReport(q store.AIUsageQuery) (string, []any, error) {
	cols, err := q.GroupColumns(aiGroupColumns)
	if err != nil {
		return "", nil, err
	}
	var (
		where []string
		args  []any
	)
	q.Filters(func(t time.Time) any { return unixNanos(t) }, func(cond string, v any) {
		where, args = append(where, cond), append(args, v)
	})

	var b strings.Builder
	b.WriteString("SELECT ")
	for _, c := range cols {
		b.WriteString(c + ", ")
	}
	b.WriteString(`COUNT(*), COALESCE(SUM(status >= 400), 0), COALESCE(SUM(input_tokens), 0),
COALESCE(SUM(output_tokens), 0), COALESCE(SUM(cached_tokens), 0), COALESCE(SUM(cost_pico), 0) FROM ai_usage`)
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	if len(cols) > 0 {
		ord := make([]string, len(cols))
		for i := range cols {
			ord[i] = fmt.Sprint(i + 1)
		}
		b.WriteString(" GROUP BY " + strings.Join(ord, ", ") + " ORDER BY " + strings.Join(ord, ", "))
	} else {
		// Without groups the sums come back as one row even when nothing
		// matched; the report has no group then.
		b.WriteString(" HAVING COUNT(*) > 0")
	}
	return b.String(), args, nil
}

// AISpend returns, per consumer, tenant, credential and UTC day, the cost
// and the input plus output tokens of the records at or after since,
// ordered by day, then consumer, tenant and credential.
func (s *Store) AISpend(ctx context.Context, since time.Time) ([]store.AISpendRow, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT consumer_id, tenant_id, credential_id, time / ? AS day,
       SUM(cost_pico), SUM(input_tokens + output_tokens)
FROM ai_usage WHERE time >= ?
GROUP BY consumer_id, tenant_id, credential_id, day
ORDER BY day, consumer_id, tenant_id, credential_id`, nanosPerDay, unixNanos(since))
	if err != nil {
		return nil, fmt.Errorf("sqlite: ai spend: %w", err)
	}
	defer rows.Close()
	var out []store.AISpendRow
	for rows.Next() {
		var (
			r   store.AISpendRow
			day int64
		)
		if err := rows.Scan(&r.ConsumerID, &r.TenantID, &r.CredentialID, &day, &r.CostPico, &r.Tokens); err != nil {
			return nil, fmt.Errorf("sqlite: ai spend: %w", err)
		}
		r.Day = time.Unix(0, day*nanosPerDay).UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: ai spend: %w", err)
	}
	return out, nil
}

// DeleteAIUsageBefore deletes the records whose time is before t (zero:
// none), in chunks of a few thousand, one transaction each, and returns
// how many it deleted, also when ctx ends it early.
func (s *Store) DeleteAIUsageBefore(ctx context.Context, t time.Time) (int64, error) {
	if t.IsZero() {
		return 0, nil
	}
	var total int64
	for {
		var n int64
		err := s.withTx(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx,
				`DELETE FROM ai_usage WHERE rowid IN (SELECT rowid FROM ai_usage WHERE time < ? LIMIT ?)`,
				unixNanos(t), aiUsageDeleteChunk)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, fmt.Errorf("sqlite: delete ai usage: %w", err)
		}
		total += n
		if n < aiUsageDeleteChunk {
			return total, nil
		}
	}
}

// boolInt stores a bool as the INTEGER 0 or 1.
func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
