// Package store defines the persistence interfaces Pinpoint runs on. The
// embedded implementation is store/sqlite; the interfaces are written so a
// PostgreSQL implementation fits the same shape.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNotFound is returned when the requested object does not exist.
var ErrNotFound = errors.New("not found")

// Store is everything the gateway persists.
type Store interface {
	Revisions
	CallLog
	AdminTokens
	Identities
	Quotas
	Idempotency
	Audit
	Rollups
	TokenKeys
	AIUsage
	// Close releases the store's resources.
	Close() error
}

// Pinger is implemented by stores that can check they are reachable, for
// readiness probes: Ping returns nil when the store answers before ctx ends.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Event kinds a Notifier reports.
const (
	// EventRevision: a revision was appended; ID is its number.
	EventRevision = "revision"
	// EventTenant, EventConsumer, EventKey: the stored object with ID was
	// created, changed or deleted (read it back to learn which).
	EventTenant   = "tenant"
	EventConsumer = "consumer"
	EventKey      = "key"
	// EventReconnected: the listener (re)connected, the first time
	// included; events written while it was not listening were missed, so
	// the caller should resynchronize everything.
	EventReconnected = "reconnected"
	// EventDisconnected: the listener lost its connection (Err says why)
	// and is reconnecting; events are missed until EventReconnected.
	EventDisconnected = "disconnected"
)

// Event is one change notification.
type Event struct {
	// Kind is one of the Event* constants.
	Kind string
	// ID names the changed object (a revision number in decimal).
	ID string
	// Err is why the connection was lost (EventDisconnected only).
	Err error
}

// Notifier is implemented by stores shared by several gateway processes
// (PostgreSQL): it reports the changes any of them commits, so every
// process can follow them.
type Notifier interface {
	// Listen calls onEvent for each change committed to the store, in
	// commit order, until ctx ends; then it returns nil. A lost connection
	// is reported (EventDisconnected) and re-established with backoff
	// (EventReconnected). onEvent runs on Listen's goroutine; while it
	// blocks, further events wait.
	Listen(ctx context.Context, onEvent func(Event)) error
}

// Revision is one applied configuration.
type Revision struct {
	// Number is assigned by the store: 1, 2, 3, ... with no gaps.
	Number int64 `json:"number"`
	// Author is who applied it (admin token owner, OS user, "file").
	Author string `json:"author"`
	// Source says how it arrived: "file:/etc/pinpoint.yaml", "admin-api",
	// "cli", "rollback:12", "quickstart".
	Source string `json:"source"`
	// CreatedAt is when it was committed.
	CreatedAt time.Time `json:"created_at"`
	// Hash is the hex SHA-256 of Document.
	Hash string `json:"hash"`
	// Summary is the human diff summary against the previous revision.
	Summary string `json:"summary"`
	// Document is the configuration as applied (YAML, with ${ENV} references
	// left unexpanded so that secrets never reach the store).
	Document []byte `json:"document,omitempty"`
}

// Revisions stores config revisions. Appends are atomic and durable: once
// AppendRevision returns, the revision survives a crash.
type Revisions interface {
	// AppendRevision assigns the next number, CreatedAt (if zero) and Hash
	// (the SHA-256 of Document; a different caller-supplied hash is refused),
	// stores r and returns it with those fields set.
	AppendRevision(ctx context.Context, r Revision) (Revision, error)
	// Revision returns revision n, or ErrNotFound.
	Revision(ctx context.Context, n int64) (Revision, error)
	// LatestRevision returns the newest revision, or ErrNotFound when none exists.
	LatestRevision(ctx context.Context) (Revision, error)
	// ListRevisions returns up to limit revisions, newest first, with numbers
	// below before (before <= 0: from the newest). Document is left empty.
	ListRevisions(ctx context.Context, limit int, before int64) ([]Revision, error)
}

// Call is one call-log record.
type Call struct {
	// Seq is assigned by the store, increasing; used to follow the log.
	Seq       int64     `json:"seq"`
	Time      time.Time `json:"time"`
	RequestID string    `json:"request_id"`
	Route     string    `json:"route,omitempty"`
	Method    string    `json:"method"`
	Host      string    `json:"host"`
	// Path is the normalized path; query values are redacted unless configured otherwise.
	Path     string `json:"path"`
	Status   int    `json:"status"`
	Code     string `json:"code,omitempty"`
	Layer    string `json:"layer,omitempty"`
	Stage    string `json:"stage,omitempty"`
	ClientIP string `json:"client_ip"`
	// ConsumerID and CredentialID identify the caller (credential: the
	// key's prefix id, a token subject, …; never a secret).
	ConsumerID   string `json:"consumer,omitempty"`
	CredentialID string `json:"credential,omitempty"`
	// Target is the upstream target address the request went to (operator-only).
	Target          string        `json:"target,omitempty"`
	Attempts        int           `json:"attempts,omitempty"`
	Latency         time.Duration `json:"latency_ns"`
	UpstreamLatency time.Duration `json:"upstream_latency_ns,omitempty"`
	BytesIn         int64         `json:"bytes_in"`
	BytesOut        int64         `json:"bytes_out"`
	Revision        int64         `json:"revision"`
	// Trace is the JSON decision trace; kept in full for refused or failed
	// requests, empty for successful ones.
	Trace []byte `json:"trace,omitempty"`
	// Inputs is the JSON of the decision inputs a replay needs (the
	// request's method, URL, headers and client address, redacted; see
	// the explain package), or empty when they were not kept.
	Inputs []byte `json:"inputs,omitempty"`
}

// CallQuery filters the call log. Zero fields do not filter.
type CallQuery struct {
	// Status matches exactly (e.g. 404); StatusClass matches 1..5 (4 = 4xx;
	// another value is an error).
	Status      int
	StatusClass int
	Code        string
	Route       string
	RequestID   string
	Consumer    string
	Since       time.Time
	// AfterSeq returns only records with Seq > AfterSeq (for following).
	AfterSeq int64
	// Limit caps the result; default 100, at most 10000.
	Limit int
	// Ascending orders by Seq ascending (following); default newest first.
	Ascending bool
}

// Filters passes each condition of q to add as a SQL fragment with ?
// placeholders and its values, in a fixed order, so every store filters
// alike; at converts Since to the store's time encoding. A StatusClass
// outside 1..5 is an error.
func (q CallQuery) Filters(at func(time.Time) any, add func(cond string, vals ...any)) error {
	if q.Status != 0 {
		add("status = ?", q.Status)
	}
	if q.StatusClass != 0 {
		if q.StatusClass < 1 || q.StatusClass > 5 {
			return fmt.Errorf("status class %d is not 1..5", q.StatusClass)
		}
		add("status BETWEEN ? AND ?", q.StatusClass*100, q.StatusClass*100+99)
	}
	for _, f := range []struct{ col, v string }{
		{"code", q.Code}, {"route", q.Route}, {"request_id", q.RequestID}, {"consumer_id", q.Consumer},
	} {
		if f.v != "" {
			add(f.col+" = ?", f.v)
		}
	}
	if !q.Since.IsZero() {
		add("time >= ?", at(q.Since))
	}
	if q.AfterSeq != 0 {
		add("seq > ?", q.AfterSeq)
	}
	return nil
}

// CallLog stores call records.
type CallLog interface {
	// InsertCalls stores a batch in one transaction and writes the assigned
	// Seq back into calls.
	InsertCalls(ctx context.Context, calls []Call) error
	// QueryCalls returns matching records.
	QueryCalls(ctx context.Context, q CallQuery) ([]Call, error)
	// PruneCalls deletes records older than olderThan and, beyond maxRows
	// (when > 0), the oldest ones; it returns how many were deleted.
	PruneCalls(ctx context.Context, olderThan time.Time, maxRows int) (int64, error)
}

// AdminToken is a stored admin API credential; only its hash is kept.
type AdminToken struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Hash      string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
}

// AdminTokens stores admin API token hashes.
type AdminTokens interface {
	// CreateAdminToken stores a token hash (hex SHA-256) under name.
	CreateAdminToken(ctx context.Context, name, hash string) (AdminToken, error)
	// AdminTokenByHash returns the token with that hash, or ErrNotFound.
	AdminTokenByHash(ctx context.Context, hash string) (AdminToken, error)
	// ListAdminTokens returns all tokens in creation order, Hash left empty.
	ListAdminTokens(ctx context.Context) ([]AdminToken, error)
}
