package identity

import (
	"context"
	"encoding/hex"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

func storedKey(t *testing.T, st store.Identities, consumer string) store.APIKey {
	t.Helper()
	secret, id := GenerateKey("live")
	sum := HashKey(secret)
	k, err := st.CreateAPIKey(context.Background(), store.APIKey{ID: id, Env: "live", ConsumerID: consumer,
		Hash: hex.EncodeToString(sum[:])})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Another process's writes (straight to the store here) reach a registry
// through the Reload methods and Sync.
func TestRegistryFollowsTheStore(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	r := NewRegistry()
	if _, err := st.CreateTenant(ctx, store.Tenant{ID: "acme", Status: StatusActive}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateConsumer(ctx, store.Consumer{ID: "app", TenantID: "acme", Status: StatusActive}); err != nil {
		t.Fatal(err)
	}
	k := storedKey(t, st, "app")
	for _, f := range []func() error{
		func() error { return r.ReloadTenant(ctx, st, "acme") },
		func() error { return r.ReloadConsumer(ctx, st, "app") },
		func() error { return r.ReloadKey(ctx, st, k.ID) },
	} {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	if r.Tenant("acme") == nil || r.Consumer("app") == nil || r.Key(k.ID) == nil {
		t.Fatal("reloads did not publish the stored objects")
	}

	// A use seen here and not yet flushed survives a reload.
	used := time.Now().UnixNano()
	r.Key(k.ID).Touch(used)
	if _, err := st.RevokeAPIKey(ctx, k.ID, time.Now(), "leaked"); err != nil {
		t.Fatal(err)
	}
	if err := r.ReloadKey(ctx, st, k.ID); err != nil {
		t.Fatal(err)
	}
	if got := r.Key(k.ID); got.RevokedAt() == 0 || got.LastUsed() != used {
		t.Fatalf("reloaded key: revoked %d, last used %d; want revoked, last used %d", got.RevokedAt(), got.LastUsed(), used)
	}

	// Sync: unchanged keys keep their entry, deleted objects leave.
	other := storedKey(t, st, "app")
	if err := r.Sync(ctx, st); err != nil {
		t.Fatal(err)
	}
	kept := r.Key(k.ID)
	if r.Key(other.ID) == nil || r.Len() != 2 {
		t.Fatalf("after Sync: %d keys", r.Len())
	}
	if err := r.Sync(ctx, st); err != nil {
		t.Fatal(err)
	}
	if r.Key(k.ID) != kept {
		t.Fatal("Sync replaced an unchanged key")
	}
	if err := st.DeleteConsumer(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if err := r.Sync(ctx, st); err != nil {
		t.Fatal(err)
	}
	if r.Tenant("acme") != nil || r.Consumer("app") != nil || r.Len() != 0 {
		t.Fatalf("after deletions and Sync: tenant %v consumer %v, %d keys", r.Tenant("acme"), r.Consumer("app"), r.Len())
	}

	// ReloadConsumer of a deleted consumer removes its keys too.
	if _, err := st.CreateConsumer(ctx, store.Consumer{ID: "app2", Status: StatusActive}); err != nil {
		t.Fatal(err)
	}
	k2 := storedKey(t, st, "app2")
	if err := r.Sync(ctx, st); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteConsumer(ctx, "app2"); err != nil {
		t.Fatal(err)
	}
	if err := r.ReloadConsumer(ctx, st, "app2"); err != nil {
		t.Fatal(err)
	}
	if r.Consumer("app2") != nil || r.Key(k2.ID) != nil {
		t.Fatal("a deleted consumer or its key is still live")
	}
}
