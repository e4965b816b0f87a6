package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// maxJSONBody bounds the JSON bodies of identity requests.
const maxJSONBody = 1 << 20

// readJSON decodes a JSON request body strictly (unknown fields and data
// after the object are errors) into v, answering 400 itself when it
// cannot. An empty body is an empty object.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) {
		return true
	}
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("unexpected data after the JSON object")
	}
	if err != nil {
		badRequest(w, r, "the body is not the expected JSON object: "+truncate(err.Error(), 200))
		return false
	}
	return true
}

// identityFailure answers an error of the identity service.
func (h *handler) identityFailure(w http.ResponseWriter, r *http.Request, what string, err error) {
	var invalid *identity.InvalidError
	switch {
	case errors.As(err, &invalid):
		badRequest(w, r, invalid.Msg)
	case errors.Is(err, store.ErrNotFound):
		notFound(w, r, what)
	case errors.Is(err, store.ErrExists):
		reason := what + " already exists"
		if msg := err.Error(); msg != store.ErrExists.Error() {
			reason = strings.TrimSuffix(msg, ": "+store.ErrExists.Error())
		}
		writeProblem(w, r, "admin.conflict", map[string]string{"reason": reason})
	default:
		if d, ok := identity.ErrDeclared(err); ok {
			source := "the running revision"
			if h.ConfigFile != "" {
				source = "the file " + h.ConfigFile
			}
			writeProblem(w, r, "admin.declared_in_config", map[string]string{"what": capitalize(d.What), "source": source})
			return
		}
		h.storeFailure(w, r, "identities", err)
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// TenantInput is the body of POST /admin/tenants and PUT /admin/tenants/{id}.
type TenantInput struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status,omitempty"`
	// SuspendedReason is for operators; SuspendedCategory is shown to callers.
	SuspendedReason   string `json:"suspended_reason,omitempty"`
	SuspendedCategory string `json:"suspended_category,omitempty"`
}

// ConsumerInput is the body of POST /admin/consumers and PUT /admin/consumers/{id}.
type ConsumerInput struct {
	ID                string            `json:"id"`
	Name              string            `json:"name"`
	Tenant            string            `json:"tenant,omitempty"`
	Groups            []string          `json:"groups,omitempty"`
	Metadata          map[string]string `json:"metadata,omitempty"`
	Status            string            `json:"status,omitempty"`
	SuspendedReason   string            `json:"suspended_reason,omitempty"`
	SuspendedCategory string            `json:"suspended_category,omitempty"`
}

// StatusInput is the body of the suspend endpoints.
type StatusInput struct {
	// Reason is for operators only.
	Reason string `json:"reason"`
	// Category is shown to refused callers: administrative (default),
	// billing, abuse, security or expired.
	Category string `json:"category,omitempty"`
}

func (h *handler) listTenants(w http.ResponseWriter, r *http.Request) {
	list, err := h.Identities.Tenants(r.Context())
	if err != nil {
		h.identityFailure(w, r, "Tenants", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tenants": nonNil(list)})
}

func (h *handler) getTenant(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	t, err := h.Identities.Tenant(r.Context(), id)
	if err != nil {
		h.identityFailure(w, r, "Tenant "+truncate(id, 128), err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (h *handler) putTenant(w http.ResponseWriter, r *http.Request) {
	var in TenantInput
	if !readJSON(w, r, &in) {
		return
	}
	create, ok := objectID(w, r, &in.ID)
	if !ok {
		return
	}
	t, err := h.Identities.PutTenant(r.Context(), store.Tenant{ID: in.ID, Name: in.Name, Status: in.Status,
		SuspendedReason: in.SuspendedReason, SuspendedCategory: in.SuspendedCategory}, create)
	if err != nil {
		h.identityFailure(w, r, "Tenant "+truncate(in.ID, 128), err)
		return
	}
	h.log.InfoContext(r.Context(), "tenant written", "tenant", t.ID, "status", t.Status, "by", tokenName(r.Context()))
	writeJSON(w, createdOr(create), identity.TenantRecord{Tenant: t, Source: identity.SourceStore})
}

func (h *handler) listConsumers(w http.ResponseWriter, r *http.Request) {
	list, err := h.Identities.Consumers(r.Context(), r.URL.Query().Get("tenant"))
	if err != nil {
		h.identityFailure(w, r, "Consumers", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"consumers": nonNil(list)})
}

func (h *handler) getConsumer(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	c, err := h.Identities.Consumer(r.Context(), id)
	if err != nil {
		h.identityFailure(w, r, "Consumer "+truncate(id, 128), err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (h *handler) putConsumer(w http.ResponseWriter, r *http.Request) {
	var in ConsumerInput
	if !readJSON(w, r, &in) {
		return
	}
	create, ok := objectID(w, r, &in.ID)
	if !ok {
		return
	}
	c, err := h.Identities.PutConsumer(r.Context(), store.Consumer{ID: in.ID, Name: in.Name, TenantID: in.Tenant,
		Groups: in.Groups, Metadata: in.Metadata, Status: in.Status,
		SuspendedReason: in.SuspendedReason, SuspendedCategory: in.SuspendedCategory}, create)
	if err != nil {
		h.identityFailure(w, r, "Consumer "+truncate(in.ID, 128), err)
		return
	}
	h.log.InfoContext(r.Context(), "consumer written", "consumer", c.ID, "status", c.Status, "by", tokenName(r.Context()))
	writeJSON(w, createdOr(create), identity.ConsumerRecord{Consumer: c, Source: identity.SourceStore})
}

// KeyInput is the body of POST /admin/keys.
type KeyInput struct {
	Consumer string   `json:"consumer"`
	Name     string   `json:"name,omitempty"`
	Scopes   []string `json:"scopes,omitempty"`
	// ExpiresAt (RFC 3339) or ExpiresIn (a Go duration such as "720h").
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	ExpiresIn string    `json:"expires_in,omitempty"`
	NotBefore time.Time `json:"not_before,omitzero"`
}

// IssuedKey answers key creation and rotation: the whole key, shown this
// once, and its record.
type IssuedKey struct {
	Key    string             `json:"key"`
	APIKey identity.KeyRecord `json:"api_key"`
	// Replaced is the rotated key, valid until its expires_at.
	Replaced *identity.KeyRecord `json:"replaced,omitempty"`
}

func (h *handler) listKeys(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := intParam(q.Get("limit"), 100, 1, 10000)
	if err != nil {
		badRequest(w, r, "limit: "+err.Error())
		return
	}
	list, err := h.Identities.Keys(r.Context(), q.Get("consumer"), q.Get("after"), int(limit))
	if err != nil {
		h.identityFailure(w, r, "Keys", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": nonNil(list)})
}

func (h *handler) getKey(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	k, err := h.Identities.Key(r.Context(), id)
	if err != nil {
		h.identityFailure(w, r, "Key "+truncate(id, 64), err)
		return
	}
	writeJSON(w, http.StatusOK, k)
}

func (h *handler) createKey(w http.ResponseWriter, r *http.Request) {
	var in KeyInput
	if !readJSON(w, r, &in) {
		return
	}
	if in.ExpiresIn != "" {
		d, err := time.ParseDuration(in.ExpiresIn)
		if err != nil || d <= 0 {
			badRequest(w, r, "expires_in: want a positive duration such as 720h")
			return
		}
		if !in.ExpiresAt.IsZero() {
			badRequest(w, r, "set expires_at or expires_in, not both")
			return
		}
		in.ExpiresAt = time.Now().Add(d)
	}
	secret, k, err := h.Identities.CreateKey(r.Context(), identity.NewKey{ConsumerID: in.Consumer, Name: in.Name,
		Scopes: in.Scopes, NotBefore: in.NotBefore, ExpiresAt: in.ExpiresAt})
	if err != nil {
		h.identityFailure(w, r, "Key", err)
		return
	}
	h.log.InfoContext(r.Context(), "api key created", "key", identity.Prefix(k.Env, k.ID), "consumer", k.ConsumerID, "by", tokenName(r.Context()))
	k.Hash = ""
	writeJSON(w, http.StatusCreated, IssuedKey{Key: secret, APIKey: identity.KeyRecord{APIKey: k, Source: identity.SourceStore}})
}

func (h *handler) revokeKey(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Reason string `json:"reason"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	id := r.PathValue("id")
	k, err := h.Identities.RevokeKey(r.Context(), id, in.Reason)
	if errors.Is(err, store.ErrExists) {
		writeProblem(w, r, "admin.conflict", map[string]string{"reason": "Key " + truncate(id, 64) + " is already revoked"})
		return
	}
	if err != nil {
		h.identityFailure(w, r, "Key "+truncate(id, 64), err)
		return
	}
	h.log.InfoContext(r.Context(), "api key revoked", "key", identity.Prefix(k.Env, k.ID), "by", tokenName(r.Context()))
	k.Hash = ""
	writeJSON(w, http.StatusOK, identity.KeyRecord{APIKey: k, Source: identity.SourceStore})
}

func (h *handler) rotateKey(w http.ResponseWriter, r *http.Request) {
	var in struct {
		// Grace is how long the old key keeps working (a Go duration; default 24h).
		Grace string `json:"grace"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	grace := 24 * time.Hour
	if in.Grace != "" {
		d, err := time.ParseDuration(in.Grace)
		if err != nil {
			badRequest(w, r, "grace: want a duration such as 24h or 0s")
			return
		}
		grace = d
	}
	id := r.PathValue("id")
	secret, old, created, err := h.Identities.RotateKey(r.Context(), id, grace)
	if err != nil {
		h.identityFailure(w, r, "Key "+truncate(id, 64), err)
		return
	}
	h.log.InfoContext(r.Context(), "api key rotated", "key", identity.Prefix(old.Env, old.ID),
		"replacement", identity.Prefix(created.Env, created.ID), "grace", grace.String(), "by", tokenName(r.Context()))
	old.Hash, created.Hash = "", ""
	writeJSON(w, http.StatusCreated, IssuedKey{Key: secret,
		APIKey:   identity.KeyRecord{APIKey: created, Source: identity.SourceStore},
		Replaced: &identity.KeyRecord{APIKey: old, Source: identity.SourceStore}})
}

// objectID settles the id of a POST (create, id from the body) or PUT
// (replace, id from the path; a different id in the body is refused).
func objectID(w http.ResponseWriter, r *http.Request, id *string) (create, ok bool) {
	if r.Method == http.MethodPost {
		return true, true
	}
	if *id != "" && *id != r.PathValue("id") {
		badRequest(w, r, "the id in the body differs from the id in the path")
		return false, false
	}
	*id = r.PathValue("id")
	return false, true
}

// statusHandler suspends (with the body's reason and category) or
// activates the tenant or consumer named kind, through set.
func (h *handler) statusHandler(kind, status string, set func(ctx context.Context, id, status, reason, category string) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in StatusInput
		if status == identity.StatusSuspended && !readJSON(w, r, &in) {
			return
		}
		id := r.PathValue("id")
		rec, err := set(r.Context(), id, status, in.Reason, in.Category)
		if err != nil {
			h.identityFailure(w, r, capitalize(kind)+" "+truncate(id, 128), err)
			return
		}
		h.log.InfoContext(r.Context(), kind+" status changed", kind, id, "status", status, "by", tokenName(r.Context()))
		writeJSON(w, http.StatusOK, rec)
	}
}

// deleteHandler deletes the tenant or consumer named kind, through del.
func (h *handler) deleteHandler(kind string, del func(ctx context.Context, id string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if err := del(r.Context(), id); err != nil {
			h.identityFailure(w, r, capitalize(kind)+" "+truncate(id, 128), err)
			return
		}
		h.log.InfoContext(r.Context(), kind+" deleted", kind, id, "by", tokenName(r.Context()))
		w.WriteHeader(http.StatusNoContent)
	}
}

func createdOr(create bool) int {
	if create {
		return http.StatusCreated
	}
	return http.StatusOK
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (h *handler) setTenantStatus(ctx context.Context, id, status, reason, category string) (any, error) {
	t, err := h.Identities.SetTenantStatus(ctx, id, status, reason, category)
	return identity.TenantRecord{Tenant: t, Source: identity.SourceStore}, err
}

func (h *handler) setConsumerStatus(ctx context.Context, id, status, reason, category string) (any, error) {
	c, err := h.Identities.SetConsumerStatus(ctx, id, status, reason, category)
	return identity.ConsumerRecord{Consumer: c, Source: identity.SourceStore}, err
}
