package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// partitionPrefix and partitionLayout name the call log's daily partitions:
// calls_p20260314 holds the records of 2026-03-14 (UTC).
const (
	partitionPrefix = "calls_p"
	partitionLayout = "20060102"
)

// ddlLockTimeout bounds how long partition DDL waits for the call log's
// table lock, so that it never queues every reader and writer behind a
// long query; the caller gets an error and the next insert or prune tries
// again.
const ddlLockTimeout = "5s"

// partitions remembers which daily partitions this store has seen exist,
// so most batches go straight to COPY.
type partitions struct {
	lockID int64 // advisory lock serializing this schema's partition DDL

	mu    sync.Mutex
	known map[time.Time]bool // UTC midnights
}

func newPartitions(schema string) *partitions {
	h := fnv.New64a()
	h.Write([]byte("pinpoint-call-partitions:" + schema))
	return &partitions{lockID: int64(h.Sum64() >> 1), known: make(map[time.Time]bool)}
}

// day is the UTC midnight starting t's day.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func partitionName(d time.Time) string { return partitionPrefix + d.Format(partitionLayout) }

// forget drops the cache, after an insert found a partition missing
// (another gateway's PruneCalls dropped it).
func (p *partitions) forget() {
	p.mu.Lock()
	clear(p.known)
	p.mu.Unlock()
}

// ensure creates the partitions for the days of times, and the day after
// the newest, unless they exist. A partition is created as a plain table
// and then attached: ATTACH PARTITION takes a lock on the call log that
// lets inserts and queries go on, where CREATE TABLE ... PARTITION OF
// would block them.
func (p *partitions) ensure(ctx context.Context, pool execer, times func(yield func(time.Time) bool)) error {
	var need []time.Time
	p.mu.Lock()
	for t := range times {
		for _, d := range []time.Time{day(t), day(t).AddDate(0, 0, 1)} {
			if !p.known[d] && !slices.Contains(need, d) {
				need = append(need, d)
			}
		}
	}
	p.mu.Unlock()
	if len(need) == 0 {
		return nil
	}
	slices.SortFunc(need, time.Time.Compare)
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, p.lockID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '`+ddlLockTimeout+`'`); err != nil {
			return err
		}
		for _, d := range need {
			name := partitionName(d)
			var attached bool
			err := tx.QueryRow(ctx, `SELECT relispartition FROM pg_class WHERE oid = to_regclass($1)`, name).Scan(&attached)
			switch {
			case err == nil && attached:
				continue
			case err == nil:
				// A prune detached it and has yet to drop it.
				return fmt.Errorf("partition %s is being dropped", name)
			case !errors.Is(err, pgx.ErrNoRows):
				return err
			}
			ident := pgx.Identifier{name}.Sanitize()
			if _, err := tx.Exec(ctx, `CREATE TABLE `+ident+` (LIKE calls INCLUDING DEFAULTS)`); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, fmt.Sprintf(`ALTER TABLE calls ATTACH PARTITION %s FOR VALUES FROM ('%s') TO ('%s')`,
				ident, d.Format(time.RFC3339), d.AddDate(0, 0, 1).Format(time.RFC3339))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create call log partition: %w", err)
	}
	p.mu.Lock()
	for _, d := range need {
		p.known[d] = true
	}
	p.mu.Unlock()
	return nil
}

// isNoPartition reports whether err is an insert finding no partition for
// a row (SQLSTATE 23514, check_violation, raised by the partition routing).
func isNoPartition(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23514"
}

// partition is one daily table of the call log.
type partition struct {
	name     string
	day      time.Time
	attached bool
}

// listPartitions returns the call log's daily tables in day order, also
// those detached by a prune that stopped before dropping them.
func listPartitions(ctx context.Context, pool execer) ([]partition, error) {
	rows, err := pool.Query(ctx, `SELECT c.relname, c.relispartition FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname ~ '^calls_p[0-9]{8}$'
		ORDER BY c.relname`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []partition
	for rows.Next() {
		var p partition
		if err := rows.Scan(&p.name, &p.attached); err != nil {
			return nil, err
		}
		d, err := time.Parse(partitionLayout, p.name[len(partitionPrefix):])
		if err != nil {
			return nil, fmt.Errorf("partition %s: %w", p.name, err)
		}
		p.day = d
		out = append(out, p)
	}
	return out, rows.Err()
}

// dropPartition detaches a partition (briefly locking the call log), then
// counts and drops its rows; it returns how many records it dropped.
func (p *partitions) dropPartition(ctx context.Context, pool execer, part partition) (int64, error) {
	ident := pgx.Identifier{part.name}.Sanitize()
	if part.attached {
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, p.lockID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '`+ddlLockTimeout+`'`); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `ALTER TABLE calls DETACH PARTITION `+ident)
			return err
		})
		if err != nil {
			return 0, fmt.Errorf("detach %s: %w", part.name, err)
		}
		p.mu.Lock()
		delete(p.known, part.day)
		p.mu.Unlock()
	}
	// Detached, the table takes no new records: the count is exact.
	var n int64
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+ident).Scan(&n); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DROP TABLE `+ident)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("drop %s: %w", part.name, err)
	}
	return n, nil
}

// execer is what partition upkeep needs of a pool.
type execer interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}
