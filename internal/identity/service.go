package identity

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/pinpointgw/pinpoint/internal/audit"
	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// DeclaredError refuses a run-time change to an object the configuration
// declares: the next apply would undo it.
type DeclaredError struct {
	// What names the object ("consumer orders-app").
	What string
}

func (e *DeclaredError) Error() string {
	return e.What + " is declared in the configuration; change it there"
}

// InvalidError is a request the service refuses as malformed; its text is
// safe to show to the admin.
type InvalidError struct{ Msg string }

func (e *InvalidError) Error() string { return e.Msg }

func invalid(format string, args ...any) error {
	return &InvalidError{Msg: fmt.Sprintf(format, args...)}
}

// Service manages run-time tenants, consumers and keys: it writes the store
// and then the Registry, so a change is durable before it takes effect,
// and records each change in the audit log (see audit.go).
type Service struct {
	Store store.Identities
	Live  *Registry
	// Declared returns the declared identities of the revision being
	// served (nil when none is loaded yet).
	Declared func() *Declared
	// Env is the gateway environment new keys are issued for.
	Env func() string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
	// Audit records every committed change, and the key expiries the
	// watcher notices. Nil: nothing is recorded.
	Audit *audit.Recorder
	// Revision returns the number of the revision being served, recorded
	// in audit entries whose context does not say. Nil: 0.
	Revision func() int64

	expiry expiryState
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) declared() *Declared {
	if s.Declared == nil {
		return nil
	}
	return s.Declared()
}

// Directory is the service's view: declared objects, then stored ones.
func (s *Service) Directory() *Directory {
	return &Directory{Declared: s.declared(), Live: s.Live}
}

// Load fills the registry from the store (at start).
func (s *Service) Load(ctx context.Context) error {
	ts, err := s.Store.ListTenants(ctx)
	if err != nil {
		return err
	}
	for _, t := range ts {
		s.Live.PutTenant(tenantFromStore(t))
	}
	cs, err := s.Store.ListConsumers(ctx, "")
	if err != nil {
		return err
	}
	for _, c := range cs {
		s.Live.PutConsumer(consumerFromStore(c))
	}
	scopes := newInterner()
	consumers := map[string]string{}
	return s.Store.ScanAPIKeys(ctx, func(k store.APIKey) error {
		key, err := keyFromStore(k, scopes)
		if err != nil {
			return err
		}
		// Keys of one consumer share the consumer id's backing string.
		if id, ok := consumers[key.ConsumerID]; ok {
			key.ConsumerID = id
		} else {
			consumers[key.ConsumerID] = key.ConsumerID
		}
		s.Live.PutKey(key)
		return nil
	})
}

// ValidID reports whether id can name a tenant or consumer, by the same
// rule the configuration applies to declared ones.
func ValidID(id string) bool { return config.ValidObjectID(id) }

func checkSuspension(status string, sus Suspension) error {
	switch status {
	case StatusActive:
	case StatusSuspended:
		if sus.Category != "" && !ValidCategory(sus.Category) {
			return invalid("category %q is not one of %v", sus.Category, Categories)
		}
	default:
		return invalid("status %q: want active or suspended", status)
	}
	return nil
}

// PutTenant creates (create=true) or replaces a stored tenant.
func (s *Service) PutTenant(ctx context.Context, t store.Tenant, create bool) (store.Tenant, error) {
	return s.putTenant(ctx, t, create, nil)
}

// putTenant is PutTenant; a non-nil before is the stored tenant a status
// change read, and only the status entry is recorded then.
func (s *Service) putTenant(ctx context.Context, t store.Tenant, create bool, before *store.Tenant) (store.Tenant, error) {
	if !ValidID(t.ID) {
		return store.Tenant{}, invalid("tenant id %q: use letters, digits, '.', '_' and '-' (at most 128)", t.ID)
	}
	if t.Status == "" {
		t.Status = StatusActive
	}
	if err := checkSuspension(t.Status, Suspension{Category: t.SuspendedCategory}); err != nil {
		return store.Tenant{}, err
	}
	if t.Status == StatusSuspended && t.SuspendedCategory == "" {
		t.SuspendedCategory = "administrative"
	}
	if t.Status == StatusActive {
		t.SuspendedReason, t.SuspendedCategory = "", ""
	}
	if d := s.declared(); d != nil && d.Tenants[t.ID] != nil {
		return store.Tenant{}, &DeclaredError{What: "tenant " + t.ID}
	}
	statusOnly := before != nil
	var err error
	if create {
		t, err = s.Store.CreateTenant(ctx, t)
	} else {
		if before == nil {
			cur, err := s.Store.Tenant(ctx, t.ID)
			if err != nil {
				return store.Tenant{}, err
			}
			before = &cur
		}
		t, err = s.Store.UpdateTenant(ctx, t)
	}
	if err != nil {
		return store.Tenant{}, err
	}
	s.Live.PutTenant(tenantFromStore(t))
	s.recordTenant(ctx, before, t, statusOnly)
	return t, nil
}

// DeleteTenant deletes a stored tenant that no consumer belongs to.
func (s *Service) DeleteTenant(ctx context.Context, id string) error {
	if d := s.declared(); d != nil && d.Tenants[id] != nil {
		return &DeclaredError{What: "tenant " + id}
	}
	members, err := s.Store.ListConsumers(ctx, id)
	if err != nil {
		return err
	}
	if len(members) > 0 {
		return fmt.Errorf("Tenant %s still has %d consumer(s), e.g. %s: %w", id, len(members), members[0].ID, store.ErrExists)
	}
	if d := s.declared(); d != nil {
		for _, c := range d.Consumers {
			if c.TenantID == id {
				return fmt.Errorf("Tenant %s still has the declared consumer %s: %w", id, c.ID, store.ErrExists)
			}
		}
	}
	if err := s.Store.DeleteTenant(ctx, id); err != nil {
		return err
	}
	var detail map[string]any
	if t := s.Live.Tenant(id); t != nil {
		detail = compact(map[string]any{"name": t.Name, "status": t.Status})
	}
	s.Live.DeleteTenant(id)
	s.record(ctx, store.AuditTenantDeleted, store.AuditObjectTenant, id, detail)
	return nil
}

// PutConsumer creates (create=true) or replaces a stored consumer.
func (s *Service) PutConsumer(ctx context.Context, c store.Consumer, create bool) (store.Consumer, error) {
	return s.putConsumer(ctx, c, create, nil)
}

// putConsumer is PutConsumer; a non-nil before is the stored consumer a
// status change read, and only the status entry is recorded then.
func (s *Service) putConsumer(ctx context.Context, c store.Consumer, create bool, before *store.Consumer) (store.Consumer, error) {
	if !ValidID(c.ID) {
		return store.Consumer{}, invalid("consumer id %q: use letters, digits, '.', '_' and '-' (at most 128)", c.ID)
	}
	if c.Status == "" {
		c.Status = StatusActive
	}
	if err := checkSuspension(c.Status, Suspension{Category: c.SuspendedCategory}); err != nil {
		return store.Consumer{}, err
	}
	if c.Status == StatusSuspended && c.SuspendedCategory == "" {
		c.SuspendedCategory = "administrative"
	}
	if c.Status == StatusActive {
		c.SuspendedReason, c.SuspendedCategory = "", ""
	}
	if d := s.declared(); d != nil && d.Consumers[c.ID] != nil {
		return store.Consumer{}, &DeclaredError{What: "consumer " + c.ID}
	}
	if c.TenantID != "" && s.Directory().Tenant(c.TenantID) == nil {
		return store.Consumer{}, invalid("tenant %q does not exist", c.TenantID)
	}
	statusOnly := before != nil
	var err error
	if create {
		c, err = s.Store.CreateConsumer(ctx, c)
	} else {
		if before == nil {
			cur, err := s.Store.Consumer(ctx, c.ID)
			if err != nil {
				return store.Consumer{}, err
			}
			before = &cur
		}
		c, err = s.Store.UpdateConsumer(ctx, c)
	}
	if err != nil {
		return store.Consumer{}, err
	}
	s.Live.PutConsumer(consumerFromStore(c))
	s.recordConsumer(ctx, before, c, statusOnly)
	return c, nil
}

// DeleteConsumer deletes a stored consumer and its keys.
func (s *Service) DeleteConsumer(ctx context.Context, id string) error {
	if d := s.declared(); d != nil && d.Consumers[id] != nil {
		return &DeclaredError{What: "consumer " + id}
	}
	if err := s.Store.DeleteConsumer(ctx, id); err != nil {
		return err
	}
	detail := map[string]any{}
	if c := s.Live.Consumer(id); c != nil {
		detail = compact(map[string]any{"name": c.Name, "tenant": c.TenantID, "status": c.Status})
	}
	s.Live.DeleteConsumer(id)
	// Sweep the registry rather than list the keys first: a listing is
	// capped at one page (10000), and a key left live would authenticate
	// again for a consumer later created with the same id.
	removed := 0
	s.Live.Keys(func(k *Key) bool {
		if k.ConsumerID == id {
			s.Live.DeleteKey(k.ID())
			removed++
		}
		return true
	})
	detail["keys_deleted"] = removed
	s.record(ctx, store.AuditConsumerDeleted, store.AuditObjectConsumer, id, detail)
	return nil
}

// NewKey describes a key to issue.
type NewKey struct {
	ConsumerID string
	Name       string
	Scopes     []string
	NotBefore  time.Time
	ExpiresAt  time.Time
}

// CreateKey issues a key for a consumer (declared or stored). It returns
// the whole key, which is never stored and cannot be shown again.
func (s *Service) CreateKey(ctx context.Context, nk NewKey) (secret string, k store.APIKey, err error) {
	if s.Directory().Consumer(nk.ConsumerID) == nil {
		return "", store.APIKey{}, invalid("consumer %q does not exist", nk.ConsumerID)
	}
	for _, sc := range nk.Scopes {
		if sc == "" || len(sc) > 200 {
			return "", store.APIKey{}, invalid("scope %q is empty or longer than 200 characters", sc)
		}
	}
	if !nk.ExpiresAt.IsZero() && !nk.ExpiresAt.After(s.now()) {
		return "", store.APIKey{}, invalid("expires_at %s is not in the future", nk.ExpiresAt.UTC().Format(time.RFC3339))
	}
	env := s.Env()
	for range 5 { // a 60-bit id collision is astronomically unlikely; retry anyway
		var id string
		secret, id = GenerateKey(env)
		sum := HashKey(secret)
		k = store.APIKey{
			ID: id, Env: env, ConsumerID: nk.ConsumerID, Name: nk.Name, Hash: hex.EncodeToString(sum[:]),
			Scopes: nk.Scopes, NotBefore: nk.NotBefore, ExpiresAt: nk.ExpiresAt, CreatedAt: s.now(),
		}
		if d := s.declared(); d != nil && d.Keys[id] != nil {
			continue
		}
		k, err = s.Store.CreateAPIKey(ctx, k)
		if errors.Is(err, store.ErrExists) {
			continue
		}
		if err != nil {
			return "", store.APIKey{}, err
		}
		key, err := keyFromStore(k, newInterner())
		if err != nil {
			return "", store.APIKey{}, err
		}
		s.Live.PutKey(key)
		s.record(ctx, store.AuditKeyCreated, store.AuditObjectKey, Prefix(k.Env, k.ID), newKeyDetail(k))
		return secret, k, nil
	}
	return "", store.APIKey{}, errors.New("could not generate a unique key id")
}

// RevokeKey revokes a stored key with a reason (kept for operators).
func (s *Service) RevokeKey(ctx context.Context, id, reason string) (store.APIKey, error) {
	if d := s.declared(); d != nil && d.Keys[id] != nil {
		return store.APIKey{}, &DeclaredError{What: "key " + id}
	}
	k, err := s.Store.RevokeAPIKey(ctx, id, s.now(), reason)
	if err != nil {
		return k, err
	}
	key, err := keyFromStore(k, newInterner())
	if err != nil {
		return store.APIKey{}, err
	}
	s.Live.PutKey(key)
	s.record(ctx, store.AuditKeyRevoked, store.AuditObjectKey, Prefix(k.Env, k.ID), compact(map[string]any{
		"consumer": k.ConsumerID, "reason": k.RevokedReason}))
	return k, nil
}

// RotateKey issues a replacement for a stored key; the old key keeps
// working for grace, then answers authn.key_rotated.
func (s *Service) RotateKey(ctx context.Context, id string, grace time.Duration) (secret string, old, created store.APIKey, err error) {
	if d := s.declared(); d != nil && d.Keys[id] != nil {
		return "", old, created, &DeclaredError{What: "key " + id}
	}
	if grace < 0 {
		return "", old, created, invalid("grace period must not be negative")
	}
	cur, err := s.Store.APIKey(ctx, id)
	if err != nil {
		return "", old, created, err
	}
	if !cur.RevokedAt.IsZero() {
		return "", old, created, invalid("key %s is revoked; issue a new key instead", id)
	}
	if cur.ReplacedBy != "" {
		return "", old, created, invalid("key %s was already rotated to %s", id, cur.ReplacedBy)
	}
	now := s.now()
	if !cur.ExpiresAt.IsZero() && !cur.ExpiresAt.After(now) {
		return "", old, created, invalid("key %s has expired; issue a new key instead", id)
	}
	secret, newID := GenerateKey(cur.Env)
	sum := HashKey(secret)
	next := store.APIKey{ID: newID, Env: cur.Env, ConsumerID: cur.ConsumerID, Name: cur.Name,
		Hash: hex.EncodeToString(sum[:]), Scopes: cur.Scopes, NotBefore: cur.NotBefore, CreatedAt: now}
	if !cur.ExpiresAt.IsZero() {
		// The replacement lives as long as the old key was meant to,
		// counted from now.
		next.ExpiresAt = now.Add(cur.ExpiresAt.Sub(cur.CreatedAt))
	}
	old, created, err = s.Store.RotateAPIKey(ctx, id, now.Add(grace), next)
	if err != nil {
		return "", old, created, err
	}
	in := newInterner()
	for _, k := range []store.APIKey{created, old} {
		key, err := keyFromStore(k, in)
		if err != nil {
			return "", old, created, err
		}
		s.Live.PutKey(key)
	}
	s.record(ctx, store.AuditKeyRotated, store.AuditObjectKey, Prefix(old.Env, old.ID), map[string]any{
		"consumer": old.ConsumerID, "old": Prefix(old.Env, old.ID), "new": Prefix(created.Env, created.ID),
		"grace": grace.String(), "old_expires_at": rfc3339(old.ExpiresAt),
	})
	return secret, old, created, nil
}

// FlushLastUsed writes the last-used times that changed since the previous
// flush to the store, in one batch.
func (s *Service) FlushLastUsed(ctx context.Context) error {
	batch := map[string]time.Time{}
	var touched []*Key
	s.Live.Keys(func(k *Key) bool {
		if lu := k.LastUsed(); lu > k.flushed {
			batch[k.ID()] = time.Unix(0, lu).UTC()
			touched = append(touched, k)
		}
		return true
	})
	if len(batch) == 0 {
		return nil
	}
	if err := s.Store.TouchAPIKeys(ctx, batch); err != nil {
		return err
	}
	for _, k := range touched {
		k.flushed = batch[k.ID()].UnixNano()
	}
	return nil
}

// RunFlusher flushes last-used times every interval until ctx ends, and
// once more then.
func (s *Service) RunFlusher(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := s.FlushLastUsed(context.WithoutCancel(ctx)); err != nil && s.Log != nil {
				s.Log.Warn("key last-used times not saved", "error", err)
			}
			return
		case <-t.C:
			if err := s.FlushLastUsed(ctx); err != nil && s.Log != nil {
				s.Log.Warn("key last-used times not saved; retrying", "error", err)
			}
		}
	}
}

// DeclaredKeys lists the configuration's keys as store.APIKey values
// (Hash empty), ordered by id, for listings next to the stored ones.
func (s *Service) DeclaredKeys(consumer string) []store.APIKey {
	d := s.declared()
	if d == nil {
		return nil
	}
	var out []store.APIKey
	for _, k := range d.Keys {
		if consumer != "" && k.ConsumerID != consumer {
			continue
		}
		out = append(out, KeyView(k))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// KeyView is a key as the admin API shows it: never its hash.
func KeyView(k *Key) store.APIKey {
	v := store.APIKey{
		ID: k.ID(), Env: k.Env(), ConsumerID: k.ConsumerID, Scopes: k.Scopes(),
		NotBefore: nanoTime(k.NotBefore()), ExpiresAt: nanoTime(k.ExpiresAt), RevokedAt: nanoTime(k.RevokedAt()),
		LastUsedAt: nanoTime(k.LastUsed()),
	}
	if k.Extra != nil {
		v.RevokedReason, v.ReplacedBy = k.Extra.RevokedReason, k.Extra.ReplacedBy
	}
	return v
}

func nanoTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func tenantFromStore(t store.Tenant) *Tenant {
	return &Tenant{ID: t.ID, Name: t.Name, Status: t.Status, Source: SourceStore,
		Suspension: Suspension{Reason: t.SuspendedReason, Category: t.SuspendedCategory}}
}

func consumerFromStore(c store.Consumer) *Consumer {
	return &Consumer{ID: c.ID, Name: c.Name, TenantID: c.TenantID, Groups: c.Groups, Metadata: c.Metadata,
		Status: c.Status, Source: SourceStore,
		Suspension: Suspension{Reason: c.SuspendedReason, Category: c.SuspendedCategory}}
}

func keyFromStore(k store.APIKey, scopes *interner) (*Key, error) {
	key := NewKeyRecord(k.Env, k.ID)
	key.ConsumerID, key.scopes, key.ExpiresAt = k.ConsumerID, scopes.intern(k.Scopes), nanos(k.ExpiresAt)
	if !k.NotBefore.IsZero() || !k.RevokedAt.IsZero() || k.RevokedReason != "" || k.ReplacedBy != "" {
		key.Extra = &KeyExtra{NotBefore: nanos(k.NotBefore), RevokedAt: nanos(k.RevokedAt),
			RevokedReason: k.RevokedReason, ReplacedBy: k.ReplacedBy}
	}
	sum, err := hex.DecodeString(k.Hash)
	if err != nil || len(sum) != 32 {
		return nil, fmt.Errorf("key %s: stored hash is not a hex SHA-256", k.ID)
	}
	copy(key.Hash[:], sum)
	key.lastUsed.Store(nanos(k.LastUsedAt))
	key.flushed = key.LastUsed()
	return key, nil
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// SetConsumerStatus suspends (with a reason for operators and a category
// for callers) or activates a stored consumer.
func (s *Service) SetConsumerStatus(ctx context.Context, id, status, reason, category string) (store.Consumer, error) {
	if d := s.declared(); d != nil && d.Consumers[id] != nil {
		return store.Consumer{}, &DeclaredError{What: "consumer " + id}
	}
	c, err := s.Store.Consumer(ctx, id)
	if err != nil {
		return store.Consumer{}, err
	}
	before := c
	c.Status, c.SuspendedReason, c.SuspendedCategory = status, reason, category
	return s.putConsumer(ctx, c, false, &before)
}

// SetTenantStatus suspends or activates a stored tenant.
func (s *Service) SetTenantStatus(ctx context.Context, id, status, reason, category string) (store.Tenant, error) {
	if d := s.declared(); d != nil && d.Tenants[id] != nil {
		return store.Tenant{}, &DeclaredError{What: "tenant " + id}
	}
	t, err := s.Store.Tenant(ctx, id)
	if err != nil {
		return store.Tenant{}, err
	}
	before := t
	t.Status, t.SuspendedReason, t.SuspendedCategory = status, reason, category
	return s.putTenant(ctx, t, false, &before)
}
