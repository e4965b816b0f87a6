package admin

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/pinpointgw/pinpoint/internal/identity"
)

// Tenants lists every tenant (declared and stored).
func (c *Client) Tenants(ctx context.Context) ([]identity.TenantRecord, error) {
	var out struct {
		Tenants []identity.TenantRecord `json:"tenants"`
	}
	err := c.do(ctx, http.MethodGet, "/admin/tenants", nil, nil, &out)
	return out.Tenants, err
}

// Tenant returns one tenant.
func (c *Client) Tenant(ctx context.Context, id string) (identity.TenantRecord, error) {
	var out identity.TenantRecord
	err := c.do(ctx, http.MethodGet, "/admin/tenants/"+url.PathEscape(id), nil, nil, &out)
	return out, err
}

// PutTenant creates (create=true) or replaces a tenant.
func (c *Client) PutTenant(ctx context.Context, in TenantInput, create bool) (identity.TenantRecord, error) {
	var out identity.TenantRecord
	method, path := http.MethodPost, "/admin/tenants"
	if !create {
		method, path = http.MethodPut, "/admin/tenants/"+url.PathEscape(in.ID)
	}
	err := c.doJSON(ctx, method, path, in, &out)
	return out, err
}

// SetTenantStatus suspends (suspend=true, with in) or activates a tenant.
func (c *Client) SetTenantStatus(ctx context.Context, id string, suspend bool, in StatusInput) (identity.TenantRecord, error) {
	var out identity.TenantRecord
	err := c.doJSON(ctx, http.MethodPost, "/admin/tenants/"+url.PathEscape(id)+statusPath(suspend), in, &out)
	return out, err
}

// DeleteTenant deletes a tenant without consumers.
func (c *Client) DeleteTenant(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/admin/tenants/"+url.PathEscape(id), nil, nil, nil)
}

// Consumers lists consumers, of one tenant when tenant != "".
func (c *Client) Consumers(ctx context.Context, tenant string) ([]identity.ConsumerRecord, error) {
	q := url.Values{}
	if tenant != "" {
		q.Set("tenant", tenant)
	}
	var out struct {
		Consumers []identity.ConsumerRecord `json:"consumers"`
	}
	err := c.do(ctx, http.MethodGet, "/admin/consumers", q, nil, &out)
	return out.Consumers, err
}

// Consumer returns one consumer.
func (c *Client) Consumer(ctx context.Context, id string) (identity.ConsumerRecord, error) {
	var out identity.ConsumerRecord
	err := c.do(ctx, http.MethodGet, "/admin/consumers/"+url.PathEscape(id), nil, nil, &out)
	return out, err
}

// PutConsumer creates (create=true) or replaces a consumer.
func (c *Client) PutConsumer(ctx context.Context, in ConsumerInput, create bool) (identity.ConsumerRecord, error) {
	var out identity.ConsumerRecord
	method, path := http.MethodPost, "/admin/consumers"
	if !create {
		method, path = http.MethodPut, "/admin/consumers/"+url.PathEscape(in.ID)
	}
	err := c.doJSON(ctx, method, path, in, &out)
	return out, err
}

// SetConsumerStatus suspends (suspend=true, with in) or activates a consumer.
func (c *Client) SetConsumerStatus(ctx context.Context, id string, suspend bool, in StatusInput) (identity.ConsumerRecord, error) {
	var out identity.ConsumerRecord
	err := c.doJSON(ctx, http.MethodPost, "/admin/consumers/"+url.PathEscape(id)+statusPath(suspend), in, &out)
	return out, err
}

// DeleteConsumer deletes a consumer and its keys.
func (c *Client) DeleteConsumer(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/admin/consumers/"+url.PathEscape(id), nil, nil, nil)
}

func statusPath(suspend bool) string {
	if suspend {
		return "/suspend"
	}
	return "/activate"
}

// Keys lists keys (of one consumer when consumer != ""), paged by id.
func (c *Client) Keys(ctx context.Context, consumer, after string, limit int) ([]identity.KeyRecord, error) {
	q := url.Values{}
	if consumer != "" {
		q.Set("consumer", consumer)
	}
	if after != "" {
		q.Set("after", after)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out struct {
		Keys []identity.KeyRecord `json:"keys"`
	}
	err := c.do(ctx, http.MethodGet, "/admin/keys", q, nil, &out)
	return out.Keys, err
}

// Key returns one key's record (never the key).
func (c *Client) Key(ctx context.Context, id string) (identity.KeyRecord, error) {
	var out identity.KeyRecord
	err := c.do(ctx, http.MethodGet, "/admin/keys/"+url.PathEscape(id), nil, nil, &out)
	return out, err
}

// CreateKey issues a key; the answer holds the whole key, shown once.
func (c *Client) CreateKey(ctx context.Context, in KeyInput) (IssuedKey, error) {
	var out IssuedKey
	err := c.doJSON(ctx, http.MethodPost, "/admin/keys", in, &out)
	return out, err
}

// RevokeKey revokes a key with a reason kept for operators.
func (c *Client) RevokeKey(ctx context.Context, id, reason string) (identity.KeyRecord, error) {
	var out identity.KeyRecord
	err := c.doJSON(ctx, http.MethodPost, "/admin/keys/"+url.PathEscape(id)+"/revoke", map[string]string{"reason": reason}, &out)
	return out, err
}

// RotateKey issues a replacement; the old key works for grace (e.g. "24h").
func (c *Client) RotateKey(ctx context.Context, id, grace string) (IssuedKey, error) {
	var out IssuedKey
	err := c.doJSON(ctx, http.MethodPost, "/admin/keys/"+url.PathEscape(id)+"/rotate", map[string]string{"grace": grace}, &out)
	return out, err
}
