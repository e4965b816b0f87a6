package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/explain/token"
	"github.com/pinpointgw/pinpoint/internal/store/postgres/pgtest"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
	"github.com/pinpointgw/pinpoint/internal/telemetry"
)

// Decision-token keys of the tests (base64 and hex spellings).
const (
	tokenKeyK1 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	tokenKeyK2 = "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100"
)

// tokenConfig has a route refusing an API key that lacks a scope. keys is
// the explain: block's decision_tokens body.
func tokenConfig(backendURL, sha, tokens string) string {
	return `version: 1
listeners:
  - {name: public, kind: proxy, address: "127.0.0.1:0"}
authenticators:
  - {name: keys, type: api_key}
consumers:
  - id: secret-partner-id
    api_keys:
      - {id: tokn0000tokn, sha256: ` + sha + `, scopes: ["orders:read"]}
routes:
  - name: confidential-orders
    paths: ["/orders"]
    upstream: app
    auth: {methods: [keys]}
    authorize: {scopes: ["orders:write"]}
upstreams:
  - name: app
    targets: [{url: "` + backendURL + `"}]
explain:
  decision_tokens:
` + tokens
}

func newTokenHarness(t *testing.T, tokens string) (*harness, string) {
	t.Helper()
	key, sha := accessKey("live", "tokn0000tokn")
	env := map[string]string{"K1": tokenKeyK1, "K2": tokenKeyK2}
	h := newHarness(t, tokenConfig(backend(t, "app").URL, sha, tokens), func(o *Options) {
		o.LookupEnv = func(n string) (string, bool) { v, ok := env[n]; return v, ok }
	})
	return h, key
}

// refuse sends the refused request and returns the problem body.
func (h *harness) refuse(key string) map[string]any {
	h.t.Helper()
	resp, body := h.do("GET", "/orders", map[string]string{"X-API-Key": key}, "")
	return problemBody(h.t, resp, body, 403, "authz.scope_missing")
}

func TestRefusalCarriesADecisionToken(t *testing.T) {
	t.Parallel()
	h, key := newTokenHarness(t, "    keys: [{id: k1, secret: \"${K1}\"}]\n")
	before := time.Now().Add(-time.Second)
	p := h.refuse(key)
	tok, _ := p["decision_token"].(string)
	if tok == "" {
		t.Fatalf("no decision_token in %v", p)
	}
	if len(tok) >= 300 {
		t.Errorf("decision_token is %d characters, want < 300", len(tok))
	}
	d, err := h.g.DecodeToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	want := token.Decision{
		RequestID: p["request_id"].(string), Route: "confidential-orders", Stage: "authz", Rule: "scopes",
		Code: "authz.scope_missing", ConsumerID: "secret-partner-id", CredentialID: "pp_live_tokn0000tokn",
		Revision: h.g.Revision(), KeyID: "k1",
	}
	if d.Time.Before(before) || d.Time.After(time.Now()) {
		t.Errorf("time %v is not the request's", d.Time)
	}
	d.Time = time.Time{}
	if d != want {
		t.Errorf("token opened to\n %+v\nwant\n %+v", d, want)
	}
	// The call log and the token agree.
	call := h.waitCall(want.RequestID)
	if call.Code != d.Code || call.Route != d.Route || call.ConsumerID != d.ConsumerID || call.CredentialID != d.CredentialID {
		t.Errorf("call log %+v disagrees with the token %+v", call, d)
	}
}

// The caller holding the token learns nothing of the decision from it.
func TestDecisionTokenLeaksNothing(t *testing.T) {
	t.Parallel()
	h, key := newTokenHarness(t, "    keys: [{id: k1, secret: \"${K1}\"}]\n")
	tok := h.refuse(key)["decision_token"].(string)
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"secret-partner-id", "confidential", "orders", "tokn0000tokn", "scopes", "authz", tokenKeyK1} {
		if strings.Contains(tok, s) || strings.Contains(string(raw), s) {
			t.Errorf("the token shows %q", s)
		}
	}
}

func TestDecisionTokensCanBeTurnedOff(t *testing.T) {
	t.Parallel()
	h, key := newTokenHarness(t, "    enabled: false\n    keys: [{id: k1, secret: \"${K1}\"}]\n")
	if p := h.refuse(key); p["decision_token"] != nil {
		t.Errorf("decision_token with enabled: false: %v", p["decision_token"])
	}
	if h.g.DecisionTokens() != nil {
		t.Error("a sealing keyring while tokens are off")
	}
}

func TestDecisionTokenKeyRotation(t *testing.T) {
	t.Parallel()
	h, key := newTokenHarness(t, "    keys: [{id: k1, secret: \"${K1}\"}]\n")
	old := h.refuse(key)["decision_token"].(string)

	// Rotate: the new key first, the old one kept to open old tokens.
	_, sha := accessKey("live", "tokn0000tokn")
	h.apply(tokenConfig(backend(t, "app").URL, sha, "    keys: [{id: k2, secret: \"${K2}\"}, {id: k1, secret: \"${K1}\"}]\n"))
	fresh := h.refuse(key)["decision_token"].(string)
	if id, _ := token.KeyIDOf(fresh); id != "k2" {
		t.Errorf("after rotation tokens are sealed with %q, want k2", id)
	}
	if d, err := h.g.DecodeToken(old); err != nil || d.KeyID != "k1" {
		t.Errorf("an old token after rotation: %+v, %v", d, err)
	}

	// Retire k1: its tokens no longer open; k2's still do.
	h.apply(tokenConfig(backend(t, "app").URL, sha, "    keys: [{id: k2, secret: \"${K2}\"}]\n"))
	if _, err := h.g.DecodeToken(old); !errors.Is(err, token.ErrUnknownKey) {
		t.Errorf("a token of a retired key: %v, want ErrUnknownKey", err)
	}
	if _, err := h.g.DecodeToken(fresh); err != nil {
		t.Errorf("k2's token: %v", err)
	}
}

// Without keys in the config every node seals with the key the first one
// generated and stored; config keys, once given, seal instead.
func TestGeneratedKeyIsSharedThroughTheStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := t.TempDir() + "/pinpoint.db"
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	_, sha := accessKey("live", "tokn0000tokn")
	doc := tokenConfig(backend(t, "app").URL, sha, "    enabled: true\n")

	// Several nodes start at once on one store: exactly one key is stored.
	const nodes = 4
	gws := make([]*Gateway, nodes)
	var wg sync.WaitGroup
	errs := make([]error, nodes)
	for i := range gws {
		gws[i] = New(Options{Store: st, Metrics: telemetry.New()})
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = gws[i].LoadTokenKeys(ctx)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
	}
	stored, err := st.TokenKeys(ctx)
	if err != nil || len(stored) != 1 || stored[0].ID != generatedTokenKeyID {
		t.Fatalf("stored keys: %v, %v", stored, err)
	}
	for _, g := range gws {
		t.Cleanup(g.Close)
	}

	for _, g := range gws[:2] {
		(&harness{t: t, g: g, st: st}).apply(doc)
	}
	d := decisionOf(gws[0])
	tok := gws[0].DecisionTokens().Seal(&d)
	if id, _ := token.KeyIDOf(tok); id != generatedTokenKeyID {
		t.Errorf("sealed with %q, want the generated %s", id, generatedTokenKeyID)
	}
	if got, err := gws[1].DecodeToken(tok); err != nil || got.RequestID != d.RequestID {
		t.Errorf("another node cannot open the token: %+v, %v", got, err)
	}

	// A restarted node (a fresh gateway) loads the same key.
	again := New(Options{Store: st, Metrics: telemetry.New()})
	t.Cleanup(again.Close)
	if err := again.LoadTokenKeys(ctx); err != nil {
		t.Fatal(err)
	}
	(&harness{t: t, g: again, st: st}).apply(doc)
	if _, err := again.DecodeToken(tok); err != nil {
		t.Errorf("after a restart: %v", err)
	}

	// Config keys come first; the stored key still opens its tokens.
	env := map[string]string{"K1": tokenKeyK1}
	withKeys := New(Options{Store: st, Metrics: telemetry.New(), LookupEnv: func(n string) (string, bool) { v, ok := env[n]; return v, ok }})
	t.Cleanup(withKeys.Close)
	if err := withKeys.LoadTokenKeys(ctx); err != nil {
		t.Fatal(err)
	}
	(&harness{t: t, g: withKeys, st: st}).apply(tokenConfig(backend(t, "app").URL, sha, "    keys: [{id: k1, secret: \"${K1}\"}]\n"))
	if id := withKeys.DecisionTokens().SealingKeyID(); id != "k1" {
		t.Errorf("sealing key %q, want the config's k1", id)
	}
	if _, err := withKeys.DecodeToken(tok); err != nil {
		t.Errorf("the stored key no longer opens its token: %v", err)
	}
}

func decisionOf(g *Gateway) token.Decision {
	return token.Decision{RequestID: "01920d4e-8f3a-7b21-9c4d-2f6e8a1b3c5d", Time: time.Now(), Code: "route.not_found", Revision: g.Revision()}
}

// BenchmarkRefusalWithToken is BenchmarkRefusal with a decision token
// sealed into the answer; the difference is the token's cost.
func BenchmarkRefusalWithToken(b *testing.B) {
	g := benchSnapshot(b)
	secret, err := token.ParseSecret(tokenKeyK1)
	if err != nil {
		b.Fatal(err)
	}
	ring, err := token.NewKeyring(token.Key{ID: "k1", Secret: secret})
	if err != nil {
		b.Fatal(err)
	}
	g.tokens.ring.Store(ring)
	req := httptest.NewRequest("GET", "/nothing/here", nil)
	req.RemoteAddr = "192.0.2.1:1234"
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		clear(w.h)
		g.ServeHTTP(w, req)
	}
}

// Nodes sharing PostgreSQL that start at once agree on one generated key:
// a refusal written by one node opens on every other.
func TestClusterNodesShareTheGeneratedKey(t *testing.T) {
	dsn := pgtest.FreshSchemaDSN(t)
	nodes := []*clusterNode{newClusterNode(t, dsn, time.Hour, true), newClusterNode(t, dsn, time.Hour, true), newClusterNode(t, dsn, time.Hour, true)}
	var wg sync.WaitGroup
	errs := make([]error, len(nodes))
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = n.g.LoadTokenKeys(context.Background())
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
	}
	n := nodes[0].apply(clusterConfig(backend(t, "app").URL, 0))
	within(t, 5*time.Second, "every node serves the revision", func() bool {
		return nodes[1].g.Revision() == n && nodes[2].g.Revision() == n
	})
	resp, err := nodes[2].srv.Client().Get(nodes[2].srv.URL + "/nowhere")
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		RequestID     string `json:"request_id"`
		DecisionToken string `json:"decision_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&p)
	resp.Body.Close()
	if err != nil || p.DecisionToken == "" {
		t.Fatalf("refusal without a token: %+v, %v", p, err)
	}
	for i, node := range nodes {
		d, err := node.g.DecodeToken(p.DecisionToken)
		if err != nil || d.RequestID != p.RequestID || d.Code != "route.not_found" || d.KeyID != generatedTokenKeyID || d.Revision != n {
			t.Errorf("node %d opened %+v, %v", i, d, err)
		}
	}
}

// Keys never reach the server log: neither the generated one nor the
// config's.
func TestDecisionTokenKeysAreNotLogged(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	key, sha := accessKey("live", "tokn0000tokn")
	env := map[string]string{"K1": tokenKeyK1}
	h := newHarness(t, "", func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		o.LookupEnv = func(n string) (string, bool) { v, ok := env[n]; return v, ok }
	})
	if err := h.g.LoadTokenKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.apply(tokenConfig(backend(t, "app").URL, sha, "    enabled: true\n"))
	h.refuse(key)
	h.apply(tokenConfig(backend(t, "app").URL, sha, "    keys: [{id: k1, secret: \"${K1}\"}]\n"))
	h.refuse(key)
	stored, err := h.st.TokenKeys(context.Background())
	if err != nil || len(stored) != 1 {
		t.Fatalf("stored keys: %v, %v", stored, err)
	}
	secret := stored[0].Secret
	out := logs.String()
	for _, s := range []string{tokenKeyK1, base64.StdEncoding.EncodeToString(secret), base64.RawURLEncoding.EncodeToString(secret), hex.EncodeToString(secret), string(secret)} {
		if strings.Contains(out, s) {
			t.Errorf("the log shows a key:\n%s", out)
		}
	}
	if !strings.Contains(out, "key_id=store-1") || !strings.Contains(out, "key_id=k1") {
		t.Errorf("the log does not name the keys in use:\n%s", out)
	}
}
