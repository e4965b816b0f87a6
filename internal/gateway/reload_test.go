package gateway

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/router"
	"github.com/pinpointgw/pinpoint/internal/stage/accept"
	"github.com/pinpointgw/pinpoint/internal/telemetry"
)

// Reloading under load must not fail a single request.
func TestReloadUnderLoadLosesNoRequest(t *testing.T) {
	t.Parallel()
	a, b := backend(t, "a"), backend(t, "b")
	h := newHarness(t, simpleConfig(a.URL))
	ctx, cancel := context.WithCancel(context.Background())
	var ok, failed atomic.Int64
	var firstFailure atomic.Value
	var wg sync.WaitGroup
	client := h.srv.Client()
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				resp, err := client.Get(h.srv.URL + "/api/x")
				if err != nil {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, err.Error())
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, resp.Status)
					continue
				}
				ok.Add(1)
			}
		}()
	}
	for i := 0; i < 30; i++ {
		url := a.URL
		if i%2 == 0 {
			url = b.URL
		}
		h.apply(simpleConfig(url) + fmt.Sprintf("# reload %d\n", i))
	}
	cancel()
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed during reloads; first: %v", failed.Load(), failed.Load()+ok.Load(), firstFailure.Load())
	}
	if h.g.Revision() != 31 || ok.Load() == 0 {
		t.Fatalf("revision %d, %d requests", h.g.Revision(), ok.Load())
	}
}

// A request in flight finishes on the snapshot it started with.
func TestInFlightRequestFinishesOnItsSnapshot(t *testing.T) {
	t.Parallel()
	slow, started, release := slowBackend(t, "old")
	fresh := backend(t, "new")
	h := newHarness(t, simpleConfig(slow))
	done := getInBackground(h.srv.Client(), h.srv.URL+"/api/x")
	<-started
	h.apply(simpleConfig(fresh.URL))
	if _, body := h.do("GET", "/api/y", nil, ""); decode(t, body)["backend"] != "new" {
		t.Fatalf("new revision not served: %s", body)
	}
	close(release)
	if got := <-done; got != "old" {
		t.Fatalf("in-flight request got %q", got)
	}
}

func TestSSEStreamsThroughGateway(t *testing.T) {
	t.Parallel()
	proceed := make(chan struct{})
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		<-proceed // the client must see the first event before the second exists
		fmt.Fprint(w, "data: second\n\n")
	}))
	t.Cleanup(be.Close)
	h := newHarness(t, simpleConfig(be.URL))
	resp, err := h.srv.Client().Get(h.srv.URL + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	line, err := rd.ReadString('\n')
	if err != nil || line != "data: first\n" {
		t.Fatalf("first event: %q %v", line, err)
	}
	close(proceed)
	rest, _ := io.ReadAll(rd)
	if !strings.Contains(string(rest), "data: second") {
		t.Fatalf("second event: %q", rest)
	}
}

func TestWebSocketThroughGateway(t *testing.T) {
	t.Parallel()
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		typ, msg, err := c.Read(r.Context())
		if err != nil {
			return
		}
		_ = c.Write(r.Context(), typ, append([]byte("echo: "), msg...))
	}))
	t.Cleanup(be.Close)
	h := newHarness(t, simpleConfig(be.URL))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(h.srv.URL, "http")+"/api/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if resp.Header.Get("X-Request-Id") == "" {
		t.Error("upgrade response lacks a request id")
	}
	if err := c.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	_, msg, err := c.Read(ctx)
	if err != nil || string(msg) != "echo: hi" {
		t.Fatalf("got %q %v", msg, err)
	}
}

func TestWatchFileAppliesValidAndRejectsInvalid(t *testing.T) {
	t.Parallel()
	a, b := backend(t, "a"), backend(t, "b")
	dir := t.TempDir()
	path := filepath.Join(dir, "pinpoint.yaml")
	if err := os.WriteFile(path, []byte(simpleConfig(a.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, "", func(o *Options) { o.ConfigFile = path })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := h.g.ApplyFile(ctx, path); err != nil {
		t.Fatal(err)
	}
	hup := make(chan os.Signal, 1)
	go func() { _ = h.g.WatchFile(ctx, path, hup) }()
	time.Sleep(50 * time.Millisecond) // let the watcher register before the first write

	waitRevision := func(want int64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for h.g.Revision() != want {
			if time.Now().After(deadline) {
				t.Fatalf("revision %d, want %d", h.g.Revision(), want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// Replace the file the way editors do: write aside, rename over.
	tmp := path + ".tmp"
	_ = os.WriteFile(tmp, []byte(simpleConfig(b.URL)), 0o600)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	waitRevision(2)

	if err := os.WriteFile(path, []byte("version: 1\nroutes: [{name: x}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hup <- os.Interrupt // SIGHUP path: an explicit reload of the (now invalid) file
	time.Sleep(300 * time.Millisecond)
	if h.g.Revision() != 2 {
		t.Fatalf("invalid file was applied: revision %d", h.g.Revision())
	}
	if _, body := h.do("GET", "/api/x", nil, ""); decode(t, body)["backend"] != "b" {
		t.Fatalf("running revision stopped serving: %s", body)
	}
}

func TestGracefulShutdownDrainsInFlight(t *testing.T) {
	t.Parallel()
	slow, started, release := slowBackend(t, "finished")
	h := newHarness(t, simpleConfig(slow))
	cfg := h.g.Current().Config
	srv, err := Listen(cfg.Listeners, h.g, http.NotFoundHandler(), h.g.log)
	if err != nil {
		t.Fatal(err)
	}
	srv.Serve()
	addr := srv.Addr("public")
	done := getInBackground(http.DefaultClient, "http://"+addr+"/api/slow")
	<-started
	h.g.Drain()
	if h.g.Ready() == nil {
		t.Fatal("still ready while draining")
	}
	shut := make(chan error)
	go func() { shut <- srv.Shutdown(context.Background()) }()
	// New connections are refused once shutdown has begun.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("listener still accepting during shutdown")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	if got := <-done; got != "finished" {
		t.Fatalf("in-flight request: %q", got)
	}
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
}

// benchSnapshot compiles simpleConfig into a gateway without network I/O.
func benchSnapshot(b *testing.B) *Gateway {
	b.Helper()
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	b.Cleanup(be.Close)
	cfg, err := config.Load("bench.yaml", []byte(simpleConfig(be.URL)), func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	g := New(Options{Metrics: telemetry.New()})
	snap, _, err := compile(cfg, nil, g.o)
	if err != nil {
		b.Fatal(err)
	}
	g.snap.Store(snap)
	b.Cleanup(g.Close)
	return g
}

// BenchmarkEmptyPipeline is what the gateway does for a routed request
// before the upstream call, with no optional stages configured: accept
// (request id, client IP, path normalization, limits), route match, body
// limit and the upstream path.
func BenchmarkEmptyPipeline(b *testing.B) {
	g := benchSnapshot(b)
	snap := g.Current()
	req := httptest.NewRequest("GET", "/users/42", nil)
	req.RemoteAddr = "192.0.2.1:1234"
	st := &state{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		x := &st.x
		x.Request = req
		if d := snap.accept.Handle(x); d.Denied() {
			b.Fatal(d.Denial.Code)
		}
		m, n, res := snap.routes.Match(x.Host, req.Method, x.Path, x.Params[:])
		if res != router.Matched {
			b.Fatal(res)
		}
		x.NParams = n
		if d := accept.LimitBody(x, m.Value.limits.MaxBodyBytes); d != nil {
			b.Fatal(d.Code)
		}
		st.forward = m.Value.forward
		st.forward.Path = m.Value.upstreamPath(x, m.Prefix)
		x.Reset()
	}
}

// BenchmarkRefusal measures a request refused with route.not_found: the
// pipeline plus writing the problem+json answer.
func BenchmarkRefusal(b *testing.B) {
	g := benchSnapshot(b)
	req := httptest.NewRequest("GET", "/nothing/here", nil)
	req.RemoteAddr = "192.0.2.1:1234"
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		clear(w.h)
		g.ServeHTTP(w, req)
	}
}

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}
