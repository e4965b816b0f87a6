package main

import (
	"bytes"
	"context"
	"flag"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/admin/admintest"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

const cliToken = "ppadm_test-token-for-the-cli-tests-000000"

// cliFixture is an admin API over a real store, for the CLI to talk to.
type cliFixture struct {
	st  *sqlite.Store
	ctl *admintest.Control
	srv *httptest.Server
	env map[string]string
	// stdin is what the command reads from standard input.
	stdin string
}

func newCLIFixture(t *testing.T) *cliFixture {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "pinpoint.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.CreateAdminToken(t.Context(), "ops", admin.HashToken(cliToken)); err != nil {
		t.Fatal(err)
	}
	ctl := admintest.New(st)
	ctl.Now = admintest.Clock(time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC))
	srv := httptest.NewServer(admin.NewHandler(admin.Options{Control: ctl, Store: st, Version: "test"}))
	t.Cleanup(srv.Close)
	return &cliFixture{st: st, ctl: ctl, srv: srv, env: map[string]string{}}
}

// result is one CLI run.
type result struct {
	stdout, stderr string
	code           int
}

// run executes the CLI against the fixture with its URL and token.
func (f *cliFixture) run(t *testing.T, args ...string) result {
	t.Helper()
	return f.runCtx(t.Context(), t, nil, append([]string{"--admin", f.srv.URL, "--token", cliToken}, args...)...)
}

// runCtx executes the CLI with exactly args; out receives stdout when set.
func (f *cliFixture) runCtx(ctx context.Context, t *testing.T, out *syncBuffer, args ...string) result {
	t.Helper()
	var stdout, stderr syncBuffer
	if out == nil {
		out = &stdout
	}
	c := &cli{
		stdin:  strings.NewReader(f.stdin),
		stdout: out,
		stderr: &stderr,
		lookupEnv: func(k string) (string, bool) {
			v, ok := f.env[k]
			return v, ok
		},
		httpClient:   f.srv.Client(),
		loc:          time.UTC,
		pollInterval: 10 * time.Millisecond,
	}
	code := run(ctx, args, c)
	return result{stdout: out.String(), stderr: stderr.String(), code: code}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine,
// which signals every write.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	written chan struct{}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.written != nil {
		select {
		case b.written <- struct{}{}:
		default:
		}
	}
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// waitFor blocks until the buffer contains s or ctx ends.
func (b *syncBuffer) waitFor(ctx context.Context, s string) bool {
	for {
		if strings.Contains(b.String(), s) {
			return true
		}
		select {
		case <-b.written:
		case <-ctx.Done():
			return strings.Contains(b.String(), s)
		}
	}
}

// requestIDs in CLI output differ per run.
var requestIDRE = regexp.MustCompile(`request [0-9a-f-]{36}`)

// checkGolden compares got with testdata/NAME.golden.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	got = requestIDRE.ReplaceAllString(got, "request <request-id>")
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/pinpoint -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s--- want\n%s", name, got, want)
	}
}

func wantCode(t *testing.T, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

func TestUsageErrorsExitWithStatus2(t *testing.T) {
	t.Parallel()
	f := newCLIFixture(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate" for "pinpoint"`},
		{"unknown flag", []string{"validate", "--nope"}, "unknown flag: --nope"},
		{"missing file flag", []string{"validate"}, "-f FILE is required"},
		{"apply without file", []string{"apply"}, "-f FILE is required"},
		{"bad output", []string{"version", "-o", "yaml"}, `--output "yaml": want text or json`},
		{"bad admin URL", []string{"revisions", "--admin", "ftp://x"}, `--admin "ftp://x"`},
		{"revision not a number", []string{"revisions", "show", "abc"}, `revision "abc": want a positive number`},
		{"rollback without revision", []string{"revisions", "rollback"}, "accepts 1 arg(s), received 0"},
		{"unknown revisions subcommand", []string{"revisions", "frob"}, `unknown command "frob" for "pinpoint revisions"`},
		{"bad status filter", []string{"logs", "--status", "4x"}, `--status "4x"`},
		{"bad since", []string{"logs", "--since", "yesterday"}, `--since "yesterday"`},
		{"bad limit", []string{"logs", "--limit", "0"}, "--limit must be between 1 and 10000"},
		{"bad int flag", []string{"revisions", "--limit", "many"}, `invalid argument "many"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := f.runCtx(t.Context(), t, nil, tc.args...)
			wantCode(t, r, exitUsage)
			if !strings.Contains(r.stderr, "error: "+tc.want) && !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tc.want)
			}
			if !strings.Contains(r.stderr, "--help' for usage.") {
				t.Errorf("stderr %q does not point to --help", r.stderr)
			}
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	t.Parallel()
	f := newCLIFixture(t)
	t.Run("bare pinpoint prints help", func(t *testing.T) {
		t.Parallel()
		r := f.runCtx(t.Context(), t, nil)
		wantCode(t, r, exitOK)
		for _, cmd := range []string{"serve", "validate", "apply", "revisions", "logs", "version"} {
			if !strings.Contains(r.stdout, "  "+cmd) {
				t.Errorf("help does not list %s:\n%s", cmd, r.stdout)
			}
		}
	})
	t.Run("every command documents itself", func(t *testing.T) {
		t.Parallel()
		root := newRootCmd(&cli{})
		for _, cmd := range root.Commands() {
			if cmd.Name() == "serve" || cmd.Name() == "help" || cmd.Name() == "completion" {
				continue
			}
			for _, c := range append(cmd.Commands(), cmd) {
				if c.Short == "" || c.Long == "" || c.Example == "" {
					t.Errorf("%s lacks Short, Long or Example", c.CommandPath())
				}
			}
		}
	})
	t.Run("version", func(t *testing.T) {
		t.Parallel()
		r := f.runCtx(t.Context(), t, nil, "version")
		wantCode(t, r, exitOK)
		if !regexp.MustCompile(`^pinpoint \S+\ncommit: +\S.*\ngo: +go1\.\S+\nplatform: +\w+/\w+\n$`).MatchString(r.stdout) {
			t.Errorf("version output:\n%s", r.stdout)
		}
		j := f.runCtx(t.Context(), t, nil, "version", "-o", "json")
		wantCode(t, j, exitOK)
		if !strings.Contains(j.stdout, `"go": "go1.`) {
			t.Errorf("version JSON:\n%s", j.stdout)
		}
	})
}

func TestServerErrors(t *testing.T) {
	t.Parallel()
	f := newCLIFixture(t)
	t.Run("problem from the server", func(t *testing.T) {
		t.Parallel()
		r := f.run(t, "revisions", "show", "99")
		wantCode(t, r, exitFailure)
		checkGolden(t, "error_not_found", r.stderr)
	})
	t.Run("problem as JSON", func(t *testing.T) {
		t.Parallel()
		r := f.run(t, "revisions", "show", "99", "-o", "json")
		wantCode(t, r, exitFailure)
		if !strings.Contains(r.stdout, `"code": "admin.not_found"`) {
			t.Errorf("stdout:\n%s", r.stdout)
		}
	})
	t.Run("no token", func(t *testing.T) {
		t.Parallel()
		r := f.runCtx(t.Context(), t, nil, "revisions", "--admin", f.srv.URL, "--token-file", filepath.Join(t.TempDir(), "none"))
		wantCode(t, r, exitFailure)
		if !strings.Contains(r.stderr, "error: Admin token required: ") || !strings.Contains(r.stderr, "hint: no admin token was sent") {
			t.Errorf("stderr:\n%s", r.stderr)
		}
	})
	t.Run("wrong token", func(t *testing.T) {
		t.Parallel()
		r := f.runCtx(t.Context(), t, nil, "revisions", "--admin", f.srv.URL, "--token", "ppadm_wrong-wrong-wrong-wrong-wrong")
		wantCode(t, r, exitFailure)
		if !strings.Contains(r.stderr, "does not know the token from --token") || strings.Contains(r.stderr, "wrong-wrong") {
			t.Errorf("stderr:\n%s", r.stderr)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		r := f.runCtx(t.Context(), t, nil, "revisions", "--admin", addr, "--token", cliToken)
		wantCode(t, r, exitFailure)
		want := "error: cannot reach the admin API at http://" + addr + ": connection refused\n" +
			"hint: is 'pinpoint serve' running? This command looked for it at http://" + addr
		if !strings.HasPrefix(r.stderr, want) {
			t.Errorf("stderr:\n%s\nwant prefix:\n%s", r.stderr, want)
		}
	})
}

func TestTokenAndAddressSources(t *testing.T) {
	t.Parallel()
	f := newCLIFixture(t)
	tokenFile := filepath.Join(t.TempDir(), "admin-token")
	if err := os.WriteFile(tokenFile, []byte(cliToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"token file", nil, []string{"--admin", f.srv.URL, "--token-file", tokenFile}},
		{"environment", map[string]string{envAdminURL: f.srv.URL, envAdminToken: cliToken}, nil},
		{"flag beats environment", map[string]string{envAdminURL: "http://127.0.0.1:1", envAdminToken: "ppadm_wrong"},
			[]string{"--admin", f.srv.URL, "--token", cliToken}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := *f
			g.env = tc.env
			r := g.runCtx(t.Context(), t, nil, append([]string{"revisions"}, tc.args...)...)
			wantCode(t, r, exitOK)
			if !strings.Contains(r.stdout, "no revisions yet") {
				t.Errorf("stdout:\n%s", r.stdout)
			}
		})
	}
}

func TestResolveBuild(t *testing.T) {
	t.Parallel()
	checkout := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "1ec7f38"}, {Key: "vcs.modified", Value: "true"},
	}}
	tests := []struct {
		name         string
		v, c         string
		info         *debug.BuildInfo
		wantV, wantC string
	}{
		{"ldflags win", "1.4.0", "abc", checkout, "1.4.0", "abc"},
		{"checkout", "", "", checkout, "dev", "1ec7f38 (modified)"},
		{"go install", "", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, "v1.4.0", "unknown"},
		{"nothing known", "", "", nil, "dev", "unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, c := resolveBuild(tc.v, tc.c, tc.info)
			if v != tc.wantV || c != tc.wantC {
				t.Errorf("resolveBuild = %q, %q; want %q, %q", v, c, tc.wantV, tc.wantC)
			}
		})
	}
}
