package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinpointgw/pinpoint/internal/store"
)

const keyColumns = `id, env, consumer_id, name, hash, scopes, not_before, expires_at, revoked_at,
revoked_reason, replaced_by, created_at, last_used_at`

func scanKey(r pgx.Row) (store.APIKey, error) {
	var (
		k                          store.APIKey
		nbf, exp, revoked, lastUse *time.Time
		created                    time.Time
	)
	err := r.Scan(&k.ID, &k.Env, &k.ConsumerID, &k.Name, &k.Hash, &k.Scopes, &nbf, &exp, &revoked,
		&k.RevokedReason, &k.ReplacedBy, &created, &lastUse)
	if err != nil {
		return store.APIKey{}, notFound(err)
	}
	if len(k.Scopes) == 0 {
		k.Scopes = nil
	}
	k.NotBefore, k.ExpiresAt, k.RevokedAt = fromTS(nbf), fromTS(exp), fromTS(revoked)
	k.CreatedAt, k.LastUsedAt = created.UTC(), fromTS(lastUse)
	return k, nil
}

// normalizeKey rounds k's times to what the store keeps, so the key
// returned by a create equals the key read back.
func normalizeKey(k store.APIKey) store.APIKey {
	k.NotBefore, k.ExpiresAt, k.RevokedAt = micro(k.NotBefore), micro(k.ExpiresAt), micro(k.RevokedAt)
	k.CreatedAt, k.LastUsedAt = micro(k.CreatedAt), micro(k.LastUsedAt)
	return k
}

func insertKey(ctx context.Context, tx pgx.Tx, k store.APIKey) error {
	if !isHexSHA256(k.Hash) {
		return ErrInvalidTokenHash
	}
	_, err := tx.Exec(ctx, `INSERT INTO api_keys (`+keyColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		k.ID, k.Env, k.ConsumerID, k.Name, k.Hash, nonNilSlice(k.Scopes), ts(k.NotBefore),
		ts(k.ExpiresAt), ts(k.RevokedAt), k.RevokedReason, k.ReplacedBy, k.CreatedAt, ts(k.LastUsedAt))
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
	k = normalizeKey(k)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return insertKey(ctx, tx, k) })
	if err != nil {
		return store.APIKey{}, wrap("create api key", err)
	}
	return k, nil
}

// APIKey returns one key.
func (s *Store) APIKey(ctx context.Context, id string) (store.APIKey, error) {
	k, err := scanKey(s.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1`, id))
	return k, wrap("api key", err)
}

// ListAPIKeys returns keys ordered by id.
func (s *Store) ListAPIKeys(ctx context.Context, q store.KeyQuery) ([]store.APIKey, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	rows, err := s.pool.Query(ctx, `SELECT `+keyColumns+` FROM api_keys
		WHERE id > $1 AND ($2 = '' OR consumer_id = $2) ORDER BY id LIMIT $3`,
		q.After, q.ConsumerID, min(limit, maxListLimit))
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
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		k, err := scanKey(tx.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		out = k
		if !k.RevokedAt.IsZero() {
			return store.ErrExists
		}
		at = micro(at)
		if _, err := tx.Exec(ctx, `UPDATE api_keys SET revoked_at = $1, revoked_reason = $2 WHERE id = $3`,
			ts(at), reason, id); err != nil {
			return err
		}
		out.RevokedAt, out.RevokedReason = at, reason
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
	next = normalizeKey(next)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		k, err := scanKey(tx.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if err := insertKey(ctx, tx, next); err != nil {
			return err
		}
		end := micro(graceEnd)
		if !k.ExpiresAt.IsZero() && k.ExpiresAt.Before(end) {
			end = k.ExpiresAt
		}
		if _, err := tx.Exec(ctx, `UPDATE api_keys SET expires_at = $1, replaced_by = $2 WHERE id = $3`,
			ts(end), next.ID, id); err != nil {
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
	rows, err := s.pool.Query(ctx, `DELETE FROM api_keys WHERE consumer_id = $1 RETURNING id`, consumerID)
	if err != nil {
		return nil, wrap("delete api keys", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return ids, wrap("delete api keys", err)
}

// scanPage is how many keys ScanAPIKeys reads per query.
const scanPage = 10000

// ScanAPIKeys calls f for every key in id order, reading pages of keys so
// that no query stays open while f runs.
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

// TouchAPIKeys moves last-used times forward, in one statement.
func (s *Store) TouchAPIKeys(ctx context.Context, lastUsed map[string]time.Time) error {
	if len(lastUsed) == 0 {
		return nil
	}
	ids := make([]string, 0, len(lastUsed))
	times := make([]time.Time, 0, len(lastUsed))
	for id, t := range lastUsed {
		ids = append(ids, id)
		times = append(times, t)
	}
	_, err := s.pool.Exec(ctx, `UPDATE api_keys AS k SET last_used_at = u.t
		FROM unnest($1::text[], $2::timestamptz[]) AS u(id, t)
		WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.t)`, ids, times)
	return wrap("touch api keys", err)
}
