package identity

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/audit"
	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
)

// auditLog reads back what a test's service recorded.
type auditLog struct {
	t    *testing.T
	st   store.Audit
	last int64
}

// next returns the entries appended since the previous call, oldest first.
func (l *auditLog) next() []store.AuditEntry {
	l.t.Helper()
	entries, err := l.st.QueryAudit(context.Background(), store.AuditQuery{AfterSeq: l.last, Ascending: true, Limit: 1000})
	if err != nil {
		l.t.Fatal(err)
	}
	for _, e := range entries {
		l.last = max(l.last, e.Seq)
	}
	return entries
}

func detailOf(t *testing.T, e store.AuditEntry) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(e.Detail, &m); err != nil {
		t.Fatalf("%s detail %q: %v", e.Action, e.Detail, err)
	}
	return m
}

// Every change the service commits appends exactly one entry (a PUT that
// also changes the status two), naming the origin's actor, source, request
// id and revision, and never a key or its hash.
func TestServiceAuditsEveryChange(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	svc := &Service{Store: st, Live: NewRegistry(), Env: func() string { return "live" },
		Now: func() time.Time { return now }, Audit: &audit.Recorder{Store: st}}
	log := &auditLog{t: t, st: st}
	n := 0
	as := func(actor string) context.Context {
		n++
		return audit.WithOrigin(t.Context(), audit.Origin{Actor: actor, Source: audit.SourceAdminAPI,
			RequestID: "req-" + string(rune('a'+n)), Revision: 7})
	}
	var secrets []string
	// expect checks that the last action appended exactly the given
	// actions on object kind:id by actor, and returns their details.
	expect := func(ctx context.Context, kind, id string, actions ...string) []map[string]any {
		t.Helper()
		o := audit.OriginFrom(ctx)
		got := log.next()
		if len(got) != len(actions) {
			t.Fatalf("want %v, got %d entries: %+v", actions, len(got), got)
		}
		var details []map[string]any
		for i, e := range got {
			if e.Action != actions[i] || e.ObjectKind != kind || e.ObjectID != id {
				t.Fatalf("entry %d: %s %s:%s, want %s %s:%s", i, e.Action, e.ObjectKind, e.ObjectID, actions[i], kind, id)
			}
			if e.Actor != o.Actor || e.Source != o.Source || e.RequestID != o.RequestID || e.Revision != 7 {
				t.Fatalf("%s: actor %q source %q request %q revision %d; want %+v", e.Action, e.Actor, e.Source, e.RequestID, e.Revision, o)
			}
			if e.Time.IsZero() || e.Seq == 0 {
				t.Fatalf("%s: time %v seq %d", e.Action, e.Time, e.Seq)
			}
			details = append(details, detailOf(t, e))
		}
		return details
	}

	ctx := as("alice")
	if _, err := svc.PutTenant(ctx, store.Tenant{ID: "acme", Name: "Acme"}, true); err != nil {
		t.Fatal(err)
	}
	if d := expect(ctx, "tenant", "acme", store.AuditTenantCreated)[0]; d["name"] != "Acme" || d["status"] != "active" {
		t.Fatalf("tenant.created detail %v", d)
	}
	ctx = as("bob")
	if _, err := svc.PutTenant(ctx, store.Tenant{ID: "acme", Name: "Acme Inc"}, false); err != nil {
		t.Fatal(err)
	}
	d := expect(ctx, "tenant", "acme", store.AuditTenantUpdated)[0]
	if ch := d["changes"].(map[string]any); len(ch) != 1 || ch["name"].(map[string]any)["before"] != "Acme" ||
		ch["name"].(map[string]any)["after"] != "Acme Inc" {
		t.Fatalf("tenant.updated detail %v", d)
	}
	ctx = as("alice")
	if _, err := svc.SetTenantStatus(ctx, "acme", StatusSuspended, "unpaid invoices", "billing"); err != nil {
		t.Fatal(err)
	}
	if d := expect(ctx, "tenant", "acme", store.AuditTenantSuspended)[0]; d["reason"] != "unpaid invoices" ||
		d["category"] != "billing" || d["previous_status"] != "active" {
		t.Fatalf("tenant.suspended detail %v", d)
	}
	ctx = as("alice")
	if _, err := svc.SetTenantStatus(ctx, "acme", StatusActive, "", ""); err != nil {
		t.Fatal(err)
	}
	expect(ctx, "tenant", "acme", store.AuditTenantActivated)

	ctx = as("alice")
	if _, err := svc.PutConsumer(ctx, store.Consumer{ID: "app", Name: "App", TenantID: "acme", Groups: []string{"basic"}}, true); err != nil {
		t.Fatal(err)
	}
	if d := expect(ctx, "consumer", "app", store.AuditConsumerCreated)[0]; d["tenant"] != "acme" {
		t.Fatalf("consumer.created detail %v", d)
	}
	ctx = as("carol")
	if _, err := svc.PutConsumer(ctx, store.Consumer{ID: "app", Name: "App", TenantID: "acme", Groups: []string{"gold"}}, false); err != nil {
		t.Fatal(err)
	}
	d = expect(ctx, "consumer", "app", store.AuditConsumerUpdated)[0]
	if g := d["changes"].(map[string]any)["groups"].(map[string]any); g["before"].([]any)[0] != "basic" || g["after"].([]any)[0] != "gold" {
		t.Fatalf("consumer.updated detail %v", d)
	}
	// A PUT that changes the status is an update and a suspension.
	ctx = as("carol")
	if _, err := svc.PutConsumer(ctx, store.Consumer{ID: "app", Name: "App", TenantID: "acme", Groups: []string{"gold"},
		Status: StatusSuspended, SuspendedReason: "abuse report 17", SuspendedCategory: "abuse"}, false); err != nil {
		t.Fatal(err)
	}
	ds := expect(ctx, "consumer", "app", store.AuditConsumerUpdated, store.AuditConsumerSuspended)
	if ds[1]["reason"] != "abuse report 17" || ds[1]["category"] != "abuse" {
		t.Fatalf("consumer.suspended detail %v", ds[1])
	}
	ctx = as("carol")
	if _, err := svc.SetConsumerStatus(ctx, "app", StatusActive, "", ""); err != nil {
		t.Fatal(err)
	}
	expect(ctx, "consumer", "app", store.AuditConsumerActivated)
	ctx = as("carol")
	if _, err := svc.SetConsumerStatus(ctx, "app", StatusSuspended, "", ""); err != nil {
		t.Fatal(err)
	}
	if d := expect(ctx, "consumer", "app", store.AuditConsumerSuspended)[0]; d["category"] != "administrative" {
		t.Fatalf("consumer.suspended detail %v", d)
	}
	if _, err := svc.SetConsumerStatus(as("carol"), "app", StatusActive, "", ""); err != nil {
		t.Fatal(err)
	}
	log.next()

	ctx = as("alice")
	secret, k, err := svc.CreateKey(ctx, NewKey{ConsumerID: "app", Name: "ci", Scopes: []string{"orders:read"},
		ExpiresAt: now.Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, secret, k.Hash)
	prefix := Prefix(k.Env, k.ID)
	d = expect(ctx, "key", prefix, store.AuditKeyCreated)[0]
	if d["consumer"] != "app" || d["scopes"].([]any)[0] != "orders:read" || d["expires_at"] != "2026-12-03T12:00:00Z" {
		t.Fatalf("key.created detail %v", d)
	}
	ctx = as("alice")
	secret2, old, created, err := svc.RotateKey(ctx, k.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, secret2, old.Hash, created.Hash)
	d = expect(ctx, "key", prefix, store.AuditKeyRotated)[0]
	if d["old"] != prefix || d["new"] != Prefix(created.Env, created.ID) || d["grace"] != "1h0m0s" ||
		d["old_expires_at"] != "2026-12-01T13:00:00Z" {
		t.Fatalf("key.rotated detail %v", d)
	}
	// The reason an operator typed may quote the key; the entry must not.
	ctx = as("bob")
	if _, err := svc.RevokeKey(ctx, created.ID, "leaked in a CI log: "+secret2); err != nil {
		t.Fatal(err)
	}
	d = expect(ctx, "key", Prefix(created.Env, created.ID), store.AuditKeyRevoked)[0]
	if r, _ := d["reason"].(string); !strings.HasPrefix(r, "leaked in a CI log: ") {
		t.Fatalf("key.revoked detail %v", d)
	}

	ctx = as("alice")
	if err := svc.DeleteConsumer(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	if d := expect(ctx, "consumer", "app", store.AuditConsumerDeleted)[0]; d["keys_deleted"] != 2.0 || d["tenant"] != "acme" {
		t.Fatalf("consumer.deleted detail %v", d)
	}
	ctx = as("alice")
	if err := svc.DeleteTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	expect(ctx, "tenant", "acme", store.AuditTenantDeleted)

	// Refused changes record nothing.
	if _, err := svc.PutTenant(as("alice"), store.Tenant{ID: "bad id!"}, true); err == nil {
		t.Fatal("invalid tenant id accepted")
	}
	if _, err := svc.RevokeKey(as("alice"), "nosuchkey000", "x"); err == nil {
		t.Fatal("revoked a missing key")
	}
	if got := log.next(); len(got) != 0 {
		t.Fatalf("refused changes were recorded: %+v", got)
	}

	all, err := st.QueryAudit(t.Context(), store.AuditQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range all {
		raw, _ := json.Marshal(e)
		for _, s := range secrets {
			if s == "" {
				t.Fatal("a key or hash to look for is empty")
			}
			// The key's secret part, not its public prefix.
			if tail := s[max(0, len(s)-32):]; strings.Contains(string(raw), tail) {
				t.Fatalf("%s entry holds a secret: %s", e.Action, raw)
			}
		}
	}
}

// An audit write that fails is logged and counted; the change stands.
func TestAuditFailureKeepsTheChange(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	broken, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	broken.Close()
	rec := &audit.Recorder{Store: broken}
	svc := &Service{Store: st, Live: NewRegistry(), Env: func() string { return "live" }, Audit: rec}
	ctx := audit.WithOrigin(t.Context(), audit.Origin{Actor: "alice", Source: audit.SourceAdminAPI})
	if _, err := svc.PutTenant(ctx, store.Tenant{ID: "acme"}, true); err != nil {
		t.Fatalf("the change failed with its audit entry: %v", err)
	}
	if _, err := st.Tenant(t.Context(), "acme"); err != nil {
		t.Fatalf("tenant not stored: %v", err)
	}
	if svc.Live.Tenant("acme") == nil {
		t.Fatal("tenant not published")
	}
	if rec.Failed() != 1 || rec.Written() != 0 {
		t.Fatalf("failed %d written %d, want 1 and 0", rec.Failed(), rec.Written())
	}
}
