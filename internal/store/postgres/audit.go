package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinpointgw/pinpoint/internal/store"
)

var _ store.Audit = (*Store)(nil)

const auditColumns = `time, actor, action, object_kind, object_id, revision, source, request_id, detail`

// insertAudit stores an entry unless its dedupe is taken, numbering it from
// the audit counter, whose row lock the transaction then holds until commit
// (entries commit in sequence order). It returns no row for a skipped
// entry; the number it took is then left unused.
const insertAudit = `WITH n AS (UPDATE audit_counter SET last = last + 1 RETURNING last)
INSERT INTO audit (seq, ` + auditColumns + `, dedupe)
SELECT n.last, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM n
ON CONFLICT (dedupe) DO NOTHING
RETURNING seq`

// AppendAudit stores entries in one transaction, setting each one's Seq and,
// when zero, Time. An entry whose Dedupe is already stored (also by another
// gateway, or earlier in the same batch) is skipped and keeps Seq 0. Nothing
// is stored when an entry is invalid (no action, actor or object kind; a
// Detail that is not a JSON object).
func (s *Store) AppendAudit(ctx context.Context, entries []store.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	for i := range entries {
		if err := store.CheckAuditEntry(&entries[i]); err != nil {
			return fmt.Errorf("postgres: append audit: %w", err)
		}
	}
	at := now()
	seqs := make([]int64, len(entries))
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for i := range entries {
			var err error
			if seqs[i], err = appendAuditEntry(ctx, tx, &entries[i], at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: append audit: %w", err)
	}
	for i := range entries {
		e := &entries[i]
		e.Seq = seqs[i]
		if e.Time.IsZero() {
			e.Time = at
		}
	}
	return nil
}

// appendAuditEntry runs insertAudit for e (Time defaulting to at) and
// returns the sequence number, or 0 when e's Dedupe was taken.
func appendAuditEntry(ctx context.Context, tx pgx.Tx, e *store.AuditEntry, at time.Time) (int64, error) {
	t := e.Time
	if t.IsZero() {
		t = at
	}
	var detail, dedupe any
	if len(e.Detail) > 0 {
		detail = string(e.Detail)
	}
	if e.Dedupe != "" {
		dedupe = e.Dedupe
	}
	var seq int64
	err := tx.QueryRow(ctx, insertAudit, t, e.Actor, e.Action, e.ObjectKind, e.ObjectID,
		e.Revision, e.Source, e.RequestID, detail, dedupe).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
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
		for _, v := range vals {
			args = append(args, v)
			cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1)
		}
		where = append(where, cond)
	}
	q.Filters(func(t time.Time) any { return t }, func(p string) (string, []any) {
		// starts_with, not a range: text comparisons follow the
		// database's collation, which need not order bytes.
		return "starts_with(action, ?)", []any{p}
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
	limit := q.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	args = append(args, min(limit, maxListLimit))
	b.WriteString(" LIMIT $" + strconv.Itoa(len(args)))

	rows, err := s.pool.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: query audit: %w", err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var (
			e      store.AuditEntry
			t      time.Time
			detail *string
		)
		if err := rows.Scan(&e.Seq, &t, &e.Actor, &e.Action, &e.ObjectKind, &e.ObjectID,
			&e.Revision, &e.Source, &e.RequestID, &detail); err != nil {
			return nil, fmt.Errorf("postgres: query audit: %w", err)
		}
		e.Time = t.UTC()
		if detail != nil {
			e.Detail = []byte(*detail)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: query audit: %w", err)
	}
	return out, nil
}
