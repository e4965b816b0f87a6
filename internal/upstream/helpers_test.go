package upstream

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/problem"
)

// newUpstream builds an upstream over the given target URLs and closes it
// when the test ends. edit may adjust the config first.
func newUpstream(t testing.TB, urls []string, edit func(*config.Upstream)) *Upstream {
	t.Helper()
	cfg := config.Upstream{Name: "svc"}
	for _, u := range urls {
		cfg.Targets = append(cfg.Targets, config.Target{URL: u})
	}
	if edit != nil {
		edit(&cfg)
	}
	u, err := New(cfg, Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(u.Close)
	return u
}

// exchange builds the Exchange the gateway would hand to Serve.
func exchange(r *http.Request) *pipeline.Exchange {
	x := &pipeline.Exchange{Request: r, ID: "req-1", Start: time.Now(), Scheme: "http",
		Host: r.Host, Path: r.URL.Path, RawURI: r.RequestURI, Route: "orders"}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		x.Peer, x.ClientIP = ap.Addr(), ap.Addr()
	}
	return x
}

// serveDirect calls Serve with a recorder and returns what it wrote.
func serveDirect(u *Upstream, r *http.Request, f *Forward) (*httptest.ResponseRecorder, *pipeline.Denial, *pipeline.Exchange) {
	rec := httptest.NewRecorder()
	x := exchange(r)
	d := u.Serve(rec, x, f)
	return rec, d, x
}

// assertNothingWritten fails when Serve wrote to the client although it
// returned a Denial.
func assertNothingWritten(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 || len(rec.Header()) != 0 {
		t.Fatalf("Serve wrote to the client: status %d, headers %v, body %q", rec.Code, rec.Header(), rec.Body.String())
	}
}

// front is a minimal gateway in front of an Upstream: it fills the
// exchange, calls Serve and writes the problem on a denial.
type front struct {
	u       *Upstream
	fwd     Forward
	trusted bool
	done    chan *pipeline.Exchange // receives each exchange after Serve returned
}

func newFront(t *testing.T, u *Upstream, fwd Forward) (*front, *httptest.Server) {
	g := &front{u: u, fwd: fwd, done: make(chan *pipeline.Exchange, 64)}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return g, srv
}

func (g *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := exchange(r)
	x.PeerTrusted = g.trusted
	x.TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	f := g.fwd
	w.Header().Set("X-Request-Id", x.ID)
	if d := g.u.Serve(w, x, &f); d != nil {
		for k, v := range d.Header {
			w.Header()[k] = v
		}
		problem.Write(w, r, problem.New(d.Code, d.Params), problem.Standard)
	}
	select {
	case g.done <- x:
	default:
	}
}

// hits counts requests to a backend.
type hits struct{ n atomic.Int64 }

func (h *hits) count() int64 { return h.n.Load() }

// backend starts an httptest server running fn and counting requests.
func backend(t *testing.T, fn http.HandlerFunc) (*httptest.Server, *hits) {
	t.Helper()
	h := &hits{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.n.Add(1)
		fn(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, h
}

func okBackend(t *testing.T, body string) (*httptest.Server, *hits) {
	return backend(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, body)
	})
}

// resetBackend reads the request (body included), then resets the
// connection without answering.
func resetBackend(t *testing.T) (*httptest.Server, *hits) { return closingBackend(t, true) }

// closingBackend reads the request, then closes the connection without
// answering: with a TCP reset when rst is set, else with a plain FIN.
func closingBackend(t *testing.T, rst bool) (*httptest.Server, *hits) {
	return backend(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok && rst {
			_ = tc.SetLinger(0) // RST instead of FIN
		}
		_ = conn.Close()
	})
}

// refusedURL returns a URL on a loopback port nobody listens on.
func refusedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "http://" + addr
}

// rawServer accepts connections and answers each with the bytes of reply.
func rawServer(t *testing.T, reply string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil || strings.TrimSpace(line) == "" {
						break
					}
				}
				_, _ = io.WriteString(c, reply)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// waitFor polls cond until it holds or the deadline passes. It is used only
// where real background goroutines (health probes over real sockets) must
// act; the deadline is a hang guard, not a timing assertion.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
