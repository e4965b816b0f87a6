package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// BeginIdempotent inserts rec unless an unexpired record holds the key;
// then it returns that record, without its token. One upsert decides: it
// inserts, or takes over a record expired at now, and otherwise updates
// nothing but still locks the existing row, which the transaction then reads
// unchanged. Concurrent calls for one key wait on that row, so exactly one
// inserts.
func (s *Store) BeginIdempotent(ctx context.Context, rec store.IdempotencyRecord, now time.Time) (*store.IdempotencyRecord, error) {
	if rec.Token == "" {
		return nil, errors.New("postgres: begin idempotent request: the record has no token")
	}
	var existing *store.IdempotencyRecord
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// A lapsed in-flight record passes to the new holder, whose token
		// its old holder does not know.
		var inserted bool
		err := tx.QueryRow(ctx, `INSERT INTO idempotency_keys AS k
			(scope, key, fingerprint, token, done, response_json, created_at, expires_at)
			VALUES ($1, $2, $3, $4, false, NULL, $5, $6)
			ON CONFLICT (scope, key) DO UPDATE SET fingerprint = excluded.fingerprint, token = excluded.token,
				done = false, response_json = NULL, created_at = excluded.created_at, expires_at = excluded.expires_at
			WHERE k.expires_at <= $7
			RETURNING true`,
			rec.Scope, rec.Key, rec.Fingerprint, rec.Token, rec.CreatedAt, rec.ExpiresAt, now).Scan(&inserted)
		if err == nil {
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var (
			got  = store.IdempotencyRecord{Scope: rec.Scope, Key: rec.Key}
			resp []byte
		)
		if err := tx.QueryRow(ctx, `SELECT fingerprint, done, response_json, created_at, expires_at
			FROM idempotency_keys WHERE scope = $1 AND key = $2`, rec.Scope, rec.Key).Scan(
			&got.Fingerprint, &got.Done, &resp, &got.CreatedAt, &got.ExpiresAt); err != nil {
			return err
		}
		got.CreatedAt, got.ExpiresAt = got.CreatedAt.UTC(), got.ExpiresAt.UTC()
		if resp != nil {
			got.Response = &store.StoredResponse{}
			if err := json.Unmarshal(resp, got.Response); err != nil {
				return fmt.Errorf("stored response: %w", err)
			}
		}
		existing = &got
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: begin idempotent request: %w", err)
	}
	return existing, nil
}

// CompleteIdempotent stores the response of the in-flight record that
// holds token.
func (s *Store) CompleteIdempotent(ctx context.Context, scope, key, token string, resp store.StoredResponse, expires time.Time) error {
	doc, err := json.Marshal(resp)
	if err != nil {
		return fmt.Errorf("postgres: complete idempotent request: %w", err)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE idempotency_keys SET done = true, response_json = $1, expires_at = $2
		WHERE scope = $3 AND key = $4 AND token = $5 AND NOT done`,
		string(doc), expires, scope, key, token)
	if err != nil {
		return fmt.Errorf("postgres: complete idempotent request: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// ReleaseIdempotent deletes the in-flight record that holds token.
func (s *Store) ReleaseIdempotent(ctx context.Context, scope, key, token string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND token = $3 AND NOT done`,
		scope, key, token)
	if err != nil {
		return fmt.Errorf("postgres: release idempotent request: %w", err)
	}
	return nil
}

// DeleteExpiredIdempotency removes records expired at now.
func (s *Store) DeleteExpiredIdempotency(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete expired idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}
