package gateway

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

func TestRoutingAndPathRewrites(t *testing.T) {
	t.Parallel()
	be := backend(t, "app")
	h := newHarness(t, simpleConfig(be.URL))
	cases := []struct {
		method, path, wantPath, wantQuery string
	}{
		{"GET", "/api/orders", "/orders", ""},
		{"GET", "/api", "/", ""},
		{"POST", "/api/orders?limit=5", "/orders", "limit=5"},
		{"GET", "/users/42", "/v2/people/42", ""},
		{"GET", "/api//a/./b/../c", "/a/c", ""},
	}
	for _, tc := range cases {
		resp, body := h.do(tc.method, tc.path, nil, "")
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: status %d: %s", tc.method, tc.path, resp.StatusCode, body)
		}
		got := decode(t, body)
		if got["path"] != tc.wantPath || got["query"] != tc.wantQuery {
			t.Errorf("%s %s: backend saw path %v query %v, want %s %s", tc.method, tc.path, got["path"], got["query"], tc.wantPath, tc.wantQuery)
		}
		if resp.Header.Get("X-Request-Id") == "" || got["request_id"] != resp.Header.Get("X-Request-Id") {
			t.Errorf("request id not propagated: header %q backend %v", resp.Header.Get("X-Request-Id"), got["request_id"])
		}
	}
}

func TestRefusalsAreExplained(t *testing.T) {
	t.Parallel()
	be := backend(t, "app")
	h := newHarness(t, simpleConfig(be.URL))

	t.Run("route.not_found", func(t *testing.T) {
		resp, body := h.do("GET", "/nope", nil, "")
		p := problemBody(t, resp, body, 404, "route.not_found")
		if !strings.Contains(p["detail"].(string), "/nope") {
			t.Errorf("detail %q should name the path", p["detail"])
		}
		call := h.waitCall(p["request_id"].(string))
		if call.Code != "route.not_found" || call.Stage != "route" || len(call.Trace) == 0 {
			t.Errorf("call log %+v", call)
		}
	})
	t.Run("route.method_not_allowed", func(t *testing.T) {
		resp, body := h.do("POST", "/users/7", nil, "x")
		problemBody(t, resp, body, 405, "route.method_not_allowed")
		if allow := resp.Header.Get("Allow"); allow != "DELETE, GET, HEAD" {
			t.Errorf("Allow %q", allow)
		}
	})
	t.Run("request.invalid_path", func(t *testing.T) {
		resp, body := h.do("GET", "/api/a%2Fb", nil, "")
		problemBody(t, resp, body, 400, "request.invalid_path")
	})
	t.Run("HEAD refusal has headers and no body", func(t *testing.T) {
		resp, body := h.do("HEAD", "/nope", nil, "")
		if resp.StatusCode != 404 || body != "" || resp.Header.Get("Pinpoint-Code") != "route.not_found" {
			t.Errorf("HEAD: %d %q %v", resp.StatusCode, body, resp.Header)
		}
	})
}

func TestUpstreamFailureNamesRouteNotAddress(t *testing.T) {
	t.Parallel()
	dead := httptest.NewServer(http.NotFoundHandler())
	addr := dead.Listener.Addr().String()
	dead.Close() // nothing listens there any more: connect is refused
	h := newHarness(t, strings.Replace(simpleConfig("http://"+addr), "targets:", "retry: {attempts: -1}\n    targets:", 1))
	resp, body := h.do("GET", "/api/x", nil, "")
	p := problemBody(t, resp, body, 502, "upstream.connect_failed")
	if strings.Contains(body, addr) || strings.Contains(body, "127.0.0.1") {
		t.Fatalf("internal address leaked to the client: %s", body)
	}
	if !strings.Contains(p["detail"].(string), "api") {
		t.Errorf("detail should name the route: %v", p["detail"])
	}
	call := h.waitCall(p["request_id"].(string))
	if !strings.Contains(string(call.Trace), addr) {
		t.Errorf("the operator's trace should hold the target address; got %s", call.Trace)
	}
}

func TestBackendDenialPassesThroughUntouched(t *testing.T) {
	t.Parallel()
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("WWW-Authenticate", `Bearer realm="backend"`)
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("backend says no"))
	}))
	t.Cleanup(be.Close)
	h := newHarness(t, simpleConfig(be.URL))
	resp, body := h.do("GET", "/api/secret", nil, "")
	if resp.StatusCode != 403 || body != "backend says no" || resp.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("not passed through: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if resp.Header.Get("Pinpoint-Layer") != "upstream" || resp.Header.Get("Pinpoint-Code") != "upstream.denied" {
		t.Fatalf("labels: %v", resp.Header)
	}
	if resp.Header.Get("WWW-Authenticate") != `Bearer realm="backend"` {
		t.Fatalf("backend header lost")
	}
	call := h.waitCall(resp.Header.Get("X-Request-Id"))
	if call.Code != "upstream.denied" || call.Layer != "upstream" || call.Status != 403 {
		t.Fatalf("call log %+v", call)
	}
}

// Regression: a client-supplied X-Forwarded-For must not change the client
// IP the gateway logs and forwards, nor the request id it uses.
func TestSpoofedForwardingHeadersAreIgnored(t *testing.T) {
	t.Parallel()
	be := backend(t, "app")
	h := newHarness(t, simpleConfig(be.URL))
	resp, body := h.do("GET", "/api/x", map[string]string{
		"X-Forwarded-For": "203.0.113.66",
		"Forwarded":       "for=203.0.113.66",
		"X-Request-Id":    "attacker-chosen-id",
	}, "")
	got := decode(t, body)
	if got["xff"] != "127.0.0.1" {
		t.Errorf("backend saw X-Forwarded-For %q, want only the peer", got["xff"])
	}
	id := resp.Header.Get("X-Request-Id")
	if id == "attacker-chosen-id" || got["request_id"] == "attacker-chosen-id" {
		t.Errorf("untrusted client chose its request id")
	}
	if call := h.waitCall(id); call.ClientIP != "127.0.0.1" {
		t.Errorf("call log client IP %q", call.ClientIP)
	}
}

func TestTrustedProxyForwardingIsBelieved(t *testing.T) {
	t.Parallel()
	be := backend(t, "app")
	doc := strings.Replace(simpleConfig(be.URL), "listeners:", "gateway:\n  trusted_proxies: [\"127.0.0.1\"]\nlisteners:", 1)
	h := newHarness(t, doc)
	resp, body := h.do("GET", "/api/x", map[string]string{
		"X-Forwarded-For": "198.51.100.9",
		"X-Request-Id":    "edge-7f3a",
	}, "")
	got := decode(t, body)
	if got["xff"] != "198.51.100.9, 127.0.0.1" {
		t.Errorf("backend saw X-Forwarded-For %q", got["xff"])
	}
	if resp.Header.Get("X-Request-Id") != "edge-7f3a" {
		t.Errorf("trusted proxy's request id not kept: %q", resp.Header.Get("X-Request-Id"))
	}
	if call := h.waitCall("edge-7f3a"); call.ClientIP != "198.51.100.9" {
		t.Errorf("client IP %q", call.ClientIP)
	}
}

func TestSunset(t *testing.T) {
	t.Parallel()
	be := backend(t, "app")
	doc := simpleConfig(be.URL) + `  - name: unused
    targets: [{url: "` + be.URL + `"}]
`
	doc = strings.Replace(doc, "  - name: users\n", `  - name: old
    paths: ["/v1/*"]
    sunset: "2001-01-01T00:00:00Z"
    upstream: app
  - name: retiring
    paths: ["/v2/*"]
    sunset: "2999-01-01T00:00:00Z"
    upstream: app
  - name: users
`, 1)
	h := newHarness(t, doc)
	resp, body := h.do("GET", "/v1/x", nil, "")
	problemBody(t, resp, body, 410, "route.deprecated_sunset")
	resp, _ = h.do("GET", "/v2/x", nil, "")
	if resp.StatusCode != 200 || resp.Header.Get("Sunset") != "Tue, 01 Jan 2999 00:00:00 GMT" {
		t.Fatalf("before sunset: %d Sunset=%q", resp.StatusCode, resp.Header.Get("Sunset"))
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	be := backend(t, "app")
	doc := strings.Replace(simpleConfig(be.URL), "    strip_prefix: true\n", "    strip_prefix: true\n    limits: {max_body_bytes: 16}\n", 1)
	h := newHarness(t, doc)
	resp, body := h.do("POST", "/api/upload", nil, strings.Repeat("x", 17))
	problemBody(t, resp, body, 413, "request.body_too_large")
	resp, _ = h.do("POST", "/api/upload", nil, strings.Repeat("x", 16))
	if resp.StatusCode != 200 {
		t.Fatalf("body at the limit refused: %d", resp.StatusCode)
	}
}

func TestDisclosureModes(t *testing.T) {
	t.Parallel()
	be := backend(t, "app")
	withMode := func(mode string) string {
		return strings.Replace(simpleConfig(be.URL), "listeners:", "gateway:\n  disclosure: "+mode+"\nlisteners:", 1)
	}
	t.Run("minimal", func(t *testing.T) {
		h := newHarness(t, withMode("minimal"))
		resp, body := h.do("GET", "/nope", nil, "")
		p := problemBody(t, resp, body, 404, "route.not_found")
		if _, ok := p["detail"]; ok {
			t.Errorf("minimal disclosure leaked detail: %s", body)
		}
	})
	t.Run("debug needs an operator credential", func(t *testing.T) {
		h := newHarness(t, withMode("debug"))
		// sha256("test"): the operator's admin token is "test".
		if _, err := h.st.CreateAdminToken(context.Background(), "ops", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"); err != nil {
			t.Fatal(err)
		}
		resp, body := h.do("GET", "/nope", nil, "")
		if p := problemBody(t, resp, body, 404, "route.not_found"); p["trace"] != nil {
			t.Fatalf("trace shown without a credential: %s", body)
		}
		resp, body = h.do("GET", "/nope", map[string]string{DebugHeader: "wrong"}, "")
		if p := problemBody(t, resp, body, 404, "route.not_found"); p["trace"] != nil {
			t.Fatalf("trace shown with a wrong credential")
		}
		resp, body = h.do("GET", "/nope", map[string]string{DebugHeader: "test"}, "")
		if p := problemBody(t, resp, body, 404, "route.not_found"); p["trace"] == nil {
			t.Fatalf("debug credential did not unlock the trace: %s", body)
		}
	})
}

func TestCallLogRedactsQueryValues(t *testing.T) {
	t.Parallel()
	be := backend(t, "app")
	h := newHarness(t, simpleConfig(be.URL))
	resp, _ := h.do("GET", "/api/x?token=s3cr3t&page=2", nil, "")
	call := h.waitCall(resp.Header.Get("X-Request-Id"))
	if strings.Contains(call.Path, "s3cr3t") || !strings.Contains(call.Path, "token=") {
		t.Fatalf("logged path %q", call.Path)
	}
	if call.Route != "api" || call.Status != 200 || call.Revision != 1 || call.Target == "" {
		t.Fatalf("call %+v", call)
	}
}

func TestInvalidRevisionKeepsServing(t *testing.T) {
	t.Parallel()
	be := backend(t, "app")
	h := newHarness(t, simpleConfig(be.URL))
	bad := simpleConfig(be.URL) + "  - name: app\n    targets: []\n    bogus: 1\n"
	_, err := h.g.apply(context.Background(), admin.ApplyRequest{Filename: "bad.yaml", Document: []byte(bad), Source: "test"})
	var errs config.Errors
	if !errors.As(err, &errs) || len(errs) < 2 {
		t.Fatalf("want every error at once, got %v", err)
	}
	for _, e := range errs {
		if e.File != "bad.yaml" || e.Line == 0 {
			t.Errorf("error without position: %+v", e)
		}
	}
	if h.g.Revision() != 1 {
		t.Fatalf("revision %d after a rejected apply", h.g.Revision())
	}
	if resp, _ := h.do("GET", "/api/x", nil, ""); resp.StatusCode != 200 {
		t.Fatalf("old revision stopped serving: %d", resp.StatusCode)
	}
	revs, _ := h.st.ListRevisions(context.Background(), 10, 0)
	if len(revs) != 1 {
		t.Fatalf("a rejected config was stored: %d revisions", len(revs))
	}
}

func TestApplyUnchangedDryRunAndRollback(t *testing.T) {
	t.Parallel()
	a, b := backend(t, "a"), backend(t, "b")
	h := newHarness(t, simpleConfig(a.URL))
	ctx := context.Background()

	if res := h.apply(simpleConfig(a.URL)); !res.Unchanged || h.g.Revision() != 1 {
		t.Fatalf("same document made a revision: %+v", res)
	}
	dry, err := h.g.apply(ctx, admin.ApplyRequest{Filename: "b.yaml", Document: []byte(simpleConfig(b.URL)), DryRun: true})
	if err != nil || !dry.DryRun || !strings.Contains(dry.Diff, "upstream app") || h.g.Revision() != 1 {
		t.Fatalf("dry run: %+v %v", dry, err)
	}
	res := h.apply(simpleConfig(b.URL))
	if res.Revision.Number != 2 {
		t.Fatalf("revision %d", res.Revision.Number)
	}
	if _, body := h.do("GET", "/api/x", nil, ""); decode(t, body)["backend"] != "b" {
		t.Fatalf("revision 2 not served: %s", body)
	}
	rb, err := h.g.Rollback(ctx, 1, "alice")
	if err != nil || rb.Revision.Number != 3 || rb.Revision.Source != "rollback:1" || rb.Revision.Author != "alice" {
		t.Fatalf("rollback: %+v %v", rb, err)
	}
	if _, body := h.do("GET", "/api/x", nil, ""); decode(t, body)["backend"] != "a" {
		t.Fatalf("rollback not served: %s", body)
	}
}

func TestConfigFileOwnsConfiguration(t *testing.T) {
	t.Parallel()
	be := backend(t, "app")
	h := newHarness(t, simpleConfig(be.URL), func(o *Options) { o.ConfigFile = "/etc/pinpoint.yaml" })
	_, err := h.g.Apply(context.Background(), admin.ApplyRequest{Document: []byte(simpleConfig(be.URL))})
	var owned *admin.OwnedByFileError
	if !errors.As(err, &owned) || owned.File != "/etc/pinpoint.yaml" {
		t.Fatalf("admin apply not refused: %v", err)
	}
	if _, err := h.g.Rollback(context.Background(), 1, "x"); !errors.As(err, &owned) {
		t.Fatalf("rollback not refused: %v", err)
	}
}

type panicStage struct{}

func (panicStage) Name() string                                { return "boom" }
func (panicStage) Handle(*pipeline.Exchange) pipeline.Decision { panic("stage bug") }

func TestPanicBecomesInternalError(t *testing.T) {
	t.Parallel()
	be := backend(t, "app")
	h := newHarness(t, simpleConfig(be.URL))
	snap := h.g.Current()
	m, _, _ := snap.routes.Match("127.0.0.1", "GET", "/api/x", make([]pipeline.Param, pipeline.MaxParams))
	m.Value.stages = []pipeline.Stage{panicStage{}}
	resp, body := h.do("GET", "/api/x", nil, "")
	problemBody(t, resp, body, 500, "gateway.internal_error")
	if strings.Contains(body, "stage bug") {
		t.Fatalf("panic value leaked: %s", body)
	}
}

func TestNotReadyWithoutRevision(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "")
	resp, body := h.do("GET", "/", nil, "")
	problemBody(t, resp, body, 503, "gateway.not_ready")
	if h.g.Ready() == nil {
		t.Fatal("ready without a revision")
	}
}

// A route may raise a limit above the gateway's: the accept stage admits up
// to the widest route limit and every route re-checks its own.
func TestRouteRaisesBodyLimit(t *testing.T) {
	t.Parallel()
	be := backend(t, "app")
	doc := strings.Replace(simpleConfig(be.URL), "listeners:", "gateway:\n  limits: {max_body_bytes: 16}\nlisteners:", 1)
	doc = strings.Replace(doc, "    strip_prefix: true\n", "    strip_prefix: true\n    limits: {max_body_bytes: 64}\n", 1)
	doc = strings.Replace(doc, "    methods: [GET, DELETE]\n", "    methods: [GET, DELETE, PUT]\n", 1)
	h := newHarness(t, doc)
	if resp, body := h.do("POST", "/api/upload", nil, strings.Repeat("x", 40)); resp.StatusCode != 200 {
		t.Fatalf("route limit 64 refused 40 bytes: %d %s", resp.StatusCode, body)
	}
	resp, body := h.do("PUT", "/users/1", nil, strings.Repeat("x", 40))
	problemBody(t, resp, body, 413, "request.body_too_large")
}
