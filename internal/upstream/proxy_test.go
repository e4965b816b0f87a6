package upstream

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

func TestBackendAnswersPassThrough(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status   int
		wantCode string
	}{
		{http.StatusOK, ""},
		{http.StatusNotFound, ""},
		{http.StatusUnauthorized, "upstream.denied"},
		{http.StatusForbidden, "upstream.denied"},
		{http.StatusTooManyRequests, "upstream.rate_limited"},
		{http.StatusInternalServerError, "upstream.error"},
		{http.StatusServiceUnavailable, "upstream.error"},
	}
	for _, tc := range cases {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			t.Parallel()
			const body = `{"error":"backend says no","detail":"only the backend knows"}`
			be, _ := backend(t, func(w http.ResponseWriter, r *http.Request) {
				h := w.Header()
				h.Set("Content-Type", "application/json")
				h.Set("WWW-Authenticate", `Bearer realm="backend"`)
				h.Set("X-Backend", "yes")
				h.Set("Pinpoint-Code", "authz.scope_missing") // a backend trying to look like the gateway
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, body)
			})
			u := newUpstream(t, []string{be.URL}, func(c *config.Upstream) { c.Retry.Attempts = -1 })
			g, fr := newFront(t, u, Forward{Route: "orders"})
			resp, err := http.Get(fr.URL + "/orders/1")
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			x := <-g.done
			if resp.StatusCode != tc.status || string(got) != body {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, got, tc.status, body)
			}
			for _, k := range []string{"Content-Type", "Www-Authenticate", "X-Backend"} {
				if resp.Header.Get(k) == "" {
					t.Errorf("backend header %s lost", k)
				}
			}
			if resp.Header.Get("Pinpoint-Layer") != "upstream" {
				t.Errorf("Pinpoint-Layer %q, want upstream", resp.Header.Get("Pinpoint-Layer"))
			}
			if got := resp.Header.Values("Pinpoint-Code"); len(got) > 1 || resp.Header.Get("Pinpoint-Code") != tc.wantCode {
				t.Errorf("Pinpoint-Code %q, want %q", got, tc.wantCode)
			}
			if x.UpstreamStatus != tc.status || x.Attempts != 1 || x.Target != hostOf(t, be.URL) {
				t.Errorf("exchange status %d attempts %d target %q", x.UpstreamStatus, x.Attempts, x.Target)
			}
		})
	}
}

func TestForwardingHeaders(t *testing.T) {
	t.Parallel()
	type seen struct {
		xff, fwd, xfh, xfp, rid, tp, host string
	}
	cases := []struct {
		name     string
		trusted  bool
		preserve bool
		want     func(frontHost string) seen
	}{
		{name: "untrusted peer: spoofed chain dropped", want: func(h string) seen {
			return seen{xff: "127.0.0.1", fwd: "", xfh: h, xfp: "http"}
		}},
		{name: "trusted peer: chain extended", trusted: true, want: func(h string) seen {
			return seen{xff: "203.0.113.9, 127.0.0.1", fwd: "for=203.0.113.9, for=127.0.0.1", xfh: "shop.example", xfp: "http"}
		}},
		{name: "preserve host", preserve: true, want: func(h string) seen {
			return seen{xff: "127.0.0.1", xfh: h, xfp: "http", host: h}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := make(chan seen, 1)
			be, _ := backend(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Request-Id", r.Header.Get("X-Request-Id")) // echoed, as many services do
				got <- seen{r.Header.Get("X-Forwarded-For"), r.Header.Get("Forwarded"), r.Header.Get("X-Forwarded-Host"),
					r.Header.Get("X-Forwarded-Proto"), r.Header.Get("X-Request-Id"), r.Header.Get("Traceparent"), r.Host}
			})
			u := newUpstream(t, []string{be.URL}, nil)
			g, fr := newFront(t, u, Forward{Route: "r", PreserveHost: tc.preserve})
			g.trusted = tc.trusted
			req, _ := http.NewRequest(http.MethodGet, fr.URL+"/x", nil)
			req.Header.Set("X-Forwarded-For", "203.0.113.9")
			req.Header.Set("Forwarded", "for=203.0.113.9")
			req.Header.Set("X-Forwarded-Host", "shop.example")
			req.Header.Set("X-Forwarded-Proto", "https")
			req.Header.Set("X-Request-Id", "client-chosen")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			s := <-got
			want := tc.want(hostOf(t, fr.URL))
			want.rid = "req-1"
			want.tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
			if want.host == "" {
				want.host = hostOf(t, be.URL)
			}
			if s != want {
				t.Fatalf("backend saw\n%+v\nwant\n%+v", s, want)
			}
			if ids := resp.Header.Values("X-Request-Id"); len(ids) != 1 || ids[0] != "req-1" {
				t.Fatalf("client got X-Request-Id %q, want only the gateway's", ids)
			}
		})
	}
}

func TestHeaderOpsApplied(t *testing.T) {
	t.Parallel()
	got := make(chan http.Header, 1)
	be, _ := backend(t, func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
		w.Header().Set("X-Internal", "secret-ish")
		w.Header().Set("Cache-Control", "private")
		w.Header().Add("Vary", "Accept")
	})
	u := newUpstream(t, []string{be.URL}, nil)
	f := &Forward{Route: "r",
		Request: CompileHeaderOps(config.HeaderOps{
			Remove: []string{"x-remove-me"},
			Set:    map[string]string{"x-env": "prod"},
			Add:    map[string]string{"X-Tag": "gw"},
		}),
		Response: CompileHeaderOps(config.HeaderOps{
			Remove: []string{"X-Internal"},
			Set:    map[string]string{"Cache-Control": "no-store"},
			Add:    map[string]string{"Vary": "Origin"},
		}),
	}
	r := httptest.NewRequest(http.MethodGet, "http://gw.example/", nil)
	r.Header.Set("X-Remove-Me", "1")
	r.Header.Set("X-Env", "dev")
	r.Header.Set("X-Tag", "client")
	rec, d, _ := serveDirect(u, r, f)
	if d != nil {
		t.Fatal(d.Reason)
	}
	h := <-got
	if h.Get("X-Remove-Me") != "" || h.Get("X-Env") != "prod" || strings.Join(h.Values("X-Tag"), ",") != "client,gw" {
		t.Fatalf("backend request headers %v", h)
	}
	rh := rec.Header()
	if rh.Get("X-Internal") != "" || rh.Get("Cache-Control") != "no-store" || strings.Join(rh.Values("Vary"), ",") != "Accept,Origin" {
		t.Fatalf("client response headers %v", rh)
	}
}

func TestUpstreamPath(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, base, fwdPath, reqURI, want string
	}{
		{"no base path", "", "/orders/42", "/api/orders/42?a=1", "/orders/42?a=1"},
		{"base path joined", "/v2", "/orders/42", "/orders/42", "/v2/orders/42"},
		{"base path with trailing slash", "/v2/", "/orders", "/orders", "/v2/orders"},
		{"root path", "/v2", "/", "/", "/v2/"},
		{"query kept", "/v2", "/search", "/api/search?q=a%20b&x=1", "/v2/search?q=a%20b&x=1"},
		{"escaped segment kept", "/v2", "/files/a%2Fb", "/files/a%2Fb", "/v2/files/a%2Fb"},
		{"empty path uses the request's", "/v2", "", "/orders/7", "/v2/orders/7"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := make(chan string, 1)
			be, _ := backend(t, func(w http.ResponseWriter, r *http.Request) { got <- r.RequestURI })
			u := newUpstream(t, []string{be.URL + tc.base}, nil)
			_, d, _ := serveDirect(u, httptest.NewRequest(http.MethodGet, "http://gw.example"+tc.reqURI, nil), &Forward{Route: "r", Path: tc.fwdPath})
			if d != nil {
				t.Fatal(d.Reason)
			}
			if uri := <-got; uri != tc.want {
				t.Fatalf("backend saw %q, want %q", uri, tc.want)
			}
		})
	}
}

// limitedBody yields some bytes, then fails like the gateway's size limit.
type limitedBody struct{ n int }

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, pipeline.ErrBodyTooLarge
	}
	k := min(len(p), b.n)
	for i := range k {
		p[i] = 'a'
	}
	b.n -= k
	return k, nil
}

func TestBodyTooLarge(t *testing.T) {
	t.Parallel()
	be, _ := backend(t, func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			<-r.Context().Done() // the gateway aborted the upload; answer nothing
		}
	})
	cases := []struct {
		name          string
		method        string
		contentLength int64
		sent          int
	}{
		{"streamed POST", http.MethodPost, -1, 100 << 10},
		{"buffered PUT (retryable)", http.MethodPut, 1000, 500},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := newUpstream(t, []string{be.URL}, nil)
			r := httptest.NewRequest(tc.method, "http://gw.example/upload", io.NopCloser(&limitedBody{n: tc.sent}))
			r.ContentLength = tc.contentLength
			rec, d, _ := serveDirect(u, r, &Forward{Route: "upload", MaxBodyBytes: 100 << 10})
			if d == nil || d.Code != "request.body_too_large" || d.Params["limit"] != "102400" {
				t.Fatalf("denial %+v, want request.body_too_large with limit 102400", d)
			}
			assertNothingWritten(t, rec)
			if s := u.Status()[0]; s.ConsecutiveFailures != 0 {
				t.Fatalf("an oversized body counted against the target: %+v", s)
			}
		})
	}
}

func TestStreamsWithoutBuffering(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name          string
		contentType   string
		contentLength string
		first, second string
	}{
		{name: "server-sent events", contentType: "text/event-stream", first: "data: first\n\n", second: "data: second\n\n"},
		// With a known length ReverseProxy buffers up to FlushInterval (100 ms), no longer.
		{name: "known length written slowly", contentType: "application/octet-stream", contentLength: "12",
			first: "part one\n", second: "two"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			be, _ := backend(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.contentType)
				if tc.contentLength != "" {
					w.Header().Set("Content-Length", tc.contentLength)
				}
				_, _ = io.WriteString(w, tc.first)
				_ = http.NewResponseController(w).Flush()
				select { // block until the client has read the first part
				case <-release:
				case <-r.Context().Done():
					return
				}
				_, _ = io.WriteString(w, tc.second)
			})
			u := newUpstream(t, []string{be.URL}, nil)
			_, fr := newFront(t, u, Forward{Route: "events", Timeout: time.Minute})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // hang guard only
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fr.URL+"/events", nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			buf := make([]byte, len(tc.first))
			if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != tc.first {
				t.Fatalf("first part %q, %v (a buffering proxy never delivers it)", buf, err)
			}
			close(release)
			rest, _ := io.ReadAll(resp.Body)
			if string(rest) != tc.second {
				t.Fatalf("rest %q, want %q", rest, tc.second)
			}
		})
	}
}

func TestWebSocketEcho(t *testing.T) {
	t.Parallel()
	be, _ := backend(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, append([]byte("echo: "), msg...)); err != nil {
				return
			}
		}
	})
	u := newUpstream(t, []string{be.URL}, nil)
	g, fr := newFront(t, u, Forward{Route: "ws"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(fr.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatalf("dial through the proxy: %v", err)
	}
	if resp.Header.Get("Pinpoint-Layer") != "upstream" {
		t.Errorf("101 response lacks Pinpoint-Layer: %v", resp.Header)
	}
	for _, m := range []string{"hello", "again"} {
		if err := c.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
			t.Fatal(err)
		}
		_, got, err := c.Read(ctx)
		if err != nil || string(got) != "echo: "+m {
			t.Fatalf("read %q, %v", got, err)
		}
	}
	_ = c.Close(websocket.StatusNormalClosure, "")
	x := <-g.done
	if x.UpstreamStatus != http.StatusSwitchingProtocols {
		t.Fatalf("exchange status %d, want 101", x.UpstreamStatus)
	}
	if n := u.Status()[0].InFlight; n != 0 {
		t.Fatalf("in-flight %d after the tunnel closed", n)
	}
}

func TestUpgradeFailures(t *testing.T) {
	t.Parallel()
	wsEcho, _ := backend(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err == nil {
			_ = c.CloseNow()
		}
	})
	wrongProtocol := rawServer(t, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n")
	cases := []struct {
		name     string
		url      string
		wantCode string
	}{
		// httptest.ResponseRecorder cannot hand over its connection.
		{"client connection cannot be taken over", wsEcho.URL, "gateway.internal_error"},
		{"backend switches to another protocol", wrongProtocol, "upstream.bad_response"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := newUpstream(t, []string{tc.url}, nil)
			r := httptest.NewRequest(http.MethodGet, "http://gw.example/ws", nil)
			r.Header.Set("Connection", "Upgrade")
			r.Header.Set("Upgrade", "websocket")
			r.Header.Set("Sec-WebSocket-Version", "13")
			r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
			rec, d, x := serveDirect(u, r, &Forward{Route: "ws"})
			if d == nil || d.Code != tc.wantCode {
				t.Fatalf("denial %+v, want %s", d, tc.wantCode)
			}
			assertNothingWritten(t, rec)
			if last := x.Trace[len(x.Trace)-1]; last.Code != tc.wantCode || last.Outcome != pipeline.OutcomeDeny {
				t.Fatalf("last step %+v", last)
			}
		})
	}
}

func TestConcurrentServe(t *testing.T) {
	t.Parallel()
	a, ha := okBackend(t, "a")
	b, hb := okBackend(t, "b")
	u := newUpstream(t, []string{a.URL, b.URL}, func(c *config.Upstream) { c.Balance = BalanceLeastConnections })
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Go(func() {
			rec, d, _ := serveDirect(u, httptest.NewRequest(http.MethodGet, "http://gw.example/", nil), &Forward{Route: "r"})
			if d != nil {
				errs <- errors.New(d.Reason)
			} else if body := rec.Body.String(); body != "a" && body != "b" {
				errs <- errors.New("body " + body)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if ha.count()+hb.count() != 64 {
		t.Fatalf("backends saw %d requests, want 64", ha.count()+hb.count())
	}
	for _, s := range u.Status() {
		if s.InFlight != 0 {
			t.Fatalf("in-flight %d after all requests finished", s.InFlight)
		}
	}
}

// brokenBody fails like a client connection that broke mid-upload.
type brokenBody struct{}

func (brokenBody) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestClientBodyErrors(t *testing.T) {
	t.Parallel()
	be, _ := okBackend(t, "ok")
	cases := []struct {
		name          string
		method        string
		contentLength int64
		cancel        bool
		wantCode      string // "" means no denial (client gone)
	}{
		{"buffered body, client still there", http.MethodPut, 100, false, "request.malformed"},
		{"streamed body, client still there", http.MethodPost, -1, false, "request.malformed"},
		{"buffered body, client gone", http.MethodPut, 100, true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := newUpstream(t, []string{be.URL}, nil)
			ctx, cancel := context.WithCancel(context.Background())
			if tc.cancel {
				cancel()
			}
			defer cancel()
			r := httptest.NewRequestWithContext(ctx, tc.method, "http://gw.example/up", io.NopCloser(brokenBody{}))
			r.ContentLength = tc.contentLength
			rec, d, x := serveDirect(u, r, &Forward{Route: "up"})
			assertNothingWritten(t, rec)
			switch {
			case tc.wantCode == "" && d != nil:
				t.Fatalf("denial %+v for a client that went away", d)
			case tc.wantCode != "" && (d == nil || d.Code != tc.wantCode):
				t.Fatalf("denial %+v, want %s", d, tc.wantCode)
			}
			if tc.wantCode == "" && x.Trace[len(x.Trace)-1].Outcome != OutcomeClientClosed {
				t.Fatalf("trace %+v", x.Trace)
			}
			if s := u.Status()[0]; s.ConsecutiveFailures != 0 {
				t.Fatalf("a broken upload counted against the target: %+v", s)
			}
		})
	}
}
