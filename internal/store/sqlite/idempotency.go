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

// BeginIdempotent inserts rec unless an unexpired record holds the key;
// then it returns that record, without its token. The write transaction
// (BEGIN IMMEDIATE) makes concurrent calls for one key take turns, so
// exactly one inserts.
func (s *Store) BeginIdempotent(ctx context.Context, rec store.IdempotencyRecord, now time.Time) (*store.IdempotencyRecord, error) {
	if rec.Token == "" {
		return nil, errors.New("sqlite: begin idempotent request: the record has no token")
	}
	var existing *store.IdempotencyRecord
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var (
			got                  store.IdempotencyRecord
			done                 int64
			resp                 sql.NullString
			created, expiresNano int64
		)
		err := tx.QueryRowContext(ctx,
			`SELECT fingerprint, done, response_json, created_at, expires_at FROM idempotency_keys WHERE scope = ? AND key = ?`,
			rec.Scope, rec.Key).Scan(&got.Fingerprint, &done, &resp, &created, &expiresNano)
		switch {
		case err == nil && expiresNano > unixNanos(now):
			got.Scope, got.Key, got.Done = rec.Scope, rec.Key, done != 0
			got.CreatedAt, got.ExpiresAt = fromUnixNanos(created), fromUnixNanos(expiresNano)
			if resp.Valid {
				got.Response = &store.StoredResponse{}
				if err := json.Unmarshal([]byte(resp.String), got.Response); err != nil {
					return fmt.Errorf("stored response: %w", err)
				}
			}
			existing = &got
			return nil
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return err
		}
		// Absent, or expired: (re)insert. A lapsed in-flight record passes
		// to the new holder, whose token its old holder does not know.
		_, err = tx.ExecContext(ctx, `INSERT INTO idempotency_keys (scope, key, fingerprint, token, done, response_json, created_at, expires_at)
			VALUES (?, ?, ?, ?, 0, NULL, ?, ?)
			ON CONFLICT (scope, key) DO UPDATE SET fingerprint = excluded.fingerprint, token = excluded.token, done = 0,
				response_json = NULL, created_at = excluded.created_at, expires_at = excluded.expires_at`,
			rec.Scope, rec.Key, rec.Fingerprint, rec.Token, unixNanos(rec.CreatedAt), unixNanos(rec.ExpiresAt))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: begin idempotent request: %w", err)
	}
	return existing, nil
}

// CompleteIdempotent stores the response of the in-flight record that
// holds token.
func (s *Store) CompleteIdempotent(ctx context.Context, scope, key, token string, resp store.StoredResponse, expires time.Time) error {
	doc, err := json.Marshal(resp)
	if err != nil {
		return fmt.Errorf("sqlite: complete idempotent request: %w", err)
	}
	var n int64
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE idempotency_keys SET done = 1, response_json = ?, expires_at = ? WHERE scope = ? AND key = ? AND token = ? AND done = 0`,
			string(doc), unixNanos(expires), scope, key, token)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: complete idempotent request: %w", err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// ReleaseIdempotent deletes the in-flight record that holds token.
func (s *Store) ReleaseIdempotent(ctx context.Context, scope, key, token string) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE scope = ? AND key = ? AND token = ? AND done = 0`, scope, key, token)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: release idempotent request: %w", err)
	}
	return nil
}

// DeleteExpiredIdempotency removes records expired at now.
func (s *Store) DeleteExpiredIdempotency(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE expires_at <= ?`, unixNanos(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired idempotency keys: %w", err)
	}
	return n, nil
}
