package gateway

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// scrapeMetrics fetches /metrics the way Prometheus does.
func scrapeMetrics(t *testing.T, h *harness) []byte {
	t.Helper()
	srv := httptest.NewServer(h.g.o.Metrics.Handler())
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/metrics", nil)
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("scrape: %d %v", resp.StatusCode, err)
	}
	return b
}

// TestMetricsExposition sends traffic of every kind (served, refused by the
// gateway, refused by the upstream), then checks the scrape with promlint
// (what `promtool check metrics` runs) and, when it is installed, with
// promtool itself.
func TestMetricsExposition(t *testing.T) {
	t.Parallel()
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/forbidden") {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(be.Close)
	h := newHarness(t, `version: 1
listeners:
  - {name: public, kind: proxy, address: "127.0.0.1:0"}
routes:
  - name: api
    paths: ["/api/*"]
    strip_prefix: true
    upstream: app
  - name: limited
    paths: ["/limited"]
    upstream: app
    rate_limits: [{name: tiny, rate: 1/m, key: ip}]
  - name: broken
    paths: ["/broken"]
    upstream: down
  - name: ejected
    paths: ["/ejected"]
    upstream: gone
upstreams:
  - name: app
    targets: [{url: "`+be.URL+`"}]
    circuit_breaker: {enabled: true, min_requests: 100}
  - name: down
    targets: [{url: "http://`+closedAddr(t)+`"}]
    health_check: {passive: {consecutive_failures: -1}}
    circuit_breaker: {enabled: true, min_requests: 2, failure_ratio: 0.5}
  - name: gone
    targets: [{url: "http://`+closedAddr(t)+`"}]
    health_check: {passive: {consecutive_failures: 1}}
`)
	for _, c := range []struct {
		path   string
		status int
	}{
		{"/api/ok", 200}, {"/nowhere", 404}, {"/api/forbidden", 403}, {"/limited", 200}, {"/limited", 429},
		{"/broken", 502}, {"/broken", 502}, {"/broken", 503}, {"/ejected", 502}, {"/ejected", 503},
	} {
		if resp, body := h.do("GET", c.path, nil, ""); resp.StatusCode != c.status {
			t.Fatalf("GET %s: %d, want %d: %s", c.path, resp.StatusCode, c.status, body)
		}
	}

	body := scrapeMetrics(t, h)
	gone := h.g.Current().upstreams["gone"].Status()[0].URL[len("http://"):]
	problems, err := promlint.New(bytes.NewReader(body)).Lint()
	if err != nil {
		t.Fatalf("promlint could not parse the scrape: %v", err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	text := string(body)
	for _, want := range []string{
		`pinpoint_denials_total{code="route.not_found",layer="gateway",route="(none)",stage="route"} 1`,
		`pinpoint_denials_total{code="upstream.denied",layer="upstream",route="api",stage="upstream"} 1`,
		`pinpoint_denials_total{code="ratelimit.exceeded",layer="gateway",route="limited",stage="limit"} 1`,
		`pinpoint_upstream_target_healthy{target="` + be.URL + `",upstream="app"} 1`,
		`pinpoint_upstream_target_in_flight_requests{target="` + be.URL + `",upstream="app"} 0`,
		`pinpoint_upstream_circuit_state{state="closed",upstream="app"} 1`,
		`pinpoint_upstream_circuit_state{state="open",upstream="app"} 0`,
		`pinpoint_upstream_circuit_state{state="open",upstream="down"} 1`,
		`pinpoint_upstream_circuit_state{state="closed",upstream="down"} 0`,
		`pinpoint_upstream_target_healthy{target="http://` + gone + `",upstream="gone"} 0`,
		`pinpoint_denials_total{code="upstream.circuit_open",layer="gateway",route="broken",stage="upstream"} 1`,
		`pinpoint_request_duration_seconds_bucket{route="api",le="+Inf"} 2`,
		`pinpoint_config_reloads_total{outcome="applied"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", grepLines(text, "pinpoint_"))
	}

	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool not installed (Debian package prometheus; .ci/run installs it)")
		}
		t.Log("promtool not installed (Debian package prometheus): only promlint checked the exposition")
		return
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func grepLines(text, substr string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(text, "\n") {
		if strings.Contains(line, substr) {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
