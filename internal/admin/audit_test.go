package admin_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/audit"
	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/problem"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// newAuditFixture is the identity fixture with the audit log written.
func newAuditFixture(t *testing.T) *idFixture {
	t.Helper()
	return newIdentityFixture(t, nil, func(o *admin.Options) {
		o.Identities.Audit = &audit.Recorder{Store: o.Store}
	})
}

// Changes through the admin API name the admin token's owner, the admin
// API, the request id the client was answered with and the revision in
// force; GET /admin/audit serves them with its filters.
func TestAuditThroughTheAdminAPI(t *testing.T) {
	t.Parallel()
	f := newAuditFixture(t)
	ctx := t.Context()
	f.apply(t, "valid.yaml")
	if _, err := f.client.PutTenant(ctx, admin.TenantInput{ID: "acme", Name: "Acme"}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.PutConsumer(ctx, admin.ConsumerInput{ID: "orders-app", Tenant: "acme"}, true); err != nil {
		t.Fatal(err)
	}
	issued, err := f.client.CreateKey(ctx, admin.KeyInput{Consumer: "orders-app", Scopes: []string{"orders:read"}})
	if err != nil {
		t.Fatal(err)
	}
	prefix := identity.Prefix(issued.APIKey.Env, issued.APIKey.ID)
	rotated := f.do(t, http.MethodPost, "/admin/keys/"+issued.APIKey.ID+"/rotate", testToken, []byte(`{"grace":"1h"}`))
	if rotated.status != http.StatusCreated {
		t.Fatalf("rotate: %d %s", rotated.status, rotated.body)
	}
	var rot admin.IssuedKey
	if err := json.Unmarshal(rotated.body, &rot); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.RevokeKey(ctx, rot.APIKey.ID, "leaked: "+rot.Key); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.SetConsumerStatus(ctx, "orders-app", true, admin.StatusInput{Reason: "chargeback", Category: "billing"}); err != nil {
		t.Fatal(err)
	}

	all, err := f.client.Audit(ctx, admin.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range slices.Backward(all) {
		actions = append(actions, e.Action)
		if e.Actor != "alice" {
			t.Errorf("%s by %q, want alice (the token's name)", e.Action, e.Actor)
		}
		if e.Action == store.AuditRevisionApplied {
			continue
		}
		if e.Source != audit.SourceAdminAPI || e.RequestID == "" || e.Revision != 1 {
			t.Errorf("%s: source %q request %q revision %d", e.Action, e.Source, e.RequestID, e.Revision)
		}
	}
	want := []string{store.AuditRevisionApplied, store.AuditTenantCreated, store.AuditConsumerCreated, store.AuditKeyCreated,
		store.AuditKeyRotated, store.AuditKeyRevoked, store.AuditConsumerSuspended}
	if !slices.Equal(actions, want) {
		t.Fatalf("actions %v, want %v", actions, want)
	}
	// The rotation's entry carries the id of the request that made it.
	rotation, err := f.client.Audit(ctx, admin.AuditFilter{Action: store.AuditKeyRotated})
	if err != nil {
		t.Fatal(err)
	}
	if len(rotation) != 1 || rotation[0].RequestID != rotated.header.Get("X-Request-Id") || rotation[0].ObjectID != prefix {
		t.Fatalf("rotation entries %+v, want one with request id %s", rotation, rotated.header.Get("X-Request-Id"))
	}

	// No answer of the audit endpoint holds a whole key.
	body := f.do(t, http.MethodGet, "/admin/audit?limit=1000", testToken, nil)
	if body.status != http.StatusOK || wholeKeyRE.Match(body.body) {
		t.Fatalf("audit answer %d holds a whole key or failed: %s", body.status, body.body)
	}

	seqOf := func(action string) int64 {
		for _, e := range all {
			if e.Action == action {
				return e.Seq
			}
		}
		t.Fatalf("no %s entry", action)
		return 0
	}
	cases := []struct {
		name string
		f    admin.AuditFilter
		want []string // newest first
	}{
		{"kind prefix", admin.AuditFilter{Action: "key.*"}, []string{store.AuditKeyRevoked, store.AuditKeyRotated, store.AuditKeyCreated}},
		{"exact action", admin.AuditFilter{Action: store.AuditKeyCreated}, []string{store.AuditKeyCreated}},
		{"object with kind", admin.AuditFilter{Object: "key:" + prefix}, []string{store.AuditKeyRotated, store.AuditKeyCreated}},
		{"key by id", admin.AuditFilter{Object: "key:" + issued.APIKey.ID}, []string{store.AuditKeyRotated, store.AuditKeyCreated}},
		{"kind and id", admin.AuditFilter{Kind: "consumer", Object: "orders-app"}, []string{store.AuditConsumerSuspended, store.AuditConsumerCreated}},
		{"kind", admin.AuditFilter{Kind: "tenant"}, []string{store.AuditTenantCreated}},
		{"actor", admin.AuditFilter{Actor: "alice", Limit: 2}, []string{store.AuditConsumerSuspended, store.AuditKeyRevoked}},
		{"other actor", admin.AuditFilter{Actor: "bob"}, nil},
		{"after ascending", admin.AuditFilter{After: seqOf(store.AuditKeyRotated), Ascending: true},
			[]string{store.AuditKeyRevoked, store.AuditConsumerSuspended}},
		{"since", admin.AuditFilter{Since: "1h", Action: "tenant.*"}, []string{store.AuditTenantCreated}},
		// The fixture's revisions are stamped by its fixed clock, months ago.
		{"until", admin.AuditFilter{Until: time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, []string{store.AuditRevisionApplied}},
		{"since and until", admin.AuditFilter{Since: start.Add(time.Second).Format(time.RFC3339),
			Until: time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := f.client.Audit(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, e := range got {
				actions = append(actions, e.Action)
			}
			if !slices.Equal(actions, c.want) {
				t.Fatalf("%+v: got %v, want %v", c.f, actions, c.want)
			}
		})
	}
}

func TestAuditQueryRefusals(t *testing.T) {
	t.Parallel()
	f := newAuditFixture(t)
	for _, q := range []string{
		"limit=0", "limit=10001", "order=sideways", "since=yesterday", "until=-5m", "after=x",
		"action=*", "action=key*", "action=.*", "object=key:ab&kind=consumer",
		"since=1h&until=2h", "actor=" + strings.Repeat("a", 300),
	} {
		r := f.do(t, http.MethodGet, "/admin/audit?"+q, testToken, nil)
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", q, r.status, r.body)
			continue
		}
		if p := decodeProblem(t, r); p.Code != "admin.bad_request" {
			t.Errorf("%s: code %s", q, p.Code)
		}
	}
	if r := f.do(t, http.MethodGet, "/admin/audit", "", nil); r.status != http.StatusUnauthorized {
		t.Fatalf("without a token: %d", r.status)
	}
	if r := f.do(t, http.MethodPost, "/admin/audit", testToken, nil); r.status != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", r.status)
	}
	// An unknown kind prefix is part of the id, not a kind.
	r := f.do(t, http.MethodGet, "/admin/audit?object="+url.QueryEscape("file:/etc/p.yaml"), testToken, nil)
	if r.status != http.StatusOK {
		t.Fatalf("object=file:…: %d %s", r.status, r.body)
	}
}

// The bootstrap token is recorded once, by its name, never by its value.
func TestEnsureTokenAudits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rec := &audit.Recorder{Store: f.st}
	dir := t.TempDir()
	env := "ppadm_from-the-environment-0123456789"
	if _, _, err := admin.EnsureToken(t.Context(), f.st, rec, dir, env); err != nil {
		t.Fatal(err)
	}
	if _, _, err := admin.EnsureToken(t.Context(), f.st, rec, dir, env); err != nil {
		t.Fatal(err)
	}
	es, err := f.st.QueryAudit(t.Context(), store.AuditQuery{Action: store.AuditAdminTokenCreated})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].ObjectID != "env" || es[0].Actor != store.AuditSystemActor {
		t.Fatalf("entries %+v, want one for the env token", es)
	}
	raw, _ := json.Marshal(es)
	if strings.Contains(string(raw), env) || strings.Contains(string(raw), admin.HashToken(env)) {
		t.Fatalf("the entry holds the token or its hash: %s", raw)
	}
	if rec.Written() != 1 || rec.Failed() != 0 {
		t.Fatalf("written %d failed %d", rec.Written(), rec.Failed())
	}
}

// FuzzAuditQuery sends arbitrary query strings to GET /admin/audit: the
// answer is always a 200 list or a 400 admin.bad_request problem.
func FuzzAuditQuery(f *testing.F) {
	for _, seed := range []string{
		"", "action=key.*", "action=key.revoked", "action=*", "object=key:pp_live_abcdabcdabcd", "object=key:abcdabcdabcd",
		"kind=consumer&object=orders-app", "since=24h&until=1h", "until=2026-01-02T15:04:05Z", "after=3&order=asc",
		"limit=10001", "actor=%ff", "object=config:/etc/p.yaml",
	} {
		f.Add(seed)
	}
	fx := newFixture(f)
	svc := &identity.Service{Store: fx.st, Live: identity.NewRegistry(), Env: func() string { return "live" }}
	h := admin.NewHandler(admin.Options{Control: fx.ctl, Store: fx.st, Identities: svc})
	f.Fuzz(func(t *testing.T, query string) {
		req := httptest.NewRequest("GET", "/admin/audit", nil)
		req.URL.RawQuery = query
		req.Header.Set("Authorization", "Bearer "+testToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			var body struct{ Entries []json.RawMessage }
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Entries == nil {
				t.Fatalf("200 with body %s (%v)", rec.Body, err)
			}
		case http.StatusBadRequest:
			var p problem.Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Code != "admin.bad_request" {
				t.Fatalf("400 with body %s (%v)", rec.Body, err)
			}
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, query, rec.Body)
		}
	})
}
