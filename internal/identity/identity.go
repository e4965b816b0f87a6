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
	"sync/atomic"
	"time"
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

// Suspension categories a caller may be told.
var Categories = []string{"administrative", "billing", "abuse", "security", "expired"}

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
type Key struct {
	// ID is the prefix id, the part after pp_<env>_ (a substring of Prefix).
	ID string
	// Prefix is the key's visible, non-secret prefix: "pp_live_k7f3a9c2d1e0".
	Prefix string
	// Env is the environment in the key's prefix ("live", "test").
	Env string
	// ConsumerID owns the key.
	ConsumerID string
	// Hash is the SHA-256 of the whole key string.
	Hash [32]byte
	// Scopes granted (shared between keys with the same set; read-only).
	Scopes []string
	// NotBefore and ExpiresAt bound validity, as Unix nanoseconds (0: unbounded).
	NotBefore, ExpiresAt int64
	// RevokedAt is when the key was revoked (0: not revoked).
	RevokedAt int64
	// Extra holds the rarely set facts (nil for most keys, to keep a
	// million keys small).
	Extra *KeyExtra
	// Source is SourceConfig or SourceStore.
	Source string

	lastUsed atomic.Int64
	// flushed is the last-used time last written to the store; only the
	// service's flusher reads and writes it.
	flushed int64
}

// KeyExtra holds a key's rarely set facts.
type KeyExtra struct {
	// RevokedReason is the operator's reason for revoking.
	RevokedReason string
	// ReplacedBy is the id of the key that replaced this one by rotation;
	// the old key works until ExpiresAt (the grace period's end).
	ReplacedBy string
}

// NewKeyRecord returns a key with its prefix and id set; the id shares the
// prefix's memory.
func NewKeyRecord(env, id string) *Key {
	p := Prefix(env, id)
	return &Key{Prefix: p, ID: p[len(p)-len(id):], Env: p[len(keyScheme) : len(keyScheme)+len(env)]}
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
