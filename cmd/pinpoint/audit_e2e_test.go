package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// A real `pinpoint serve` records its admin token, the file's revision, a
// rejected edit of the file and a change made with the CLI, and `pinpoint
// audit` shows them with the right actors.
func TestAuditEndToEnd(t *testing.T) {
	dir := t.TempDir()
	proxy, adminAddr := freePort(t), freePort(t)
	cfg := filepath.Join(dir, "gw.yaml")
	doc := configOn(proxy, adminAddr, "http://127.0.0.1:9", "audit")
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, dir, "--config", cfg)
	token := waitToken(t, filepath.Join(dir, "pinpoint-data"), p)
	waitReady(t, adminAddr, p)
	cli := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(binary(t), append([]string{"--admin", "http://" + adminAddr}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PINPOINT_ADMIN_TOKEN=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("pinpoint %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	cli("consumers", "create", "orders-app")
	if err := os.WriteFile(cfg, []byte(doc+"bogus_section: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var entries []store.AuditEntry
	deadline := time.Now().Add(20 * time.Second)
	for {
		entries = entries[:0]
		for _, line := range strings.Split(strings.TrimSpace(cli("audit", "--json", "--limit", "100")), "\n") {
			var e store.AuditEntry
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			entries = append(entries, e)
		}
		if strings.Contains(fmtActions(entries), store.AuditConfigRejected) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	got := map[string]store.AuditEntry{}
	for _, e := range entries {
		got[e.Action] = e
	}
	checks := []struct{ action, actor, source string }{
		{store.AuditAdminTokenCreated, store.AuditSystemActor, "serve"},
		{store.AuditRevisionApplied, "file", "file:" + cfg},
		{store.AuditConsumerCreated, "bootstrap", "admin-api"},
		{store.AuditConfigRejected, "file", "file:" + cfg},
	}
	for _, c := range checks {
		e, ok := got[c.action]
		if !ok || e.Actor != c.actor || e.Source != c.source {
			t.Errorf("%s: %+v, want actor %s source %s; all: %+v", c.action, e, c.actor, c.source, entries)
		}
	}
	p.stop(t)
	if strings.Contains(p.stderr.String(), token) {
		t.Fatal("the admin token reached the log")
	}
}

func fmtActions(entries []store.AuditEntry) string {
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(e.Action + " ")
	}
	return b.String()
}
