package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/alert"
	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
)

// alertsConfig is the walk-through's config: the partner's key reaches
// /orders, which requires orders:write, while the key has that scope.
func alertsConfig(proxy, adminAddr, backend, hook, keyScopes string) string {
	return fmt.Sprintf(`version: 1
listeners:
  - {name: public, kind: proxy, address: "%s"}
  - {name: admin, kind: admin, address: "%s"}
authenticators:
  - {name: keys, type: api_key}
consumers:
  - id: partner
    api_keys:
      - id: demo0000demo
        sha256: cb25e86193394f7d5ee3eae9000d566fe846ab981f285fa737e33edfe69d78cd
        scopes: [%s]
routes:
  - name: orders
    paths: ["/orders"]
    upstream: backend
    auth: {methods: [keys]}
    authorize: {scopes: [orders:write]}
upstreams:
  - {name: backend, targets: [{url: "%s"}]}
analytics:
  flush_interval: 100ms
alerts:
  evaluate_every: 200ms
  rules:
    - name: orders-forbidden
      description: The partner is refused on /orders.
      route: orders
      match: {status: 403}
      share_above: 10%%
      min_requests: 20
      window: 1m
  webhooks:
    - name: ops
      url: "%s"
      headers: {Authorization: "Bearer ${PINPOINT_TEST_HOOK_TOKEN}"}
      backoff: 10ms
`, proxy, adminAddr, keyScopes, backend, hook)
}

// The "done when": an alert fires on a provoked 403 spike, names
// the revision that caused it, and resolves — through a real gateway, a
// real SQLite store, the analytics roll-ups and a webhook receiver.
func TestAlertOnProvoked403SpikeNamesTheRevisionAndResolves(t *testing.T) {
	const hookToken = "hook-token-not-for-logs-0001"
	t.Setenv("PINPOINT_TEST_HOOK_TOKEN", hookToken)
	t.Setenv("PINPOINT_ADMIN_TOKEN", "")
	t.Setenv(envStore, "")
	dataDir := t.TempDir()
	proxy, adminAddr := freePort(t), freePort(t)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	defer backend.Close()
	notes := make(chan alert.Notification, 20)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n alert.Notification
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			t.Errorf("notification: %v", err)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer "+hookToken {
			t.Errorf("webhook Authorization %q", got)
		}
		notes <- n
	}))
	defer hook.Close()
	doc := func(keyScopes string) string { return alertsConfig(proxy, adminAddr, backend.URL, hook.URL, keyScopes) }

	// Revision 1 lets the partner through; alice's admin token applies the rest.
	const aliceToken = "ppadm_alice-token-for-the-alert-walkthrough-0"
	st, err := sqlite.Open(t.Context(), filepath.Join(dataDir, "pinpoint.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateAdminToken(t.Context(), "alice", admin.HashToken(aliceToken)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppendRevision(t.Context(), store.Revision{Author: "alice", Source: "cli", Document: []byte(doc("orders:read, orders:write"))}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	served := make(chan error, 1)
	go func() {
		served <- runServe(ctx, serveOptions{dataDir: dataDir, logFormat: "text", logLevel: "info", nodeID: "gw-e2e"}, io.Discard, &stderr)
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("serve did not stop\n%s", stderr.String())
		}
	}
	defer stop()
	waitServing(t, adminAddr, &stderr)

	client := &http.Client{Timeout: 5 * time.Second}
	call := func(n, want int) {
		t.Helper()
		for range n {
			req, _ := http.NewRequest(http.MethodGet, "http://"+proxy+"/orders", nil)
			req.Header.Set("X-API-Key", quickstartKey)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Fatalf("GET /orders: %d, want %d", resp.StatusCode, want)
			}
		}
	}
	next := func(what string) alert.Notification {
		t.Helper()
		select {
		case n := <-notes:
			return n
		case <-time.After(20 * time.Second):
			t.Fatalf("no %s notification\nserver log:\n%s", what, stderr.String())
			return alert.Notification{}
		}
	}

	call(30, http.StatusOK)
	// Revision 2 removes orders:write from the partner's key: a 403 spike.
	if rev, err := applyDoc(adminAddr, aliceToken, doc("orders:read")); err != nil || rev != 2 {
		t.Fatalf("apply revision 2: %d, %v", rev, err)
	}
	call(40, http.StatusForbidden)
	fired := next("firing")
	if fired.Rule != "orders-forbidden" || fired.State != alert.StateFiring || fired.Revision != 2 || fired.Node != "gw-e2e" {
		t.Errorf("firing notification: %+v", fired)
	}
	if len(fired.TopCodes) == 0 || fired.TopCodes[0].Name != "authz.scope_missing" ||
		len(fired.TopConsumers) == 0 || fired.TopConsumers[0].Name != "partner" || fired.TopRoutes[0].Name != "orders" {
		t.Errorf("breakdowns: codes %+v consumers %+v routes %+v", fired.TopCodes, fired.TopConsumers, fired.TopRoutes)
	}
	if len(fired.Causes) == 0 || fired.Causes[0].Revision != 2 ||
		!strings.Contains(fired.LikelyCause, "after revision 2 (alice, admin-api): ~ consumer partner: api_keys[0].scopes (-orders:write)") {
		t.Errorf("likely cause %q (causes %+v)", fired.LikelyCause, fired.Causes)
	}
	if fired.Value <= 0.1 || fired.Matched == 0 || fired.Requests < 20 {
		t.Errorf("measure: value %v, %d of %d", fired.Value, fired.Matched, fired.Requests)
	}
	t.Logf("firing: %s", fired.Summary)

	// Revision 3 gives the scope back; clean traffic brings the share under 10%.
	if rev, err := applyDoc(adminAddr, aliceToken, doc("orders:read, orders:write")); err != nil || rev != 3 {
		t.Fatalf("apply revision 3: %d, %v", rev, err)
	}
	call(400, http.StatusOK)
	resolved := next("resolved")
	if resolved.State != alert.StateResolved || resolved.Revision != 3 || !resolved.Onset.Equal(fired.Onset) || resolved.Value > 0.1 {
		t.Errorf("resolved notification: %+v", resolved)
	}
	if !strings.Contains(resolved.LikelyFix, "after revision 3 (alice, admin-api)") {
		t.Errorf("likely fix %q", resolved.LikelyFix)
	}
	t.Logf("resolved: %s", resolved.Summary)
	stop()

	select {
	case n := <-notes:
		t.Errorf("one notification too many: %+v", n)
	default:
	}
	st, err = sqlite.Open(t.Context(), filepath.Join(dataDir, "pinpoint.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	es, err := st.QueryAudit(t.Context(), store.AuditQuery{ObjectKind: store.AuditObjectAlert, Ascending: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].Action != store.AuditAlertFired || es[1].Action != store.AuditAlertResolved || es[0].Source != "node:gw-e2e" {
		t.Errorf("alert audit entries: %+v", es)
	}
	if strings.Contains(stderr.String(), hookToken) {
		t.Errorf("the webhook token reached the server log")
	}
}

// waitServing polls /readyz until the gateway is ready.
func waitServing(t *testing.T, adminAddr string, log *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + adminAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("gateway never ready\n%s", log.String())
}
