package store

import (
	"context"
	"errors"
	"time"
)

// ErrExists is returned when an object with the same id already exists.
var ErrExists = errors.New("already exists")

// Tenant is an organization consumers belong to, as stored.
type Tenant struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	// SuspendedReason is operator-only; SuspendedCategory is what callers see.
	SuspendedReason   string    `json:"suspended_reason,omitempty"`
	SuspendedCategory string    `json:"suspended_category,omitempty"`
	CreatedAt         time.Time `json:"created_at,omitzero"`
	UpdatedAt         time.Time `json:"updated_at,omitzero"`
}

// Consumer is a client of the APIs, as stored.
type Consumer struct {
	ID                string            `json:"id"`
	Name              string            `json:"name"`
	TenantID          string            `json:"tenant,omitempty"`
	Groups            []string          `json:"groups,omitempty"`
	Metadata          map[string]string `json:"metadata,omitempty"`
	Status            string            `json:"status"`
	SuspendedReason   string            `json:"suspended_reason,omitempty"`
	SuspendedCategory string            `json:"suspended_category,omitempty"`
	CreatedAt         time.Time         `json:"created_at,omitzero"`
	UpdatedAt         time.Time         `json:"updated_at,omitzero"`
}

// APIKey is an issued API key. Only the SHA-256 of the whole key is kept;
// the key itself is shown once, at creation.
type APIKey struct {
	// ID is the prefix id (pp_<env>_<id>_…).
	ID string `json:"id"`
	// Env is the environment in the key's prefix.
	Env        string `json:"environment"`
	ConsumerID string `json:"consumer"`
	// Name is a free label ("ci", "laptop").
	Name string `json:"name,omitempty"`
	// Hash is the lowercase hex SHA-256 of the whole key.
	Hash          string    `json:"-"`
	Scopes        []string  `json:"scopes,omitempty"`
	NotBefore     time.Time `json:"not_before,omitzero"`
	ExpiresAt     time.Time `json:"expires_at,omitzero"`
	RevokedAt     time.Time `json:"revoked_at,omitzero"`
	RevokedReason string    `json:"revoked_reason,omitempty"`
	// ReplacedBy is the id of the key that replaced this one by rotation.
	ReplacedBy string    `json:"replaced_by,omitempty"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// KeyQuery filters ListAPIKeys. Zero fields do not filter.
type KeyQuery struct {
	ConsumerID string
	// After returns keys with ids greater than After (paging by id).
	After string
	// Limit caps the result; default 100, at most 10000.
	Limit int
}

// Identities stores tenants, consumers and API keys created at run time.
// Writes are durable once they return. Ids are unique per kind; Create
// returns ErrExists for a taken id, Update and the getters ErrNotFound for
// a missing one.
type Identities interface {
	CreateTenant(ctx context.Context, t Tenant) (Tenant, error)
	UpdateTenant(ctx context.Context, t Tenant) (Tenant, error)
	Tenant(ctx context.Context, id string) (Tenant, error)
	ListTenants(ctx context.Context) ([]Tenant, error)
	DeleteTenant(ctx context.Context, id string) error

	CreateConsumer(ctx context.Context, c Consumer) (Consumer, error)
	UpdateConsumer(ctx context.Context, c Consumer) (Consumer, error)
	Consumer(ctx context.Context, id string) (Consumer, error)
	// ListConsumers returns consumers ordered by id; tenant "" lists all.
	ListConsumers(ctx context.Context, tenant string) ([]Consumer, error)
	// DeleteConsumer deletes the consumer and its keys.
	DeleteConsumer(ctx context.Context, id string) error

	// CreateAPIKey stores k; CreatedAt is set when zero.
	CreateAPIKey(ctx context.Context, k APIKey) (APIKey, error)
	APIKey(ctx context.Context, id string) (APIKey, error)
	ListAPIKeys(ctx context.Context, q KeyQuery) ([]APIKey, error)
	// RevokeAPIKey marks the key revoked at time at with reason.
	RevokeAPIKey(ctx context.Context, id string, at time.Time, reason string) (APIKey, error)
	// RotateAPIKey atomically stores next and makes the key id expire at
	// graceEnd (or earlier, if it already expires sooner), replaced by next.
	RotateAPIKey(ctx context.Context, id string, graceEnd time.Time, next APIKey) (old, created APIKey, err error)
	// DeleteAPIKeysOf deletes every key of a consumer and returns their ids.
	DeleteAPIKeysOf(ctx context.Context, consumerID string) ([]string, error)
	// ScanAPIKeys calls f for every stored key, in id order, without
	// holding a transaction open across calls of f longer than needed.
	ScanAPIKeys(ctx context.Context, f func(APIKey) error) error
	// TouchAPIKeys records last-used times (only moving them forward).
	TouchAPIKeys(ctx context.Context, lastUsed map[string]time.Time) error
}
