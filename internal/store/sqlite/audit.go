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

var _ store.Audit = (*Store)(nil)

const auditColumns = `time, actor, action, object_kind, object_id, revision, source, request_id, detail`

// insertAudit stores e unless its Dedupe is taken, and returns the sequence
// number it got (0 when skipped).
const insertAudit = `INSERT INTO audit (` + auditColumns + `, dedupe)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (dedupe) DO NOTHING
RETURNING seq`

// AppendAudit stores entries in one transaction, setting each one's Seq and,
// when zero, Time. An entry whose Dedupe is already stored (also earlier in
// the same batch) is skipped and keeps Seq 0. Nothing is stored when an
// entry is invalid (no action, actor or object kind; a Detail that is not a
// JSON object).
func (s *Store) AppendAudit(ctx context.Context, entries []store.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	for i := range entries {
		if err := store.CheckAuditEntry(&entries[i]); err != nil {
			return fmt.Errorf("sqlite: append audit: %w", err)
		}
	}
	now := time.Now()
	seqs := make([]int64, len(entries))
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, insertAudit)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i := range entries {
			seqs[i], err = appendAuditEntry(ctx, stmt, &entries[i], now)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: append audit: %w", err)
	}
	for i := range entries {
		e := &entries[i]
		e.Seq = seqs[i]
		if e.Time.IsZero() {
			e.Time = fromUnixNanos(unixNanos(now))
		}
	}
	return nil
}

// stmtQueryRower is a prepared statement or a transaction.
type stmtQueryRower interface {
	QueryRowContext(ctx context.Context, args ...any) *sql.Row
}

// appendAuditEntry runs insertAudit for e (Time defaulting to now) and
// returns the sequence number, or 0 when e's Dedupe was taken.
func appendAuditEntry(ctx context.Context, stmt stmtQueryRower, e *store.AuditEntry, now time.Time) (int64, error) {
	t := e.Time
	if t.IsZero() {
		t = now
	}
	var detail, dedupe any
	if len(e.Detail) > 0 {
		detail = string(e.Detail)
	}
	if e.Dedupe != "" {
		dedupe = e.Dedupe
	}
	var seq int64
	err := stmt.QueryRowContext(ctx, unixNanos(t), e.Actor, e.Action, e.ObjectKind, e.ObjectID,
		e.Revision, e.Source, e.RequestID, detail, dedupe).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq, err
}

// QueryAudit returns the entries matching q, newest first unless
// q.Ascending. Since is inclusive and Until exclusive; q.Limit defaults to
// 100 and is capped at 10000.
func (s *Store) QueryAudit(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, vals ...any) {
		where = append(where, cond)
		args = append(args, vals...)
	}
	q.Filters(func(t time.Time) any { return unixNanos(t) }, func(p string) (string, []any) {
		// BINARY collation compares bytes: every action starting with
		// "key." sorts from "key." up to (not including) "key/".
		return "action >= ? AND action < ?", []any{p, p[:len(p)-1] + "/"}
	}, add)
	var b strings.Builder
	b.WriteString("SELECT seq, " + auditColumns + " FROM audit")
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	if q.Ascending {
		b.WriteString(" ORDER BY seq ASC")
	} else {
		b.WriteString(" ORDER BY seq DESC")
	}
	b.WriteString(" LIMIT ?")
	limit := q.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	args = append(args, min(limit, maxListLimit))

	rows, err := s.r.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: query audit: %w", err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var (
			e      store.AuditEntry
			t      int64
			detail sql.NullString
		)
		if err := rows.Scan(&e.Seq, &t, &e.Actor, &e.Action, &e.ObjectKind, &e.ObjectID,
			&e.Revision, &e.Source, &e.RequestID, &detail); err != nil {
			return nil, fmt.Errorf("sqlite: query audit: %w", err)
		}
		e.Time = fromUnixNanos(t)
		if detail.Valid {
			e.Detail = []byte(detail.String)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: query audit: %w", err)
	}
	return out, nil
}
