package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/explain"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// newExplainFixture is the CLI fixture with revision 1 (valid.yaml) and
// one refused request, "req-scope", in the call log.
func newExplainFixture(t *testing.T) *cliFixture {
	t.Helper()
	f := newCLIFixture(t)
	wantCode(t, f.run(t, "apply", "-f", "testdata/valid.yaml"), exitOK)
	trace, err := json.Marshal([]pipeline.Step{
		{Stage: "route", Outcome: "pass", Rule: "orders", Note: "/orders/{id}"},
		{Stage: "authn", Outcome: "pass", Rule: "authenticator:keys", Note: "pp_live_k7f3a9c2d1e0"},
		{Stage: "authz", Outcome: "deny", Code: "authz.scope_missing", Rule: "scopes",
			Note: `credential "pp_live_k7f3a9c2d1e0" lacks scope orders:write (scopes_mode all of [orders:write]); granted [orders:read]`},
	})
	if err != nil {
		t.Fatal(err)
	}
	call := store.Call{Time: time.Date(2026, 1, 2, 15, 6, 0, 0, time.UTC), RequestID: "req-scope", Route: "orders",
		Method: "POST", Host: "api.test", Path: "/orders/7", Status: 403, Code: "authz.scope_missing", Layer: "gateway",
		Stage: "authz", ClientIP: "192.0.2.10", ConsumerID: "orders-app", CredentialID: "pp_live_k7f3a9c2d1e0",
		Latency: 1500 * time.Microsecond, Revision: 1, Trace: trace}
	if err := f.st.InsertCalls(t.Context(), []store.Call{call}); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestExplain(t *testing.T) {
	t.Parallel()
	f := newExplainFixture(t)
	t.Run("text", func(t *testing.T) {
		t.Parallel()
		r := f.run(t, "explain", "req-scope")
		wantCode(t, r, exitOK)
		checkGolden(t, "explain_scope", r.stdout)
	})
	t.Run("json", func(t *testing.T) {
		t.Parallel()
		for _, args := range [][]string{{"explain", "req-scope", "--json"}, {"explain", "req-scope", "-o", "json"}} {
			r := f.run(t, args...)
			wantCode(t, r, exitOK)
			var x explain.Explanation
			if err := json.Unmarshal([]byte(r.stdout), &x); err != nil {
				t.Fatalf("%v: %v\n%s", args, err, r.stdout)
			}
			if x.RequestID != "req-scope" || x.Code != "authz.scope_missing" || x.Decision == nil || x.Decision.Stage != "authz" ||
				x.Revision.Number != 1 || x.Revision.Author != "ops" || x.Fix == nil {
				t.Errorf("%v: %+v", args, x)
			}
		}
	})
	t.Run("the admin token may follow the request id", func(t *testing.T) {
		t.Parallel()
		r := f.runCtx(t.Context(), t, nil, "--admin", f.srv.URL, "explain", "req-scope", "--token", cliToken, "--json")
		wantCode(t, r, exitOK)
	})
	t.Run("unknown request", func(t *testing.T) {
		t.Parallel()
		r := f.run(t, "explain", "no-such-request")
		wantCode(t, r, exitFailure)
		if r.stdout != "" || !strings.HasPrefix(r.stderr, "error: the call log has no request \"no-such-request\"\nhint: ") {
			t.Errorf("stdout %q stderr %q", r.stdout, r.stderr)
		}
		r = f.run(t, "explain", "no-such-request", "--json")
		wantCode(t, r, exitFailure)
		if !strings.Contains(r.stdout, `"code": "admin.not_found"`) {
			t.Errorf("--json prints no problem: %q", r.stdout)
		}
	})
	t.Run("usage", func(t *testing.T) {
		t.Parallel()
		for _, args := range [][]string{
			{"explain"},
			{"explain", "a", "b"},
			{"explain", "req-scope", "--key-file", "keys.txt"},
		} {
			// Without --token: with f.run's --token, "explain" alone would
			// mean "decode this token".
			r := f.runCtx(t.Context(), t, nil, append([]string{"--admin", f.srv.URL}, args...)...)
			wantCode(t, r, exitUsage)
		}
	})
}
