package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinpointgw/pinpoint/internal/store"
)

var _ store.AIUsage = (*Store)(nil)

var aiUsageCopyColumns = []string{"time", "request_id", "route", "revision", "consumer_id", "tenant_id",
	"credential_id", "op", "model", "provider", "provider_model", "stream", "status", "code", "input_tokens",
	"output_tokens", "cached_tokens", "cache_write_tokens", "estimated", "cost_pico", "priced", "latency_ns",
	"ttft_ns", "attempts"}

// aiUsageDeleteChunk is how many records one DeleteAIUsageBefore statement
// deletes at most, so a large backlog never holds long row locks.
const aiUsageDeleteChunk = 5000

// aiGroupColumns maps each store.AIUsageGroupKeys key to the SQL that
// yields its value as text. Times are timestamptz; "day" is the UTC date
// whatever the session's time zone.
var aiGroupColumns = map[string]string{
	"consumer":   "consumer_id",
	"tenant":     "tenant_id",
	"credential": "credential_id",
	"model":      "model",
	"provider":   "provider",
	"route":      "route",
	"day":        "to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
}

// InsertAIUsage stores the batch in one transaction, with COPY. An empty
// batch is a no-op.
func (s *Store) InsertAIUsage(ctx context.Context, rows []store.AIUsageRecord) error {
	if len(rows) == 0 {
		return nil
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		copied, err := tx.CopyFrom(ctx, pgx.Identifier{"ai_usage"}, aiUsageCopyColumns,
			pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
				r := &rows[i]
				return []any{r.Time, r.RequestID, r.Route, r.Revision, r.ConsumerID, r.TenantID,
					r.CredentialID, r.Op, r.Model, r.Provider, r.ProviderModel, r.Stream, int32(r.Status),
					r.Code, r.InputTokens, r.OutputTokens, r.CachedTokens, r.CacheWriteTokens, r.Estimated,
					r.CostPico, r.Priced, int64(r.Latency), int64(r.TTFT), int32(r.Attempts)}, nil
			}))
		if err != nil {
			return err
		}
		if copied != int64(len(rows)) {
			return fmt.Errorf("copied %d of %d records", copied, len(rows))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: insert ai usage: %w", err)
	}
	return nil
}

// AIUsageReport sums the records matching q per group of q.GroupBy, in
// ascending order of the keys as GroupBy lists them (text compared
// bytewise, COLLATE "C", like the SQLite store). An unknown or repeated
// key is an error; no matching record is an empty, non-nil slice. A sum
// beyond the int64 range is an error.
func (s *Store) AIUsageReport(ctx context.Context, q store.AIUsageQuery) ([]store.AIUsageGroup, error) {
	query, args, err := buildAIUsageReport(q)
	if err != nil {
		return nil, fmt.Errorf("postgres: ai usage report: %w", err)
	}
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: ai usage report: %w", err)
	}
	defer rows.Close()
	out := []store.AIUsageGroup{}
	for rows.Next() {
		g, err := q.ScanGroup(rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("postgres: ai usage report: %w", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: ai usage report: %w", err)
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
	q.Filters(func(t time.Time) any { return t }, func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1))
	})

	// SUM of bigint is numeric in PostgreSQL: the cast back to bigint
	// fails rather than wraps on overflow.
	var b strings.Builder
	b.WriteString("SELECT ")
	for _, c := range cols {
		b.WriteString(c + ", ")
	}
	b.WriteString(`COUNT(*), COUNT(*) FILTER (WHERE status >= 400), COALESCE(SUM(input_tokens), 0)::bigint,
COALESCE(SUM(output_tokens), 0)::bigint, COALESCE(SUM(cached_tokens), 0)::bigint,
COALESCE(SUM(cost_pico), 0)::bigint FROM ai_usage`)
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	if len(cols) > 0 {
		ord := make([]string, len(cols))
		sorted := make([]string, len(cols))
		for i, c := range cols {
			ord[i] = strconv.Itoa(i + 1)
			sorted[i] = c + ` COLLATE "C"`
		}
		b.WriteString(" GROUP BY " + strings.Join(ord, ", ") + " ORDER BY " + strings.Join(sorted, ", "))
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
	rows, err := s.pool.Query(ctx, `SELECT consumer_id, tenant_id, credential_id,
       (time AT TIME ZONE 'UTC')::date AS day,
       SUM(cost_pico)::bigint, SUM(input_tokens + output_tokens)::bigint
FROM ai_usage WHERE time >= $1
GROUP BY consumer_id, tenant_id, credential_id, day
ORDER BY day, consumer_id COLLATE "C", tenant_id COLLATE "C", credential_id COLLATE "C"`, since)
	if err != nil {
		return nil, fmt.Errorf("postgres: ai spend: %w", err)
	}
	defer rows.Close()
	var out []store.AISpendRow
	for rows.Next() {
		var (
			r   store.AISpendRow
			day time.Time
		)
		if err := rows.Scan(&r.ConsumerID, &r.TenantID, &r.CredentialID, &day, &r.CostPico, &r.Tokens); err != nil {
			return nil, fmt.Errorf("postgres: ai spend: %w", err)
		}
		r.Day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: ai spend: %w", err)
	}
	return out, nil
}

// DeleteAIUsageBefore deletes the records whose time is before t (zero:
// none), in chunks of a few thousand, one statement each, and returns how
// many it deleted, also when ctx ends it early.
func (s *Store) DeleteAIUsageBefore(ctx context.Context, t time.Time) (int64, error) {
	if t.IsZero() {
		return 0, nil
	}
	var total int64
	for {
		tag, err := s.pool.Exec(ctx,
			`DELETE FROM ai_usage WHERE id IN (SELECT id FROM ai_usage WHERE time < $1 LIMIT $2)`,
			t, aiUsageDeleteChunk)
		if err != nil {
			return total, fmt.Errorf("postgres: delete ai usage: %w", err)
		}
		n := tag.RowsAffected()
		total += n
		if n < aiUsageDeleteChunk {
			return total, nil
		}
	}
}
