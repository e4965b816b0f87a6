package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// ListRevisions page sizes: a limit <= 0 means defaultListLimit, and no page
// is larger than maxListLimit.
const (
	defaultListLimit = 100
	maxListLimit     = 10000
)

// AppendRevision stores r as the next revision. The store sets Number (the
// previous maximum plus one, assigned inside the write transaction so numbers
// never skip), Hash (hex SHA-256 of Document) and, when zero, CreatedAt. A
// caller-supplied Hash that does not match Document is refused. The revision
// and its audit entry (store.AuditRevisionApplied), written in the same
// transaction, are synced to disk before AppendRevision returns.
func (s *Store) AppendRevision(ctx context.Context, r store.Revision) (store.Revision, error) {
	sum := sha256.Sum256(r.Document)
	hash := hex.EncodeToString(sum[:])
	if r.Hash != "" && r.Hash != hash {
		return store.Revision{}, errors.New("sqlite: append revision: hash does not match document")
	}
	r.Hash = hash
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now()
	}
	r.CreatedAt = fromUnixNanos(unixNanos(r.CreatedAt))
	doc := r.Document
	if doc == nil {
		doc = []byte{}
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `
INSERT INTO revisions (number, author, source, created_at, hash, summary, document)
SELECT COALESCE(MAX(number), 0) + 1, ?, ?, ?, ?, ?, ? FROM revisions
RETURNING number`,
			r.Author, r.Source, unixNanos(r.CreatedAt), r.Hash, r.Summary, doc,
		).Scan(&r.Number)
		if err != nil {
			return err
		}
		e, err := store.RevisionAuditEntry(r)
		if err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, insertAudit)
		if err != nil {
			return err
		}
		defer stmt.Close()
		_, err = appendAuditEntry(ctx, stmt, &e, r.CreatedAt)
		return err
	})
	if err != nil {
		return store.Revision{}, fmt.Errorf("sqlite: append revision: %w", err)
	}
	return r, nil
}

const revisionColumns = `number, author, source, created_at, hash, summary`

// Revision returns revision n with its document, or store.ErrNotFound.
func (s *Store) Revision(ctx context.Context, n int64) (store.Revision, error) {
	return s.oneRevision(ctx, `SELECT `+revisionColumns+`, document FROM revisions WHERE number = ?`, n)
}

// LatestRevision returns the newest revision with its document, or
// store.ErrNotFound when none has been applied yet.
func (s *Store) LatestRevision(ctx context.Context) (store.Revision, error) {
	return s.oneRevision(ctx, `SELECT `+revisionColumns+`, document FROM revisions ORDER BY number DESC LIMIT 1`)
}

func (s *Store) oneRevision(ctx context.Context, query string, args ...any) (store.Revision, error) {
	var (
		r       store.Revision
		created int64
	)
	err := s.r.QueryRowContext(ctx, query, args...).Scan(
		&r.Number, &r.Author, &r.Source, &created, &r.Hash, &r.Summary, &r.Document)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Revision{}, store.ErrNotFound
	}
	if err != nil {
		return store.Revision{}, fmt.Errorf("sqlite: read revision: %w", err)
	}
	r.CreatedAt = fromUnixNanos(created)
	return r, nil
}

// ListRevisions returns up to limit revisions (default 100, at most 10000)
// newest first, numbered below before (before <= 0: from the newest), without
// their documents. Pass the last Number of one page as before for the next.
func (s *Store) ListRevisions(ctx context.Context, limit int, before int64) ([]store.Revision, error) {
	if limit <= 0 {
		limit = defaultListLimit
	}
	limit = min(limit, maxListLimit)
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.r.QueryContext(ctx,
		`SELECT `+revisionColumns+` FROM revisions WHERE number < ? ORDER BY number DESC LIMIT ?`,
		before, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list revisions: %w", err)
	}
	defer rows.Close()
	var out []store.Revision
	for rows.Next() {
		var (
			r       store.Revision
			created int64
		)
		if err := rows.Scan(&r.Number, &r.Author, &r.Source, &created, &r.Hash, &r.Summary); err != nil {
			return nil, fmt.Errorf("sqlite: list revisions: %w", err)
		}
		r.CreatedAt = fromUnixNanos(created)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list revisions: %w", err)
	}
	return out, nil
}
