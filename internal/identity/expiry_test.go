package identity

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/audit"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// Two nodes over one store both notice every expiry; the audit log gets
// one key.expired per expiry: stored keys, declared keys and rotated keys
// whose grace period ended, but not keys revoked before they expired.
func TestKeyExpiryRecordedOnceAcrossNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	now := t0
	clock := func() time.Time { return now }
	declaredKey := NewKeyRecord("live", "filedkey0000")
	declaredKey.ConsumerID, declaredKey.ExpiresAt, declaredKey.declared = "app", t0.Add(2*time.Hour).UnixNano(), true
	declared := &Declared{Keys: map[string]*Key{declaredKey.ID(): declaredKey}, Consumers: map[string]*Consumer{}, Tenants: map[string]*Tenant{}}
	node := func() *Service {
		s := &Service{Store: st, Live: NewRegistry(), Env: func() string { return "live" }, Now: clock,
			Declared: func() *Declared { return declared }, Audit: &audit.Recorder{Store: st},
			Revision: func() int64 { return 3 }}
		return s
	}
	a := node()
	if _, err := a.PutConsumer(ctx, store.Consumer{ID: "app"}, true); err != nil {
		t.Fatal(err)
	}
	_, expiring, err := a.CreateKey(ctx, NewKey{ConsumerID: "app", ExpiresAt: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	_, revoked, err := a.CreateKey(ctx, NewKey{ConsumerID: "app", ExpiresAt: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.RevokeKey(ctx, revoked.ID, "no longer needed"); err != nil {
		t.Fatal(err)
	}
	_, rotated, err := a.CreateKey(ctx, NewKey{ConsumerID: "app"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := a.RotateKey(ctx, rotated.ID, 30*time.Minute); err != nil {
		t.Fatal(err)
	}
	b := node()
	if err := b.Load(ctx); err != nil {
		t.Fatal(err)
	}

	expired := func() []store.AuditEntry {
		t.Helper()
		es, err := st.QueryAudit(ctx, store.AuditQuery{Action: store.AuditKeyExpired, Ascending: true})
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	scan := func(s *Service) int {
		t.Helper()
		n, err := s.RecordExpiries(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if scan(a)+scan(b) != 0 || len(expired()) != 0 {
		t.Fatalf("expiries recorded before any key expired: %+v", expired())
	}

	now = t0.Add(61 * time.Minute) // the rotated key's grace and the expiring key's life are over
	if n := scan(a) + scan(b); n != 2 {
		t.Fatalf("the two nodes appended %d entries, want 2", n)
	}
	now = t0.Add(3 * time.Hour) // and the declared key's
	scan(b)
	scan(a)
	scan(a)
	got := expired()
	want := map[string]string{
		Prefix("live", expiring.ID): "expires_at passed",
		Prefix("live", rotated.ID):  "rotation grace period ended",
		declaredKey.Prefix:          "expires_at passed",
	}
	if len(got) != len(want) {
		t.Fatalf("%d key.expired entries, want %d: %+v", len(got), len(want), got)
	}
	for _, e := range got {
		var d map[string]any
		if err := json.Unmarshal(e.Detail, &d); err != nil {
			t.Fatal(err)
		}
		reason, ok := want[e.ObjectID]
		if !ok || d["reason"] != reason || e.Actor != store.AuditSystemActor || e.ObjectKind != store.AuditObjectKey || e.Revision != 3 {
			t.Fatalf("entry %+v detail %v", e, d)
		}
		delete(want, e.ObjectID)
	}
	// The entry's time is the expiry itself, not when a node noticed it.
	for _, e := range got {
		if e.ObjectID == Prefix("live", expiring.ID) && !e.Time.Equal(t0.Add(time.Hour)) {
			t.Fatalf("expiry recorded at %v, want %v", e.Time, t0.Add(time.Hour))
		}
	}
}

// The watcher scans at once when it starts, and stops with its context.
func TestExpiryWatcherScansAtStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	now := t0
	s := &Service{Store: st, Live: NewRegistry(), Env: func() string { return "live" },
		Now: func() time.Time { return now }, Audit: &audit.Recorder{Store: st}}
	if _, err := s.PutConsumer(ctx, store.Consumer{ID: "app"}, true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateKey(ctx, NewKey{ConsumerID: "app", ExpiresAt: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	now = t0.Add(time.Hour)
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	s.RunExpiryWatcher(stopped, time.Hour)
	es, err := st.QueryAudit(ctx, store.AuditQuery{Action: store.AuditKeyExpired})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 {
		t.Fatalf("%d key.expired entries after the first scan, want 1", len(es))
	}
}
