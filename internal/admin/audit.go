package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/audit"
	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// Audit query bounds (the store enforces the same).
const (
	defaultAuditLimit = 100
	maxAuditLimit     = 10000
)

// withOrigin marks the changes an authenticated admin request makes with
// the token's name, the admin API, the request id and the revision being
// served, for the audit log.
func (h *handler) withOrigin(ctx context.Context, tokenName string) context.Context {
	return audit.WithOrigin(ctx, audit.Origin{Actor: tokenName, Source: audit.SourceAdminAPI,
		RequestID: requestID(ctx), Revision: h.Control.Revision()})
}

// auditEntryJSON is a store.AuditEntry whose Detail always encodes: a
// detail that is not JSON (never written by Pinpoint) is sent as a string
// rather than failing the whole answer.
type auditEntryJSON struct {
	store.AuditEntry
	Detail json.RawMessage `json:"detail,omitempty"`
}

func auditView(e store.AuditEntry) auditEntryJSON {
	return auditEntryJSON{AuditEntry: e, Detail: inlineJSON(e.Detail)}
}

// auditList is the body of GET /admin/audit.
type auditList struct {
	Entries []auditEntryJSON `json:"entries"`
}

func (h *handler) listAudit(w http.ResponseWriter, r *http.Request) {
	q, err := parseAuditQuery(r.URL.Query().Get, time.Now())
	if err != nil {
		badRequest(w, r, err.Error())
		return
	}
	h.keyPrefix(r.Context(), &q)
	entries, err := h.Store.QueryAudit(r.Context(), q)
	if err != nil {
		h.storeFailure(w, r, "query audit", err)
		return
	}
	out := auditList{Entries: make([]auditEntryJSON, len(entries))}
	for i, e := range entries {
		out.Entries[i] = auditView(e)
	}
	writeJSON(w, http.StatusOK, out)
}

// keyPrefix lets a key be named by its id ("k7f3a9c2d1e0") as well as by
// the prefix its entries are recorded under ("pp_live_k7f3a9c2d1e0"). An
// id the gateway does not know is matched as given.
func (h *handler) keyPrefix(ctx context.Context, q *store.AuditQuery) {
	if q.ObjectKind != store.AuditObjectKey || q.ObjectID == "" || strings.HasPrefix(q.ObjectID, "pp_") || h.Identities == nil {
		return
	}
	if k, err := h.Identities.Key(ctx, q.ObjectID); err == nil {
		q.ObjectID = identity.Prefix(k.Env, k.ID)
	}
}

// auditKinds are the object kinds an object=KIND:ID filter may name.
var auditKinds = map[string]bool{
	store.AuditObjectRevision: true, store.AuditObjectKey: true, store.AuditObjectConsumer: true,
	store.AuditObjectTenant: true, store.AuditObjectAdminToken: true, store.AuditObjectDecisionKey: true,
	store.AuditObjectAlert: true, store.AuditObjectConfigSource: true,
}

// parseAuditQuery reads the GET /admin/audit parameters:
//
//	action=key.revoked | key.*   one action, or every action of a kind
//	kind=key                     object kind
//	object=key:pp_live_ab12… | orders-app   one object (KIND:ID sets kind too; a key by prefix or id)
//	actor=alice                  who made the change
//	since=24h | 2026-01-02T15:04:05Z, until=…   time window
//	after=SEQ                    entries with a greater sequence number (following)
//	limit=100                    1..10000
//	order=asc | desc             by sequence number; default desc (newest first)
func parseAuditQuery(get func(string) string, now time.Time) (store.AuditQuery, error) {
	q := store.AuditQuery{Action: get("action"), ObjectKind: get("kind"), ObjectID: get("object"), Actor: get("actor")}
	for name, v := range map[string]string{"action": q.Action, "kind": q.ObjectKind, "object": q.ObjectID, "actor": q.Actor} {
		if len(v) > 256 {
			return q, errors.New(name + ": longer than 256 characters")
		}
	}
	// A '*' only ends a kind ("key.*"); the store matches the rest exactly.
	if base, all := strings.CutSuffix(q.Action, ".*"); strings.Contains(base, "*") || all && base == "" {
		return q, errors.New("action: want an action such as key.revoked, or a kind's actions such as key.*")
	}
	if kind, id, ok := strings.Cut(q.ObjectID, ":"); ok && auditKinds[kind] {
		if q.ObjectKind != "" && q.ObjectKind != kind {
			return q, errors.New("object: its kind " + kind + " differs from kind=" + q.ObjectKind)
		}
		q.ObjectKind, q.ObjectID = kind, id
	}
	for _, p := range []struct {
		name string
		to   *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if s := get(p.name); s != "" {
			t, err := ParseSince(s, now)
			if err != nil {
				return q, errors.New(p.name + ": " + err.Error())
			}
			*p.to = t
		}
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && q.Until.Before(q.Since) {
		return q, errors.New("until: before since")
	}
	after, err := intParam(get("after"), 0, 0, 1<<62)
	if err != nil {
		return q, errors.New("after: " + err.Error())
	}
	q.AfterSeq = after
	limit, err := intParam(get("limit"), defaultAuditLimit, 1, maxAuditLimit)
	if err != nil {
		return q, errors.New("limit: " + err.Error())
	}
	q.Limit = int(limit)
	switch get("order") {
	case "", "desc":
	case "asc":
		q.Ascending = true
	default:
		return q, errors.New("order: must be asc or desc")
	}
	return q, nil
}
