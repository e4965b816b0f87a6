package main

// End-to-end test of a cluster: three `pinpoint serve` processes sharing one
// PostgreSQL schema and one Redis.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/redisconn/redistest"
)

// converge is how long a change made on one node may take to reach the
// others (notifications, with a one-second poll as the fallback).
const converge = 2 * time.Second

// clusterNode is one running node of the cluster.
type clusterNode struct {
	name         string
	proxy, admin string
	p            *proc
	api          *admin.Client
}

// cluster starts nodes on one store with a shared admin token.
type cluster struct {
	t      *testing.T
	dir    string
	dsn    string
	token  string
	client *http.Client
}

// start runs `pinpoint serve --store DSN` with no --config and a data dir
// of its own; the stored revision's listeners read their addresses from
// PP_NODE_PROXY and PP_NODE_ADMIN, so every node gets its own ports.
func (c *cluster) start(name string, extra ...string) *clusterNode {
	t := c.t
	t.Helper()
	n := &clusterNode{name: name, proxy: freePort(t), admin: freePort(t)}
	dataDir := filepath.Join(c.dir, name+"-"+hex.EncodeToString(randomBytes(4)))
	args := append([]string{"serve", "--store", c.dsn, "--data-dir", dataDir, "--node-id", name}, extra...)
	cmd := exec.Command(binary(t), args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(),
		"PINPOINT_ADMIN_TOKEN="+c.token,
		"PP_NODE_PROXY="+n.proxy,
		"PP_NODE_ADMIN="+n.admin,
	)
	out, _ := cmd.StdoutPipe()
	errp, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n.p = &proc{cmd: cmd, stdout: newLineBuffer(out), stderr: newLineBuffer(errp), done: make(chan error, 1)}
	go func() { n.p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		err := <-n.p.done
		n.p.done <- err
	})
	if _, ok := n.p.stdout.waitFor(regexp.MustCompile(`serving revision \d+ `), 30*time.Second); !ok {
		t.Fatalf("%s did not start\nstdout:\n%s\nstderr:\n%s", name, n.p.stdout, n.p.stderr)
	}
	n.api = &admin.Client{BaseURL: "http://" + n.admin, Token: c.token, HTTP: c.client}
	return n
}

// kill ends the node with SIGKILL: no draining, no flushing.
func (n *clusterNode) kill(t *testing.T) {
	t.Helper()
	_ = n.p.cmd.Process.Kill()
	err := <-n.p.done
	n.p.done <- err
}

// get sends GET path through the node's proxy listener with an optional
// API key, returning the status and the problem code of a refusal.
func (c *cluster) get(n *clusterNode, path, key string) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+n.proxy+path, nil)
	if err != nil {
		return 0, "", err
	}
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	var prob struct {
		Code string `json:"code"`
	}
	if resp.StatusCode != http.StatusOK {
		_ = json.Unmarshal(body, &prob)
	}
	return resp.StatusCode, prob.Code, nil
}

// eventually polls check on every node until it holds on all of them or
// the deadline passes.
func (c *cluster) eventually(what string, d time.Duration, nodes []*clusterNode, check func(*clusterNode) error) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	pending := append([]*clusterNode(nil), nodes...)
	for {
		var still []*clusterNode
		var last error
		for _, n := range pending {
			if err := check(n); err != nil {
				still = append(still, n)
				last = fmt.Errorf("%s: %w", n.name, err)
			}
		}
		if len(still) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, n := range still {
				c.t.Logf("%s stderr:\n%s", n.name, n.p.stderr)
			}
			c.t.Fatalf("%s: not within %v: %v", what, d, last)
		}
		pending = still
		time.Sleep(25 * time.Millisecond)
	}
}

// serves checks that the node serves revision rev: its admin API says so
// and the route only that revision has answers.
func (c *cluster) serves(rev int64) func(*clusterNode) error {
	return func(n *clusterNode) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cur, err := n.api.CurrentRevision(ctx)
		if err != nil {
			return err
		}
		if cur.Number != rev {
			return fmt.Errorf("serves revision %d, want %d", cur.Number, rev)
		}
		status, code, err := c.get(n, fmt.Sprintf("/rev/%d", rev), "")
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("/rev/%d: %d %s", rev, status, code)
		}
		return nil
	}
}

// answers checks that GET path with key gets status (and, unless empty, code).
func (c *cluster) answers(path, key string, status int, code string) func(*clusterNode) error {
	return func(n *clusterNode) error {
		st, cd, err := c.get(n, path, key)
		if err != nil {
			return err
		}
		if st != status || (code != "" && cd != code) {
			return fmt.Errorf("GET %s: %d %s, want %d %s", path, st, cd, status, code)
		}
		return nil
	}
}

// clusterRedis is the redis block of a cluster revision.
type clusterRedis struct {
	url, prefix, timeout string
}

// clusterConfig is a revision for the cluster: listeners from the node's
// environment, an API-key route, a route /rev/N that marks the revision,
// and extra routes (YAML list items indented by two spaces).
func clusterConfig(backend string, rev int64, redis *clusterRedis, extraRoutes string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `version: 1
listeners:
  - {name: public, kind: proxy, address: "${PP_NODE_PROXY}"}
  - {name: admin, kind: admin, address: "${PP_NODE_ADMIN}"}
authenticators:
  - {name: keys, type: api_key}
routes:
  - name: keyed
    paths: ["/keyed"]
    upstream: u
    auth: {methods: [keys]}
  - name: open
    paths: ["/open/*"]
    upstream: u
  - name: marker
    paths: ["/rev/%d"]
    upstream: u
%supstreams:
  - name: u
    targets: [{url: "%s"}]
`, rev, extraRoutes, backend)
	if redis != nil {
		fmt.Fprintf(&b, "redis: {url: %q, key_prefix: %q, timeout: %s, dial_timeout: %s}\n",
			redis.url, redis.prefix, redis.timeout, redis.timeout)
	}
	return []byte(b.String())
}

// sharedLimitRoute is a route whose one limit (30 an hour, burst 30, one
// bucket for everybody) is kept in Redis; a Redis failure refuses, so a
// slow Redis can never admit more than the limit.
func sharedLimitRoute(name string) string {
	return fmt.Sprintf(`  - name: %[1]s
    paths: ["/%[1]s"]
    upstream: u
    rate_limits:
      - {name: shared, rate: 30/h, burst: 30, key: route, store: redis, on_store_error: fail_closed}
`, name)
}

// tcpProxy forwards connections to a target (PostgreSQL) until stopped;
// stopping closes the listener and every forwarded connection, as a
// database going away would.
type tcpProxy struct {
	target, addr string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]struct{}
	wg           sync.WaitGroup
}

// startTCPProxy listens on a free loopback port; the proxy is stopped
// when the test ends.
func startTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{target: target, addr: "127.0.0.1:0", conns: map[net.Conn]struct{}{}}
	p.start(t)
	t.Cleanup(p.stop)
	return p
}

// start (re)opens the listener on the proxy's address.
func (p *tcpProxy) start(t *testing.T) {
	t.Helper()
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; {
		if ln, err = net.Listen("tcp", p.addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("proxy listen on %s: %v", p.addr, err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Go(func() { p.forward(c) })
		}
	})
}

func (p *tcpProxy) forward(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c, up) {
		c.Close()
		up.Close()
		return
	}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	c.Close()
	up.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// track registers a forwarded pair; false when the proxy stopped meanwhile.
func (p *tcpProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

// stop closes the listener and every forwarded connection.
func (p *tcpProxy) stop() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// throughProxy points dsn's host at a proxy started in front of it.
func throughProxy(t *testing.T, dsn string) (string, *tcpProxy) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := startTCPProxy(t, u.Host)
	u.Host = p.addr
	return u.String(), p
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// TestClusterOfThreeNodes runs three nodes on one PostgreSQL schema and
// one Redis and checks that revisions, key revocations and shared rate
// limits hold across them, through a Redis outage and a crashed node.
func TestClusterOfThreeNodes(t *testing.T) {
	dsn, pg := throughProxy(t, freshSchema(t))
	rc := redistest.Config(t)
	live := &clusterRedis{url: rc.URL, prefix: rc.KeyPrefix, timeout: "2s"}
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer backend.Close()
	c := &cluster{
		t: t, dir: t.TempDir(), dsn: dsn,
		token:  "pp-cluster-test-token-" + hex.EncodeToString(randomBytes(8)),
		client: &http.Client{Timeout: 10 * time.Second},
	}
	var acked []int64
	apply := func(n *clusterNode, doc []byte) int64 {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := n.api.Apply(ctx, "cluster.yaml", doc, false)
		if err != nil {
			t.Fatalf("apply on %s: %v\nstderr:\n%s", n.name, err, n.p.stderr)
		}
		if res.Unchanged || res.Revision.Number == 0 {
			t.Fatalf("apply on %s: %+v", n.name, res)
		}
		acked = append(acked, res.Revision.Number)
		return res.Revision.Number
	}

	// The store's first revision comes from a node that owns a file: a
	// node without --config on an empty store would serve the quickstart,
	// whose listeners have fixed ports.
	seedFile := filepath.Join(c.dir, "seed.yaml")
	if err := os.WriteFile(seedFile, clusterConfig(backend.URL, 1, nil, ""), 0o600); err != nil {
		t.Fatal(err)
	}
	seed := c.start("seed", "--config", seedFile)
	seed.p.stop(t)

	n1, n2, n3 := c.start("node1"), c.start("node2"), c.start("node3")
	nodes := []*clusterNode{n1, n2, n3}
	c.eventually("every node serves the seed revision", converge, nodes, c.serves(1))

	// 1. A revision applied on node 1 is served by all three.
	rev := apply(n1, clusterConfig(backend.URL, 2, live, sharedLimitRoute("shared")))
	c.eventually("revision applied on node 1", converge, nodes, c.serves(rev))

	// 2. A key issued on node 2 opens every node; revoked on node 2, it is
	// refused by every node.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := n2.api.PutConsumer(ctx, admin.ConsumerInput{ID: "cluster-app", Name: "Cluster App"}, true); err != nil {
		t.Fatal(err)
	}
	issued, err := n2.api.CreateKey(ctx, admin.KeyInput{Consumer: "cluster-app"})
	if err != nil {
		t.Fatal(err)
	}
	c.eventually("a key issued on node 2 opens every node", converge, nodes, c.answers("/keyed", issued.Key, http.StatusOK, ""))
	if _, err := n2.api.RevokeKey(ctx, issued.APIKey.ID, "cluster test"); err != nil {
		t.Fatal(err)
	}
	c.eventually("a key revoked on node 2 is refused", converge, nodes, c.answers("/keyed", issued.Key, http.StatusUnauthorized, "authn.key_revoked"))

	// 3. One Redis bucket for the three nodes: 60 requests round-robin,
	// exactly the burst of 30 admitted.
	sharedLimitAdmits := func(path string) {
		t.Helper()
		admitted := 0
		for i := range 60 {
			st, code, err := c.get(nodes[i%3], path, "")
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case st == http.StatusOK:
				admitted++
			case st != http.StatusTooManyRequests || code != "ratelimit.exceeded":
				t.Fatalf("request %d to %s on %s: %d %s", i, path, nodes[i%3].name, st, code)
			}
		}
		if admitted != 30 {
			t.Fatalf("%s: %d of 60 requests admitted across the cluster, want 30", path, admitted)
		}
	}
	sharedLimitAdmits("/shared")

	// 4. Redis unreachable: fail_open passes, fail_closed refuses with 503.
	dead := &clusterRedis{url: "redis://127.0.0.1:1/0", prefix: rc.KeyPrefix, timeout: "50ms"}
	outage := `  - name: open-limit
    paths: ["/fail-open"]
    upstream: u
    rate_limits:
      - {name: lim, rate: 1000/h, burst: 1000, key: route, store: redis, on_store_error: fail_open}
  - name: closed-limit
    paths: ["/fail-closed"]
    upstream: u
    rate_limits:
      - {name: lim, rate: 1000/h, burst: 1000, key: route, store: redis, on_store_error: fail_closed}
`
	rev = apply(n1, clusterConfig(backend.URL, 3, dead, outage))
	c.eventually("the outage revision", converge, nodes, c.serves(rev))
	for range 3 {
		c.eventually("fail_open during the outage", converge, nodes, c.answers("/fail-open", "", http.StatusOK, ""))
		c.eventually("fail_closed during the outage", converge, nodes, c.answers("/fail-closed", "", http.StatusServiceUnavailable, "ratelimit.unavailable"))
	}
	// Redis back, without a restart: a fresh shared limit counts exactly.
	rev = apply(n1, clusterConfig(backend.URL, 4, live, sharedLimitRoute("shared")+sharedLimitRoute("again")))
	c.eventually("the recovery revision", converge, nodes, c.serves(rev))
	sharedLimitAdmits("/again")
	// The first bucket was kept in Redis through the outage: still empty.
	c.eventually("the exhausted bucket", converge, nodes, c.answers("/shared", "", http.StatusTooManyRequests, "ratelimit.exceeded"))

	// 5. Node 3 is killed while requests flow and right after it
	// acknowledged a revision; nodes 1 and 2 keep answering.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var failures atomic.Int64
	var firstFailure atomic.Value
	for _, n := range []*clusterNode{n1, n2} {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(2 * time.Millisecond):
				}
				st, code, err := c.get(n, "/open/load", "")
				if err != nil || st != http.StatusOK {
					failures.Add(1)
					firstFailure.CompareAndSwap(nil, fmt.Sprintf("%s: %d %s %v", n.name, st, code, err))
				}
			}
		})
	}
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			_, _, _ = c.get(n3, "/open/load", "")
		}
	})
	time.Sleep(200 * time.Millisecond)
	rev = apply(n3, clusterConfig(backend.URL, 5, live, sharedLimitRoute("shared")))
	n3.kill(t)
	c.eventually("the revision node 3 acknowledged before it died", converge, []*clusterNode{n1, n2}, c.serves(rev))
	close(stop)
	wg.Wait()
	if f := failures.Load(); f != 0 {
		t.Fatalf("%d requests to the surviving nodes failed while node 3 died; first: %v", f, firstFailure.Load())
	}

	n3 = c.start("node3")
	nodes = []*clusterNode{n1, n2, n3}
	c.eventually("the restarted node 3 serves the latest revision", converge, nodes, c.serves(rev))
	c.eventually("the restarted node 3 refuses the revoked key", converge, nodes, c.answers("/keyed", issued.Key, http.StatusUnauthorized, "authn.key_revoked"))

	revs, err := n3.api.Revisions(ctx, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[int64]bool{}
	for _, r := range revs {
		stored[r.Number] = true
	}
	for _, n := range append([]int64{1}, acked...) {
		if !stored[n] {
			t.Errorf("acknowledged revision %d is not in the store (stored: %v)", n, revs)
		}
	}

	// 6. PostgreSQL unreachable: the nodes keep proxying and /readyz keeps
	// answering; when it is back, revisions are followed again and the
	// call log is written again, without a restart.
	pg.stop()
	// Long enough for every node's follower poll and call-log flush to
	// meet the outage.
	outageEnds := time.Now().Add(1500 * time.Millisecond)
	outageCalls := 0
	for i := 0; time.Now().Before(outageEnds); i++ {
		for _, n := range nodes {
			if st, code, err := c.get(n, fmt.Sprintf("/open/outage-%d", i), ""); err != nil || st != http.StatusOK {
				t.Fatalf("%s during the PostgreSQL outage: %d %s %v\nstderr:\n%s", n.name, st, code, err, n.p.stderr)
			}
			outageCalls++
			rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err := n.api.Ready(rctx)
			rcancel()
			if err != nil {
				t.Fatalf("%s /readyz during the PostgreSQL outage: %v", n.name, err)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	pg.start(t)
	// The first store operation after the outage may still meet a pooled
	// connection the outage closed (503 admin.store_unavailable): an
	// operator retries, and so does the test, until the apply is
	// acknowledged.
	doc := clusterConfig(backend.URL, 6, live, sharedLimitRoute("shared"))
	for deadline := time.Now().Add(converge + 5*time.Second); ; {
		actx, acancel := context.WithTimeout(context.Background(), 10*time.Second)
		res, err := n2.api.Apply(actx, "cluster.yaml", doc, false)
		acancel()
		var apiErr *admin.APIError
		if err == nil {
			rev = res.Revision.Number
			acked = append(acked, rev)
			break
		}
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("apply on node2 after the PostgreSQL outage: %v\nstderr:\n%s", err, n2.p.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.eventually("a revision applied after PostgreSQL returned", converge+5*time.Second, nodes, c.serves(rev))
	marker := "/open/after-" + hex.EncodeToString(randomBytes(4))
	for _, n := range nodes {
		if st, code, err := c.get(n, marker, ""); err != nil || st != http.StatusOK {
			t.Fatalf("%s after the PostgreSQL outage: %d %s %v", n.name, st, code, err)
		}
	}
	c.eventually("the call log records requests again", converge+5*time.Second, []*clusterNode{n1}, func(n *clusterNode) error {
		calls, err := n.api.Calls(ctx, admin.CallFilter{Route: "open", Limit: 1000})
		if err != nil {
			return err
		}
		seen := 0
		for _, call := range calls {
			if call.Path == marker {
				seen++
			}
		}
		if seen != len(nodes) {
			return fmt.Errorf("%d of %d calls to %s logged", seen, len(nodes), marker)
		}
		return nil
	})
	// The call log kept the records made during the outage and wrote them
	// once PostgreSQL answered again: none is lost.
	c.eventually("the call log wrote the records made during the outage", converge+5*time.Second, []*clusterNode{n1}, func(n *clusterNode) error {
		cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer ccancel()
		calls, err := n.api.Calls(cctx, admin.CallFilter{Route: "open", Limit: 10000})
		if err != nil {
			return err
		}
		seen := 0
		for _, call := range calls {
			if strings.HasPrefix(call.Path, "/open/outage-") {
				seen++
			}
		}
		if seen != outageCalls {
			return fmt.Errorf("%d of the %d calls made during the outage logged", seen, outageCalls)
		}
		return nil
	})
	for _, n := range nodes {
		n.p.stop(t)
	}
}
