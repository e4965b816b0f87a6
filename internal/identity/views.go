package identity

import (
	"context"
	"errors"
	"sort"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// TenantRecord is a tenant with where it is owned, as listings show it.
type TenantRecord struct {
	store.Tenant
	Source string `json:"source"`
}

// ConsumerRecord is a consumer with where it is owned.
type ConsumerRecord struct {
	store.Consumer
	Source string `json:"source"`
}

// KeyRecord is an API key (never its hash) with where it is owned.
type KeyRecord struct {
	store.APIKey
	Source string `json:"source"`
}

func declaredTenant(t *Tenant) TenantRecord {
	return TenantRecord{Source: SourceConfig, Tenant: store.Tenant{ID: t.ID, Name: t.Name, Status: t.Status,
		SuspendedReason: t.Suspension.Reason, SuspendedCategory: suspendedCategory(t.Status, t.Suspension)}}
}

func declaredConsumer(c *Consumer) ConsumerRecord {
	return ConsumerRecord{Source: SourceConfig, Consumer: store.Consumer{ID: c.ID, Name: c.Name, TenantID: c.TenantID,
		Groups: c.Groups, Metadata: c.Metadata, Status: c.Status,
		SuspendedReason: c.Suspension.Reason, SuspendedCategory: suspendedCategory(c.Status, c.Suspension)}}
}

func suspendedCategory(status string, s Suspension) string {
	if status != StatusSuspended {
		return ""
	}
	return s.Category
}

// Tenant returns a declared or stored tenant.
func (s *Service) Tenant(ctx context.Context, id string) (TenantRecord, error) {
	if d := s.declared(); d != nil && d.Tenants[id] != nil {
		return declaredTenant(d.Tenants[id]), nil
	}
	t, err := s.Store.Tenant(ctx, id)
	return TenantRecord{Tenant: t, Source: SourceStore}, err
}

// Tenants lists declared and stored tenants ordered by id.
func (s *Service) Tenants(ctx context.Context) ([]TenantRecord, error) {
	stored, err := s.Store.ListTenants(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]TenantRecord, 0, len(stored))
	for _, t := range stored {
		out = append(out, TenantRecord{Tenant: t, Source: SourceStore})
	}
	if d := s.declared(); d != nil {
		for _, t := range d.Tenants {
			out = append(out, declaredTenant(t))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Consumer returns a declared or stored consumer.
func (s *Service) Consumer(ctx context.Context, id string) (ConsumerRecord, error) {
	if d := s.declared(); d != nil && d.Consumers[id] != nil {
		return declaredConsumer(d.Consumers[id]), nil
	}
	c, err := s.Store.Consumer(ctx, id)
	return ConsumerRecord{Consumer: c, Source: SourceStore}, err
}

// Consumers lists declared and stored consumers ordered by id, of one
// tenant when tenant != "".
func (s *Service) Consumers(ctx context.Context, tenant string) ([]ConsumerRecord, error) {
	stored, err := s.Store.ListConsumers(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]ConsumerRecord, 0, len(stored))
	for _, c := range stored {
		out = append(out, ConsumerRecord{Consumer: c, Source: SourceStore})
	}
	if d := s.declared(); d != nil {
		for _, c := range d.Consumers {
			if tenant == "" || c.TenantID == tenant {
				out = append(out, declaredConsumer(c))
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Key returns a declared or stored key, with the freshest last-used time.
func (s *Service) Key(ctx context.Context, id string) (KeyRecord, error) {
	if d := s.declared(); d != nil && d.Keys[id] != nil {
		return KeyRecord{APIKey: KeyView(d.Keys[id]), Source: SourceConfig}, nil
	}
	k, err := s.Store.APIKey(ctx, id)
	if err != nil {
		return KeyRecord{}, err
	}
	return KeyRecord{APIKey: s.fresh(k), Source: SourceStore}, nil
}

// Keys lists keys ordered by id (of one consumer when consumer != ""):
// the configuration's, then a page of stored ones after the id after.
func (s *Service) Keys(ctx context.Context, consumer, after string, limit int) ([]KeyRecord, error) {
	var out []KeyRecord
	if after == "" {
		for _, k := range s.DeclaredKeys(consumer) {
			out = append(out, KeyRecord{APIKey: k, Source: SourceConfig})
		}
	}
	stored, err := s.Store.ListAPIKeys(ctx, store.KeyQuery{ConsumerID: consumer, After: after, Limit: limit})
	if err != nil {
		return nil, err
	}
	for _, k := range stored {
		out = append(out, KeyRecord{APIKey: s.fresh(k), Source: SourceStore})
	}
	return out, nil
}

// fresh replaces a stored key's last-used time with the registry's newer
// one (the store is written in batches) and clears the hash.
func (s *Service) fresh(k store.APIKey) store.APIKey {
	if live := s.Live.Key(k.ID); live != nil {
		if lu := nanoTime(live.LastUsed()); lu.After(k.LastUsedAt) {
			k.LastUsedAt = lu
		}
	}
	k.Hash = ""
	return k
}

// ErrDeclared reports whether err refuses a change to a declared object.
func ErrDeclared(err error) (*DeclaredError, bool) {
	var d *DeclaredError
	ok := errors.As(err, &d)
	return d, ok
}
