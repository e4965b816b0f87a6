package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// pruneChunk is how many call records one pruning transaction deletes at most.
// Pruning in chunks keeps each hold on the write lock short, so revisions and
// new call records are not held up behind a large backlog.
const pruneChunk = 5000

const callColumns = `time, request_id, route, method, host, path, status, code, layer, stage,
client_ip, target, attempts, latency_ns, upstream_latency_ns, bytes_in, bytes_out, revision, trace,
consumer_id, credential_id, inputs`

// insertRows is how many records one INSERT statement carries. One
// multi-row statement per 32 records costs far less CPU in the pure-Go
// driver than 32 single-row ones (22 parameters a row, well under SQLite's
// limit of 32766).
const insertRows = 32

const callPlaceholders = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

// insertCalls returns the INSERT statement for n records.
func insertCalls(n int) string {
	return "INSERT INTO calls (" + callColumns + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(callPlaceholders+", ", n), ", ")
}

var insertFull = insertCalls(insertRows)

// InsertCalls stores the batch in one transaction and sets each element's
// Seq to the sequence number it was stored under. An empty batch is a no-op.
func (s *Store) InsertCalls(ctx context.Context, calls []store.Call) error {
	if len(calls) == 0 {
		return nil
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var full *sql.Stmt
		args := make([]any, 0, insertRows*22)
		for start := 0; start < len(calls); start += insertRows {
			chunk := calls[start:min(start+insertRows, len(calls))]
			args = args[:0]
			for i := range chunk {
				c := &chunk[i]
				args = append(args,
					unixNanos(c.Time), c.RequestID, c.Route, c.Method, c.Host, c.Path,
					c.Status, c.Code, c.Layer, c.Stage, c.ClientIP, c.Target, c.Attempts,
					int64(c.Latency), int64(c.UpstreamLatency), c.BytesIn, c.BytesOut,
					c.Revision, c.Trace, c.ConsumerID, c.CredentialID, nullBytes(c.Inputs))
			}
			var res sql.Result
			var err error
			if len(chunk) == insertRows {
				if full == nil {
					if full, err = tx.PrepareContext(ctx, insertFull); err != nil {
						return err
					}
					defer full.Close()
				}
				res, err = full.ExecContext(ctx, args...)
			} else {
				res, err = tx.ExecContext(ctx, insertCalls(len(chunk)), args...)
			}
			if err != nil {
				return err
			}
			// Rows of one statement get consecutive sequence numbers in
			// VALUES order: this transaction is the only writer.
			last, err := res.LastInsertId()
			if err != nil {
				return err
			}
			for i := range chunk {
				chunk[i].Seq = last - int64(len(chunk)-1-i)
			}
		}
		return nil
	})
	if err != nil {
		// The transaction rolled back: no Seq handed out above is valid.
		for i := range calls {
			calls[i].Seq = 0
		}
		return fmt.Errorf("sqlite: insert calls: %w", err)
	}
	return nil
}

// QueryCalls returns the records matching q, newest first unless
// q.Ascending. q.Limit defaults to 100 and is capped at 10000; q.StatusClass
// must be 0 or 1..5.
func (s *Store) QueryCalls(ctx context.Context, q store.CallQuery) ([]store.Call, error) {
	query, args, err := buildCallQuery(q)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: query calls: %w", err)
	}
	defer rows.Close()
	var out []store.Call
	for rows.Next() {
		var (
			c             store.Call
			t, lat, upLat int64
		)
		if err := rows.Scan(&c.Seq, &t, &c.RequestID, &c.Route, &c.Method, &c.Host, &c.Path,
			&c.Status, &c.Code, &c.Layer, &c.Stage, &c.ClientIP, &c.Target, &c.Attempts,
			&lat, &upLat, &c.BytesIn, &c.BytesOut, &c.Revision, &c.Trace, &c.ConsumerID, &c.CredentialID, &c.Inputs); err != nil {
			return nil, fmt.Errorf("sqlite: query calls: %w", err)
		}
		c.Time = fromUnixNanos(t)
		c.Latency = time.Duration(lat)
		c.UpstreamLatency = time.Duration(upLat)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: query calls: %w", err)
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
		where = append(where, cond)
		args = append(args, vals...)
	}
	if err := q.Filters(func(t time.Time) any { return unixNanos(t) }, add); err != nil {
		return "", nil, fmt.Errorf("sqlite: query calls: %w", err)
	}

	var b strings.Builder
	b.WriteString("SELECT seq, " + callColumns + " FROM calls")
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
	b.WriteString(" LIMIT ?")
	args = append(args, min(limit, maxListLimit))
	return b.String(), args, nil
}

// PruneCalls deletes records older than olderThan (zero: none by age) and,
// when maxRows > 0, every record more than maxRows sequence numbers behind
// the newest. It deletes in chunks of a few thousand rows, one transaction
// each, and returns how many it deleted, also when ctx ends it early.
func (s *Store) PruneCalls(ctx context.Context, olderThan time.Time, maxRows int) (int64, error) {
	var total int64
	if !olderThan.IsZero() {
		n, err := s.deleteChunks(ctx,
			`DELETE FROM calls WHERE seq IN (SELECT seq FROM calls WHERE time < ? LIMIT ?)`,
			unixNanos(olderThan))
		total += n
		if err != nil {
			return total, err
		}
	}
	if maxRows > 0 {
		var maxSeq sql.NullInt64
		if err := s.r.QueryRowContext(ctx, `SELECT MAX(seq) FROM calls`).Scan(&maxSeq); err != nil {
			return total, fmt.Errorf("sqlite: prune calls: %w", err)
		}
		if maxSeq.Valid && maxSeq.Int64 > int64(maxRows) {
			n, err := s.deleteChunks(ctx,
				`DELETE FROM calls WHERE seq IN (SELECT seq FROM calls WHERE seq <= ? ORDER BY seq LIMIT ?)`,
				maxSeq.Int64-int64(maxRows))
			total += n
			if err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// deleteChunks runs query (whose last parameter is the chunk size) until it
// deletes fewer than a full chunk.
func (s *Store) deleteChunks(ctx context.Context, query string, arg any) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.withTx(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, query, arg, pruneChunk)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, fmt.Errorf("sqlite: prune calls: %w", err)
		}
		total += n
		if n < pruneChunk {
			return total, nil
		}
	}
}
