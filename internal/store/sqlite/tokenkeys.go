package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

var _ store.TokenKeys = (*Store)(nil)

// TokenKeys returns every stored decision-token key, newest first.
func (s *Store) TokenKeys(ctx context.Context) ([]store.TokenKey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, secret, created_at FROM token_keys ORDER BY created_at DESC, rowid DESC`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: token keys: %w", err)
	}
	defer rows.Close()
	var out []store.TokenKey
	for rows.Next() {
		var (
			k       store.TokenKey
			created int64
		)
		if err := rows.Scan(&k.ID, &k.Secret, &created); err != nil {
			return nil, fmt.Errorf("sqlite: token keys: %w", err)
		}
		k.CreatedAt = fromUnixNanos(created)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: token keys: %w", err)
	}
	return out, nil
}

// AddTokenKey stores k, with CreatedAt set to now when zero. A taken ID is
// store.ErrExists; an ID outside [A-Za-z0-9_-]{1,16} or a secret that is
// not 32 bytes is refused (store.CheckTokenKey).
func (s *Store) AddTokenKey(ctx context.Context, k store.TokenKey) error {
	if err := store.CheckTokenKey(&k); err != nil {
		return fmt.Errorf("sqlite: add token key: %w", err)
	}
	created := k.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO token_keys (id, secret, created_at) VALUES (?, ?, ?)`,
			k.ID, k.Secret, unixNanos(created))
		return err
	})
	if isUniqueViolation(err) {
		return fmt.Errorf("sqlite: add token key %s: %w", k.ID, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("sqlite: add token key %s: %w", k.ID, err)
	}
	return nil
}
