package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/analytics"
)

// `pinpoint serve` counts every request in the roll-ups and writes what it
// counted when it shuts down, even long before its flush interval; the
// next run's `pinpoint stats` shows it.
func TestServeFlushesRollupsAtShutdown(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer backend.Close()
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "pinpoint-data")
	proxy, adminAddr := freePort(t), freePort(t)
	cfg := filepath.Join(dir, "gw.yaml")
	doc := fmt.Sprintf(`version: 1
listeners:
  - {name: public, kind: proxy, address: "%s"}
  - {name: admin, kind: admin, address: "%s"}
routes:
  - name: app
    paths: ["/app"]
    upstream: u
upstreams:
  - name: u
    targets: [{url: %q}]
analytics:
  flush_interval: 5m
`, proxy, adminAddr, backend.URL)
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, dir, "--config", cfg)
	token := waitToken(t, dataDir, p)
	waitReady(t, adminAddr, p)
	for _, path := range []string{"/app", "/app", "/app", "/nope", "/nope"} {
		resp, err := http.Get("http://" + proxy + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	p.stop(t)

	p = startServe(t, dir, "--config", cfg)
	waitReady(t, adminAddr, p)
	cmd := exec.Command(binary(t), "stats", "--since", "1h", "--json", "--admin", "http://"+adminAddr, "--token", token)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pinpoint stats: %v\n%s", err, out)
	}
	var got struct {
		Summary analytics.Summary `json:"summary"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	s := got.Summary
	if s.Requests != 5 || s.Denied != 2 || len(s.TopCodes) != 1 || s.TopCodes[0].Name != "route.not_found" {
		t.Fatalf("after restart: %d requests, %d refused, codes %+v; want 5, 2, route.not_found", s.Requests, s.Denied, s.TopCodes)
	}
	p.stop(t)
}
