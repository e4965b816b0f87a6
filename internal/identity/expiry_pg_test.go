package identity

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/audit"
	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/store/postgres"
	"github.com/pinpointgw/pinpoint/internal/store/postgres/pgtest"
)

// Two gateway nodes, each with its own connection pool to one PostgreSQL
// database, notice the same expiries at the same moment; the audit log
// keeps one key.expired per expiry.
func TestKeyExpiryOnceInAPostgreSQLCluster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgtest.FreshSchemaDSN(t)
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	node := func() (*Service, *postgres.Store) {
		st, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return &Service{Store: st, Live: NewRegistry(), Env: func() string { return "live" }, Now: clock,
			Audit: &audit.Recorder{Store: st}}, st
	}
	a, st := node()
	if _, err := a.PutConsumer(ctx, store.Consumer{ID: "app"}, true); err != nil {
		t.Fatal(err)
	}
	const keys = 20
	for range keys {
		if _, _, err := a.CreateKey(ctx, NewKey{ConsumerID: "app", ExpiresAt: t0.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := node()
	if err := b.Load(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = t0.Add(time.Hour)
	mu.Unlock()

	var wg sync.WaitGroup
	counts := make([]int, 2)
	errs := make([]error, 2)
	for i, s := range []*Service{a, b} {
		wg.Go(func() { counts[i], errs[i] = s.RecordExpiries(ctx) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if counts[0]+counts[1] != keys {
		t.Fatalf("the nodes appended %d and %d entries, want %d in all", counts[0], counts[1], keys)
	}
	es, err := st.QueryAudit(ctx, store.AuditQuery{Action: store.AuditKeyExpired, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range es {
		if seen[e.ObjectID] {
			t.Fatalf("key %s expired twice in the log", e.ObjectID)
		}
		seen[e.ObjectID] = true
	}
	if len(seen) != keys {
		t.Fatalf("%d keys' expiries in the log, want %d", len(seen), keys)
	}
}
