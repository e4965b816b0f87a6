package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// CreateAdminToken stores the hex SHA-256 hash of an admin API token under
// name (for example "ci-deploy"). Hashes are unique: storing one twice fails.
func (s *Store) CreateAdminToken(ctx context.Context, name, hash string) (store.AdminToken, error) {
	if !isHexSHA256(hash) {
		return store.AdminToken{}, fmt.Errorf("postgres: create admin token %q: %w", name, ErrInvalidTokenHash)
	}
	t := store.AdminToken{Name: name, Hash: hash, CreatedAt: now()}
	err := s.pool.QueryRow(ctx,
		`INSERT INTO admin_tokens (name, hash, created_at) VALUES ($1, $2, $3) RETURNING id`,
		name, hash, t.CreatedAt).Scan(&t.ID)
	if err != nil {
		return store.AdminToken{}, fmt.Errorf("postgres: create admin token %q: %w", name, err)
	}
	return t, nil
}

// AdminTokenByHash returns the token stored under hash, or store.ErrNotFound.
func (s *Store) AdminTokenByHash(ctx context.Context, hash string) (store.AdminToken, error) {
	var (
		t       store.AdminToken
		created time.Time
	)
	err := s.pool.QueryRow(ctx,
		`SELECT id, name, hash, created_at FROM admin_tokens WHERE hash = $1`, hash,
	).Scan(&t.ID, &t.Name, &t.Hash, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.AdminToken{}, store.ErrNotFound
	}
	if err != nil {
		return store.AdminToken{}, fmt.Errorf("postgres: admin token: %w", err)
	}
	t.CreatedAt = created.UTC()
	return t, nil
}

// ListAdminTokens returns every token in creation order, with Hash empty.
func (s *Store) ListAdminTokens(ctx context.Context) ([]store.AdminToken, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, created_at FROM admin_tokens ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list admin tokens: %w", err)
	}
	defer rows.Close()
	var out []store.AdminToken
	for rows.Next() {
		var (
			t       store.AdminToken
			created time.Time
		)
		if err := rows.Scan(&t.ID, &t.Name, &created); err != nil {
			return nil, fmt.Errorf("postgres: list admin tokens: %w", err)
		}
		t.CreatedAt = created.UTC()
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list admin tokens: %w", err)
	}
	return out, nil
}
