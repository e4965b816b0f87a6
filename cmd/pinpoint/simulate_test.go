package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/calllog"
	"github.com/pinpointgw/pinpoint/internal/gateway"
	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/telemetry"
)

// simCLIKey is the API key of consumer orders-app in the simulate fixture.
const simCLIKey = "pp_live_simu0000simu_S3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3"

// simCLIDoc routes /orders (with a daily quota: pro plans get proLimit)
// to upstream.
func simCLIDoc(upstream string, proLimit int) string {
	sum := sha256.Sum256([]byte(simCLIKey))
	return fmt.Sprintf(`version: 1
listeners:
  - {name: public, kind: proxy, address: "127.0.0.1:0"}
authenticators:
  - {name: keys, type: api_key}
consumers:
  - id: orders-app
    metadata: {plan: pro}
    api_keys: [{id: simu0000simu, sha256: %s}]
upstreams:
  - name: app
    targets: [{url: %q}]
routes:
  - name: orders
    paths: ["/orders"]
    upstream: app
    auth: {methods: [keys]}
    quotas:
      - {name: daily, period: day, limit: 100, plans: {pro: %d}}
`, hex.EncodeToString(sum[:]), upstream, proLimit)
}

// newSimCLIFixture is a real gateway with a call log behind the admin
// API; orders-app has sent n requests through it, all in the call log.
func newSimCLIFixture(t *testing.T, n int) (*cliFixture, string) {
	t.Helper()
	f := newCLIFixture(t)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	t.Cleanup(backend.Close)
	g := gateway.New(gateway.Options{Store: f.st, Metrics: telemetry.New()})
	t.Cleanup(g.Close)
	if _, err := g.Apply(t.Context(), admin.ApplyRequest{Filename: "orders.yaml", Document: []byte(simCLIDoc(backend.URL, 1000)), Author: "test"}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	w := calllog.New(f.st, calllog.Options{FlushInterval: 5 * time.Millisecond})
	t.Cleanup(func() { _ = w.Close(t.Context()) })
	g.SetCallLog(w)
	proxy := httptest.NewServer(g)
	t.Cleanup(proxy.Close)
	for range n {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", proxy.URL+"/orders", nil)
		req.Header.Set("X-API-Key", simCLIKey)
		resp, err := proxy.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET /orders: %d", resp.StatusCode)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		calls, err := f.st.QueryCalls(t.Context(), store.CallQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(calls) == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d calls logged", len(calls), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	f.srv = httptest.NewServer(admin.NewHandler(admin.Options{Control: g, Store: f.st, Version: "test", Quotas: g}))
	t.Cleanup(f.srv.Close)
	return f, backend.URL
}

func TestSimulateCommand(t *testing.T) {
	t.Parallel()
	f, _ := newSimCLIFixture(t, 0)
	t.Run("text", func(t *testing.T) {
		t.Parallel()
		r := f.run(t, "simulate", "http://api.example.com/orders?x=1", "-H", "X-API-Key: "+simCLIKey, "--client-ip", "198.51.100.4")
		wantCode(t, r, exitOK)
		for _, want := range []string{
			"simulated on  revision 1 (live)",
			"route         orders",
			"caller        consumer orders-app, credential pp_live_simu0000simu (api_key via keys)",
			"outcome       would be forwarded to upstream app target http://127.0.0.1:",
			"path /orders?x=1",
			"  limit     pass",
			"nothing was charged",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
			}
		}
		if strings.Contains(r.stdout, simCLIKey[21:]) {
			t.Errorf("the key's secret is printed:\n%s", r.stdout)
		}
	})
	t.Run("json denied", func(t *testing.T) {
		t.Parallel()
		r := f.run(t, "simulate", "-X", "POST", "http://api.example.com/orders", "--as-consumer", "nobody", "--json")
		wantCode(t, r, exitOK)
		var res admin.SimulateResult
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
			t.Fatalf("%v: %s", err, r.stdout)
		}
		if res.Outcome != admin.SimDenied || res.Code != "authn.consumer_unknown" || res.Status != 401 {
			t.Errorf("%+v", res)
		}
	})
	t.Run("usage", func(t *testing.T) {
		t.Parallel()
		for _, args := range [][]string{
			{"simulate"},
			{"simulate", "http://a/b", "--as-credential", "x", "--as-consumer", "y"},
			{"simulate", "http://a/b", "--scope", "s"},
			{"simulate", "http://a/b", "-H", "no-colon"},
		} {
			wantCode(t, f.run(t, args...), exitUsage)
		}
	})
	t.Run("proposed file with errors", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "bad.yaml")
		if err := os.WriteFile(path, []byte("version: 1\nroutes:\n  - name: x\n    bogus: 1\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := f.run(t, "simulate", "http://api.example.com/orders", "-f", path)
		if r.code != exitFailure || !strings.Contains(r.stderr, path+":4:") || !strings.Contains(r.stderr, "nothing was simulated") {
			t.Errorf("exit %d stderr %s", r.code, r.stderr)
		}
	})
	t.Run("bad url", func(t *testing.T) {
		t.Parallel()
		r := f.run(t, "simulate", "ftp://a/b")
		if r.code == exitOK || !strings.Contains(r.stderr, "url must use http or https") {
			t.Errorf("exit %d stderr %s", r.code, r.stderr)
		}
	})
}

// TestApplyDryRunImpact: lowering the pro plan's quota below what
// orders-app used today reports its requests as newly denied.
func TestApplyDryRunImpact(t *testing.T) {
	t.Parallel()
	f, upstream := newSimCLIFixture(t, 2)
	path := filepath.Join(t.TempDir(), "new.yaml")
	if err := os.WriteFile(path, []byte(simCLIDoc(upstream, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	r := f.run(t, "apply", "--dry-run", "-f", path)
	wantCode(t, r, exitOK)
	for _, want := range []string{"dry run: the configuration is valid; nothing was applied", "replayed 2 requests",
		"2 requests would change outcome:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	found := false
	for _, line := range strings.Split(r.stdout, "\n") {
		found = found || strings.HasPrefix(strings.Join(strings.Fields(line), " "), "2 newly denied orders orders-app allowed quota.exceeded ")
	}
	if !found {
		t.Errorf("no impact row:\n%s", r.stdout)
	}
	r = f.run(t, "apply", "--dry-run", "--no-impact", "-f", path)
	wantCode(t, r, exitOK)
	if strings.Contains(r.stdout, "impact") {
		t.Errorf("--no-impact printed an impact:\n%s", r.stdout)
	}
	wantCode(t, f.run(t, "apply", "--impact-limit", "5", "-f", path), exitUsage)
}
