package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinpointgw/pinpoint/internal/store"
)

var _ store.Rollups = (*Store)(nil)

const rollupKeyColumns = `level, bucket, node, kind, route, consumer, code, stage, layer, rule, status_class`

const rollupColumns = rollupKeyColumns + `, count, upstream_errors, latency_sum_ns, latency`

// rollupOrder sorts query results by bucket, then by the rest of the key
// with text compared bytewise (COLLATE "C"), like the SQLite store.
const rollupOrder = `bucket, level COLLATE "C", node COLLATE "C", kind COLLATE "C", route COLLATE "C",
consumer COLLATE "C", code COLLATE "C", stage COLLATE "C", layer COLLATE "C", rule COLLATE "C", status_class`

// rollupCopyColumns are rollupColumns, for COPY.
var rollupCopyColumns = []string{"level", "bucket", "node", "kind", "route", "consumer", "code", "stage",
	"layer", "rule", "status_class", "count", "upstream_errors", "latency_sum_ns", "latency"}

// lockBucket takes a transaction-scoped advisory lock on one bucket of one
// level ($1 is bucketLock's key), so the gateways writing a bucket take
// turns: between the lock and the commit, the rows of the bucket are the
// transaction's alone to read and rewrite.
const lockBucket = `SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || $1, 0))`

// bucketLock is lockBucket's key for the bucket of level starting at bucket.
func bucketLock(level string, bucket time.Time) string {
	return ":pinpoint-rollups:" + level + ":" + strconv.FormatInt(micro(bucket).UnixMicro(), 10)
}

// storedLatencies returns the stored sketches of the keys given as one
// array per key column (keys without a stored row are left out).
const storedLatencies = `SELECT r.level, r.bucket, r.node, r.kind, r.route, r.consumer, r.code, r.stage,
       r.layer, r.rule, r.status_class, r.latency
FROM rollups r
JOIN unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
            $8::text[], $9::text[], $10::text[], $11::integer[])
     AS u(level, bucket, node, kind, route, consumer, code, stage, layer, rule, status_class)
  ON r.level = u.level AND r.bucket = u.bucket AND r.node = u.node AND r.kind = u.kind
 AND r.route = u.route AND r.consumer = u.consumer AND r.code = u.code AND r.stage = u.stage
 AND r.layer = u.layer AND r.rule = u.rule AND r.status_class = u.status_class
WHERE r.latency IS NOT NULL`

// upsertRollups inserts rows given as one array per column, or adds their
// counts to their stored twins. The sketches given are already merged with
// the stored ones; NULL keeps the stored sketch.
const upsertRollups = `INSERT INTO rollups (` + rollupColumns + `)
SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::text[], $8::text[], $9::text[], $10::text[], $11::integer[], $12::bigint[],
                     $13::bigint[], $14::bigint[], $15::bytea[])
ON CONFLICT (` + rollupKeyColumns + `) DO UPDATE SET
    count           = rollups.count + excluded.count,
    upstream_errors = rollups.upstream_errors + excluded.upstream_errors,
    latency_sum_ns  = rollups.latency_sum_ns + excluded.latency_sum_ns,
    latency         = COALESCE(excluded.latency, rollups.latency)`

// rollupArrays holds roll-up rows column by column, for unnest.
type rollupArrays struct {
	level, node, kind, route, consumer, code, stage, layer, rule []string
	bucket                                                       []time.Time
	class                                                        []int32
	count, upErrors, latSum                                      []int64
	latency                                                      [][]byte
}

func (a *rollupArrays) add(r *store.Rollup, latency []byte) {
	a.level = append(a.level, r.Level)
	a.bucket = append(a.bucket, r.Bucket)
	a.node = append(a.node, r.Node)
	a.kind = append(a.kind, r.Kind)
	a.route = append(a.route, r.Route)
	a.consumer = append(a.consumer, r.Consumer)
	a.code = append(a.code, r.Code)
	a.stage = append(a.stage, r.Stage)
	a.layer = append(a.layer, r.Layer)
	a.rule = append(a.rule, r.Rule)
	a.class = append(a.class, int32(r.StatusClass))
	a.count = append(a.count, r.Count)
	a.upErrors = append(a.upErrors, r.UpstreamErrors)
	a.latSum = append(a.latSum, int64(r.LatencySum))
	if len(latency) == 0 {
		latency = nil // NULL
	}
	a.latency = append(a.latency, latency)
}

func (a *rollupArrays) keyArgs() []any {
	return []any{a.level, a.bucket, a.node, a.kind, a.route, a.consumer, a.code, a.stage, a.layer, a.rule, a.class}
}

func (a *rollupArrays) rowArgs() []any {
	return append(a.keyArgs(), a.count, a.upErrors, a.latSum, a.latency)
}

func rollupKeyArgs(r *store.Rollup) []any {
	return []any{r.Level, r.Bucket, r.Node, r.Kind, r.Route, r.Consumer,
		r.Code, r.Stage, r.Layer, r.Rule, int32(r.StatusClass)}
}

func rollupArgs(r *store.Rollup) []any {
	var latency any
	if len(r.Latency) > 0 {
		latency = r.Latency
	}
	return append(rollupKeyArgs(r), r.Count, r.UpstreamErrors, int64(r.LatencySum), latency)
}

// AddRollups merges rows into the stored rows with the same keys in one
// transaction: counts and sums add, and latency sketches combine as
// merge(stored, new) (see store.MergeLatency). Rows with equal keys in the
// batch are combined first. The transaction first takes an advisory lock on
// each bucket the batch touches (in bucket order, so batches never
// deadlock), then reads the stored sketches, merges them and upserts every
// row in one statement: concurrent writers on any number of nodes take
// turns per bucket and lose no count and no sketch, and each row is written
// once. ReplaceRollups takes the same locks.
func (s *Store) AddRollups(ctx context.Context, rows []store.Rollup, merge func(old, new []byte) []byte) error {
	if len(rows) == 0 {
		return nil
	}
	for i := range rows {
		if err := store.CheckRollup(&rows[i]); err != nil {
			return fmt.Errorf("postgres: add rollups: %w", err)
		}
	}
	rows = store.CoalesceRollups(rows, merge)
	for i := range rows {
		rows[i].Bucket = micro(rows[i].Bucket)
	}
	var (
		locks   []string
		sketchy rollupArrays // keys whose new sketch may need a merge
		at      = make(map[store.RollupKey]int, len(rows))
	)
	for i := range rows {
		r := &rows[i]
		if l := bucketLock(r.Level, r.Bucket); !slices.Contains(locks, l) {
			locks = append(locks, l)
		}
		if len(r.Latency) > 0 {
			at[r.Key()] = i
			sketchy.add(r, nil)
		}
	}
	slices.Sort(locks)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, l := range locks {
			if _, err := tx.Exec(ctx, lockBucket, l); err != nil {
				return err
			}
		}
		latency := make([][]byte, len(rows))
		for i := range rows {
			latency[i] = rows[i].Latency
		}
		if len(at) > 0 {
			stored, err := tx.Query(ctx, storedLatencies, sketchy.keyArgs()...)
			if err != nil {
				return err
			}
			for stored.Next() {
				var (
					k     store.Rollup
					class int32
					old   []byte
				)
				if err := stored.Scan(&k.Level, &k.Bucket, &k.Node, &k.Kind, &k.Route, &k.Consumer, &k.Code,
					&k.Stage, &k.Layer, &k.Rule, &class, &old); err != nil {
					stored.Close()
					return err
				}
				k.StatusClass = int(class)
				if i, ok := at[k.Key()]; ok {
					latency[i] = store.MergeLatency(old, rows[i].Latency, merge)
				}
			}
			if err := stored.Err(); err != nil {
				return err
			}
		}
		var in rollupArrays
		for i := range rows {
			in.add(&rows[i], latency[i])
		}
		_, err := tx.Exec(ctx, upsertRollups, in.rowArgs()...)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: add rollups: %w", err)
	}
	return nil
}

// ReplaceRollups replaces, in one transaction, every row of level whose
// bucket is bucket by rows, which must all have that level and bucket and
// distinct keys. Repeating it with the same rows changes nothing; two
// gateways replacing one bucket at once take turns (the second waits for
// the first's delete to commit, then replaces its rows).
func (s *Store) ReplaceRollups(ctx context.Context, level string, bucket time.Time, rows []store.Rollup) error {
	for i := range rows {
		r := &rows[i]
		if err := store.CheckRollup(r); err != nil {
			return fmt.Errorf("postgres: replace rollups: %w", err)
		}
		if r.Level != level || !micro(r.Bucket).Equal(micro(bucket)) {
			return fmt.Errorf("postgres: replace rollups: row of %s %s in a replacement of %s %s",
				r.Level, r.Bucket.UTC().Format(time.RFC3339), level, bucket.UTC().Format(time.RFC3339))
		}
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// The bucket's advisory lock (AddRollups takes it too) makes
		// concurrent replacements and additions of one bucket run one
		// after the other: without it, two replacements could both delete
		// nothing new and then collide on each other's inserts.
		if _, err := tx.Exec(ctx, lockBucket, bucketLock(level, bucket)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM rollups WHERE level = $1 AND bucket = $2`, level, micro(bucket)); err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"rollups"}, rollupCopyColumns,
			pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
				r := rows[i]
				r.Bucket = micro(r.Bucket)
				return rollupArgs(&r), nil
			}))
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: replace rollups: %w", err)
	}
	return nil
}

// QueryRollups returns the rows of q.Level matching q, ordered by bucket
// (and, within a bucket, by the rest of the key).
func (s *Store) QueryRollups(ctx context.Context, q store.RollupQuery) ([]store.Rollup, error) {
	if q.Level == "" {
		return nil, errors.New("postgres: query rollups: level is required")
	}
	var (
		where []string
		args  []any
	)
	q.Filters(func(t time.Time) any { return t }, func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1))
	})
	rows, err := s.pool.Query(ctx, `SELECT `+rollupColumns+` FROM rollups WHERE `+
		strings.Join(where, " AND ")+` ORDER BY `+rollupOrder, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: query rollups: %w", err)
	}
	defer rows.Close()
	var out []store.Rollup
	for rows.Next() {
		var (
			r      store.Rollup
			bucket time.Time
			class  int32
			sum    int64
		)
		if err := rows.Scan(&r.Level, &bucket, &r.Node, &r.Kind, &r.Route, &r.Consumer, &r.Code, &r.Stage,
			&r.Layer, &r.Rule, &class, &r.Count, &r.UpstreamErrors, &sum, &r.Latency); err != nil {
			return nil, fmt.Errorf("postgres: query rollups: %w", err)
		}
		r.Bucket = bucket.UTC()
		r.StatusClass = int(class)
		r.LatencySum = time.Duration(sum)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: query rollups: %w", err)
	}
	return out, nil
}

// DeleteRollups deletes the rows of level with buckets before before and
// returns how many it deleted.
func (s *Store) DeleteRollups(ctx context.Context, level string, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM rollups WHERE level = $1 AND bucket < $2`, level, before)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete rollups: %w", err)
	}
	return tag.RowsAffected(), nil
}
