package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	f := newCLIFixture(t)
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		code   int
		stdout string
		golden string // compares stderr
	}{
		{name: "valid", args: []string{"validate", "-f", "testdata/valid.yaml"}, stdout: "testdata/valid.yaml: valid (1 route, 1 upstream)\n"},
		{name: "plural", args: []string{"validate", "-f", "testdata/valid2.yaml"}, stdout: "testdata/valid2.yaml: valid (2 routes, 1 upstream)\n"},
		{name: "environment set", env: map[string]string{"ORDERS_URL": "http://10.0.0.5:8080"},
			args: []string{"validate", "-f", "testdata/env.yaml"}, stdout: "testdata/env.yaml: valid (1 route, 1 upstream)\n"},
		{name: "environment missing", args: []string{"validate", "-f", "testdata/env.yaml"}, code: exitFailure, golden: "validate_env_missing"},
		{name: "two errors", args: []string{"validate", "-f", "testdata/invalid.yaml"}, code: exitFailure, golden: "validate_invalid"},
		{name: "many errors", args: []string{"validate", "-f", "testdata/many_errors.yaml"}, code: exitFailure, golden: "validate_many_errors"},
		{name: "missing file", args: []string{"validate", "-f", "testdata/nope.yaml"}, code: exitFailure, golden: "validate_missing_file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := *f
			g.env = tc.env
			// validate needs no server: no --admin, no token.
			r := g.runCtx(t.Context(), t, nil, tc.args...)
			wantCode(t, r, tc.code)
			if r.stdout != tc.stdout {
				t.Errorf("stdout %q, want %q", r.stdout, tc.stdout)
			}
			if tc.golden != "" {
				checkGolden(t, tc.golden, r.stderr)
			} else if r.stderr != "" {
				t.Errorf("stderr %q", r.stderr)
			}
		})
	}
	t.Run("stdin", func(t *testing.T) {
		t.Parallel()
		doc, err := os.ReadFile("testdata/valid2.yaml")
		if err != nil {
			t.Fatal(err)
		}
		g := *f
		g.stdin = string(doc)
		r := g.runCtx(t.Context(), t, nil, "validate", "-f", "-")
		wantCode(t, r, exitOK)
		if r.stdout != "stdin: valid (2 routes, 1 upstream)\n" {
			t.Errorf("stdout %q", r.stdout)
		}
	})
	t.Run("json", func(t *testing.T) {
		t.Parallel()
		r := f.runCtx(t.Context(), t, nil, "validate", "-f", "testdata/invalid.yaml", "-o", "json")
		wantCode(t, r, exitFailure)
		var out validateOut
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("%v\n%s", err, r.stdout)
		}
		if out.Valid || len(out.Errors) != 2 || out.Errors[0].Line != 6 || out.Errors[0].Path != "routes[0].upstream" {
			t.Errorf("JSON output %+v", out)
		}
	})
}

// TestApplyAndRevisions drives one gateway through the CLI; steps build on
// each other.
func TestApplyAndRevisions(t *testing.T) {
	t.Parallel()
	f := newCLIFixture(t)
	steps := []struct {
		name   string
		args   []string
		code   int
		stdout string
		golden string // compares stdout, or stderr on failure
	}{
		{name: "dry run", args: []string{"apply", "-f", "testdata/valid.yaml", "--dry-run"},
			stdout: "+ gateway\n+ listener admin\n+ listener public\n+ upstream orders\n+ route orders\ndry run: the configuration is valid; nothing was applied\n"},
		{name: "apply", args: []string{"apply", "-f", "testdata/valid.yaml"},
			stdout: "+ gateway\n+ listener admin\n+ listener public\n+ upstream orders\n+ route orders\napplied as revision 1\n"},
		{name: "apply again", args: []string{"apply", "-f", "testdata/valid.yaml"}, stdout: "no changes: revision 1 stays current\n"},
		{name: "dry run unchanged", args: []string{"apply", "-f", "testdata/valid.yaml", "--dry-run"}, stdout: "dry run: no changes\n"},
		{name: "change", args: []string{"apply", "-f", "testdata/valid2.yaml"},
			stdout: "~ upstream orders: targets[0].url\n+ route users\napplied as revision 2\n"},
		{name: "rejected", args: []string{"apply", "-f", "testdata/invalid.yaml"}, code: exitFailure, golden: "apply_invalid"},
		{name: "rollback", args: []string{"revisions", "rollback", "1"},
			stdout: "~ upstream orders: targets[0].url\n- route users\nrolled back to revision 1 as revision 3\n"},
		{name: "rollback to current", args: []string{"revisions", "rollback", "3"}, stdout: "no changes: revision 3 stays current\n"},
		{name: "list", args: []string{"revisions"}, golden: "revisions"},
		{name: "list page", args: []string{"revisions", "--limit", "1", "--before", "3"}, golden: "revisions_page"},
		{name: "show", args: []string{"revisions", "show", "2"}, golden: "revisions_show"},
		{name: "show current document", args: []string{"revisions", "show", "current", "--document"}, golden: "revisions_show_document"},
		{name: "rollback missing", args: []string{"revisions", "rollback", "9"}, code: exitFailure, golden: "rollback_missing"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			r := f.run(t, s.args...)
			wantCode(t, r, s.code)
			switch {
			case s.golden != "" && s.code == exitOK:
				checkGolden(t, s.golden, r.stdout)
			case s.golden != "":
				checkGolden(t, s.golden, r.stderr)
			case r.stdout != s.stdout:
				t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, s.stdout)
			}
		})
	}
	t.Run("json list", func(t *testing.T) {
		r := f.run(t, "revisions", "-o", "json")
		wantCode(t, r, exitOK)
		var out struct{ Revisions []store.Revision }
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out.Revisions) != 3 {
			t.Errorf("JSON %s: %v", r.stdout, err)
		}
	})
}

func TestApplyOwnedByFile(t *testing.T) {
	t.Parallel()
	f := newCLIFixture(t)
	f.ctl.OwnedBy = "/etc/pinpoint/gateway.yaml"
	r := f.run(t, "apply", "-f", "testdata/valid.yaml")
	wantCode(t, r, exitFailure)
	checkGolden(t, "apply_owned_by_file", r.stderr)
}

// seedLog stores calls at fixed times, oldest first.
func seedLog(t *testing.T, f *cliFixture, base time.Time, ids ...string) {
	t.Helper()
	var calls []store.Call
	for i, id := range ids {
		c := store.Call{
			RequestID: id, Time: base.Add(time.Duration(i) * time.Second), Method: "GET", Host: "api.test",
			Path: "/orders/" + id, Status: 200, Route: "orders", ClientIP: "192.0.2.1", Latency: 1500 * time.Microsecond,
		}
		if strings.HasPrefix(id, "deny") {
			c.Status, c.Code, c.Layer, c.Route, c.Path = 404, "route.not_found", "gateway", "", "/nope"
		}
		if strings.HasPrefix(id, "up") {
			c.Status, c.Code, c.Layer = 403, "upstream.denied", "upstream"
		}
		calls = append(calls, c)
	}
	if err := f.st.InsertCalls(t.Context(), calls); err != nil {
		t.Fatal(err)
	}
}

func TestLogs(t *testing.T) {
	t.Parallel()
	f := newCLIFixture(t)
	seedLog(t, f, time.Date(2026, 1, 2, 15, 0, 0, 0, time.UTC), "ok1", "deny1", "up1", "ok2")
	tests := []struct {
		name   string
		args   []string
		golden string
		stderr string
	}{
		{name: "all", args: []string{"logs"}, golden: "logs_all"},
		{name: "refusals", args: []string{"logs", "--status", "4xx"}, golden: "logs_4xx"},
		{name: "by code", args: []string{"logs", "--code", "route.not_found"}, golden: "logs_code"},
		{name: "limit keeps the newest", args: []string{"logs", "--limit", "2"}, golden: "logs_limit"},
		{name: "json lines", args: []string{"logs", "--request-id", "up1", "-o", "json"}, golden: "logs_json"},
		{name: "nothing", args: []string{"logs", "--route", "nope"}, stderr: "no matching calls\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := f.run(t, tc.args...)
			wantCode(t, r, exitOK)
			if tc.golden != "" {
				checkGolden(t, tc.golden, r.stdout)
			}
			if r.stderr != tc.stderr {
				t.Errorf("stderr %q, want %q", r.stderr, tc.stderr)
			}
		})
	}
}

func TestLogsFollow(t *testing.T) {
	t.Parallel()
	f := newCLIFixture(t)
	base := time.Date(2026, 1, 2, 15, 0, 0, 0, time.UTC)
	seedLog(t, f, base, "old1", "deny-old")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	wait, waitCancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer waitCancel()
	out := &syncBuffer{written: make(chan struct{}, 1)}
	done := make(chan result, 1)
	go func() {
		done <- f.runCtx(ctx, t, out, "--admin", f.srv.URL, "--token", cliToken, "logs", "--status", "404", "--follow")
	}()
	if !out.waitFor(wait, "id=deny-old") {
		t.Fatalf("the existing record was not printed:\n%s", out.String())
	}
	seedLog(t, f, base.Add(time.Minute), "new-ok", "deny-new1", "deny-new2")
	if !out.waitFor(wait, "id=deny-new2") {
		t.Fatalf("new records were not followed:\n%s", out.String())
	}
	cancel()
	r := <-done
	wantCode(t, r, exitOK)
	checkGolden(t, "logs_follow", r.stdout)
}
