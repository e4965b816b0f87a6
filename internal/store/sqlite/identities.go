package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// isUniqueViolation reports whether err is SQLite's UNIQUE/PRIMARY KEY
// constraint failure.
func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

func encodeJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only string slices and string maps are encoded here.
		panic(err)
	}
	return string(b)
}

// now is the current time as the store keeps it (UTC, at the
// precision of Unix nanoseconds).
func now() time.Time { return fromUnixNanos(time.Now().UnixNano()) }

// CreateTenant stores a new tenant.
func (s *Store) CreateTenant(ctx context.Context, t store.Tenant) (store.Tenant, error) {
	t.CreatedAt = now()
	t.UpdatedAt = t.CreatedAt
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tenants (id, name, status, suspended_reason, suspended_category, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, t.ID, t.Name, t.Status, t.SuspendedReason, t.SuspendedCategory,
			unixNanos(t.CreatedAt), unixNanos(t.UpdatedAt))
		return err
	})
	if isUniqueViolation(err) {
		return store.Tenant{}, store.ErrExists
	}
	if err != nil {
		return store.Tenant{}, fmt.Errorf("sqlite: create tenant: %w", err)
	}
	return t, nil
}

// UpdateTenant replaces a tenant's name, status and suspension.
func (s *Store) UpdateTenant(ctx context.Context, t store.Tenant) (store.Tenant, error) {
	var out store.Tenant
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE tenants SET name = ?, status = ?, suspended_reason = ?, suspended_category = ?, updated_at = ?
			WHERE id = ?`, t.Name, t.Status, t.SuspendedReason, t.SuspendedCategory, unixNanos(now()), t.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		out, err = scanTenant(tx.QueryRowContext(ctx, tenantSelect+` WHERE id = ?`, t.ID))
		return err
	})
	if err != nil {
		return store.Tenant{}, wrap("update tenant", err)
	}
	return out, nil
}

const tenantSelect = `SELECT id, name, status, suspended_reason, suspended_category, created_at, updated_at FROM tenants`

type rowScanner interface{ Scan(dest ...any) error }

func scanTenant(r rowScanner) (store.Tenant, error) {
	var (
		t                store.Tenant
		created, updated int64
	)
	err := r.Scan(&t.ID, &t.Name, &t.Status, &t.SuspendedReason, &t.SuspendedCategory, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return t, store.ErrNotFound
	}
	t.CreatedAt, t.UpdatedAt = fromUnixNanos(created), fromUnixNanos(updated)
	return t, err
}

// Tenant returns one tenant.
func (s *Store) Tenant(ctx context.Context, id string) (store.Tenant, error) {
	t, err := scanTenant(s.r.QueryRowContext(ctx, tenantSelect+` WHERE id = ?`, id))
	return t, wrap("tenant", err)
}

// ListTenants returns every tenant ordered by id.
func (s *Store) ListTenants(ctx context.Context) ([]store.Tenant, error) {
	rows, err := s.r.QueryContext(ctx, tenantSelect+` ORDER BY id`)
	if err != nil {
		return nil, wrap("list tenants", err)
	}
	defer rows.Close()
	var out []store.Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, wrap("list tenants", err)
		}
		out = append(out, t)
	}
	return out, wrap("list tenants", rows.Err())
}

// DeleteTenant deletes a tenant; its consumers keep their tenant id.
func (s *Store) DeleteTenant(ctx context.Context, id string) error {
	return wrap("delete tenant", s.deleteByID(ctx, `DELETE FROM tenants WHERE id = ?`, id))
}

func (s *Store) deleteByID(ctx context.Context, query, id string) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// wrap adds context to unexpected errors and passes the store's sentinel
// errors through unchanged (callers compare with errors.Is either way).
func wrap(op string, err error) error {
	if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExists) {
		return err
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

const consumerSelect = `SELECT id, name, tenant_id, groups_json, metadata_json, status, suspended_reason, suspended_category,
created_at, updated_at FROM consumers`

func scanConsumer(r rowScanner) (store.Consumer, error) {
	var (
		c                store.Consumer
		groups, meta     string
		created, updated int64
	)
	err := r.Scan(&c.ID, &c.Name, &c.TenantID, &groups, &meta, &c.Status, &c.SuspendedReason, &c.SuspendedCategory, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return c, store.ErrNotFound
	}
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal([]byte(groups), &c.Groups); err != nil {
		return c, fmt.Errorf("consumer %s groups: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(meta), &c.Metadata); err != nil {
		return c, fmt.Errorf("consumer %s metadata: %w", c.ID, err)
	}
	c.CreatedAt, c.UpdatedAt = fromUnixNanos(created), fromUnixNanos(updated)
	return c, nil
}

// CreateConsumer stores a new consumer.
func (s *Store) CreateConsumer(ctx context.Context, c store.Consumer) (store.Consumer, error) {
	c.CreatedAt = now()
	c.UpdatedAt = c.CreatedAt
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO consumers (id, name, tenant_id, groups_json, metadata_json, status,
			suspended_reason, suspended_category, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.Name, c.TenantID, encodeJSON(nonNilSlice(c.Groups)), encodeJSON(nonNilMap(c.Metadata)), c.Status,
			c.SuspendedReason, c.SuspendedCategory, unixNanos(c.CreatedAt), unixNanos(c.UpdatedAt))
		return err
	})
	if isUniqueViolation(err) {
		return store.Consumer{}, store.ErrExists
	}
	if err != nil {
		return store.Consumer{}, fmt.Errorf("sqlite: create consumer: %w", err)
	}
	return c, nil
}

// UpdateConsumer replaces every field of a consumer but its creation time.
func (s *Store) UpdateConsumer(ctx context.Context, c store.Consumer) (store.Consumer, error) {
	var out store.Consumer
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE consumers SET name = ?, tenant_id = ?, groups_json = ?, metadata_json = ?, status = ?,
			suspended_reason = ?, suspended_category = ?, updated_at = ? WHERE id = ?`,
			c.Name, c.TenantID, encodeJSON(nonNilSlice(c.Groups)), encodeJSON(nonNilMap(c.Metadata)), c.Status,
			c.SuspendedReason, c.SuspendedCategory, unixNanos(now()), c.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		out, err = scanConsumer(tx.QueryRowContext(ctx, consumerSelect+` WHERE id = ?`, c.ID))
		return err
	})
	return out, wrap("update consumer", err)
}

// Consumer returns one consumer.
func (s *Store) Consumer(ctx context.Context, id string) (store.Consumer, error) {
	c, err := scanConsumer(s.r.QueryRowContext(ctx, consumerSelect+` WHERE id = ?`, id))
	return c, wrap("consumer", err)
}

// ListConsumers returns consumers ordered by id, of one tenant when tenant != "".
func (s *Store) ListConsumers(ctx context.Context, tenant string) ([]store.Consumer, error) {
	q, args := consumerSelect+` ORDER BY id`, []any{}
	if tenant != "" {
		q, args = consumerSelect+` WHERE tenant_id = ? ORDER BY id`, []any{tenant}
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap("list consumers", err)
	}
	defer rows.Close()
	var out []store.Consumer
	for rows.Next() {
		c, err := scanConsumer(rows)
		if err != nil {
			return nil, wrap("list consumers", err)
		}
		out = append(out, c)
	}
	return out, wrap("list consumers", rows.Err())
}

// DeleteConsumer deletes a consumer and its keys in one transaction.
func (s *Store) DeleteConsumer(ctx context.Context, id string) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM consumers WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM api_keys WHERE consumer_id = ?`, id)
		return err
	})
	return wrap("delete consumer", err)
}

func nonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
