package identity

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
)

func TestGeneratedKeysParse(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 200 {
		key, id := GenerateKey("live")
		p, err := ParseKey(key)
		if err != nil {
			t.Fatalf("ParseKey(%q): %v", key, err)
		}
		if p.ID != id || p.Env != "live" || len(id) != idLength || len(key) != len("pp_live_")+idLength+1+secretBytes {
			t.Fatalf("key %q parsed as %+v", key, p)
		}
		if seen[id] {
			t.Fatalf("id %s generated twice", id)
		}
		seen[id] = true
	}
}

func TestParseKeyRefusals(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "pp_", "pp_live", "pp_live_abcd", "pp_live_abcd_", "pp_LIVE_abcd_0123456789abcdef",
		"pp_live_ab_0123456789abcdef", "pp_live_abcd_short", "pp_live_abcd_0123456789abcdef!", "xx_live_abcd_0123456789abcdef",
		"pp__abcd_0123456789abcdef"} {
		if _, err := ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) accepted", s)
		}
	}
}

func FuzzParseKey(f *testing.F) {
	f.Add("pp_live_good0000good_Gq3nXo0r9bVv2ZkTt8pLw4sJm6yHc1dE")
	f.Add("pp_a_b_c")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseKey(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(s, Prefix(p.Env, p.ID)+"_") || !ValidEnv(p.Env) || !ValidKeyID(p.ID) {
			t.Fatalf("ParseKey(%q) = %+v", s, p)
		}
	})
}

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestServiceKeyLifecycle(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	declared := &Declared{Consumers: map[string]*Consumer{"filed": {ID: "filed", Status: StatusActive}}, Keys: map[string]*Key{},
		Tenants: map[string]*Tenant{}}
	svc := &Service{Store: st, Live: NewRegistry(), Declared: func() *Declared { return declared },
		Env: func() string { return "live" }, Now: func() time.Time { return now }}
	ctx := t.Context()

	if _, err := svc.PutConsumer(ctx, store.Consumer{ID: "filed"}, true); !isDeclared(err) {
		t.Errorf("creating a declared consumer = %v, want DeclaredError", err)
	}
	if _, err := svc.PutConsumer(ctx, store.Consumer{ID: "app", TenantID: "nope"}, true); err == nil {
		t.Error("consumer with an unknown tenant was created")
	}
	if _, err := svc.PutConsumer(ctx, store.Consumer{ID: "app"}, true); err != nil {
		t.Fatal(err)
	}
	// Keys for a declared consumer are fine.
	secret, k, err := svc.CreateKey(ctx, NewKey{ConsumerID: "filed", Scopes: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(k.Hash, secret) || len(k.Hash) != 64 {
		t.Fatalf("stored hash %q", k.Hash)
	}
	live := svc.Live.Key(k.ID)
	if live == nil || live.Hash != HashKey(secret) || live.Prefix != "pp_live_"+k.ID || live.ID() != k.ID || live.Env() != "live" {
		t.Fatalf("registry key = %+v", live)
	}
	if _, _, err := svc.CreateKey(ctx, NewKey{ConsumerID: "ghost"}); err == nil {
		t.Error("key for an unknown consumer was issued")
	}

	live.Touch(now.UnixNano())
	if err := svc.FlushLastUsed(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.APIKey(ctx, k.ID); !got.LastUsedAt.Equal(now) {
		t.Errorf("last used in the store = %v, want %v", got.LastUsedAt, now)
	}

	newSecret, old, created, err := svc.RotateKey(ctx, k.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !old.ExpiresAt.Equal(now.Add(time.Hour)) || old.ReplacedBy != created.ID || newSecret == secret {
		t.Errorf("rotation: old %+v new %+v", old, created)
	}
	if k := svc.Live.Key(old.ID); k.ExpiresAt != now.Add(time.Hour).UnixNano() || k.Extra == nil || k.Extra.ReplacedBy != created.ID {
		t.Errorf("registry did not see the rotation: %+v", k)
	}
	if _, _, _, err := svc.RotateKey(ctx, k.ID, time.Hour); err == nil {
		t.Error("a key was rotated twice")
	}
	if _, err := svc.RevokeKey(ctx, created.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if k := svc.Live.Key(created.ID); k.RevokedAt() == 0 || k.Extra.RevokedReason != "test" {
		t.Errorf("registry did not see the revocation: %+v", k)
	}

	// A fresh registry loaded from the store sees the same keys.
	again := &Service{Store: st, Live: NewRegistry(), Env: svc.Env}
	if err := again.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if again.Live.Len() != 2 || again.Live.Consumer("app") == nil || again.Live.Key(created.ID).RevokedAt() == 0 {
		t.Errorf("reloaded registry: %d keys", again.Live.Len())
	}

	if err := svc.DeleteConsumer(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	if svc.Live.Consumer("app") != nil {
		t.Error("deleted consumer still in the registry")
	}
}

func isDeclared(err error) bool {
	var d *DeclaredError
	return errors.As(err, &d)
}

func TestTenantDeleteRefusedWhileConsumersRemain(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	svc := &Service{Store: st, Live: NewRegistry(), Env: func() string { return "live" }}
	ctx := context.Background()
	if _, err := svc.PutTenant(ctx, store.Tenant{ID: "acme"}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutConsumer(ctx, store.Consumer{ID: "app", TenantID: "acme"}, true); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteTenant(ctx, "acme"); !errors.Is(err, store.ErrExists) {
		t.Errorf("DeleteTenant with a consumer = %v", err)
	}
	if _, err := svc.SetTenantStatus(ctx, "acme", StatusSuspended, "unpaid", "bogus"); err == nil {
		t.Error("an unknown category was accepted")
	}
	tn, err := svc.SetTenantStatus(ctx, "acme", StatusSuspended, "unpaid", "")
	if err != nil || tn.SuspendedCategory != "administrative" || !svc.Live.Tenant("acme").Suspended() {
		t.Errorf("suspend: %+v %v", tn, err)
	}
}

// BenchmarkRegistryMillionKeys loads 1,000,000 keys (as the store would
// hand them over) and reports the heap they take and the lookup cost.
func BenchmarkRegistryMillionKeys(b *testing.B) {
	const n = 1_000_000
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	r := NewRegistry()
	in := newInterner()
	ids := make([]string, 0, n)
	consumers := make([]string, 10_000)
	for i := range consumers {
		consumers[i] = fmt.Sprintf("consumer-%d", i)
	}
	for i := range n {
		id := fmt.Sprintf("k%011d", i)
		k := NewKeyRecord("live", id)
		k.ConsumerID = consumers[i%len(consumers)]
		k.scopes = in.intern([]string{"orders:read", "orders:write"})
		k.Hash = HashKey(id)
		r.PutKey(k)
		if i%1000 == 0 {
			ids = append(ids, id)
		}
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	heap := float64(after.HeapAlloc-before.HeapAlloc) - float64(cap(ids)*16)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if r.Key(ids[i%len(ids)]) == nil {
			b.Fatal("lookup missed")
		}
	}
	b.ReportMetric(heap/(1<<20), "heap-MiB")
	b.ReportMetric(heap/n, "heap-B/key")
	runtime.KeepAlive(r)
}

func TestRotatedKeyKeepsItsLifetime(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	svc := &Service{Store: st, Live: NewRegistry(), Env: func() string { return "live" }, Now: func() time.Time { return now }}
	if _, err := svc.PutConsumer(t.Context(), store.Consumer{ID: "app"}, true); err != nil {
		t.Fatal(err)
	}
	_, k, err := svc.CreateKey(t.Context(), NewKey{ConsumerID: "app", ExpiresAt: now.Add(90 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(80 * 24 * time.Hour)
	_, _, created, err := svc.RotateKey(t.Context(), k.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if life := created.ExpiresAt.Sub(now); life != 90*24*time.Hour {
		t.Errorf("replacement expires %v after the rotation, want 90 days", life)
	}
}
