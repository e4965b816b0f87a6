package identity

import (
	"context"
	"errors"
	"slices"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// The Reload methods and Sync bring a registry up to date with changes
// another process committed to a shared store (see store.Notifier). Each
// reads the store after the change was committed, so applying them in the
// order the notifications arrive leaves the registry equal to the store.

// ReloadTenant re-reads the stored tenant id: replaced when the store has
// it, removed when it does not.
func (r *Registry) ReloadTenant(ctx context.Context, st store.Identities, id string) error {
	t, err := st.Tenant(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		r.DeleteTenant(id)
		return nil
	case err != nil:
		return err
	}
	r.PutTenant(tenantFromStore(t))
	return nil
}

// ReloadConsumer re-reads the stored consumer id: replaced when the store
// has it; when it does not, the consumer and every key of it are removed
// (the store deletes a consumer's keys with it).
func (r *Registry) ReloadConsumer(ctx context.Context, st store.Identities, id string) error {
	c, err := st.Consumer(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		r.DeleteConsumer(id)
		r.Keys(func(k *Key) bool {
			if k.ConsumerID == id {
				r.DeleteKey(k.ID())
			}
			return true
		})
		return nil
	case err != nil:
		return err
	}
	r.PutConsumer(consumerFromStore(c))
	return nil
}

// ReloadKey re-reads the stored key id: replaced when the store has it
// (keeping a later last-used time seen here), removed when it does not.
func (r *Registry) ReloadKey(ctx context.Context, st store.Identities, id string) error {
	k, err := st.APIKey(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		r.DeleteKey(id)
		return nil
	case err != nil:
		return err
	}
	key, err := keyFromStore(k, newInterner())
	if err != nil {
		return err
	}
	r.putStoredKey(key)
	return nil
}

// putStoredKey publishes a key read back from the store. A use recorded
// here but not yet flushed is newer than the stored last-used time; it is
// kept, and flushed later.
func (r *Registry) putStoredKey(key *Key) {
	if old := r.Key(key.ID()); old != nil && old.LastUsed() > key.LastUsed() {
		key.lastUsed.Store(old.LastUsed())
	}
	r.PutKey(key)
}

// Sync makes the registry equal to the store: every stored tenant,
// consumer and key is published (keys that did not change keep their
// entry), and entries the store no longer holds are removed. Entries
// published while Sync runs are left alone; the notification of their
// change, which follows Sync, reloads them.
func (r *Registry) Sync(ctx context.Context, st store.Identities) error {
	// What the registry held before the store is read; of it, what the
	// store no longer has is removed (unless replaced meanwhile).
	r.mu.RLock()
	goneT := make(map[string]*Tenant, len(r.tenants))
	for id, t := range r.tenants {
		goneT[id] = t
	}
	goneC := make(map[string]*Consumer, len(r.consumers))
	for id, c := range r.consumers {
		goneC[id] = c
	}
	r.mu.RUnlock()
	tenants, err := st.ListTenants(ctx)
	if err != nil {
		return err
	}
	consumers, err := st.ListConsumers(ctx, "")
	if err != nil {
		return err
	}
	r.mu.Lock()
	for _, t := range tenants {
		delete(goneT, t.ID)
		r.tenants[t.ID] = tenantFromStore(t)
	}
	for id, t := range goneT {
		if r.tenants[id] == t {
			delete(r.tenants, id)
		}
	}
	for _, c := range consumers {
		delete(goneC, c.ID)
		r.consumers[c.ID] = consumerFromStore(c)
	}
	for id, c := range goneC {
		if r.consumers[id] == c {
			delete(r.consumers, id)
		}
	}
	r.mu.Unlock()

	// The keys held before the scan; what the scan does not see is gone.
	goneK := make(map[string]*Key, r.Len())
	r.Keys(func(k *Key) bool {
		goneK[k.ID()] = k
		return true
	})
	scopes := newInterner()
	err = st.ScanAPIKeys(ctx, func(k store.APIKey) error {
		key, err := keyFromStore(k, scopes)
		if err != nil {
			return err
		}
		old := goneK[k.ID]
		delete(goneK, k.ID)
		if old != nil && sameKey(old, key) {
			return nil
		}
		r.putStoredKey(key)
		return nil
	})
	if err != nil {
		return err
	}
	for id, k := range goneK {
		s := r.shard(id)
		s.mu.Lock()
		if s.keys[id] == k {
			delete(s.keys, id)
		}
		s.mu.Unlock()
	}
	return nil
}

// sameKey reports whether two keys grant the same access (last-used times
// aside).
func sameKey(a, b *Key) bool {
	if a.Prefix != b.Prefix || a.ConsumerID != b.ConsumerID || a.Hash != b.Hash ||
		a.ExpiresAt != b.ExpiresAt || !slices.Equal(a.Scopes(), b.Scopes()) {
		return false
	}
	if a.Extra == nil || b.Extra == nil {
		return a.Extra == b.Extra
	}
	return *a.Extra == *b.Extra
}
