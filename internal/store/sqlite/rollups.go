package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

var _ store.Rollups = (*Store)(nil)

const rollupKeyColumns = `level, bucket, node, kind, route, consumer, code, stage, layer, rule, status_class`

const rollupColumns = rollupKeyColumns + `, count, upstream_errors, latency_sum_ns, latency`

const insertRollup = `INSERT INTO rollups (` + rollupColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// rollupChunk is how many rows one statement of AddRollups carries: one
// multi-row statement costs far less CPU in the pure-Go driver than as many
// single-row ones (15 parameters a row, well under SQLite's limit of 32766).
const rollupChunk = 64

// upsertRollups returns the statement that inserts n rows or adds their
// counts to their stored twins. The sketches bound are already merged with
// the stored ones; NULL keeps the stored sketch.
func upsertRollups(n int) string {
	return `INSERT INTO rollups (` + rollupColumns + `) VALUES ` +
		strings.TrimSuffix(strings.Repeat(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), `, n), ", ") + `
ON CONFLICT (` + rollupKeyColumns + `) DO UPDATE SET
    count           = count + excluded.count,
    upstream_errors = upstream_errors + excluded.upstream_errors,
    latency_sum_ns  = latency_sum_ns + excluded.latency_sum_ns,
    latency         = COALESCE(excluded.latency, latency)`
}

// storedLatencies returns the statement that reads the stored sketches of
// n keys (keys without a stored sketch are left out).
func storedLatencies(n int) string {
	return `WITH k (` + rollupKeyColumns + `) AS (VALUES ` +
		strings.TrimSuffix(strings.Repeat(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), `, n), ", ") + `)
SELECT r.level, r.bucket, r.node, r.kind, r.route, r.consumer, r.code, r.stage, r.layer, r.rule,
       r.status_class, r.latency
FROM k JOIN rollups r
  ON r.level = k.level AND r.bucket = k.bucket AND r.node = k.node AND r.kind = k.kind
 AND r.route = k.route AND r.consumer = k.consumer AND r.code = k.code AND r.stage = k.stage
 AND r.layer = k.layer AND r.rule = k.rule AND r.status_class = k.status_class
WHERE r.latency IS NOT NULL`
}

func rollupKeyArgs(r *store.Rollup) []any {
	return []any{r.Level, unixNanos(r.Bucket), r.Node, r.Kind, r.Route, r.Consumer,
		r.Code, r.Stage, r.Layer, r.Rule, r.StatusClass}
}

func rollupArgs(r *store.Rollup, latency []byte) []any {
	return append(rollupKeyArgs(r), r.Count, r.UpstreamErrors, int64(r.LatencySum), nullBytes(latency))
}

// nullBytes stores an empty slice as NULL.
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// AddRollups merges rows into the stored rows with the same keys in one
// transaction: counts and sums add, and latency sketches combine as
// merge(stored, new) (see store.MergeLatency). Rows with equal keys in the
// batch are combined first. The single writer connection holds the write
// lock from the read of the stored sketches to the commit, so no other
// writer, in this process or another, interleaves.
func (s *Store) AddRollups(ctx context.Context, rows []store.Rollup, merge func(old, new []byte) []byte) error {
	if len(rows) == 0 {
		return nil
	}
	for i := range rows {
		if err := store.CheckRollup(&rows[i]); err != nil {
			return fmt.Errorf("sqlite: add rollups: %w", err)
		}
	}
	rows = store.CoalesceRollups(rows, merge)
	latency := make([][]byte, len(rows))
	at := make(map[store.RollupKey]int, len(rows))
	var sketchy []int // rows whose new sketch may need a merge
	for i := range rows {
		latency[i] = rows[i].Latency
		if len(rows[i].Latency) > 0 {
			at[rows[i].Key()] = i
			sketchy = append(sketchy, i)
		}
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		// Statements for full chunks are prepared once per call: parsing
		// is a large share of the driver's work.
		var selFull, upFull *sql.Stmt
		defer func() {
			for _, st := range []*sql.Stmt{selFull, upFull} {
				if st != nil {
					st.Close()
				}
			}
		}()
		prepared := func(full **sql.Stmt, query func(int) string, n int) (*sql.Stmt, error) {
			if n < rollupChunk {
				return tx.PrepareContext(ctx, query(n))
			}
			if *full == nil {
				st, err := tx.PrepareContext(ctx, query(rollupChunk))
				if err != nil {
					return nil, err
				}
				*full = st
			}
			return *full, nil
		}
		for start := 0; start < len(sketchy); start += rollupChunk {
			chunk := sketchy[start:min(start+rollupChunk, len(sketchy))]
			args := make([]any, 0, len(chunk)*11)
			for _, i := range chunk {
				args = append(args, rollupKeyArgs(&rows[i])...)
			}
			st, err := prepared(&selFull, storedLatencies, len(chunk))
			if err != nil {
				return err
			}
			err = mergeStored(ctx, st, args, func(k store.RollupKey, old []byte) {
				if i, ok := at[k]; ok {
					latency[i] = store.MergeLatency(old, rows[i].Latency, merge)
				}
			})
			if st != selFull {
				st.Close()
			}
			if err != nil {
				return err
			}
		}
		for start := 0; start < len(rows); start += rollupChunk {
			end := min(start+rollupChunk, len(rows))
			args := make([]any, 0, (end-start)*15)
			for i := start; i < end; i++ {
				args = append(args, rollupArgs(&rows[i], latency[i])...)
			}
			st, err := prepared(&upFull, upsertRollups, end-start)
			if err != nil {
				return err
			}
			_, err = st.ExecContext(ctx, args...)
			if st != upFull {
				st.Close()
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: add rollups: %w", err)
	}
	return nil
}

// mergeStored runs a prepared storedLatencies query and calls found with
// each key and stored sketch.
func mergeStored(ctx context.Context, st *sql.Stmt, args []any, found func(store.RollupKey, []byte)) error {
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k      store.RollupKey
			bucket int64
			old    []byte
		)
		if err := rows.Scan(&k.Level, &bucket, &k.Node, &k.Kind, &k.Route, &k.Consumer, &k.Code, &k.Stage,
			&k.Layer, &k.Rule, &k.StatusClass, &old); err != nil {
			return err
		}
		k.Bucket = fromUnixNanos(bucket).UnixNano()
		found(k, old)
	}
	return rows.Err()
}

// ReplaceRollups replaces, in one transaction, every row of level whose
// bucket is bucket by rows, which must all have that level and bucket and
// distinct keys. Repeating it with the same rows changes nothing.
func (s *Store) ReplaceRollups(ctx context.Context, level string, bucket time.Time, rows []store.Rollup) error {
	for i := range rows {
		r := &rows[i]
		if err := store.CheckRollup(r); err != nil {
			return fmt.Errorf("sqlite: replace rollups: %w", err)
		}
		if r.Level != level || !r.Bucket.Equal(bucket) {
			return fmt.Errorf("sqlite: replace rollups: row of %s %s in a replacement of %s %s",
				r.Level, r.Bucket.UTC().Format(time.RFC3339), level, bucket.UTC().Format(time.RFC3339))
		}
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM rollups WHERE level = ? AND bucket = ?`,
			level, unixNanos(bucket)); err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		ins, err := tx.PrepareContext(ctx, insertRollup)
		if err != nil {
			return err
		}
		defer ins.Close()
		for i := range rows {
			if _, err := ins.ExecContext(ctx, rollupArgs(&rows[i], rows[i].Latency)...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: replace rollups: %w", err)
	}
	return nil
}

// QueryRollups returns the rows of q.Level matching q, ordered by bucket
// (and, within a bucket, by the rest of the key).
func (s *Store) QueryRollups(ctx context.Context, q store.RollupQuery) ([]store.Rollup, error) {
	if q.Level == "" {
		return nil, errors.New("sqlite: query rollups: level is required")
	}
	var (
		where []string
		args  []any
	)
	q.Filters(func(t time.Time) any { return unixNanos(t) }, func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	})
	rows, err := s.r.QueryContext(ctx, `SELECT `+rollupColumns+` FROM rollups WHERE `+
		strings.Join(where, " AND ")+` ORDER BY `+rollupKeyColumns, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: query rollups: %w", err)
	}
	defer rows.Close()
	var out []store.Rollup
	for rows.Next() {
		var (
			r           store.Rollup
			bucket, sum int64
		)
		if err := rows.Scan(&r.Level, &bucket, &r.Node, &r.Kind, &r.Route, &r.Consumer, &r.Code, &r.Stage,
			&r.Layer, &r.Rule, &r.StatusClass, &r.Count, &r.UpstreamErrors, &sum, &r.Latency); err != nil {
			return nil, fmt.Errorf("sqlite: query rollups: %w", err)
		}
		r.Bucket = fromUnixNanos(bucket)
		r.LatencySum = time.Duration(sum)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: query rollups: %w", err)
	}
	return out, nil
}

// DeleteRollups deletes the rows of level with buckets before before and
// returns how many it deleted.
func (s *Store) DeleteRollups(ctx context.Context, level string, before time.Time) (int64, error) {
	var n int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM rollups WHERE level = ? AND bucket < ?`, level, unixNanos(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete rollups: %w", err)
	}
	return n, nil
}
