package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// List page sizes: a limit <= 0 means defaultListLimit, and no page is
// larger than maxListLimit.
const (
	defaultListLimit = 100
	maxListLimit     = 10000
)

// AppendRevision stores r as the next revision. The store sets Number (the
// previous number plus one: the statement increments a counter row whose
// lock concurrent appends wait for, so numbers never skip or repeat), Hash
// (hex SHA-256 of Document) and, when zero, CreatedAt. A caller-supplied
// Hash that does not match Document is refused. The revision and its audit
// entry (store.AuditRevisionApplied) are committed in one transaction
// before AppendRevision returns.
func (s *Store) AppendRevision(ctx context.Context, r store.Revision) (store.Revision, error) {
	sum := sha256.Sum256(r.Document)
	hash := hex.EncodeToString(sum[:])
	if r.Hash != "" && r.Hash != hash {
		return store.Revision{}, errors.New("postgres: append revision: hash does not match document")
	}
	r.Hash = hash
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now()
	}
	r.CreatedAt = micro(r.CreatedAt)
	doc := r.Document
	if doc == nil {
		doc = []byte{}
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
WITH n AS (UPDATE revision_counter SET last = last + 1 RETURNING last)
INSERT INTO revisions (number, author, source, created_at, hash, summary, document)
SELECT n.last, $1, $2, $3, $4, $5, $6 FROM n
RETURNING number`,
			r.Author, r.Source, r.CreatedAt, r.Hash, r.Summary, doc,
		).Scan(&r.Number)
		if err != nil {
			return err
		}
		// Locks the audit counter after the revision counter, as every
		// transaction taking both does.
		e, err := store.RevisionAuditEntry(r)
		if err != nil {
			return err
		}
		_, err = appendAuditEntry(ctx, tx, &e, r.CreatedAt)
		return err
	})
	if err != nil {
		return store.Revision{}, fmt.Errorf("postgres: append revision: %w", err)
	}
	return r, nil
}

const revisionColumns = `number, author, source, created_at, hash, summary`

// Revision returns revision n with its document, or store.ErrNotFound.
func (s *Store) Revision(ctx context.Context, n int64) (store.Revision, error) {
	return s.oneRevision(ctx, `SELECT `+revisionColumns+`, document FROM revisions WHERE number = $1`, n)
}

// LatestRevision returns the newest revision with its document, or
// store.ErrNotFound when none has been applied yet.
func (s *Store) LatestRevision(ctx context.Context) (store.Revision, error) {
	return s.oneRevision(ctx, `SELECT `+revisionColumns+`, document FROM revisions ORDER BY number DESC LIMIT 1`)
}

func (s *Store) oneRevision(ctx context.Context, query string, args ...any) (store.Revision, error) {
	var (
		r       store.Revision
		created time.Time
	)
	err := s.pool.QueryRow(ctx, query, args...).Scan(
		&r.Number, &r.Author, &r.Source, &created, &r.Hash, &r.Summary, &r.Document)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Revision{}, store.ErrNotFound
	}
	if err != nil {
		return store.Revision{}, fmt.Errorf("postgres: read revision: %w", err)
	}
	r.CreatedAt = created.UTC()
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
	rows, err := s.pool.Query(ctx,
		`SELECT `+revisionColumns+` FROM revisions WHERE number < $1 ORDER BY number DESC LIMIT $2`,
		before, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: list revisions: %w", err)
	}
	defer rows.Close()
	var out []store.Revision
	for rows.Next() {
		var (
			r       store.Revision
			created time.Time
		)
		if err := rows.Scan(&r.Number, &r.Author, &r.Source, &created, &r.Hash, &r.Summary); err != nil {
			return nil, fmt.Errorf("postgres: list revisions: %w", err)
		}
		r.CreatedAt = created.UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list revisions: %w", err)
	}
	return out, nil
}
