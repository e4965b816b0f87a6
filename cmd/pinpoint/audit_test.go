package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/audit"
	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// seedAudit stores a small history at fixed times, oldest first.
func seedAudit(t *testing.T, f *cliFixture, base time.Time) {
	t.Helper()
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }
	entries := []store.AuditEntry{
		{Time: at(0), Actor: "ops", Action: store.AuditRevisionApplied, ObjectKind: "revision", ObjectID: "1", Revision: 1,
			Source: "admin-api", Detail: json.RawMessage(`{"hash":"ab12","summary":"route orders added"}`)},
		{Time: at(1), Actor: "ops", Action: store.AuditKeyCreated, ObjectKind: "key", ObjectID: "pp_live_abcdabcdabcd", Revision: 1,
			Source: "admin-api", RequestID: "req-1", Detail: json.RawMessage(`{"consumer":"orders-app","scopes":["orders:read"]}`)},
		{Time: at(2), Actor: "alice", Action: store.AuditConsumerSuspended, ObjectKind: "consumer", ObjectID: "orders-app", Revision: 1,
			Source: "admin-api", RequestID: "req-2", Detail: json.RawMessage(`{"category":"billing","previous_status":"active","reason":"unpaid since March"}`)},
		{Time: at(3), Actor: "system", Action: store.AuditKeyExpired, ObjectKind: "key", ObjectID: "pp_live_abcdabcdabcd", Revision: 1,
			Source: "expiry", Detail: json.RawMessage(`{"consumer":"orders-app","reason":"expires_at passed"}`)},
	}
	if err := f.st.AppendAudit(t.Context(), entries); err != nil {
		t.Fatal(err)
	}
}

func TestAudit(t *testing.T) {
	t.Parallel()
	f := newCLIFixture(t)
	seedAudit(t, f, time.Date(2026, 1, 2, 15, 0, 0, 0, time.UTC))
	tests := []struct {
		name   string
		args   []string
		golden string
		stderr string
	}{
		{name: "all", args: []string{"audit"}, golden: "audit_all"},
		{name: "key actions", args: []string{"audit", "--action", "key.*"}, golden: "audit_keys"},
		{name: "one object", args: []string{"audit", "--object", "consumer:orders-app"}, golden: "audit_object"},
		{name: "actor", args: []string{"audit", "--actor", "alice"}, golden: "audit_actor"},
		{name: "limit keeps the newest", args: []string{"audit", "--limit", "1"}, golden: "audit_limit"},
		{name: "json lines", args: []string{"audit", "--action", "consumer.suspended", "--json"}, golden: "audit_json"},
		{name: "nothing since", args: []string{"audit", "--since", "1h"}, stderr: "no matching audit entries\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := f.run(t, tc.args...)
			wantCode(t, r, exitOK)
			if tc.golden != "" {
				checkGolden(t, tc.golden, r.stdout)
			}
			if r.stderr != tc.stderr {
				t.Errorf("stderr %q, want %q", r.stderr, tc.stderr)
			}
		})
	}
	for _, args := range [][]string{
		{"audit", "--limit", "0"},
		{"audit", "--action", "key*"},
		{"audit", "--object", "orders-app"},
		{"audit", "--since", "yesterday"},
		{"audit", "extra"},
	} {
		wantCode(t, f.run(t, args...), exitUsage)
	}
}

func TestAuditFollow(t *testing.T) {
	t.Parallel()
	f := newCLIFixture(t)
	base := time.Date(2026, 1, 2, 15, 0, 0, 0, time.UTC)
	seedAudit(t, f, base)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	wait, waitCancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer waitCancel()
	out := &syncBuffer{written: make(chan struct{}, 1)}
	done := make(chan result, 1)
	go func() {
		done <- f.runCtx(ctx, t, out, "--admin", f.srv.URL, "--token", cliToken, "audit", "--action", "key.*", "--follow")
	}()
	if !out.waitFor(wait, "key.expired") {
		t.Fatalf("the existing entries were not printed:\n%s", out.String())
	}
	if err := f.st.AppendAudit(t.Context(), []store.AuditEntry{
		{Time: base.Add(time.Hour), Actor: "ops", Action: store.AuditTenantCreated, ObjectKind: "tenant", ObjectID: "acme"},
		{Time: base.Add(time.Hour), Actor: "ops", Action: store.AuditKeyRevoked, ObjectKind: "key", ObjectID: "pp_live_efghefghefgh",
			Detail: json.RawMessage(`{"reason":"rotated out"}`)},
	}); err != nil {
		t.Fatal(err)
	}
	if !out.waitFor(wait, "key.revoked") {
		t.Fatalf("new entries were not followed:\n%s", out.String())
	}
	cancel()
	r := <-done
	wantCode(t, r, exitOK)
	if strings.Contains(r.stdout, "tenant.created") {
		t.Fatalf("--follow printed an entry outside the filter:\n%s", r.stdout)
	}
	checkGolden(t, "audit_follow", r.stdout)
}

// Changes made through the CLI are recorded under the admin token's name.
func TestAuditNamesTheCLIToken(t *testing.T) {
	t.Parallel()
	f := newCLIFixture(t)
	svc := &identity.Service{Store: f.st, Live: identity.NewRegistry(), Env: func() string { return "live" },
		Audit: &audit.Recorder{Store: f.st}}
	f.srv = httptest.NewServer(admin.NewHandler(admin.Options{Control: f.ctl, Store: f.st, Version: "test", Identities: svc}))
	t.Cleanup(f.srv.Close)
	wantCode(t, f.run(t, "consumers", "create", "orders-app"), exitOK)
	wantCode(t, f.run(t, "consumers", "suspend", "orders-app", "--reason", "unpaid", "--category", "billing"), exitOK)
	r := f.run(t, "audit", "--object", "consumer:orders-app")
	wantCode(t, r, exitOK)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "consumer.created consumer:orders-app by ops via admin-api") ||
		!strings.Contains(lines[1], "consumer.suspended consumer:orders-app by ops via admin-api") ||
		!strings.Contains(lines[1], "reason=unpaid") {
		t.Fatalf("audit output:\n%s", r.stdout)
	}
}
