package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// markerRuleID is the id of the rule that writes go-ftw's log markers.
const markerRuleID = 999999

// corpusDirectives are the waf.directives the CRS corpus needs, the
// settings of CRS's own test setup (and of Coraza's corpus runner):
//
//   - detection only (ctl:ruleEngine=DetectionOnly): the corpus reads the
//     error log, and a rule that would interrupt (a body that does not
//     parse, rule 200002) must not stop the rules after it;
//   - UTF-8 validation on (rule 920250) and the argument and file size
//     limits the tests are written against;
//   - CRS's default allowed methods: Pinpoint's own default adds PUT,
//     PATCH and DELETE, and test 911100-6 sends DELETE;
//   - the marker rule: go-ftw finds each test's lines in the log between
//     two requests whose X-CRS-Test header this rule logs. go-ftw looks
//     for a line holding both the header's name and its value; the
//     message carries both, since the error log redacts [data].
//
// The paranoia level (4, every rule) is waf.paranoia_level.
var corpusDirectives = []string{
	`SecAction "id:900005,phase:1,nolog,pass,t:none,` +
		`ctl:ruleEngine=DetectionOnly,` +
		`setvar:tx.crs_validate_utf8_encoding=1,` +
		`setvar:tx.arg_name_length=100,` +
		`setvar:tx.arg_length=400,` +
		`setvar:tx.total_arg_length=64000,` +
		`setvar:tx.max_num_args=255,` +
		`setvar:tx.max_file_size=64100,` +
		`setvar:tx.combined_file_sizes=65535,` +
		`setvar:'tx.allowed_methods=GET HEAD POST OPTIONS'"`,
	`SecRule REQUEST_HEADERS:X-CRS-Test "@rx ^.*$" "id:` + strconv.Itoa(markerRuleID) +
		`,phase:1,pass,t:none,log,msg:'X-CRS-Test %{MATCHED_VAR}'"`,
}

// gatewayConfig is the gateway's config for a corpus run: the WAF on every
// route at paranoia level 4 in report-only mode with its error log at
// errorLog, one catch-all route to the backend, no call log.
func gatewayConfig(proxyAddr, adminAddr, backendURL, errorLog string) string {
	q := func(s string) string {
		b, err := json.Marshal(s) // a JSON string is a YAML double-quoted scalar
		if err != nil {
			panic(err) // strings always encode
		}
		return string(b)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `# Written by tools/crsftw for one run of the CRS regression corpus.
version: 1
gateway:
  call_log:
    enabled: false
listeners:
  - name: public
    kind: proxy
    address: %s
  - name: admin
    kind: admin
    address: %s
waf:
  enabled: true
  mode: report_only
  paranoia_level: 4
  inbound_anomaly_threshold: 5
  error_log: %s
  directives:
`, q(proxyAddr), q(adminAddr), q(errorLog))
	for _, d := range corpusDirectives {
		fmt.Fprintf(&b, "    - %s\n", q(d))
	}
	fmt.Fprintf(&b, `upstreams:
  - name: albedo
    targets:
      - url: %s
routes:
  - name: all
    paths: ["/*"]
    upstream: albedo
`, q(backendURL))
	return b.String()
}

// buildGateway builds ./cmd/pinpoint of the repository at repo into dir.
func buildGateway(ctx context.Context, repo, dir string, log io.Writer) (string, error) {
	bin := filepath.Join(dir, "pinpoint")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/pinpoint")
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "GOWORK=off")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building the gateway in %s: %w", repo, err)
	}
	return bin, nil
}

// gateway is a running `pinpoint serve`.
type gateway struct {
	cmd  *exec.Cmd
	done chan error
	// Proxy is the proxy listener's address.
	Proxy string
}

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// startGateway runs bin with the config file and data dir of dir, logging
// to log, and waits up to wait for the proxy to answer through the
// catch-all route.
func startGateway(ctx context.Context, bin, dir, proxy string, log io.Writer, wait time.Duration) (*gateway, error) {
	cmd := exec.Command(bin, "serve", "--config", filepath.Join(dir, "gateway.yaml"),
		"--data-dir", filepath.Join(dir, "data"), "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group, so that a Ctrl-C meant for crsftw reaches the
	// gateway only through stop.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	g := &gateway{cmd: cmd, done: make(chan error, 1), Proxy: proxy}
	go func() { g.done <- cmd.Wait() }()
	if err := g.waitReady(ctx, wait); err != nil {
		g.stop()
		return nil, err
	}
	return g, nil
}

// waitReady polls the proxy until the route answers 200.
func (g *gateway) waitReady(ctx context.Context, wait time.Duration) error {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil}}
	deadline := time.Now().Add(wait)
	for {
		select {
		case err := <-g.done:
			g.done <- err
			return fmt.Errorf("the gateway exited before it was ready: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		resp, err := client.Get("http://" + g.Proxy + "/")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("GET / answered %d", resp.StatusCode)
			}
			return fmt.Errorf("the gateway was not ready after %s: %w", wait, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop ends the gateway: SIGTERM, then SIGKILL after 10s.
func (g *gateway) stop() {
	if g.cmd.Process == nil {
		return
	}
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.done:
	case <-time.After(10 * time.Second):
		_ = g.cmd.Process.Kill()
		<-g.done
	}
}

// exited reports whether the gateway process has ended.
func (g *gateway) exited() bool {
	select {
	case err := <-g.done:
		g.done <- err
		return true
	default:
		return false
	}
}

// errGatewayDied is returned when the gateway exits during a run.
var errGatewayDied = errors.New("the gateway exited during the run")
