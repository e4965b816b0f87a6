// Package identity holds who may call: tenants, consumers and their
// credentials, in the compact form the request path reads.
//
// Two sources feed it. Objects declared in the configuration are compiled
// into a Declared set per revision (immutable, swapped with the snapshot).
// Objects created at run time (keys issued through the CLI or admin API,
// consumers and tenants created there) live in the store and are mirrored
// in a Registry that the admin API updates in place. A Directory reads both;
// declared objects win, and ids may not be used by both (the admin API
// refuses, and a revision that would shadow a stored object is rejected).
package identity

import (
	"strings"

	"sync/atomic"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// Statuses of consumers and tenants.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
)

// Sources say where an object is owned.
const (
	// SourceConfig: declared in the configuration; only an apply changes it.
	SourceConfig = "config"
	// SourceStore: created at run time through the admin API or CLI.
	SourceStore = "store"
)

// Categories are the suspension categories a caller may be told; the
// configuration's rule is the one rule.
var Categories = config.SuspensionCategories

// ValidCategory reports whether c is one of Categories.
func ValidCategory(c string) bool {
	for _, v := range Categories {
		if v == c {
			return true
		}
	}
	return false
}

// Suspension explains a suspended status.
type Suspension struct {
	// Reason is operator-only.
	Reason string
	// Category is caller-visible (one of Categories).
	Category string
}

// Tenant is an organization consumers belong to.
type Tenant struct {
	ID, Name   string
	Status     string
	Suspension Suspension
	Source     string
}

// Suspended reports whether the tenant is suspended.
func (t *Tenant) Suspended() bool { return t.Status == StatusSuspended }

// Consumer is a client of the APIs.
type Consumer struct {
	ID, Name   string
	TenantID   string
	Groups     []string
	Metadata   map[string]string
	Status     string
	Suspension Suspension
	Source     string
}

// Suspended reports whether the consumer is suspended.
func (c *Consumer) Suspended() bool { return c.Status == StatusSuspended }

// Key is an API key as the request path needs it: the SHA-256 of the whole
// key, never the key itself. Keys are immutable once published except for
// their last-used time; a change (revocation, rotation) replaces the Key.
// The layout is kept small (112 bytes) because a gateway may hold millions.
type Key struct {
	// Prefix is the key's visible, non-secret prefix: "pp_live_k7f3a9c2d1e0".
	Prefix string
	// ConsumerID owns the key.
	ConsumerID string
	// Hash is the SHA-256 of the whole key string.
	Hash [32]byte
	// ExpiresAt bounds validity, as Unix nanoseconds (0: never expires).
	ExpiresAt int64
	// Extra holds the rarely set facts (nil for most keys).
	Extra *KeyExtra

	scopes   *[]string // shared between keys with the same set
	declared bool
	lastUsed atomic.Int64
	// flushed is the last-used time last written to the store; only the
	// service's flusher reads and writes it.
	flushed int64
}

// KeyExtra holds a key's rarely set facts.
type KeyExtra struct {
	// NotBefore is when the key becomes valid (Unix nanoseconds, 0: at once).
	NotBefore int64
	// RevokedAt is when the key was revoked (0: not revoked).
	RevokedAt int64
	// RevokedReason is the operator's reason for revoking.
	RevokedReason string
	// ReplacedBy is the id of the key that replaced this one by rotation;
	// the old key works until ExpiresAt (the grace period's end).
	ReplacedBy string
}

// NewKeyRecord returns a key for environment env with prefix id id.
func NewKeyRecord(env, id string) *Key { return &Key{Prefix: Prefix(env, id)} }

// ID is the prefix id, the part after pp_<env>_.
func (k *Key) ID() string { return k.Prefix[strings.LastIndexByte(k.Prefix, '_')+1:] }

// Env is the environment in the key's prefix ("live", "test").
func (k *Key) Env() string {
	rest := k.Prefix[len(keyScheme):]
	return rest[:strings.IndexByte(rest, '_')]
}

// Scopes granted to the key (shared; read-only).
func (k *Key) Scopes() []string {
	if k.scopes == nil {
		return nil
	}
	return *k.scopes
}

// NotBefore is when the key becomes valid (Unix nanoseconds, 0: at once).
func (k *Key) NotBefore() int64 {
	if k.Extra == nil {
		return 0
	}
	return k.Extra.NotBefore
}

// RevokedAt is when the key was revoked (Unix nanoseconds, 0: not revoked).
func (k *Key) RevokedAt() int64 {
	if k.Extra == nil {
		return 0
	}
	return k.Extra.RevokedAt
}

// Source is SourceConfig or SourceStore.
func (k *Key) Source() string {
	if k.declared {
		return SourceConfig
	}
	return SourceStore
}

// extra returns k.Extra, creating it.
func (k *Key) extra() *KeyExtra {
	if k.Extra == nil {
		k.Extra = &KeyExtra{}
	}
	return k.Extra
}

// Touch records a use at now (Unix nanoseconds).
func (k *Key) Touch(now int64) {
	if k.lastUsed.Load() < now-int64(time.Second) {
		k.lastUsed.Store(now)
	}
}

// LastUsed is the last recorded use (Unix nanoseconds, 0: never).
func (k *Key) LastUsed() int64 { return k.lastUsed.Load() }

// BasicCredential is a user name with a password hash (argon2id or bcrypt, PHC form).
type BasicCredential struct {
	Username   string
	ConsumerID string
	Hash       string
}

// HMACKey is a shared request-signing secret.
type HMACKey struct {
	ID         string
	ConsumerID string
	Secret     []byte
}

// CertIdentity ties a client certificate (by subject common name or by
// SHA-256 fingerprint of its DER encoding, lowercase hex) to a consumer.
type CertIdentity struct {
	Subject    string
	SHA256     string
	ConsumerID string
}
