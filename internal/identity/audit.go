package identity

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/pinpointgw/pinpoint/internal/audit"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// The service records every change it commits in the audit log, after the
// commit: an entry that cannot be stored is logged and counted by the
// Recorder but does not undo the change. The actor, source and request id
// come from the context's audit.Origin (the admin API sets it). Details
// never hold a secret: keys are named by their prefix, never by the whole
// key or its hash.

// record appends one entry about an object the service changed.
func (s *Service) record(ctx context.Context, action, kind, id string, detail any) {
	e := store.AuditEntry{Action: action, ObjectKind: kind, ObjectID: id}
	if audit.OriginFrom(ctx).Revision == 0 {
		e.Revision = s.revision()
	}
	if detail != nil {
		e.Detail = audit.Detail(detail)
	}
	// The failure is the Recorder's to log and count: the change stands.
	_ = s.Audit.Record(ctx, e)
}

func (s *Service) revision() int64 {
	if s.Revision == nil {
		return 0
	}
	return s.Revision()
}

// change is one field's value before and after an update.
type change struct {
	Before any `json:"before"`
	After  any `json:"after"`
}

// changes collects the fields an update changed, by their JSON names.
type changes map[string]change

func (c changes) str(field, before, after string) {
	if before != after {
		c[field] = change{Before: before, After: after}
	}
}

func (c changes) strs(field string, before, after []string) {
	if !slices.Equal(before, after) {
		c[field] = change{Before: nonNilStrings(before), After: nonNilStrings(after)}
	}
}

func (c changes) meta(field string, before, after map[string]string) {
	if !maps.Equal(before, after) {
		c[field] = change{Before: nonNilMap(before), After: nonNilMap(after)}
	}
}

// compact drops the empty strings of a detail.
func compact(m map[string]any) map[string]any {
	for k, v := range m {
		if v == "" {
			delete(m, k)
		}
	}
	return m
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// statusDetail describes a suspension or an activation.
type statusDetail struct {
	Previous string `json:"previous_status,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Category string `json:"category,omitempty"`
}

func statusAction(kind, status string) string {
	switch {
	case kind == store.AuditObjectTenant && status == StatusSuspended:
		return store.AuditTenantSuspended
	case kind == store.AuditObjectTenant:
		return store.AuditTenantActivated
	case status == StatusSuspended:
		return store.AuditConsumerSuspended
	default:
		return store.AuditConsumerActivated
	}
}

// recordTenant records a tenant's creation or update; a status change
// (through PUT as through suspend/activate) also gets its own
// tenant.suspended or tenant.activated entry, so that every suspension is
// found under one action. statusOnly records only that entry.
func (s *Service) recordTenant(ctx context.Context, before *store.Tenant, after store.Tenant, statusOnly bool) {
	kind := store.AuditObjectTenant
	if before == nil {
		s.record(ctx, store.AuditTenantCreated, kind, after.ID, compact(map[string]any{
			"name": after.Name, "status": after.Status,
			"reason": after.SuspendedReason, "category": after.SuspendedCategory,
		}))
		return
	}
	if !statusOnly {
		c := changes{}
		c.str("name", before.Name, after.Name)
		c.str("status", before.Status, after.Status)
		c.str("suspended_reason", before.SuspendedReason, after.SuspendedReason)
		c.str("suspended_category", before.SuspendedCategory, after.SuspendedCategory)
		s.record(ctx, store.AuditTenantUpdated, kind, after.ID, map[string]any{"changes": c})
		if before.Status == after.Status {
			return
		}
	}
	s.record(ctx, statusAction(kind, after.Status), kind, after.ID, statusDetail{
		Previous: before.Status, Reason: after.SuspendedReason, Category: after.SuspendedCategory})
}

// recordConsumer is recordTenant for consumers.
func (s *Service) recordConsumer(ctx context.Context, before *store.Consumer, after store.Consumer, statusOnly bool) {
	kind := store.AuditObjectConsumer
	if before == nil {
		s.record(ctx, store.AuditConsumerCreated, kind, after.ID, compact(map[string]any{
			"name": after.Name, "tenant": after.TenantID, "groups": nonNilStrings(after.Groups),
			"metadata": nonNilMap(after.Metadata), "status": after.Status,
			"reason": after.SuspendedReason, "category": after.SuspendedCategory,
		}))
		return
	}
	if !statusOnly {
		c := changes{}
		c.str("name", before.Name, after.Name)
		c.str("tenant", before.TenantID, after.TenantID)
		c.strs("groups", before.Groups, after.Groups)
		c.meta("metadata", before.Metadata, after.Metadata)
		c.str("status", before.Status, after.Status)
		c.str("suspended_reason", before.SuspendedReason, after.SuspendedReason)
		c.str("suspended_category", before.SuspendedCategory, after.SuspendedCategory)
		s.record(ctx, store.AuditConsumerUpdated, kind, after.ID, map[string]any{"changes": c})
		if before.Status == after.Status {
			return
		}
	}
	s.record(ctx, statusAction(kind, after.Status), kind, after.ID, statusDetail{
		Previous: before.Status, Reason: after.SuspendedReason, Category: after.SuspendedCategory})
}

// keyDetail describes a key without its secret or hash.
type keyDetail struct {
	Consumer  string   `json:"consumer"`
	Name      string   `json:"name,omitempty"`
	Scopes    []string `json:"scopes"`
	NotBefore string   `json:"not_before,omitempty"`
	ExpiresAt string   `json:"expires_at,omitempty"`
}

func newKeyDetail(k store.APIKey) keyDetail {
	return keyDetail{Consumer: k.ConsumerID, Name: k.Name, Scopes: nonNilStrings(k.Scopes),
		NotBefore: rfc3339(k.NotBefore), ExpiresAt: rfc3339(k.ExpiresAt)}
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
