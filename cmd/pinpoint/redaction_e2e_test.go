package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
	"github.com/pinpointgw/pinpoint/internal/telemetry/otlptest"
)

// Known secrets the redaction test sends, and the non-secret parts that
// must still show.
const (
	e2eKeyID      = "pp_live_e2ekey01"
	e2eKeySecret  = "SecretPartOfTheKey0123456789abcd"
	e2eKey        = e2eKeyID + "_" + e2eKeySecret
	e2eWrongKey   = e2eKeyID + "_WrongSecretOfTheKey0123456789xyz"
	e2eJWTSig     = "c2VjcmV0LWp3dC1zaWduYXR1cmUtdmFsdWU"
	e2eJWT        = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZS1qd3QtdXNlciJ9." + e2eJWTSig
	e2eBasicPass  = "BasicPassw0rdValue"
	e2eCookie     = "CookieSessionValue777"
	e2eQuery      = "QueryAccessTokenValue888"
	e2eBodySecret = "BodyPasswordValue999"
	e2eAdminToken = "pp_admin_e2eRedactionAdminTokenValue0001"
)

// TestRedactionEndToEnd sends requests carrying known secrets through a
// real gateway (pinpoint serve in-process, with tracing and an alert),
// then collects every operator output and finds none of them: call-log
// rows, /admin/calls, explain, simulate, the exported spans, the server
// log and the alert webhook. The key's prefix id still shows.
func TestRedactionEndToEnd(t *testing.T) {
	spans := otlptest.NewReceiver(t)
	var (
		hookMu sync.Mutex
		hooks  [][]byte
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hookMu.Lock()
		hooks = append(hooks, b)
		hookMu.Unlock()
	}))
	t.Cleanup(hook.Close)
	backendSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(backendSrv.Close)

	proxy, adminAddr := freePort(t), freePort(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "gateway.yaml")
	doc := fmt.Sprintf(`version: 1
listeners:
  - {name: public, kind: proxy, address: "%s"}
  - {name: admin, kind: admin, address: "%s"}
authenticators:
  - name: keys
    type: api_key
    api_key: {header: X-Api-Key, bearer: true}
consumers:
  - id: acme-app
    api_keys:
      - key: "${E2E_KEY}"
        scopes: ["orders:read"]
routes:
  - name: orders
    paths: ["/orders"]
    upstream: app
    auth: {methods: [keys]}
  - name: public
    paths: ["/public"]
    upstream: app
upstreams:
  - name: app
    targets: [{url: "%s"}]
telemetry:
  tracing:
    endpoint: "%s"
    sample_ratio: 1
analytics:
  flush_interval: 100ms
alerts:
  evaluate_every: 1s
  rules:
    - {name: orders-refused, route: orders, match: {status: 401}, count_above: 0, window: 1m}
  webhooks:
    - {name: hook, url: "%s"}
`, proxy, adminAddr, backendSrv.URL, spans.URL, hook.URL)
	if err := os.WriteFile(cfgPath, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("E2E_KEY", e2eKey)
	t.Setenv("PINPOINT_ADMIN_TOKEN", e2eAdminToken)

	var stdout, serverLog syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, serveOptions{configFile: cfgPath, dataDir: dir, logFormat: "json", logLevel: "debug"}, &stdout, &serverLog)
	}()
	client := &http.Client{Timeout: 10 * time.Second}
	waitFor(t, 20*time.Second, "the gateway to be ready", func() bool {
		resp, err := client.Get("http://" + adminAddr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, done)

	send := func(method, path string, hdr map[string]string, body string, want int) string {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+proxy+path, strings.NewReader(body))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
		}
		return resp.Header.Get("X-Request-Id")
	}
	basic := base64.StdEncoding.EncodeToString([]byte("alice:" + e2eBasicPass))
	ids := []string{
		send("GET", "/orders", map[string]string{"Authorization": "Bearer " + e2eKey}, "", 200),
		send("GET", "/orders", map[string]string{"X-Api-Key": e2eKey}, "", 200),
		send("GET", "/orders", map[string]string{"Authorization": "Bearer " + e2eJWT}, "", 401),
		send("GET", "/orders", map[string]string{"Authorization": "Basic " + basic}, "", 401),
		send("GET", "/orders", map[string]string{"X-Api-Key": e2eWrongKey}, "", 401),
		send("GET", "/public?access_token="+e2eQuery+"&page=2", map[string]string{"Cookie": "session=" + e2eCookie}, "", 200),
		send("POST", "/public", map[string]string{"Content-Type": "application/json"}, `{"user":"alice","password":"`+e2eBodySecret+`"}`, 200),
	}

	adminDo := func(method, path, body string) []byte {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+adminAddr+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e2eAdminToken)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d: %s", method, path, resp.StatusCode, b)
		}
		return b
	}
	outputs := map[string][]byte{}
	waitFor(t, 10*time.Second, "every request in the call log", func() bool {
		b := adminDo("GET", "/admin/calls?limit=100", "")
		for _, id := range ids {
			if !bytes.Contains(b, []byte(id)) {
				return false
			}
		}
		outputs["GET /admin/calls"] = b
		return true
	}, done)
	for i, id := range ids {
		outputs[fmt.Sprintf("GET /admin/calls/{id} #%d", i)] = adminDo("GET", "/admin/calls/"+id, "")
		outputs[fmt.Sprintf("explain #%d", i)] = adminDo("GET", "/admin/requests/"+id+"/explain", "")
	}
	for i, headers := range []map[string][]string{
		{"Authorization": {"Bearer " + e2eKey}, "Cookie": {"session=" + e2eCookie}, "Content-Type": {"application/json"}},
		{"X-Api-Key": {e2eWrongKey}, "Content-Type": {"application/json"}},
		{"Authorization": {"Basic " + basic}},
		{"Authorization": {"Bearer " + e2eJWT}},
	} {
		req, _ := json.Marshal(map[string]any{
			"method": "POST", "url": "http://api.example.com/orders?access_token=" + e2eQuery, "headers": headers,
			"body": `{"password":"` + e2eBodySecret + `"}`,
		})
		outputs[fmt.Sprintf("simulate #%d", i)] = adminDo("POST", "/admin/simulate", string(req))
	}
	waitFor(t, 30*time.Second, "the alert webhook", func() bool {
		hookMu.Lock()
		defer hookMu.Unlock()
		return len(hooks) > 0
	}, done)

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}

	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "pinpoint.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.QueryCalls(context.Background(), store.CallQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < len(ids) {
		t.Fatalf("call log holds %d rows, want at least %d", len(rows), len(ids))
	}
	outputs["call-log rows"], _ = json.Marshal(rows)
	outputs["exported spans (protobuf)"] = spans.Raw()
	outputs["exported spans (decoded)"], _ = json.Marshal(spans.Spans())
	outputs["server log"] = []byte(serverLog.String())
	outputs["banner"] = []byte(stdout.String())
	hookMu.Lock()
	outputs["alert webhook"] = bytes.Join(hooks, []byte("\n"))
	hookMu.Unlock()

	secrets := map[string]string{
		"API key secret": e2eKeySecret, "wrong API key secret": "WrongSecretOfTheKey0123456789xyz",
		"JWT signature": e2eJWTSig, "basic credentials": basic, "cookie": e2eCookie,
		"query access_token": e2eQuery, "JSON body password": e2eBodySecret, "admin token": e2eAdminToken,
	}
	for name, out := range outputs {
		if len(out) == 0 {
			t.Errorf("%s is empty: nothing was checked", name)
		}
		for what, secret := range secrets {
			if bytes.Contains(out, []byte(secret)) {
				t.Errorf("%s holds the %s:\n%s", name, what, excerpt(out, secret))
			}
		}
	}
	// The non-secret parts still show: the key's prefix id names the caller.
	for _, name := range []string{"call-log rows", "GET /admin/calls", "explain #0", "exported spans (decoded)", "simulate #0"} {
		if !bytes.Contains(outputs[name], []byte(e2eKeyID)) {
			t.Errorf("%s lost the key prefix id %s:\n%.2000s", name, e2eKeyID, outputs[name])
		}
	}
	if !bytes.Contains(outputs["exported spans (decoded)"], []byte(ids[0])) {
		t.Errorf("the spans do not name request %s", ids[0])
	}
	// --log-format json: the server log is one JSON object per line.
	for line := range strings.SplitSeq(strings.TrimSpace(serverLog.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["time"] == nil || rec["level"] == nil || rec["msg"] == nil {
			t.Errorf("server log line is not a structured JSON record (%v): %s", err, line)
		}
	}
}

// waitFor polls cond until it holds, failing after d or when serve ends.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool, done <-chan error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		select {
		case err := <-done:
			t.Fatalf("serve ended while waiting for %s: %v", what, err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// excerpt shows where secret occurs in out.
func excerpt(out []byte, secret string) string {
	i := bytes.Index(out, []byte(secret))
	lo, hi := max(0, i-300), min(len(out), i+len(secret)+300)
	return string(out[lo:hi])
}
