package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

var _ store.TokenKeys = (*Store)(nil)

// TokenKeys returns every stored decision-token key, newest first.
func (s *Store) TokenKeys(ctx context.Context) ([]store.TokenKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, secret, created_at FROM token_keys ORDER BY created_at DESC, id COLLATE "C" DESC`)
	if err != nil {
		return nil, fmt.Errorf("postgres: token keys: %w", err)
	}
	defer rows.Close()
	var out []store.TokenKey
	for rows.Next() {
		var (
			k       store.TokenKey
			created time.Time
		)
		if err := rows.Scan(&k.ID, &k.Secret, &created); err != nil {
			return nil, fmt.Errorf("postgres: token keys: %w", err)
		}
		k.CreatedAt = created.UTC()
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: token keys: %w", err)
	}
	return out, nil
}

// AddTokenKey stores k, with CreatedAt set to now when zero. A taken ID is
// store.ErrExists (also when another gateway added it first); an ID outside
// [A-Za-z0-9_-]{1,16} or a secret that is not 32 bytes is refused
// (store.CheckTokenKey).
func (s *Store) AddTokenKey(ctx context.Context, k store.TokenKey) error {
	if err := store.CheckTokenKey(&k); err != nil {
		return fmt.Errorf("postgres: add token key: %w", err)
	}
	created := k.CreatedAt
	if created.IsZero() {
		created = now()
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO token_keys (id, secret, created_at) VALUES ($1, $2, $3)`,
		k.ID, k.Secret, created)
	if isUniqueViolation(err) {
		return fmt.Errorf("postgres: add token key %s: %w", k.ID, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("postgres: add token key %s: %w", k.ID, err)
	}
	return nil
}
