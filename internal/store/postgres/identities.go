package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// CreateTenant stores a new tenant; store.ErrExists when its id is taken.
func (s *Store) CreateTenant(ctx context.Context, t store.Tenant) (store.Tenant, error) {
	t.CreatedAt = now()
	t.UpdatedAt = t.CreatedAt
	_, err := s.pool.Exec(ctx, `INSERT INTO tenants (id, name, status, suspended_reason, suspended_category, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, t.ID, t.Name, t.Status, t.SuspendedReason, t.SuspendedCategory,
		t.CreatedAt, t.UpdatedAt)
	if isUniqueViolation(err) {
		return store.Tenant{}, store.ErrExists
	}
	if err != nil {
		return store.Tenant{}, wrap("create tenant", err)
	}
	return t, nil
}

const tenantColumns = `id, name, status, suspended_reason, suspended_category, created_at, updated_at`

// UpdateTenant replaces a tenant's name, status and suspension.
func (s *Store) UpdateTenant(ctx context.Context, t store.Tenant) (store.Tenant, error) {
	out, err := scanTenant(s.pool.QueryRow(ctx, `UPDATE tenants SET name = $1, status = $2, suspended_reason = $3,
		suspended_category = $4, updated_at = $5 WHERE id = $6 RETURNING `+tenantColumns,
		t.Name, t.Status, t.SuspendedReason, t.SuspendedCategory, now(), t.ID))
	if err != nil {
		return store.Tenant{}, wrap("update tenant", err)
	}
	return out, nil
}

func scanTenant(r pgx.Row) (store.Tenant, error) {
	var (
		t                store.Tenant
		created, updated time.Time
	)
	err := r.Scan(&t.ID, &t.Name, &t.Status, &t.SuspendedReason, &t.SuspendedCategory, &created, &updated)
	if err != nil {
		return store.Tenant{}, notFound(err)
	}
	t.CreatedAt, t.UpdatedAt = created.UTC(), updated.UTC()
	return t, nil
}

// Tenant returns one tenant.
func (s *Store) Tenant(ctx context.Context, id string) (store.Tenant, error) {
	t, err := scanTenant(s.pool.QueryRow(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = $1`, id))
	return t, wrap("tenant", err)
}

// ListTenants returns every tenant ordered by id.
func (s *Store) ListTenants(ctx context.Context) ([]store.Tenant, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+tenantColumns+` FROM tenants ORDER BY id`)
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
	tag, err := s.pool.Exec(ctx, `DELETE FROM tenants WHERE id = $1`, id)
	if err != nil {
		return wrap("delete tenant", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

const consumerColumns = `id, name, tenant_id, groups, metadata, status, suspended_reason, suspended_category,
created_at, updated_at`

func scanConsumer(r pgx.Row) (store.Consumer, error) {
	var (
		c                store.Consumer
		created, updated time.Time
	)
	err := r.Scan(&c.ID, &c.Name, &c.TenantID, &c.Groups, &c.Metadata, &c.Status, &c.SuspendedReason,
		&c.SuspendedCategory, &created, &updated)
	if err != nil {
		return store.Consumer{}, notFound(err)
	}
	// As the SQLite store: empty groups and metadata come back empty, not nil.
	c.Groups, c.Metadata = nonNilSlice(c.Groups), nonNilMap(c.Metadata)
	c.CreatedAt, c.UpdatedAt = created.UTC(), updated.UTC()
	return c, nil
}

// CreateConsumer stores a new consumer; store.ErrExists when its id is taken.
func (s *Store) CreateConsumer(ctx context.Context, c store.Consumer) (store.Consumer, error) {
	c.CreatedAt = now()
	c.UpdatedAt = c.CreatedAt
	_, err := s.pool.Exec(ctx, `INSERT INTO consumers (id, name, tenant_id, groups, metadata, status,
		suspended_reason, suspended_category, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		c.ID, c.Name, c.TenantID, nonNilSlice(c.Groups), nonNilMap(c.Metadata), c.Status,
		c.SuspendedReason, c.SuspendedCategory, c.CreatedAt, c.UpdatedAt)
	if isUniqueViolation(err) {
		return store.Consumer{}, store.ErrExists
	}
	if err != nil {
		return store.Consumer{}, wrap("create consumer", err)
	}
	return c, nil
}

// UpdateConsumer replaces every field of a consumer but its creation time.
func (s *Store) UpdateConsumer(ctx context.Context, c store.Consumer) (store.Consumer, error) {
	out, err := scanConsumer(s.pool.QueryRow(ctx, `UPDATE consumers SET name = $1, tenant_id = $2, groups = $3,
		metadata = $4, status = $5, suspended_reason = $6, suspended_category = $7, updated_at = $8
		WHERE id = $9 RETURNING `+consumerColumns,
		c.Name, c.TenantID, nonNilSlice(c.Groups), nonNilMap(c.Metadata), c.Status,
		c.SuspendedReason, c.SuspendedCategory, now(), c.ID))
	return out, wrap("update consumer", err)
}

// Consumer returns one consumer.
func (s *Store) Consumer(ctx context.Context, id string) (store.Consumer, error) {
	c, err := scanConsumer(s.pool.QueryRow(ctx, `SELECT `+consumerColumns+` FROM consumers WHERE id = $1`, id))
	return c, wrap("consumer", err)
}

// ListConsumers returns consumers ordered by id, of one tenant when tenant != "".
func (s *Store) ListConsumers(ctx context.Context, tenant string) ([]store.Consumer, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+consumerColumns+` FROM consumers
		WHERE $1 = '' OR tenant_id = $1 ORDER BY id`, tenant)
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
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM consumers WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		_, err = tx.Exec(ctx, `DELETE FROM api_keys WHERE consumer_id = $1`, id)
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
