package main

// End-to-end tests of the real binary: built once, run as a child process.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the pinpoint command once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pinpoint-e2e")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "pinpoint")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is a running `pinpoint serve`.
type proc struct {
	cmd    *exec.Cmd
	stdout *lineBuffer
	stderr *lineBuffer
	done   chan error
}

type lineBuffer struct {
	mu    sync.Mutex
	lines []string
	cond  *sync.Cond
}

func newLineBuffer(r io.Reader) *lineBuffer {
	b := &lineBuffer{}
	b.cond = sync.NewCond(&b.mu)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			b.mu.Lock()
			b.lines = append(b.lines, sc.Text())
			b.cond.Broadcast()
			b.mu.Unlock()
		}
	}()
	return b
}

func (b *lineBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

// waitFor returns the first line matching re, waiting up to d.
func (b *lineBuffer) waitFor(re *regexp.Regexp, d time.Duration) (string, bool) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		b.mu.Lock()
		for _, l := range b.lines {
			if re.MatchString(l) {
				b.mu.Unlock()
				return l, true
			}
		}
		b.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	return "", false
}

func startServe(t *testing.T, dir string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"serve"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PINPOINT_ADMIN_TOKEN=")
	out, _ := cmd.StdoutPipe()
	errp, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stdout: newLineBuffer(out), stderr: newLineBuffer(errp), done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (p *proc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Fatalf("serve exited with %v\nstderr:\n%s", err, p.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not stop on SIGTERM\nstderr:\n%s", p.stderr)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func portFree(addr string) bool {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// curlRE matches the banner's curl commands: optional header and method,
// the URL, then "# STATUS [code]".
var curlRE = regexp.MustCompile(`curl -i (?:-H '([^:]+): ([^']*)' )?(?:-X (\w+) )?'?([^'\s]+)'?\s+# (\d{3})(?: ([a-z_]+\.[a-z_]+))?`)

// The quickstart: `pinpoint serve` with no flags prints a banner whose curl
// commands show a success, a 404 and an upstream error, each explained.
func TestQuickstartBannerCommandsWork(t *testing.T) {
	if !portFree("127.0.0.1:8080") || !portFree("127.0.0.1:9901") {
		t.Skip("the quickstart's ports 8080/9901 are taken on this machine")
	}
	dir := t.TempDir()
	p := startServe(t, dir)
	if _, ok := p.stdout.waitFor(regexp.MustCompile(`broken/x`), 30*time.Second); !ok {
		t.Fatalf("no banner\nstdout:\n%s\nstderr:\n%s", p.stdout, p.stderr)
	}
	matches := curlRE.FindAllStringSubmatch(p.stdout.String(), -1)
	if len(matches) != 7 {
		t.Fatalf("banner has %d curl commands:\n%s", len(matches), p.stdout)
	}
	seen := map[string]bool{}
	for _, m := range matches {
		header, value, method, url, status, code := m[1], m[2], m[3], m[4], m[5], m[6]
		if method == "" {
			method = "GET"
		}
		req, err := http.NewRequest(method, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if header != "" {
			req.Header.Set(header, value)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if fmt.Sprint(resp.StatusCode) != status {
			t.Errorf("%s %s: status %d, banner says %s: %s", method, url, resp.StatusCode, status, body)
		}
		seen[status] = true
		if status != "200" {
			var prob map[string]any
			if err := json.Unmarshal(body, &prob); err != nil || prob["code"] != code || prob["detail"] == "" {
				t.Errorf("%s %s: want explained %s, got %s", method, url, code, body)
			}
			if strings.Contains(string(body), "QuickstartDemoKey") {
				t.Errorf("%s %s: the key's secret is in the refusal: %s", method, url, body)
			}
		}
	}
	for _, st := range []string{"200", "401", "403", "404", "502"} {
		if !seen[st] {
			t.Errorf("the banner shows no %s example", st)
		}
	}
	info, err := os.Stat(filepath.Join(dir, "pinpoint-data", "admin-token"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("admin token file: %v %v", info, err)
	}
	// The CLI finds the refusal in the call log through the admin API.
	deadline := time.Now().Add(10 * time.Second)
	for {
		cmd := exec.Command(binary(t), "logs", "--code", "route.not_found")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err == nil && strings.Contains(string(out), "route.not_found") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pinpoint logs: %v\n%s", err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.stop(t)
}

func configOn(proxy, adminAddr, upstreamURL, marker string) string {
	return fmt.Sprintf(`version: 1
listeners:
  - {name: public, kind: proxy, address: "%s"}
  - {name: admin, kind: admin, address: "%s"}
routes:
  - name: r
    paths: ["/*"]
    upstream: u
upstreams:
  - name: u
    targets: [{url: "%s"}]
# %s
`, proxy, adminAddr, upstreamURL, marker)
}

// Killing the process with SIGKILL while revisions are being applied loses
// no revision whose apply was acknowledged.
func TestSIGKILLDuringApplyLosesNoCommittedRevision(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "pinpoint-data")
	proxy, adminAddr := freePort(t), freePort(t)
	ctx := context.Background()

	// Seed the store with a first revision so serve starts on our ports.
	st, err := sqlite.Open(ctx, filepath.Join(dataDir, "pinpoint.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppendRevision(ctx, store.Revision{Author: "test", Source: "seed",
		Document: []byte(configOn(proxy, adminAddr, "http://127.0.0.1:9", "seed"))}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	p := startServe(t, dir)
	token := waitToken(t, dataDir, p)
	waitReady(t, adminAddr, p)

	acked := map[int64]string{}
	for i := 0; len(acked) < 200; i++ {
		doc := configOn(proxy, adminAddr, "http://127.0.0.1:9", fmt.Sprintf("apply %d", i))
		n, err := applyDoc(adminAddr, token, doc)
		if err != nil {
			t.Fatalf("apply %d: %v", i, err)
		}
		acked[n] = doc
		if len(acked) == 150 {
			// Kill while the next applies are in flight from other goroutines.
			var wg sync.WaitGroup
			for j := 0; j < 4; j++ {
				wg.Add(1)
				go func(j int) {
					defer wg.Done()
					for k := 0; ; k++ {
						if _, err := applyDoc(adminAddr, token, configOn(proxy, adminAddr, "http://127.0.0.1:9", fmt.Sprintf("racer %d %d", j, k))); err != nil {
							return
						}
					}
				}(j)
			}
			time.Sleep(50 * time.Millisecond)
			_ = p.cmd.Process.Signal(syscall.SIGKILL)
			wg.Wait()
			break
		}
	}
	<-p.done
	p.done <- nil

	st, err = sqlite.Open(ctx, filepath.Join(dataDir, "pinpoint.db"))
	if err != nil {
		t.Fatal(err)
	}
	for n, doc := range acked {
		rev, err := st.Revision(ctx, n)
		if err != nil || string(rev.Document) != doc {
			t.Fatalf("acknowledged revision %d lost or changed: %v", n, err)
		}
	}
	latest, err := st.LatestRevision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	revs, err := st.ListRevisions(ctx, 10000, 0)
	if err != nil || int64(len(revs)) != latest.Number {
		t.Fatalf("revision numbers have gaps: %d revisions, latest %d (%v)", len(revs), latest.Number, err)
	}
	st.Close()

	// A restart serves the newest committed revision.
	p2 := startServe(t, dir)
	if got := waitReady(t, adminAddr, p2); got != latest.Number {
		t.Fatalf("restart serves revision %d, want %d", got, latest.Number)
	}
	p2.stop(t)
}

func waitToken(t *testing.T, dataDir string, p *proc) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(filepath.Join(dataDir, "admin-token")); err == nil && len(b) > 0 {
			return strings.TrimSpace(string(b))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no admin token\nstderr:\n%s", p.stderr)
	return ""
}

// waitReady polls /readyz and returns the revision served.
func waitReady(t *testing.T, adminAddr string, p *proc) int64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + adminAddr + "/readyz")
		if err == nil {
			var body struct {
				Ready    bool  `json:"ready"`
				Revision int64 `json:"revision"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode == 200 && body.Ready {
				return body.Revision
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("never ready\nstderr:\n%s", p.stderr)
	return 0
}

func applyDoc(adminAddr, token, doc string) (int64, error) {
	req, _ := http.NewRequest("POST", "http://"+adminAddr+"/admin/config", strings.NewReader(doc))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/yaml")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Revision struct {
			Number int64 `json:"number"`
		} `json:"revision"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, &body); err != nil {
		return 0, err
	}
	return body.Revision.Number, nil
}

// The admin token is a secret: when stdout is not a terminal (a service
// manager collecting it into logs) the banner names the file, never the token.
func TestBannerDoesNotPrintTokenIntoLogs(t *testing.T) {
	dir := t.TempDir()
	proxy, adminAddr := freePort(t), freePort(t)
	cfg := filepath.Join(dir, "gw.yaml")
	if err := os.WriteFile(cfg, []byte(configOn(proxy, adminAddr, "http://127.0.0.1:9", "banner")), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, dir, "--config", cfg)
	token := waitToken(t, filepath.Join(dir, "pinpoint-data"), p)
	if _, ok := p.stdout.waitFor(regexp.MustCompile(`admin token was generated`), 30*time.Second); !ok {
		t.Fatalf("banner missing:\n%s", p.stdout)
	}
	p.stop(t)
	if strings.Contains(p.stdout.String(), token) || strings.Contains(p.stderr.String(), token) {
		t.Fatal("the admin token was written to stdout or stderr")
	}
}
