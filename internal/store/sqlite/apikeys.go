package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

const keySelect = `SELECT id, env, consumer_id, name, hash, scopes_json, not_before, expires_at, revoked_at,
revoked_reason, replaced_by, created_at, last_used_at FROM api_keys`

func scanKey(r rowScanner) (store.APIKey, error) {
	var (
		k                                    store.APIKey
		scopes                               string
		nbf, exp, revoked, created, lastUsed int64
	)
	err := r.Scan(&k.ID, &k.Env, &k.ConsumerID, &k.Name, &k.Hash, &scopes, &nbf, &exp, &revoked,
		&k.RevokedReason, &k.ReplacedBy, &created, &lastUsed)
	if errors.Is(err, sql.ErrNoRows) {
		return k, store.ErrNotFound
	}
	if err != nil {
		return k, err
	}
	if err := json.Unmarshal([]byte(scopes), &k.Scopes); err != nil {
		return k, fmt.Errorf("key %s scopes: %w", k.ID, err)
	}
	if len(k.Scopes) == 0 {
		k.Scopes = nil
	}
	k.NotBefore, k.ExpiresAt, k.RevokedAt = fromUnixNanos(nbf), fromUnixNanos(exp), fromUnixNanos(revoked)
	k.CreatedAt, k.LastUsedAt = fromUnixNanos(created), fromUnixNanos(lastUsed)
	return k, nil
}

func insertKey(ctx context.Context, tx *sql.Tx, k store.APIKey) error {
	if !isHexSHA256(k.Hash) {
		return ErrInvalidTokenHash
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, env, consumer_id, name, hash, scopes_json, not_before, expires_at,
		revoked_at, revoked_reason, replaced_by, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Env, k.ConsumerID, k.Name, k.Hash, encodeJSON(nonNilSlice(k.Scopes)), unixNanos(k.NotBefore),
		unixNanos(k.ExpiresAt), unixNanos(k.RevokedAt), k.RevokedReason, k.ReplacedBy, unixNanos(k.CreatedAt),
		unixNanos(k.LastUsedAt))
	if isUniqueViolation(err) {
		return store.ErrExists
	}
	return err
}

// CreateAPIKey stores a new key. Its Hash must be a lowercase hex SHA-256:
// a raw key passed by mistake is refused, never stored.
func (s *Store) CreateAPIKey(ctx context.Context, k store.APIKey) (store.APIKey, error) {
	if k.CreatedAt.IsZero() {
		k.CreatedAt = now()
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error { return insertKey(ctx, tx, k) })
	if err != nil {
		return store.APIKey{}, wrap("create api key", err)
	}
	return k, nil
}

// APIKey returns one key.
func (s *Store) APIKey(ctx context.Context, id string) (store.APIKey, error) {
	k, err := scanKey(s.r.QueryRowContext(ctx, keySelect+` WHERE id = ?`, id))
	return k, wrap("api key", err)
}

// ListAPIKeys returns keys ordered by id.
func (s *Store) ListAPIKeys(ctx context.Context, q store.KeyQuery) ([]store.APIKey, error) {
	query, args := keySelect+` WHERE id > ?`, []any{q.After}
	if q.ConsumerID != "" {
		query += ` AND consumer_id = ?`
		args = append(args, q.ConsumerID)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	query += ` ORDER BY id LIMIT ?`
	args = append(args, min(limit, maxListLimit))
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap("list api keys", err)
	}
	defer rows.Close()
	var out []store.APIKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, wrap("list api keys", err)
		}
		out = append(out, k)
	}
	return out, wrap("list api keys", rows.Err())
}

// RevokeAPIKey marks a key revoked. Revoking a revoked key keeps the first
// revocation and returns store.ErrExists.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time, reason string) (store.APIKey, error) {
	var out store.APIKey
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		k, err := scanKey(tx.QueryRowContext(ctx, keySelect+` WHERE id = ?`, id))
		if err != nil {
			return err
		}
		if !k.RevokedAt.IsZero() {
			out = k
			return store.ErrExists
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ?, revoked_reason = ? WHERE id = ?`,
			unixNanos(at), reason, id); err != nil {
			return err
		}
		k.RevokedAt, k.RevokedReason = fromUnixNanos(unixNanos(at)), reason
		out = k
		return nil
	})
	return out, wrap("revoke api key", err)
}

// RotateAPIKey stores next and shortens the old key's life to graceEnd, in
// one transaction.
func (s *Store) RotateAPIKey(ctx context.Context, id string, graceEnd time.Time, next store.APIKey) (store.APIKey, store.APIKey, error) {
	var old store.APIKey
	if next.CreatedAt.IsZero() {
		next.CreatedAt = now()
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		k, err := scanKey(tx.QueryRowContext(ctx, keySelect+` WHERE id = ?`, id))
		if err != nil {
			return err
		}
		if err := insertKey(ctx, tx, next); err != nil {
			return err
		}
		end := fromUnixNanos(unixNanos(graceEnd))
		if !k.ExpiresAt.IsZero() && k.ExpiresAt.Before(end) {
			end = k.ExpiresAt
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET expires_at = ?, replaced_by = ? WHERE id = ?`,
			unixNanos(end), next.ID, id); err != nil {
			return err
		}
		k.ExpiresAt, k.ReplacedBy = end, next.ID
		old = k
		return nil
	})
	if err != nil {
		return store.APIKey{}, store.APIKey{}, wrap("rotate api key", err)
	}
	return old, next, nil
}

// DeleteAPIKeysOf deletes a consumer's keys and returns their ids.
func (s *Store) DeleteAPIKeysOf(ctx context.Context, consumerID string) ([]string, error) {
	var ids []string
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `DELETE FROM api_keys WHERE consumer_id = ? RETURNING id`, consumerID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	return ids, wrap("delete api keys", err)
}

// scanPage is how many keys ScanAPIKeys reads per query.
const scanPage = 10000

// ScanAPIKeys calls f for every key in id order, reading pages of keys so
// that no read transaction stays open while f runs.
func (s *Store) ScanAPIKeys(ctx context.Context, f func(store.APIKey) error) error {
	after := ""
	for {
		page, err := s.ListAPIKeys(ctx, store.KeyQuery{After: after, Limit: scanPage})
		if err != nil {
			return err
		}
		for _, k := range page {
			if err := f(k); err != nil {
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

// TouchAPIKeys moves last-used times forward in one transaction.
func (s *Store) TouchAPIKeys(ctx context.Context, lastUsed map[string]time.Time) error {
	if len(lastUsed) == 0 {
		return nil
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE api_keys SET last_used_at = ? WHERE id = ? AND last_used_at < ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for id, t := range lastUsed {
			n := unixNanos(t)
			if _, err := stmt.ExecContext(ctx, n, id, n); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("touch api keys", err)
}
