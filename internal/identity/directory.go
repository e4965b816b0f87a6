package identity

import (
	"hash/maphash"
	"sync"
)

// Declared is the identity part of one configuration revision: immutable
// once built (see Compile).
type Declared struct {
	Tenants   map[string]*Tenant
	Consumers map[string]*Consumer
	Keys      map[string]*Key
	Basic     map[string]*BasicCredential
	HMACKeys  map[string]*HMACKey
	// CertsBySubject and CertsBySHA256 index mtls identities.
	CertsBySubject map[string]*CertIdentity
	CertsBySHA256  map[string]*CertIdentity
}

// Directory answers identity lookups for one snapshot: its declared
// objects first, then the live registry of stored ones. A nil Registry or
// Declared is empty.
type Directory struct {
	Declared *Declared
	Live     *Registry
}

// Consumer returns the consumer with id, or nil.
func (d *Directory) Consumer(id string) *Consumer {
	if d.Declared != nil {
		if c := d.Declared.Consumers[id]; c != nil {
			return c
		}
	}
	if d.Live != nil {
		return d.Live.Consumer(id)
	}
	return nil
}

// Tenant returns the tenant with id, or nil.
func (d *Directory) Tenant(id string) *Tenant {
	if d.Declared != nil {
		if t := d.Declared.Tenants[id]; t != nil {
			return t
		}
	}
	if d.Live != nil {
		return d.Live.Tenant(id)
	}
	return nil
}

// Key returns the API key with prefix id, or nil.
func (d *Directory) Key(id string) *Key {
	if d.Declared != nil {
		if k := d.Declared.Keys[id]; k != nil {
			return k
		}
	}
	if d.Live != nil {
		return d.Live.Key(id)
	}
	return nil
}

// Basic returns the basic credential of username, or nil.
func (d *Directory) Basic(username string) *BasicCredential {
	if d.Declared == nil {
		return nil
	}
	return d.Declared.Basic[username]
}

// HMACKey returns the signing key with id, or nil.
func (d *Directory) HMACKey(id string) *HMACKey {
	if d.Declared == nil {
		return nil
	}
	return d.Declared.HMACKeys[id]
}

// Cert returns the certificate identity matching a certificate's SHA-256
// fingerprint (lowercase hex) or, failing that, its subject common name.
func (d *Directory) Cert(sha256Hex, subject string) *CertIdentity {
	if d.Declared == nil {
		return nil
	}
	if c := d.Declared.CertsBySHA256[sha256Hex]; c != nil {
		return c
	}
	if subject == "" {
		return nil
	}
	return d.Declared.CertsBySubject[subject]
}

// keyShards spreads keys over independently locked maps so that readers on
// many cores do not share one lock's cache line.
const keyShards = 64

// Registry mirrors the stored (run-time) tenants, consumers and keys in
// memory. Lookups take a read lock on one shard and never allocate; the
// admin API's writes replace single entries after the store committed them.
type Registry struct {
	seed   maphash.Seed
	shards [keyShards]keyShard

	mu        sync.RWMutex
	consumers map[string]*Consumer
	tenants   map[string]*Tenant
}

type keyShard struct {
	mu   sync.RWMutex
	keys map[string]*Key
	_    [40]byte // keep shards on separate cache lines
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	r := &Registry{seed: maphash.MakeSeed(), consumers: map[string]*Consumer{}, tenants: map[string]*Tenant{}}
	for i := range r.shards {
		r.shards[i].keys = map[string]*Key{}
	}
	return r
}

func (r *Registry) shard(id string) *keyShard {
	return &r.shards[maphash.String(r.seed, id)%keyShards]
}

// Key returns the stored key with prefix id, or nil.
func (r *Registry) Key(id string) *Key {
	s := r.shard(id)
	s.mu.RLock()
	k := s.keys[id]
	s.mu.RUnlock()
	return k
}

// PutKey adds or replaces a key. The last-used time of a replaced key
// carries over.
func (r *Registry) PutKey(k *Key) {
	id := k.ID()
	s := r.shard(id)
	s.mu.Lock()
	if old := s.keys[id]; old != nil && k.LastUsed() == 0 {
		k.lastUsed.Store(old.LastUsed())
	}
	s.keys[id] = k
	s.mu.Unlock()
}

// DeleteKey removes a key.
func (r *Registry) DeleteKey(id string) {
	s := r.shard(id)
	s.mu.Lock()
	delete(s.keys, id)
	s.mu.Unlock()
}

// Keys calls f for every stored key (in no order) until f returns false.
func (r *Registry) Keys(f func(*Key) bool) {
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.RLock()
		keys := make([]*Key, 0, len(s.keys))
		for _, k := range s.keys {
			keys = append(keys, k)
		}
		s.mu.RUnlock()
		for _, k := range keys {
			if !f(k) {
				return
			}
		}
	}
}

// Len returns the number of stored keys.
func (r *Registry) Len() int {
	n := 0
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.RLock()
		n += len(s.keys)
		s.mu.RUnlock()
	}
	return n
}

// Consumer returns the stored consumer with id, or nil.
func (r *Registry) Consumer(id string) *Consumer {
	r.mu.RLock()
	c := r.consumers[id]
	r.mu.RUnlock()
	return c
}

// PutConsumer adds or replaces a consumer.
func (r *Registry) PutConsumer(c *Consumer) {
	r.mu.Lock()
	r.consumers[c.ID] = c
	r.mu.Unlock()
}

// DeleteConsumer removes a consumer.
func (r *Registry) DeleteConsumer(id string) {
	r.mu.Lock()
	delete(r.consumers, id)
	r.mu.Unlock()
}

// Tenant returns the stored tenant with id, or nil.
func (r *Registry) Tenant(id string) *Tenant {
	r.mu.RLock()
	t := r.tenants[id]
	r.mu.RUnlock()
	return t
}

// PutTenant adds or replaces a tenant.
func (r *Registry) PutTenant(t *Tenant) {
	r.mu.Lock()
	r.tenants[t.ID] = t
	r.mu.Unlock()
}

// DeleteTenant removes a tenant.
func (r *Registry) DeleteTenant(id string) {
	r.mu.Lock()
	delete(r.tenants, id)
	r.mu.Unlock()
}
