package store

import (
	"context"
	"net/http"
	"time"
)

// QuotaDelta adds requests to one quota counter.
type QuotaDelta struct {
	// Route and Quota name the quota (a quota is declared per route).
	Route, Quota string
	// Key is whose usage it is: "consumer:ID", "tenant:ID", "credential:ID"
	// or "ip:ADDR".
	Key string
	// Period is the start of the day or month counted, in UTC.
	Period time.Time
	// N is the number of requests to add.
	N int64
}

// QuotaUsage is one quota counter.
type QuotaUsage struct {
	Route  string    `json:"route"`
	Quota  string    `json:"quota"`
	Key    string    `json:"key"`
	Period time.Time `json:"period"`
	Used   int64     `json:"used"`
	// UpdatedAt is when the counter last changed.
	UpdatedAt time.Time `json:"updated_at"`
}

// QuotaFilter selects counters; zero fields match everything.
type QuotaFilter struct {
	Route, Quota, Key string
	// Since keeps periods starting at or after it.
	Since time.Time
	// Limit caps the result (0: 1000).
	Limit int
}

// Quotas persists calendar quota counters, so a restart does not reset
// them. Gateways count in memory and add deltas in batches.
type Quotas interface {
	// AddQuotaUsage adds every delta atomically (all or none).
	AddQuotaUsage(ctx context.Context, deltas []QuotaDelta) error
	// QuotaUsage returns one counter's value; 0 when it does not exist.
	QuotaUsage(ctx context.Context, route, quota, key string, period time.Time) (int64, error)
	// ListQuotaUsage returns counters matching f, newest period first,
	// then by route, quota and key.
	ListQuotaUsage(ctx context.Context, f QuotaFilter) ([]QuotaUsage, error)
	// DeleteQuotaUsageBefore removes counters of periods that started
	// before t and returns how many it removed.
	DeleteQuotaUsageBefore(ctx context.Context, t time.Time) (int64, error)
}

// IdempotencyRecord is one idempotency key's state.
type IdempotencyRecord struct {
	// Scope is the caller and route the key belongs to
	// ("route|consumer:ID"); Key is the client's Idempotency-Key.
	Scope, Key string
	// Fingerprint is the hex SHA-256 of method, path and body.
	Fingerprint string
	// Token names the holder of the record: the caller of BeginIdempotent
	// draws it at random for each call (it must not be empty, and must be
	// unguessable) and hands it to CompleteIdempotent and
	// ReleaseIdempotent, which act only on the record that still holds it.
	// So a request whose lock lapsed, and whose key another request then
	// took, can neither store its response over the new holder's record nor
	// release it. The token is the holder's alone: a record that
	// BeginIdempotent returns has it empty.
	Token string
	// Done is false while the first request is in flight.
	Done bool
	// Response is the stored response once Done.
	Response *StoredResponse
	// CreatedAt is when the key was first seen; ExpiresAt when the record
	// may be forgotten (for an in-flight record: when its lock lapses).
	CreatedAt, ExpiresAt time.Time
}

// StoredResponse is a response kept for replay.
type StoredResponse struct {
	Status int         `json:"status"`
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"`
}

// Idempotency stores idempotency keys.
type Idempotency interface {
	// BeginIdempotent inserts rec (Done false) unless a record for
	// (Scope, Key) exists that has not expired at now; then it returns that
	// record, with its Token empty, and inserts nothing. It returns
	// (nil, nil) when rec was inserted. Concurrent calls for one key:
	// exactly one inserts. A rec without a Token is an error.
	BeginIdempotent(ctx context.Context, rec IdempotencyRecord, now time.Time) (*IdempotencyRecord, error)
	// CompleteIdempotent stores the response of the in-flight record that
	// holds token and sets its expiry. It returns ErrNotFound when there is
	// no such record: it is gone (released, swept), done, or another
	// BeginIdempotent took the key after its lock lapsed.
	CompleteIdempotent(ctx context.Context, scope, key, token string, resp StoredResponse, expires time.Time) error
	// ReleaseIdempotent deletes the in-flight record that holds token (the
	// request failed before a response worth replaying), so the client may
	// retry. It does nothing when there is no such record: a stored
	// response and another holder's record are never released.
	ReleaseIdempotent(ctx context.Context, scope, key, token string) error
	// DeleteExpiredIdempotency removes records expired at now and returns
	// how many it removed.
	DeleteExpiredIdempotency(ctx context.Context, now time.Time) (int64, error)
}
