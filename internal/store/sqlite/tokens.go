package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// ErrInvalidTokenHash is returned by CreateAdminToken when the hash is not 64
// lowercase hex characters. It guards against a raw token being stored by
// mistake; the offending value is never echoed.
var ErrInvalidTokenHash = errors.New("admin token hash must be a lowercase hex SHA-256")

// CreateAdminToken stores the hex SHA-256 hash of an admin API token under
// name (for example "ci-deploy"). Hashes are unique: storing one twice fails.
func (s *Store) CreateAdminToken(ctx context.Context, name, hash string) (store.AdminToken, error) {
	if !isHexSHA256(hash) {
		return store.AdminToken{}, fmt.Errorf("sqlite: create admin token %q: %w", name, ErrInvalidTokenHash)
	}
	t := store.AdminToken{Name: name, Hash: hash, CreatedAt: fromUnixNanos(time.Now().UnixNano())}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx,
			`INSERT INTO admin_tokens (name, hash, created_at) VALUES (?, ?, ?) RETURNING id`,
			name, hash, unixNanos(t.CreatedAt)).Scan(&t.ID)
	})
	if err != nil {
		return store.AdminToken{}, fmt.Errorf("sqlite: create admin token %q: %w", name, err)
	}
	return t, nil
}

// AdminTokenByHash returns the token stored under hash, or store.ErrNotFound.
func (s *Store) AdminTokenByHash(ctx context.Context, hash string) (store.AdminToken, error) {
	var (
		t       store.AdminToken
		created int64
	)
	err := s.r.QueryRowContext(ctx,
		`SELECT id, name, hash, created_at FROM admin_tokens WHERE hash = ?`, hash,
	).Scan(&t.ID, &t.Name, &t.Hash, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return store.AdminToken{}, store.ErrNotFound
	}
	if err != nil {
		return store.AdminToken{}, fmt.Errorf("sqlite: admin token: %w", err)
	}
	t.CreatedAt = fromUnixNanos(created)
	return t, nil
}

// ListAdminTokens returns every token in creation order, with Hash empty.
func (s *Store) ListAdminTokens(ctx context.Context) ([]store.AdminToken, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, name, created_at FROM admin_tokens ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list admin tokens: %w", err)
	}
	defer rows.Close()
	var out []store.AdminToken
	for rows.Next() {
		var (
			t       store.AdminToken
			created int64
		)
		if err := rows.Scan(&t.ID, &t.Name, &created); err != nil {
			return nil, fmt.Errorf("sqlite: list admin tokens: %w", err)
		}
		t.CreatedAt = fromUnixNanos(created)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list admin tokens: %w", err)
	}
	return out, nil
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
