package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

func runIdentities(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("Tenants", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		created, err := s.CreateTenant(ctx(t), store.Tenant{ID: "acme", Name: "Acme", Status: "active"})
		if err != nil {
			t.Fatal(err)
		}
		if created.CreatedAt.IsZero() || !created.UpdatedAt.Equal(created.CreatedAt) {
			t.Errorf("CreateTenant times = %+v", created)
		}
		if _, err := s.CreateTenant(ctx(t), store.Tenant{ID: "acme", Name: "Other", Status: "active"}); !errors.Is(err, store.ErrExists) {
			t.Errorf("duplicate CreateTenant error = %v, want ErrExists", err)
		}
		upd, err := s.UpdateTenant(ctx(t), store.Tenant{ID: "acme", Name: "Acme Corp", Status: "suspended",
			SuspendedReason: "invoice 42 unpaid", SuspendedCategory: "billing"})
		if err != nil {
			t.Fatal(err)
		}
		if upd.Name != "Acme Corp" || upd.Status != "suspended" || upd.SuspendedReason != "invoice 42 unpaid" ||
			upd.SuspendedCategory != "billing" || !upd.CreatedAt.Equal(created.CreatedAt) {
			t.Errorf("UpdateTenant = %+v", upd)
		}
		got, err := s.Tenant(ctx(t), "acme")
		if err != nil || !reflect.DeepEqual(got, upd) {
			t.Errorf("Tenant = %+v, %v; want %+v", got, err, upd)
		}
		if _, err := s.UpdateTenant(ctx(t), store.Tenant{ID: "nope", Status: "active"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UpdateTenant(missing) = %v", err)
		}
		if _, err := s.CreateTenant(ctx(t), store.Tenant{ID: "beta", Name: "Beta", Status: "active"}); err != nil {
			t.Fatal(err)
		}
		list, err := s.ListTenants(ctx(t))
		if err != nil || len(list) != 2 || list[0].ID != "acme" || list[1].ID != "beta" {
			t.Errorf("ListTenants = %+v, %v", list, err)
		}
		if err := s.DeleteTenant(ctx(t), "beta"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteTenant(ctx(t), "beta"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second DeleteTenant = %v", err)
		}
		if _, err := s.Tenant(ctx(t), "beta"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Tenant(deleted) = %v", err)
		}
	})

	t.Run("Consumers", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		c := store.Consumer{ID: "orders-app", Name: "Orders", TenantID: "acme", Groups: []string{"partners", "beta"},
			Metadata: map[string]string{"user_id": "42"}, Status: "active"}
		created, err := s.CreateConsumer(ctx(t), c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Consumer(ctx(t), "orders-app")
		if err != nil || !reflect.DeepEqual(got, created) {
			t.Errorf("Consumer = %+v, %v; want %+v", got, err, created)
		}
		if _, err := s.CreateConsumer(ctx(t), c); !errors.Is(err, store.ErrExists) {
			t.Errorf("duplicate CreateConsumer = %v", err)
		}
		if _, err := s.CreateConsumer(ctx(t), store.Consumer{ID: "solo", Status: "active"}); err != nil {
			t.Fatal(err)
		}
		solo, err := s.Consumer(ctx(t), "solo")
		if err != nil || len(solo.Groups) != 0 || len(solo.Metadata) != 0 {
			t.Errorf("Consumer(solo) = %+v, %v", solo, err)
		}
		c.Groups, c.Status, c.SuspendedReason, c.SuspendedCategory = []string{"partners"}, "suspended", "fraud report 7", "abuse"
		upd, err := s.UpdateConsumer(ctx(t), c)
		if err != nil || upd.Status != "suspended" || !reflect.DeepEqual(upd.Groups, []string{"partners"}) || upd.SuspendedCategory != "abuse" {
			t.Errorf("UpdateConsumer = %+v, %v", upd, err)
		}
		byTenant, err := s.ListConsumers(ctx(t), "acme")
		if err != nil || len(byTenant) != 1 || byTenant[0].ID != "orders-app" {
			t.Errorf("ListConsumers(acme) = %+v, %v", byTenant, err)
		}
		all, err := s.ListConsumers(ctx(t), "")
		if err != nil || len(all) != 2 || all[0].ID != "orders-app" || all[1].ID != "solo" {
			t.Errorf("ListConsumers() = %+v, %v", all, err)
		}
		if _, err := s.CreateAPIKey(ctx(t), store.APIKey{ID: "k1aaaaaaaaaa", Env: "live", ConsumerID: "solo", Hash: hashOf([]byte("a"))}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteConsumer(ctx(t), "solo"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.APIKey(ctx(t), "k1aaaaaaaaaa"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("key of a deleted consumer still stored: %v", err)
		}
		if err := s.DeleteConsumer(ctx(t), "solo"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second DeleteConsumer = %v", err)
		}
	})

	t.Run("APIKeys", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		exp := base.Add(30 * 24 * time.Hour)
		k := store.APIKey{ID: "abcdabcdabcd", Env: "live", ConsumerID: "orders-app", Name: "ci", Hash: hashOf([]byte("key1")),
			Scopes: []string{"orders:read", "orders:write"}, NotBefore: base, ExpiresAt: exp}
		created, err := s.CreateAPIKey(ctx(t), k)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.APIKey(ctx(t), k.ID)
		if err != nil || !reflect.DeepEqual(got, created) {
			t.Errorf("APIKey = %+v, %v; want %+v", got, err, created)
		}
		if _, err := s.CreateAPIKey(ctx(t), k); !errors.Is(err, store.ErrExists) {
			t.Errorf("duplicate CreateAPIKey = %v", err)
		}
		raw := k
		raw.ID, raw.Hash = "rawrawrawraw", "pp_live_rawrawrawraw_secretsecretsecret"
		if _, err := s.CreateAPIKey(ctx(t), raw); err == nil {
			t.Error("CreateAPIKey stored a hash that is not a hex SHA-256 (a raw key?)")
		}

		revoked, err := s.RevokeAPIKey(ctx(t), k.ID, base.Add(time.Hour), "leaked in a gist")
		if err != nil || !revoked.RevokedAt.Equal(base.Add(time.Hour)) || revoked.RevokedReason != "leaked in a gist" {
			t.Errorf("RevokeAPIKey = %+v, %v", revoked, err)
		}
		if _, err := s.RevokeAPIKey(ctx(t), k.ID, base.Add(2*time.Hour), "again"); !errors.Is(err, store.ErrExists) {
			t.Errorf("second RevokeAPIKey = %v, want ErrExists", err)
		}
		if _, err := s.RevokeAPIKey(ctx(t), "missingmissing", base, "x"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RevokeAPIKey(missing) = %v", err)
		}

		k2 := store.APIKey{ID: "bbbbbbbbbbbb", Env: "live", ConsumerID: "orders-app", Hash: hashOf([]byte("key2")), Scopes: []string{"orders:read"}}
		if _, err := s.CreateAPIKey(ctx(t), k2); err != nil {
			t.Fatal(err)
		}
		next := store.APIKey{ID: "cccccccccccc", Env: "live", ConsumerID: "orders-app", Hash: hashOf([]byte("key3")), Scopes: []string{"orders:read"}}
		grace := base.Add(24 * time.Hour)
		old, fresh, err := s.RotateAPIKey(ctx(t), k2.ID, grace, next)
		if err != nil {
			t.Fatal(err)
		}
		if !old.ExpiresAt.Equal(grace) || old.ReplacedBy != next.ID || fresh.ID != next.ID || fresh.CreatedAt.IsZero() {
			t.Errorf("RotateAPIKey = %+v, %+v", old, fresh)
		}
		if stored, _ := s.APIKey(ctx(t), k2.ID); !stored.ExpiresAt.Equal(grace) || stored.ReplacedBy != next.ID {
			t.Errorf("rotated key as stored = %+v", stored)
		}
		// A rotation whose new key collides changes nothing.
		if _, _, err := s.RotateAPIKey(ctx(t), next.ID, grace, k); !errors.Is(err, store.ErrExists) {
			t.Errorf("RotateAPIKey onto an existing id = %v", err)
		}
		if stored, _ := s.APIKey(ctx(t), next.ID); !stored.ExpiresAt.IsZero() || stored.ReplacedBy != "" {
			t.Errorf("failed rotation changed the key: %+v", stored)
		}

		if err := s.TouchAPIKeys(ctx(t), map[string]time.Time{next.ID: base.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if err := s.TouchAPIKeys(ctx(t), map[string]time.Time{next.ID: base}); err != nil {
			t.Fatal(err)
		}
		if stored, _ := s.APIKey(ctx(t), next.ID); !stored.LastUsedAt.Equal(base.Add(time.Minute)) {
			t.Errorf("last used = %v, want it to only move forward to %v", stored.LastUsedAt, base.Add(time.Minute))
		}

		list, err := s.ListAPIKeys(ctx(t), store.KeyQuery{ConsumerID: "orders-app", Limit: 2})
		if err != nil || len(list) != 2 || list[0].ID != k.ID || list[1].ID != k2.ID {
			t.Errorf("ListAPIKeys page 1 = %+v, %v", list, err)
		}
		list, err = s.ListAPIKeys(ctx(t), store.KeyQuery{ConsumerID: "orders-app", After: k2.ID})
		if err != nil || len(list) != 1 || list[0].ID != next.ID {
			t.Errorf("ListAPIKeys page 2 = %+v, %v", list, err)
		}
		var scanned []string
		if err := s.ScanAPIKeys(ctx(t), func(k store.APIKey) error { scanned = append(scanned, k.ID); return nil }); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(scanned, []string{k.ID, k2.ID, next.ID}) {
			t.Errorf("ScanAPIKeys = %v", scanned)
		}
		ids, err := s.DeleteAPIKeysOf(ctx(t), "orders-app")
		if err != nil || len(ids) != 3 {
			t.Errorf("DeleteAPIKeysOf = %v, %v", ids, err)
		}
	})

	t.Run("CallsKeepTheCaller", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		calls := []store.Call{
			{Time: base, RequestID: "r1", Method: "GET", Path: "/a", Status: 200, ConsumerID: "orders-app", CredentialID: "pp_live_abcdabcdabcd"},
			{Time: base, RequestID: "r2", Method: "GET", Path: "/a", Status: 401, Code: "authn.key_unknown"},
			{Time: base, RequestID: "r3", Method: "GET", Path: "/a", Status: 403, ConsumerID: "orders-app", Code: "authz.scope_missing"},
		}
		if err := s.InsertCalls(ctx(t), calls); err != nil {
			t.Fatal(err)
		}
		got, err := s.QueryCalls(ctx(t), store.CallQuery{Consumer: "orders-app"})
		if err != nil || len(got) != 2 || got[0].RequestID != "r3" || got[1].CredentialID != "pp_live_abcdabcdabcd" {
			t.Errorf("QueryCalls(consumer) = %+v, %v", got, err)
		}
	})
}
