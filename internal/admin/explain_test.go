package admin_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/explain"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// TestExplainRequest: GET /admin/requests/{id}/explain joins the call
// record, its revision and the caller's stored records; an unknown id is a
// 404 admin.not_found problem; the endpoint needs the admin token.
func TestExplainRequest(t *testing.T) {
	t.Parallel()
	f := newIdentityFixture(t, nil)
	rev := f.apply(t, "valid.yaml")
	ctx := t.Context()
	if _, err := f.st.CreateConsumer(ctx, store.Consumer{ID: "orders-app", Name: "Orders App", TenantID: "", Status: "active"}); err != nil {
		t.Fatal(err)
	}
	trace, _ := json.Marshal([]pipeline.Step{
		{Stage: "route", Outcome: "pass", Rule: "orders"},
		{Stage: "authz", Outcome: "deny", Code: "authz.scope_missing", Rule: "scopes", Note: "credential lacks scope orders:write"},
	})
	inputs, _ := json.Marshal(pipeline.Inputs{Method: "POST", Host: "api.test", Path: "/orders",
		Header: map[string][]string{"Authorization": {"Bearer pp_live_k7f3a9c2d1e0_abcdefghijklmnopqrstuvwxyz012345"}}})
	call := store.Call{Time: start, RequestID: "req-explain", Route: "orders", Method: "POST", Host: "api.test", Path: "/orders",
		Status: 403, Code: "authz.scope_missing", Layer: "gateway", Stage: "authz", ClientIP: "192.0.2.1",
		ConsumerID: "orders-app", CredentialID: "pp_live_k7f3a9c2d1e0", Latency: time.Millisecond, Revision: rev.Revision.Number,
		Trace: trace, Inputs: inputs}
	if err := f.st.InsertCalls(ctx, []store.Call{call}); err != nil {
		t.Fatal(err)
	}

	t.Run("explained", func(t *testing.T) {
		t.Parallel()
		x, err := f.client.Explain(t.Context(), "req-explain")
		if err != nil {
			t.Fatal(err)
		}
		if x.RequestID != "req-explain" || x.Outcome != explain.OutcomeRefused || x.Decision == nil || x.Decision.Rule != "scopes" ||
			x.Revision.Number != rev.Revision.Number || x.Revision.Author != "alice" || x.Caller.ConsumerName != "Orders App" ||
			len(x.Steps) != 2 || x.Fix == nil {
			t.Fatalf("explanation %+v", x)
		}
		if got := x.Request.Headers["Authorization"]; len(got) != 1 || got[0] != "redacted" {
			t.Errorf("Authorization shown as %q", got)
		}
	})
	t.Run("no secret in the answer", func(t *testing.T) {
		t.Parallel()
		r := f.do(t, "GET", "/admin/requests/req-explain/explain", testToken, nil)
		if r.status != http.StatusOK || strings.Contains(string(r.body), "abcdefghijklmnopqrstuvwxyz012345") {
			t.Fatalf("status %d body %s", r.status, r.body)
		}
	})
	t.Run("unknown request", func(t *testing.T) {
		t.Parallel()
		r := f.do(t, "GET", "/admin/requests/no-such-request/explain", testToken, nil)
		p := decodeProblem(t, r)
		if r.status != http.StatusNotFound || p.Code != "admin.not_found" || !strings.Contains(p.Detail, `"no-such-request"`) {
			t.Fatalf("status %d problem %+v", r.status, p)
		}
		if _, err := f.client.Explain(t.Context(), "no-such-request"); !admin.IsNotFound(err) {
			t.Errorf("client error %v, want a 404", err)
		}
	})
	t.Run("needs the admin token", func(t *testing.T) {
		t.Parallel()
		r := f.do(t, "GET", "/admin/requests/req-explain/explain", "", nil)
		if p := decodeProblem(t, r); r.status != http.StatusUnauthorized || p.Code != "admin.unauthorized" {
			t.Fatalf("status %d problem %+v", r.status, p)
		}
	})
}
