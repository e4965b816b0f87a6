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

// pruneChunk is how many call records one pruning transaction deletes at
// most, so a large backlog never holds long row locks or bloats one
// transaction.
const pruneChunk = 5000

var copyColumns = []string{"seq", "time", "request_id", "route", "method", "host", "path", "status", "code",
	"layer", "stage", "client_ip", "target", "attempts", "latency_ns", "upstream_latency_ns", "bytes_in",
	"bytes_out", "revision", "trace", "consumer_id", "credential_id", "inputs"}

var callColumns = strings.Join(copyColumns, ", ")

// InsertCalls stores the batch in one transaction, with COPY, and sets each
// element's Seq to the sequence number it was stored under. The batch
// reserves a block of consecutive numbers on the call counter row and holds
// its lock until commit, so batches from every gateway commit in sequence
// order and a follower (CallQuery.AfterSeq) misses none. The daily
// partitions the batch needs are created first. An empty batch is a no-op.
func (s *Store) InsertCalls(ctx context.Context, calls []store.Call) error {
	if len(calls) == 0 {
		return nil
	}
	err := s.insertCalls(ctx, calls)
	if isNoPartition(err) {
		// Another gateway pruned a partition this one knew of.
		s.parts.forget()
		err = s.insertCalls(ctx, calls)
	}
	if err != nil {
		// The transaction rolled back: no Seq handed out is valid.
		for i := range calls {
			calls[i].Seq = 0
		}
		return fmt.Errorf("postgres: insert calls: %w", err)
	}
	return nil
}

func (s *Store) insertCalls(ctx context.Context, calls []store.Call) error {
	err := s.parts.ensure(ctx, s.pool, func(yield func(time.Time) bool) {
		for i := range calls {
			if !yield(calls[i].Time) {
				return
			}
		}
	})
	if err != nil {
		return err
	}
	n := int64(len(calls))
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var last int64
		if err := tx.QueryRow(ctx, `UPDATE call_counter SET last = last + $1 RETURNING last`, n).Scan(&last); err != nil {
			return err
		}
		first := last - n + 1
		copied, err := tx.CopyFrom(ctx, pgx.Identifier{"calls"}, copyColumns,
			pgx.CopyFromSlice(len(calls), func(i int) ([]any, error) {
				c := &calls[i]
				return []any{first + int64(i), c.Time, c.RequestID, c.Route, c.Method, c.Host, c.Path,
					int32(c.Status), c.Code, c.Layer, c.Stage, c.ClientIP, c.Target, int32(c.Attempts),
					int64(c.Latency), int64(c.UpstreamLatency), c.BytesIn, c.BytesOut, c.Revision,
					c.Trace, c.ConsumerID, c.CredentialID, nullBytes(c.Inputs)}, nil
			}))
		if err != nil {
			return err
		}
		if copied != n {
			return fmt.Errorf("copied %d of %d records", copied, n)
		}
		for i := range calls {
			calls[i].Seq = first + int64(i)
		}
		return nil
	})
}

// QueryCalls returns the records matching q, newest first unless
// q.Ascending. q.Limit defaults to 100 and is capped at 10000; q.StatusClass
// must be 0 or 1..5.
func (s *Store) QueryCalls(ctx context.Context, q store.CallQuery) ([]store.Call, error) {
	query, args, err := buildCallQuery(q)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: query calls: %w", err)
	}
	defer rows.Close()
	var out []store.Call
	for rows.Next() {
		var (
			c                store.Call
			t                time.Time
			lat, upLat       int64
			status, attempts int32
		)
		if err := rows.Scan(&c.Seq, &t, &c.RequestID, &c.Route, &c.Method, &c.Host, &c.Path,
			&status, &c.Code, &c.Layer, &c.Stage, &c.ClientIP, &c.Target, &attempts,
			&lat, &upLat, &c.BytesIn, &c.BytesOut, &c.Revision, &c.Trace, &c.ConsumerID, &c.CredentialID, &c.Inputs); err != nil {
			return nil, fmt.Errorf("postgres: query calls: %w", err)
		}
		c.Time = t.UTC()
		c.Status, c.Attempts = int(status), int(attempts)
		c.Latency = time.Duration(lat)
		c.UpstreamLatency = time.Duration(upLat)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: query calls: %w", err)
	}
	return out, nil
}

// buildCallQuery turns q into SQL with every value bound as a parameter.
func buildCallQuery(q store.CallQuery) (string, []any, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, vals ...any) {
		for _, v := range vals {
			args = append(args, v)
			cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1)
		}
		where = append(where, cond)
	}
	if err := q.Filters(func(t time.Time) any { return t }, add); err != nil {
		return "", nil, fmt.Errorf("postgres: query calls: %w", err)
	}

	var b strings.Builder
	b.WriteString("SELECT " + callColumns + " FROM calls")
	if len(where) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(where, " AND "))
	}
	if q.Ascending {
		b.WriteString(" ORDER BY seq ASC")
	} else {
		b.WriteString(" ORDER BY seq DESC")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	args = append(args, min(limit, maxListLimit))
	b.WriteString(" LIMIT $" + strconv.Itoa(len(args)))
	return b.String(), args, nil
}

// PruneCalls deletes records older than olderThan (zero: none by age) and,
// when maxRows > 0, every record more than maxRows sequence numbers behind
// the newest. Daily partitions that hold only such records are dropped
// whole; in the partitions at the edge it deletes rows in chunks of a few
// thousand, one transaction each. It returns how many records it deleted,
// also when ctx ends it early.
func (s *Store) PruneCalls(ctx context.Context, olderThan time.Time, maxRows int) (int64, error) {
	var total int64
	if !olderThan.IsZero() {
		n, err := s.dropPartitions(ctx, func(p partition) (bool, error) {
			return !p.day.AddDate(0, 0, 1).After(olderThan), nil
		})
		total += n
		if err != nil {
			return total, err
		}
		n, err = s.deleteChunks(ctx,
			`DELETE FROM calls WHERE seq IN (SELECT seq FROM calls WHERE time < $1 LIMIT $2)`,
			olderThan)
		total += n
		if err != nil {
			return total, err
		}
	}
	if maxRows > 0 {
		var maxSeq *int64
		if err := s.pool.QueryRow(ctx, `SELECT MAX(seq) FROM calls`).Scan(&maxSeq); err != nil {
			return total, fmt.Errorf("postgres: prune calls: %w", err)
		}
		if maxSeq != nil && *maxSeq > int64(maxRows) {
			cutoff := *maxSeq - int64(maxRows)
			n, err := s.dropPartitions(ctx, func(p partition) (bool, error) {
				if !p.attached {
					return true, nil
				}
				var newest *int64
				err := s.pool.QueryRow(ctx, `SELECT MAX(seq) FROM `+pgx.Identifier{p.name}.Sanitize()).Scan(&newest)
				return err == nil && (newest == nil || *newest <= cutoff), err
			})
			total += n
			if err != nil {
				return total, err
			}
			n, err = s.deleteChunks(ctx,
				`DELETE FROM calls WHERE seq IN (SELECT seq FROM calls WHERE seq <= $1 ORDER BY seq LIMIT $2)`,
				cutoff)
			total += n
			if err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// dropPartitions drops the daily partitions, oldest first, that whole says
// hold only records to prune, and returns how many records they held. It
// stops at the first partition that must be kept.
func (s *Store) dropPartitions(ctx context.Context, whole func(partition) (bool, error)) (int64, error) {
	parts, err := listPartitions(ctx, s.pool)
	if err != nil {
		return 0, fmt.Errorf("postgres: prune calls: %w", err)
	}
	var total int64
	for _, p := range parts {
		drop, err := whole(p)
		if err != nil {
			return total, fmt.Errorf("postgres: prune calls: %w", err)
		}
		if !drop {
			break
		}
		n, err := s.parts.dropPartition(ctx, s.pool, p)
		total += n
		if err != nil {
			return total, fmt.Errorf("postgres: prune calls: %w", err)
		}
	}
	return total, nil
}

// deleteChunks runs query (whose second parameter is the chunk size) until it
// deletes fewer than a full chunk.
func (s *Store) deleteChunks(ctx context.Context, query string, arg any) (int64, error) {
	var total int64
	for {
		tag, err := s.pool.Exec(ctx, query, arg, pruneChunk)
		if err != nil {
			return total, fmt.Errorf("postgres: prune calls: %w", err)
		}
		n := tag.RowsAffected()
		total += n
		if n < pruneChunk {
			return total, nil
		}
	}
}

// nullBytes stores an empty slice as NULL.
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}
