package idempotency

import (
	"context"
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/redisconn/redistest"
	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
)

// memStore is a test double of the store.Idempotency interface (not of
// this package's code): a map that keeps the interface's documented
// contract, so the gate can be tested without Redis and apart from the
// gateway's SQLite store. Setting fail* makes the matching method fail.
type memStore struct {
	mu   sync.Mutex
	recs map[[2]string]store.IdempotencyRecord

	failBegin, failComplete, failRelease error
}

var _ store.Idempotency = (*memStore)(nil)

func newMemStore() *memStore { return &memStore{recs: map[[2]string]store.IdempotencyRecord{}} }

func (m *memStore) BeginIdempotent(_ context.Context, rec store.IdempotencyRecord, now time.Time) (*store.IdempotencyRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failBegin != nil {
		return nil, m.failBegin
	}
	if rec.Token == "" {
		return nil, errors.New("memory store: the record has no token")
	}
	k := [2]string{rec.Scope, rec.Key}
	if cur, ok := m.recs[k]; ok && now.Before(cur.ExpiresAt) {
		out := copyRecord(cur)
		out.Token = ""
		return out, nil
	}
	rec.Done, rec.Response = false, nil
	m.recs[k] = rec
	return nil, nil
}

func (m *memStore) CompleteIdempotent(_ context.Context, scope, key, token string, resp store.StoredResponse, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failComplete != nil {
		return m.failComplete
	}
	k := [2]string{scope, key}
	cur, ok := m.recs[k]
	if !ok || cur.Done || cur.Token != token {
		return store.ErrNotFound
	}
	cur.Done, cur.ExpiresAt = true, expires
	cur.Response = copyRecord(store.IdempotencyRecord{Response: &resp}).Response
	m.recs[k] = cur
	return nil
}

func (m *memStore) ReleaseIdempotent(_ context.Context, scope, key, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failRelease != nil {
		return m.failRelease
	}
	k := [2]string{scope, key}
	if cur, ok := m.recs[k]; ok && !cur.Done && cur.Token == token {
		delete(m.recs, k)
	}
	return nil
}

func (m *memStore) DeleteExpiredIdempotency(_ context.Context, now time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for k, r := range m.recs {
		if !now.Before(r.ExpiresAt) {
			delete(m.recs, k)
			n++
		}
	}
	return n, nil
}

func (m *memStore) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.recs)
}

// copyRecord deep-copies r, as a store that serializes records would.
func copyRecord(r store.IdempotencyRecord) *store.IdempotencyRecord {
	if r.Response != nil {
		resp := *r.Response
		resp.Header = maps.Clone(resp.Header)
		for k, v := range resp.Header {
			resp.Header[k] = slices.Clone(v)
		}
		resp.Body = slices.Clone(resp.Body)
		r.Response = &resp
	}
	return &r
}

// storeKind opens a fresh, empty store of one implementation.
type storeKind struct {
	name string
	open func(t *testing.T) store.Idempotency
	// sweeps is true when DeleteExpiredIdempotency removes records (a
	// RedisStore leaves that to Redis).
	sweeps bool
}

// storeKinds are the implementations every store and gate test runs
// against.
var storeKinds = []storeKind{
	{name: "memory", open: func(*testing.T) store.Idempotency { return newMemStore() }, sweeps: true},
	{name: "redis", open: func(t *testing.T) store.Idempotency { return NewRedisStore(redistest.Client(t)) }},
	{name: "sqlite", open: openSQLite, sweeps: true},
}

// openSQLite opens the gateway's local store on a new database file.
func openSQLite(t *testing.T) store.Idempotency {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// eachStore runs f once per store kind, in parallel subtests.
func eachStore(t *testing.T, f func(t *testing.T, k storeKind)) {
	t.Helper()
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			f(t, k)
		})
	}
}
