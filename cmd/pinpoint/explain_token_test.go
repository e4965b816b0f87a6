package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/explain/token"
	"github.com/pinpointgw/pinpoint/internal/gateway"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
	"github.com/pinpointgw/pinpoint/internal/telemetry"
)

// explainTokenKey is the decision-token key k1 of the config (K1).
const explainTokenKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

// tokenGateway is a real gateway on a real SQLite store in a data
// directory, with its proxy and admin API on loopback.
type tokenGateway struct {
	g        *gateway.Gateway
	dbPath   string
	proxy    *httptest.Server
	adminSrv *httptest.Server
	apiKey   string
}

func tokenGatewayConfig(sha, tokens string) string {
	return `version: 1
authenticators:
  - {name: keys, type: api_key}
consumers:
  - id: partner-42
    api_keys:
      - {id: xtok0000xtok, sha256: ` + sha + `, scopes: ["orders:read"]}
routes:
  - name: orders-write
    paths: ["/orders"]
    upstream: app
    auth: {methods: [keys]}
    authorize: {scopes: ["orders:write"]}
upstreams:
  - name: app
    targets: [{url: "http://127.0.0.1:9"}]
explain:
  decision_tokens:
` + tokens
}

func newTokenGateway(t *testing.T) *tokenGateway {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	tg := &tokenGateway{dbPath: filepath.Join(dir, "pinpoint.db"), apiKey: "pp_live_xtok0000xtok_" + strings.Repeat("Q", 32)}
	st, err := sqlite.Open(ctx, tg.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.CreateAdminToken(ctx, "ops", admin.HashToken(cliToken)); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"K1": explainTokenKey}
	tg.g = gateway.New(gateway.Options{Store: st, Metrics: telemetry.New(),
		LookupEnv: func(n string) (string, bool) { v, ok := env[n]; return v, ok }})
	t.Cleanup(tg.g.Close)
	if err := tg.g.LoadTokenKeys(ctx); err != nil {
		t.Fatal(err)
	}
	tg.apply(t, "    enabled: true\n")
	tg.proxy = httptest.NewServer(tg.g)
	t.Cleanup(tg.proxy.Close)
	tg.adminSrv = httptest.NewServer(admin.NewHandler(admin.Options{Control: tg.g, Store: st, Version: "test"}))
	t.Cleanup(tg.adminSrv.Close)
	return tg
}

func (tg *tokenGateway) apply(t *testing.T, tokens string) {
	t.Helper()
	sum := sha256.Sum256([]byte(tg.apiKey))
	_, err := tg.g.Apply(t.Context(), admin.ApplyRequest{Filename: "gw.yaml",
		Document: []byte(tokenGatewayConfig(hex.EncodeToString(sum[:]), tokens)), Author: "test", Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
}

// refuse sends a request the gateway refuses and returns its problem body.
func (tg *tokenGateway) refuse(t *testing.T) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", tg.proxy.URL+"/orders", nil)
	req.Header.Set("X-API-Key", tg.apiKey)
	resp, err := tg.proxy.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var p map[string]any
	if err := json.Unmarshal(b, &p); err != nil || resp.StatusCode != 403 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if _, ok := p["decision_token"].(string); !ok {
		t.Fatalf("no decision_token: %s", b)
	}
	return p
}

// decodeToken runs explainToken as `pinpoint explain --token` would.
func decodeToken(t *testing.T, adminURL, store string, env map[string]string, tok, keyFile string, asJSON bool) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	c := &cli{
		stdout: &stdout, stderr: &stderr, loc: time.UTC,
		lookupEnv:  func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		httpClient: http.DefaultClient,
		adminURL:   adminURL, token: cliToken, tokenSource: "--token", output: "text",
		tokenStore: store,
	}
	code := exitOK
	if err := c.explainToken(context.Background(), tok, keyFile, asJSON); err != nil {
		c.printError(err)
		code = exitFailure
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

func TestExplainTokenFindsTheKeys(t *testing.T) {
	t.Parallel()
	tg := newTokenGateway(t)
	noEnv := map[string]string{}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // an admin API that is not running

	// No key in the config: sealed with the generated key, which the
	// local store holds; no gateway needed.
	p := tg.refuse(t)
	stored := p["decision_token"].(string)
	r := decodeToken(t, closed.URL, tg.dbPath, noEnv, stored, "", false)
	if r.code != 0 || !strings.Contains(r.stdout, "token key:   store-1 (from SQLite "+tg.dbPath+")") ||
		!strings.Contains(r.stdout, "request:     "+p["request_id"].(string)) ||
		!strings.Contains(r.stdout, "answer:      403 authz.scope_missing (") ||
		!strings.Contains(r.stdout, "decided by:  authz, rule scopes") ||
		!strings.Contains(r.stdout, "route:       orders-write") ||
		!strings.Contains(r.stdout, "credential:  pp_live_xtok0000xtok") ||
		!strings.Contains(r.stdout, "consumer:    partner-42") {
		t.Errorf("from the store: %+v", r)
	}

	// A config key: the store cannot open it, the admin API can.
	tg.apply(t, "    keys: [{id: k1, secret: \"${K1}\"}]\n")
	p = tg.refuse(t)
	configured := p["decision_token"].(string)
	r = decodeToken(t, tg.adminSrv.URL, tg.dbPath, noEnv, configured, "", false)
	if r.code != 0 || !strings.Contains(r.stdout, "token key:   k1 (from the admin API at "+tg.adminSrv.URL+")") {
		t.Errorf("through the admin API: %+v", r)
	}

	// Offline, the key from a file or the environment.
	keyFile := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(keyFile, []byte("# decision-token keys\nk1="+explainTokenKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = decodeToken(t, closed.URL, "", noEnv, configured, keyFile, false)
	if r.code != 0 || !strings.Contains(r.stdout, "token key:   k1 (from --key-file "+keyFile+")") {
		t.Errorf("--key-file: %+v", r)
	}
	r = decodeToken(t, closed.URL, "", map[string]string{envTokenKeys: "k0=" + strings.Repeat("ab", 32) + ",k1:" + explainTokenKey}, configured, "", true)
	var out decodedToken
	if err := json.Unmarshal([]byte(r.stdout), &out); r.code != 0 || err != nil {
		t.Fatalf("$%s --json: %v %+v", envTokenKeys, err, r)
	}
	if out.RequestID != p["request_id"] || out.Code != "authz.scope_missing" || out.Status != 403 || out.KeyID != "k1" ||
		out.ConsumerID != "partner-42" || out.Revision != tg.g.Revision() || out.KeysFrom != "$"+envTokenKeys {
		t.Errorf("--json: %+v", out)
	}

	// Failures say what was tried and never echo a secret.
	other := filepath.Join(t.TempDir(), "other")
	_ = os.WriteFile(other, []byte("k7="+strings.Repeat("cd", 32)+"\n"), 0o600)
	raw, _ := base64.RawURLEncoding.DecodeString(configured)
	raw[len(raw)-3] ^= 0x20
	for _, tc := range []struct {
		name, store, keyFile, tok, want string
	}{
		{"key not in the file", "", other, configured, `--key-file ` + other + ` does not hold key "k1"`},
		{"nowhere", filepath.Join(t.TempDir(), "none.db"), "", configured, `no key opens this token (sealed with key "k1"): no store at`},
		{"tampered", "", keyFile, base64.RawURLEncoding.EncodeToString(raw), "failed authentication"},
		{"not a token", "", keyFile, "hello world", "--token: malformed decision token"},
	} {
		r := decodeToken(t, closed.URL, tc.store, noEnv, tc.tok, tc.keyFile, false)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: %+v, want %q", tc.name, r, tc.want)
		}
		if strings.Contains(r.stderr+r.stdout, explainTokenKey) || strings.Contains(r.stderr+r.stdout, "cdcdcd") {
			t.Errorf("%s: a key is shown: %+v", tc.name, r)
		}
	}
	r = decodeToken(t, tg.adminSrv.URL, filepath.Join(t.TempDir(), "none.db"), noEnv, base64.RawURLEncoding.EncodeToString(raw), "", false)
	if r.code == 0 || !strings.Contains(r.stderr, "failed authentication") {
		t.Errorf("a changed token through the admin API: %+v", r)
	}
}

func TestExplainTokenText(t *testing.T) {
	t.Parallel()
	secret, _ := token.ParseSecret(explainTokenKey)
	ring, _ := token.NewKeyring(token.Key{ID: "k1", Secret: secret})
	tok := ring.Seal(&token.Decision{
		RequestID: "01920d4e-8f3a-7b21-9c4d-2f6e8a1b3c5d", Time: time.Date(2026, 1, 2, 15, 6, 0, 250_000_000, time.UTC),
		Route: "orders", Stage: "authz", Rule: "scopes", Code: "authz.scope_missing",
		ConsumerID: "orders-app", CredentialID: "pp_live_k7f3a9c2d1e0", Revision: 42,
	})
	r := decodeToken(t, "http://127.0.0.1:9", "", map[string]string{envTokenKeys: "k1=" + explainTokenKey}, tok, "", false)
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	golden := filepath.Join("testdata", "explain_token.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if r.stdout != string(want) {
		t.Errorf("output:\n%s\nwant:\n%s", r.stdout, want)
	}
}
