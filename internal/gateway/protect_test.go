package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/redisconn/redistest"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
	"github.com/pinpointgw/pinpoint/internal/telemetry"
)

// protectConfig is one upstream behind routes with each protection.
func protectConfig(url, extra string) string {
	return `version: 1
listeners:
  - {name: public, kind: proxy, address: "127.0.0.1:0"}
upstreams:
  - name: app
    targets: [{url: "` + url + `"}]
routes:
  - name: limited
    paths: ["/limited"]
    upstream: app
    rate_limits:
      - {name: per-ip, rate: 2/m, key: ip}
  - name: quota
    paths: ["/quota"]
    upstream: app
    quotas:
      - {name: daily, period: day, limit: 2}
  - name: idem
    paths: ["/orders"]
    methods: [POST]
    upstream: app
    idempotency: {}
` + extra
}

func TestRateLimitThroughTheGateway(t *testing.T) {
	t.Parallel()
	h := newHarness(t, protectConfig(backend(t, "app").URL, ""))
	for i := range 2 {
		resp, body := h.do("GET", "/limited", nil, "")
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i+1, resp.StatusCode, body)
		}
		if resp.Header.Get("RateLimit-Policy") == "" || resp.Header.Get("X-RateLimit-Limit") != "2" {
			t.Errorf("request %d: headers %v", i+1, resp.Header)
		}
	}
	// A reload of the same limits keeps the counts.
	h.apply(protectConfig(backend(t, "app").URL, "  - {name: other, paths: [\"/other\"], upstream: app}\n"))
	resp, body := h.do("GET", "/limited", nil, "")
	p := problemBody(t, resp, body, 429, "ratelimit.exceeded")
	if resp.Header.Get("Retry-After") == "" || resp.Header.Get("RateLimit") == "" {
		t.Errorf("429 without Retry-After/RateLimit: %v", resp.Header)
	}
	if d, _ := p["detail"].(string); !strings.Contains(d, "per-ip") || !strings.Contains(d, "2/m") {
		t.Errorf("detail %q does not name the limit and its rate", d)
	}
	if c := h.waitCall(resp.Header.Get("X-Request-Id")); c.Code != "ratelimit.exceeded" {
		t.Errorf("call log code %q", c.Code)
	}
}

func TestQuotaSurvivesRestart(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "p.db")
	doc := protectConfig(backend(t, "app").URL, "")
	start := func() (*Gateway, *httptest.Server, func()) {
		st, err := sqlite.Open(context.Background(), dbPath)
		if err != nil {
			t.Fatal(err)
		}
		g := New(Options{Store: st, Metrics: telemetry.New()})
		if _, err := g.LoadLatest(context.Background()); err != nil {
			if _, err := g.apply(context.Background(), applyReq(doc)); err != nil {
				t.Fatal(err)
			}
		}
		srv := httptest.NewServer(g)
		return g, srv, func() { srv.Close(); g.Close(); st.Close() }
	}
	get := func(srv *httptest.Server) int {
		resp, err := srv.Client().Get(srv.URL + "/quota")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	_, srv, stop := start()
	if a, b := get(srv), get(srv); a != 200 || b != 200 {
		t.Fatalf("first two requests: %d %d", a, b)
	}
	stop() // Close persists the counts
	_, srv, stop = start()
	defer stop()
	if got := get(srv); got != 429 {
		t.Fatalf("after a restart the used-up quota answered %d, want 429", got)
	}
}

func TestIdempotencyThroughTheGateway(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		_, _ = w.Write([]byte(`{"order":` + string(rune('0'+n)) + `}`))
	}))
	t.Cleanup(srv.Close)
	h := newHarness(t, protectConfig(srv.URL, ""))
	hdr := map[string]string{"Idempotency-Key": "k-1", "Content-Type": "application/json"}
	r1, b1 := h.do("POST", "/orders", hdr, `{"qty":1}`)
	r2, b2 := h.do("POST", "/orders", hdr, `{"qty":1}`)
	if r1.StatusCode != 201 || r2.StatusCode != 201 || b1 != b2 || hits.Load() != 1 {
		t.Fatalf("first %d %s, repeat %d %s, backend hits %d", r1.StatusCode, b1, r2.StatusCode, b2, hits.Load())
	}
	if r2.Header.Get("Idempotent-Replayed") != "true" || r1.Header.Get("Idempotent-Replayed") != "" {
		t.Errorf("replay header: first %q, repeat %q", r1.Header.Get("Idempotent-Replayed"), r2.Header.Get("Idempotent-Replayed"))
	}
	if r1.Header.Get("X-Request-Id") == r2.Header.Get("X-Request-Id") {
		t.Error("the replay carries the first request's id")
	}
	r3, b3 := h.do("POST", "/orders", hdr, `{"qty":2}`)
	problemBody(t, r3, b3, 422, "idempotency.key_reused")
}

func TestOpenAPIValidationThroughTheGateway(t *testing.T) {
	t.Parallel()
	spec := filepath.Join(t.TempDir(), "spec.yaml")
	if err := os.WriteFile(spec, []byte(`openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /items:
    get:
      parameters:
        - {name: limit, in: query, required: true, schema: {type: integer, minimum: 1, maximum: 10}}
      responses: {"200": {description: ok}}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	extra := "  - name: items\n    paths: [\"/items\"]\n    upstream: app\n    openapi: {spec: \"" + spec + "\"}\n" +
		"    rate_limits: [{name: r, rate: 3/m, key: ip}]\n"
	h := newHarness(t, protectConfig(backend(t, "app").URL, extra))
	if resp, body := h.do("GET", "/items?limit=5", nil, ""); resp.StatusCode != 200 {
		t.Fatalf("valid request: %d %s", resp.StatusCode, body)
	}
	resp, body := h.do("GET", "/items?limit=SECRET-99", nil, "")
	p := problemBody(t, resp, body, 400, "request.invalid_parameter")
	if strings.Contains(body, "SECRET-99") {
		t.Errorf("the answer echoes the value: %s", body)
	}
	if p["stage"] != "validate" {
		t.Errorf("stage %v", p["stage"])
	}
	// The limit stage runs before validation: a flood of invalid requests
	// is limited, not validated.
	h.do("GET", "/items?limit=0", nil, "")
	resp, body = h.do("GET", "/items?limit=0", nil, "")
	problemBody(t, resp, body, 429, "ratelimit.exceeded")
}

// TestSharedRedisLimit runs two gateways (two nodes) on one Redis limit.
func TestSharedRedisLimit(t *testing.T) {
	t.Parallel()
	rc := redistest.Config(t)
	extra := "  - name: shared\n    paths: [\"/shared\"]\n    upstream: app\n" +
		"    rate_limits: [{name: cluster, rate: 3/m, key: route, store: redis}]\n" +
		"redis: {url: \"" + rc.URL + "\", key_prefix: \"" + rc.KeyPrefix + "\"}\n"
	doc := protectConfig(backend(t, "app").URL, extra)
	a, b := newHarness(t, doc), newHarness(t, doc)
	codes := []int{}
	for i := range 4 {
		h := a
		if i%2 == 1 {
			h = b
		}
		resp, _ := h.do("GET", "/shared", nil, "")
		codes = append(codes, resp.StatusCode)
	}
	if want := []int{200, 200, 200, 429}; !equalInts(codes, want) {
		t.Errorf("statuses across two nodes = %v, want %v", codes, want)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWAFThroughTheGateway(t *testing.T) {
	t.Parallel()
	extra := `  - name: guarded
    paths: ["/search"]
    upstream: app
    waf: {enabled: true}
    ip: {deny: ["192.0.2.1"]}
  - name: watched
    paths: ["/watched"]
    upstream: app
    waf: {enabled: true, mode: report_only}
`
	h := newHarness(t, protectConfig(backend(t, "app").URL, extra))
	if resp, body := h.do("GET", "/search?q=red+shoes", nil, ""); resp.StatusCode != 200 {
		t.Fatalf("clean request: %d %s", resp.StatusCode, body)
	}
	const attack = "1' UNION SELECT password FROM users--"
	q := "/search?q=" + strings.ReplaceAll(attack, " ", "+")
	resp, body := h.do("GET", q, nil, "")
	p := problemBody(t, resp, body, 403, "waf.blocked")
	if p["stage"] != "waf" || !strings.Contains(p["detail"].(string), "sql-injection") {
		t.Errorf("stage %v detail %v", p["stage"], p["detail"])
	}
	if strings.Contains(body, "UNION") || strings.Contains(body, "password") {
		t.Errorf("the answer echoes the attack: %s", body)
	}
	c := h.waitCall(resp.Header.Get("X-Request-Id"))
	if c.Code != "waf.blocked" || !strings.Contains(string(c.Trace), "942") || strings.Contains(string(c.Trace), "UNION SELECT") {
		t.Errorf("call log: code %q trace %s", c.Code, c.Trace)
	}
	// Detection only: the request goes on, the trace says it would have been refused.
	resp, body = h.do("GET", "/watched?q="+strings.ReplaceAll(attack, " ", "+"), nil, "")
	if resp.StatusCode != 200 {
		t.Fatalf("report_only route refused: %d %s", resp.StatusCode, body)
	}
	c = h.waitCall(resp.Header.Get("X-Request-Id"))
	if !strings.Contains(string(c.Trace), `"would_deny"`) {
		t.Errorf("report_only trace %s", c.Trace)
	}
}
