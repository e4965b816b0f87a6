package admin_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/admin"
)

// protected lists every endpoint that needs a token.
var protected = []struct{ method, path string }{
	{"GET", "/metrics"},
	{"GET", "/admin/version"},
	{"GET", "/admin/revisions"},
	{"GET", "/admin/revisions/current"},
	{"GET", "/admin/revisions/1"},
	{"POST", "/admin/revisions/1/rollback"},
	{"POST", "/admin/config"},
	{"POST", "/admin/config?dry_run=true"},
	{"POST", "/admin/config/validate"},
	{"GET", "/admin/calls"},
	{"GET", "/admin/calls/some-request"},
	{"GET", "/debug/pprof/"},
	{"GET", "/debug/pprof/heap"},
	// Wrong methods on protected paths are refused before the 405 too.
	{"DELETE", "/admin/config"},
	{"PUT", "/admin/revisions"},
}

func TestAuthenticationIsRequiredOnEveryProtectedEndpoint(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.apply(t, "valid.yaml")
	const wrong = "ppadm_this-token-is-not-stored-anywhere-00"
	for _, ep := range protected {
		for _, tc := range []struct {
			name, header, challenge string
		}{
			{"no token", "", `Bearer realm="pinpoint-admin"`},
			{"wrong token", "Bearer " + wrong, `Bearer realm="pinpoint-admin", error="invalid_token"`},
			{"wrong scheme", "Basic " + wrong, `Bearer realm="pinpoint-admin"`},
			{"empty bearer", "Bearer ", `Bearer realm="pinpoint-admin"`},
			{"right token in another scheme", "Token " + testToken, `Bearer realm="pinpoint-admin"`},
		} {
			t.Run(ep.method+" "+ep.path+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				req, err := http.NewRequestWithContext(t.Context(), ep.method, f.srv.URL+ep.path, strings.NewReader("version: 1\n"))
				if err != nil {
					t.Fatal(err)
				}
				if tc.header != "" {
					req.Header.Set("Authorization", tc.header)
				}
				resp, err := f.srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				r := response{status: resp.StatusCode, header: resp.Header}
				if err := json.NewDecoder(resp.Body).Decode(&json.RawMessage{}); err != nil {
					t.Fatalf("body is not JSON: %v", err)
				}
				if r.status != http.StatusUnauthorized {
					t.Fatalf("status %d, want 401", r.status)
				}
				if got := r.header.Get("WWW-Authenticate"); got != tc.challenge {
					t.Errorf("WWW-Authenticate = %q, want %q", got, tc.challenge)
				}
			})
		}
		t.Run(ep.method+" "+ep.path+"/token text is not echoed", func(t *testing.T) {
			t.Parallel()
			r := f.do(t, ep.method, ep.path, wrong, []byte("version: 1\n"))
			p := decodeProblem(t, r)
			if p.Code != "admin.unauthorized" {
				t.Errorf("code %q, want admin.unauthorized", p.Code)
			}
			if strings.Contains(string(r.body), wrong) || strings.Contains(string(r.body), "not-stored") {
				t.Errorf("the body repeats the token: %s", r.body)
			}
		})
		t.Run(ep.method+" "+ep.path+"/valid token passes", func(t *testing.T) {
			t.Parallel()
			r := f.do(t, ep.method, ep.path, testToken, []byte("version: 1\n"))
			if r.status == http.StatusUnauthorized {
				t.Fatalf("valid token refused: %s", r.body)
			}
		})
	}
}

func TestProbes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	check := func(t *testing.T, path string, status int, want string) {
		t.Helper()
		r := f.do(t, "GET", path, "", nil)
		if r.status != status || strings.TrimSpace(string(r.body)) != want {
			t.Errorf("GET %s = %d %s, want %d %s", path, r.status, r.body, status, want)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
	}
	// One sequence: the gateway becomes ready, then loses its listeners.
	t.Run("healthz", func(t *testing.T) { check(t, "/healthz", 200, `{"status":"ok"}`) })
	t.Run("readyz before any revision", func(t *testing.T) {
		check(t, "/readyz", 503, `{"ready":false,"revision":0,"reason":"no configuration has been applied yet","store":"ok"}`)
	})
	f.apply(t, "valid.yaml")
	t.Run("readyz serving", func(t *testing.T) { check(t, "/readyz", 200, `{"ready":true,"revision":1,"store":"ok"}`) })
	f.ctl.SetNotReady(errors.New("listener public is not up"))
	t.Run("readyz listeners down", func(t *testing.T) {
		check(t, "/readyz", 503, `{"ready":false,"revision":1,"reason":"listener public is not up","store":"ok"}`)
	})
	t.Run("client", func(t *testing.T) {
		rd, err := f.client.Ready(t.Context())
		if err != nil || rd.Ready || rd.Revision != 1 || rd.Reason == "" {
			t.Errorf("Ready() = %+v, %v", rd, err)
		}
		if err := f.client.Health(t.Context()); err != nil {
			t.Errorf("Health() = %v", err)
		}
	})
	t.Run("HEAD healthz", func(t *testing.T) {
		r := f.do(t, "HEAD", "/healthz", "", nil)
		if r.status != 200 || len(r.body) != 0 {
			t.Errorf("HEAD /healthz = %d %q", r.status, r.body)
		}
	})
}

func TestMetricsAndVersion(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *admin.Options) { o.ConfigFile = "/etc/pinpoint/gateway.yaml" })
	m, err := f.client.Metrics(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(m), "pinpoint_test_requests_total 3") {
		t.Errorf("metrics do not hold the registry's counter:\n%s", m)
	}
	v, err := f.client.Version(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := admin.VersionInfo{Version: "1.2.3-test", Revision: 0, ConfigFile: "/etc/pinpoint/gateway.yaml"}
	if v != want {
		t.Errorf("Version() = %+v, want %+v", v, want)
	}
}

func TestMetricsAbsentWithoutHandler(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *admin.Options) { o.Metrics = nil })
	r := f.do(t, "GET", "/metrics", testToken, nil)
	if p := decodeProblem(t, r); p.Code != "admin.not_found" {
		t.Errorf("GET /metrics without a handler: %d %s", r.status, p.Code)
	}
}

func TestProblemGoldens(t *testing.T) {
	t.Parallel()
	big := make([]byte, admin.MaxDocumentBytes+1)
	for i := range big {
		big[i] = '#'
	}
	tests := []struct {
		name, method, path, token string
		body                      []byte
		options                   func(*admin.Options)
		owned                     string // Control refuses writes for this file
	}{
		{name: "unauthorized_missing", method: "GET", path: "/admin/revisions"},
		{name: "unauthorized_invalid", method: "GET", path: "/admin/revisions", token: "ppadm_unknown-token-0000000000000000000000"},
		{name: "not_found_path", method: "GET", path: "/admin/nope"},
		{name: "not_found_root", method: "GET", path: "/"},
		{name: "method_not_allowed_post", method: "GET", path: "/admin/config", token: testToken},
		{name: "method_not_allowed_get", method: "DELETE", path: "/admin/revisions/1", token: testToken},
		{name: "method_not_allowed_public", method: "POST", path: "/healthz"},
		{name: "revision_not_found", method: "GET", path: "/admin/revisions/99", token: testToken},
		{name: "current_revision_none", method: "GET", path: "/admin/revisions/current", token: testToken},
		{name: "rollback_not_found", method: "POST", path: "/admin/revisions/99/rollback", token: testToken},
		{name: "bad_revision_number", method: "GET", path: "/admin/revisions/abc", token: testToken},
		{name: "bad_limit", method: "GET", path: "/admin/revisions?limit=0", token: testToken},
		{name: "bad_dry_run", method: "POST", path: "/admin/config?dry_run=maybe", token: testToken},
		{name: "call_not_found", method: "GET", path: "/admin/calls/01JDXXXXXXXX", token: testToken},
		{name: "bad_status_filter", method: "GET", path: "/admin/calls?status=6xx", token: testToken},
		{name: "config_invalid", method: "POST", path: "/admin/config?filename=orders.yaml", token: testToken, body: []byte("invalid.yaml")},
		{name: "validate_invalid", method: "POST", path: "/admin/config/validate", token: testToken, body: []byte("invalid.yaml")},
		{name: "body_too_large", method: "POST", path: "/admin/config", token: testToken, body: big},
		{name: "owned_by_file", method: "POST", path: "/admin/config", token: testToken, body: []byte("valid.yaml"),
			options: func(o *admin.Options) { o.ConfigFile = "/etc/pinpoint/gateway.yaml" }},
		{name: "owned_by_file_rollback", method: "POST", path: "/admin/revisions/1/rollback", token: testToken,
			options: func(o *admin.Options) { o.ConfigFile = "/etc/pinpoint/gateway.yaml" }},
		{name: "owned_by_file_from_control", method: "POST", path: "/admin/config", token: testToken, body: []byte("valid.yaml"),
			owned: "/srv/pinpoint.yaml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var opts []func(*admin.Options)
			if tc.options != nil {
				opts = append(opts, tc.options)
			}
			f := newFixture(t, opts...)
			f.ctl.OwnedBy = tc.owned
			body := tc.body
			if name := string(body); strings.HasSuffix(name, ".yaml") {
				body = readTestdata(t, name)
			}
			checkGolden(t, tc.name, f.do(t, tc.method, tc.path, tc.token, body))
		})
	}
}

func TestStoreFailureIsNotDisclosed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if err := f.st.Close(); err != nil {
		t.Fatal(err)
	}
	r := f.do(t, "GET", "/admin/revisions", testToken, nil)
	p := decodeProblem(t, r)
	if r.status != http.StatusServiceUnavailable || p.Code != "admin.store_unavailable" {
		t.Fatalf("got %d %s, want 503 admin.store_unavailable", r.status, p.Code)
	}
	for _, leak := range []string{"sql", "closed", "sqlite", f.dir} {
		if strings.Contains(strings.ToLower(string(r.body)), strings.ToLower(leak)) {
			t.Errorf("body discloses %q: %s", leak, r.body)
		}
	}
	checkGolden(t, "store_unavailable", r)
}
