package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store/postgres/pgtest"
)

// freshSchema creates a schema of its own for the test (dropped when it
// ends) and returns a DSN whose search_path selects it. Without PostgreSQL
// the test is skipped, except under CI=true, where it fails.
func freshSchema(t *testing.T) string {
	t.Helper()
	return pgtest.FreshSchemaDSN(t)
}

// TestServeOnPostgres: migrate, then serve a config file with the store in
// PostgreSQL; a second process with another data dir and no --config
// serves the same revision from the database.
func TestServeOnPostgres(t *testing.T) {
	dsn := freshSchema(t)
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(binary(t), args...).CombinedOutput()
		if err != nil {
			t.Fatalf("pinpoint %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := run("migrate", "status", "--store", dsn); !strings.Contains(out, "PostgreSQL") || strings.Contains(out, "yes") {
		t.Fatalf("status of an empty schema:\n%s", out)
	}
	if out := run("migrate", "up", "--store", dsn); strings.Contains(out, " no ") || !strings.Contains(out, "yes") {
		t.Fatalf("after up:\n%s", out)
	}
	if strings.Contains(run("migrate", "status", "--store", dsn), "password") {
		t.Fatal("unexpected output")
	}

	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("from-backend")) }))
	defer backend.Close()
	dir := t.TempDir()
	proxy, adminAddr := freePort(t), freePort(t)
	cfg := filepath.Join(dir, "gw.yaml")
	if err := os.WriteFile(cfg, []byte(configOn(proxy, adminAddr, backend.URL, "pg")), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, dir, "--config", cfg, "--store", dsn, "--data-dir", filepath.Join(dir, "node1"))
	if _, ok := p.stdout.waitFor(regexp.MustCompile(`store   PostgreSQL 127\.0\.0\.1:5432/test`), 30*time.Second); !ok {
		t.Fatalf("banner does not name the PostgreSQL store:\n%s\nstderr:\n%s", p.stdout, p.stderr)
	}
	get := func() string {
		t.Helper()
		resp, err := http.Get("http://" + proxy + "/x")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b := make([]byte, 64)
		n, _ := resp.Body.Read(b)
		return string(b[:n])
	}
	if got := get(); got != "from-backend" {
		t.Fatalf("through node 1: %q", got)
	}
	p.stop(t)

	p2 := startServe(t, dir, "--store", dsn, "--data-dir", filepath.Join(dir, "node2"))
	if _, ok := p2.stdout.waitFor(regexp.MustCompile(`serving revision 1 `), 30*time.Second); !ok {
		t.Fatalf("node 2 does not serve the stored revision:\n%s\nstderr:\n%s", p2.stdout, p2.stderr)
	}
	if got := get(); got != "from-backend" {
		t.Fatalf("through node 2: %q", got)
	}
	p2.stop(t)
}

func TestStoreLocation(t *testing.T) {
	t.Setenv(envStore, "")
	for _, tc := range []struct{ flag, want string }{
		{"", filepath.Join("d", "pinpoint.db")},
		{"/var/lib/p.db", "/var/lib/p.db"},
		{"postgres://u:pw@db/p", "postgres://u:pw@db/p"},
		{"postgresql://db/p", "postgresql://db/p"},
	} {
		if got, err := storeLocation(tc.flag, "d"); err != nil || got != tc.want {
			t.Errorf("storeLocation(%q) = %q, %v; want %q", tc.flag, got, err, tc.want)
		}
	}
	if _, err := storeLocation("mysql://db/p", "d"); err == nil {
		t.Error("a mysql:// store was accepted")
	}
	if d := describeStore("postgres://u:secret@db.internal:5432/p?sslmode=require"); d != "PostgreSQL db.internal:5432/p" || strings.Contains(d, "secret") {
		t.Errorf("describeStore = %q", d)
	}
}
