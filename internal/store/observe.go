package store

import (
	"context"
	"encoding/json"
	"time"
)

// This file holds the operator's side of the store: the audit log, the
// analytics roll-ups and the keys that seal decision tokens.

// Audit actions. Revision entries are written by AppendRevision itself, in
// the revision's transaction; the others by the code that made the change.
const (
	AuditRevisionApplied    = "revision.applied"
	AuditAdminTokenCreated  = "admin_token.created"
	AuditKeyCreated         = "key.created"
	AuditKeyRotated         = "key.rotated"
	AuditKeyRevoked         = "key.revoked"
	AuditKeyExpired         = "key.expired"
	AuditConsumerCreated    = "consumer.created"
	AuditConsumerUpdated    = "consumer.updated"
	AuditConsumerDeleted    = "consumer.deleted"
	AuditConsumerSuspended  = "consumer.suspended"
	AuditConsumerActivated  = "consumer.activated"
	AuditTenantCreated      = "tenant.created"
	AuditTenantUpdated      = "tenant.updated"
	AuditTenantDeleted      = "tenant.deleted"
	AuditTenantSuspended    = "tenant.suspended"
	AuditTenantActivated    = "tenant.activated"
	AuditTokenKeyCreated    = "decision_key.created"
	AuditConfigRejected     = "config.rejected"
	AuditAlertFired         = "alert.fired"
	AuditAlertResolved      = "alert.resolved"
	AuditSystemActor        = "system"
	AuditObjectRevision     = "revision"
	AuditObjectKey          = "key"
	AuditObjectConsumer     = "consumer"
	AuditObjectTenant       = "tenant"
	AuditObjectAdminToken   = "admin_token"
	AuditObjectDecisionKey  = "decision_key"
	AuditObjectAlert        = "alert"
	AuditObjectConfigSource = "config"
)

// AuditEntry is one record of the append-only audit log.
type AuditEntry struct {
	// Seq is assigned by the store, increasing.
	Seq int64 `json:"seq"`
	// Time is when the change was committed (set by the store when zero).
	Time time.Time `json:"time"`
	// Actor is who made the change: the admin token's name, the OS user of
	// a file apply, or "system" (expiry, alerts).
	Actor string `json:"actor"`
	// Action is one of the Audit* action constants.
	Action string `json:"action"`
	// ObjectKind and ObjectID name what changed ("key", "pp_live_k7f3…";
	// "revision", "42"). Never a secret.
	ObjectKind string `json:"object_kind"`
	ObjectID   string `json:"object_id"`
	// Revision is the config revision in force (or created) at the time.
	Revision int64 `json:"revision,omitempty"`
	// Source is how the change arrived: "admin-api", "cli", "file:…", "node:gw-1".
	Source string `json:"source,omitempty"`
	// RequestID is the admin request that made the change, when there was one.
	RequestID string `json:"request_id,omitempty"`
	// Detail is a JSON object with the action's facts (a revision's diff
	// summary and hash, a key's scopes before and after, a suspension's
	// reason). Never a secret.
	Detail json.RawMessage `json:"detail,omitempty"`
	// Dedupe, when set, makes the append idempotent: a second entry with the
	// same Dedupe is silently not stored (e.g. "key.expired:<prefix>:<unix>",
	// written by every node that notices the expiry).
	Dedupe string `json:"-"`
}

// AuditQuery filters the audit log. Zero fields do not filter.
type AuditQuery struct {
	// Action matches exactly, or every action of a kind with a trailing
	// ".*" ("key.*").
	Action     string
	ObjectKind string
	ObjectID   string
	Actor      string
	Since      time.Time
	Until      time.Time
	// AfterSeq returns only entries with Seq > AfterSeq.
	AfterSeq int64
	// Limit caps the result; default 100, at most 10000.
	Limit int
	// Ascending orders by Seq ascending; default newest first.
	Ascending bool
}

// Audit is the append-only audit log: there is no update or delete.
type Audit interface {
	// AppendAudit stores entries in one transaction, assigning Seq (written
	// back) and Time when zero. Entries whose Dedupe was already stored are
	// skipped (their Seq stays 0).
	AppendAudit(ctx context.Context, entries []AuditEntry) error
	// QueryAudit returns matching entries.
	QueryAudit(ctx context.Context, q AuditQuery) ([]AuditEntry, error)
}

// Roll-up levels: a minute row per node and key, merged into hour rows
// and those into day rows by the analytics compactor.
const (
	LevelMinute = "minute"
	LevelHour   = "hour"
	LevelDay    = "day"
)

// Roll-up kinds.
const (
	// RollupRequest rows count finished requests by their outcome.
	RollupRequest = "request"
	// RollupWouldDeny rows count refusals a report_only rule would have
	// made (Code, Stage and Rule are the would-be refusal's).
	RollupWouldDeny = "would_deny"
)

// Rollup is one aggregated row of the analytics: the requests of one
// bucket (a minute, hour or day) with one combination of dimensions.
type Rollup struct {
	Level string `json:"level"`
	// Bucket is the start of the period, UTC, truncated to the level.
	Bucket time.Time `json:"bucket"`
	// Node is the gateway node that counted minute rows; "" in compacted rows.
	Node string `json:"node,omitempty"`
	Kind string `json:"kind"`
	// The dimensions. Code, Stage, Layer and Rule are empty for requests
	// that were not refused.
	Route       string `json:"route"`
	Consumer    string `json:"consumer,omitempty"`
	Code        string `json:"code,omitempty"`
	Stage       string `json:"stage,omitempty"`
	Layer       string `json:"layer,omitempty"`
	Rule        string `json:"rule,omitempty"`
	StatusClass int    `json:"status_class"`
	// Count is the number of requests (or would-be refusals).
	Count int64 `json:"count"`
	// UpstreamErrors counts requests whose upstream failed or answered 5xx.
	UpstreamErrors int64 `json:"upstream_errors,omitempty"`
	// LatencySum is the total latency, for means.
	LatencySum time.Duration `json:"latency_sum_ns"`
	// Latency is the serialized mergeable latency sketch (opaque to the
	// store; see the analytics package).
	Latency []byte `json:"latency,omitempty"`
}

// RollupKey is the identity of a roll-up row: rows with equal keys merge.
type RollupKey struct {
	Level, Node, Kind, Route, Consumer, Code, Stage, Layer, Rule string
	Bucket                                                       int64 // Unix nanoseconds
	StatusClass                                                  int
}

// Key returns r's identity.
func (r *Rollup) Key() RollupKey {
	return RollupKey{Level: r.Level, Node: r.Node, Kind: r.Kind, Route: r.Route, Consumer: r.Consumer,
		Code: r.Code, Stage: r.Stage, Layer: r.Layer, Rule: r.Rule, Bucket: r.Bucket.UnixNano(), StatusClass: r.StatusClass}
}

// RollupQuery selects roll-up rows. Zero fields do not filter (Level is required).
type RollupQuery struct {
	Level string
	// Since and Until bound Bucket: Since <= Bucket < Until.
	Since, Until time.Time
	Kind         string
	Route        string
	Consumer     string
	Code         string
	Stage        string
	Rule         string
}

// Rollups stores the analytics roll-ups, kept apart from the call log.
type Rollups interface {
	// AddRollups merges rows into the stored rows with the same key in one
	// transaction: counts and sums add, and merge(old, new) combines the
	// latency sketches. A row without a stored twin is inserted.
	AddRollups(ctx context.Context, rows []Rollup, merge func(old, new []byte) []byte) error
	// ReplaceRollups atomically replaces every row of level whose bucket is
	// bucket by rows (compaction; safe to repeat, and to run on any node).
	ReplaceRollups(ctx context.Context, level string, bucket time.Time, rows []Rollup) error
	// QueryRollups returns the matching rows, ordered by bucket.
	QueryRollups(ctx context.Context, q RollupQuery) ([]Rollup, error)
	// DeleteRollups deletes the rows of level with buckets before before and
	// returns how many were deleted (retention).
	DeleteRollups(ctx context.Context, level string, before time.Time) (int64, error)
}

// TokenKey is a key that seals decision tokens. Keys generated by the
// gateway live in the store so that every node of a cluster shares them;
// keys given in the config (by reference) are never stored.
type TokenKey struct {
	// ID names the key inside each token (rotation): 1 to 16 characters of [A-Za-z0-9_-].
	ID string `json:"id"`
	// Secret is the AEAD key (32 bytes). Never logged or served.
	Secret    []byte    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
}

// TokenKeys stores generated decision-token keys.
type TokenKeys interface {
	// TokenKeys returns every stored key, newest first.
	TokenKeys(ctx context.Context) ([]TokenKey, error)
	// AddTokenKey stores k; an existing ID is an error (ErrExists).
	AddTokenKey(ctx context.Context, k TokenKey) error
}
