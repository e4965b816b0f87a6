package upstream

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/problem"
)

func TestServeFailureClasses(t *testing.T) {
	t.Parallel()
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	plain, _ := okBackend(t, "plain")
	slowRelease := make(chan struct{})
	t.Cleanup(func() { close(slowRelease) })
	slow, _ := backend(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-slowRelease:
		}
	})
	reset, _ := resetBackend(t)
	closing, _ := closingBackend(t, false)

	cases := []struct {
		name        string
		url         string
		edit        func(*config.Upstream)
		timeout     time.Duration
		wantCode    string
		wantTimeout string
	}{
		{name: "refused port", url: refusedURL(t), wantCode: "upstream.connect_failed"},
		{name: "unresolvable name", url: "http://pinpoint-test.invalid:8080", wantCode: "upstream.dns_failed"},
		{name: "self-signed certificate", url: tlsSrv.URL, wantCode: "upstream.tls_failed"},
		{name: "https to a plain http server", url: strings.Replace(plain.URL, "http:", "https:", 1), wantCode: "upstream.tls_failed"},
		{name: "connection closed after the request", url: reset.URL, wantCode: "upstream.reset"},
		{name: "connection closed without reset", url: closing.URL, wantCode: "upstream.reset"},
		{name: "route timeout", url: slow.URL, timeout: 50 * time.Millisecond, wantCode: "upstream.timeout", wantTimeout: "50ms"},
		{name: "response header timeout", url: slow.URL, timeout: time.Minute,
			edit:     func(c *config.Upstream) { c.Timeouts.ResponseHeader = config.Duration(40 * time.Millisecond) },
			wantCode: "upstream.timeout", wantTimeout: "40ms"},
		{name: "garbage instead of HTTP", url: rawServer(t, "garbage\r\n\r\n"), wantCode: "upstream.bad_response"},
		{name: "bad status line", url: rawServer(t, "HTTP/1.1 abc OK\r\n\r\n"), wantCode: "upstream.bad_response"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := newUpstream(t, []string{tc.url}, tc.edit)
			r := httptest.NewRequest(http.MethodGet, "http://gw.example/orders/1", nil)
			rec, d, x := serveDirect(u, r, &Forward{Route: "orders", Timeout: tc.timeout})
			if d == nil {
				t.Fatalf("no denial; response %d %q", rec.Code, rec.Body.String())
			}
			assertNothingWritten(t, rec)
			if d.Code != tc.wantCode {
				t.Fatalf("code %s, want %s (reason: %s)", d.Code, tc.wantCode, d.Reason)
			}
			c, ok := problem.Lookup(d.Code)
			if !ok {
				t.Fatalf("code %s not in the catalog", d.Code)
			}
			if want := map[string]int{"upstream.timeout": 504}[d.Code]; want != 0 && c.Status != want {
				t.Fatalf("status %d, want %d", c.Status, want)
			}
			if d.Params["route"] != "orders" || d.Params["timeout"] != tc.wantTimeout {
				t.Fatalf("params %v, want route orders and timeout %q", d.Params, tc.wantTimeout)
			}
			host := hostOf(t, tc.url)
			for k, v := range d.Params {
				if strings.Contains(v, host) {
					t.Fatalf("client-facing param %s=%q leaks the target address", k, v)
				}
			}
			if !strings.Contains(d.Reason, host) || d.Rule == "" {
				t.Fatalf("operator reason %q / rule %q should name the target", d.Reason, d.Rule)
			}
			last := x.Trace[len(x.Trace)-1]
			if last.Stage != "upstream" || last.Outcome != pipeline.OutcomeDeny || last.Code != tc.wantCode || last.Note == "" || !strings.Contains(last.Rule, host) {
				t.Fatalf("trace step %+v", last)
			}
			t.Logf("reason: %s", d.Reason)
			if x.Attempts != 1 {
				t.Fatalf("attempts %d, want 1", x.Attempts)
			}
		})
	}
}

func hostOf(t *testing.T, raw string) string {
	t.Helper()
	pu, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return pu.Host
}

func TestServeClientGone(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	slow, _ := backend(t, func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
	})
	u := newUpstream(t, []string{slow.URL}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	r := httptest.NewRequestWithContext(ctx, http.MethodGet, "http://gw.example/orders", nil)
	go func() {
		<-started
		cancel()
	}()
	rec, d, x := serveDirect(u, r, &Forward{Route: "orders"})
	if d != nil {
		t.Fatalf("denial %+v for a client that went away", d)
	}
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Fatalf("wrote %d %q", rec.Code, rec.Body.String())
	}
	if last := x.Trace[len(x.Trace)-1]; last.Outcome != OutcomeClientClosed {
		t.Fatalf("last step %+v, want outcome %s", last, OutcomeClientClosed)
	}
	if got := u.Status()[0].ConsecutiveFailures; got != 0 {
		t.Fatalf("a client going away counted as %d target failures", got)
	}
}

func TestServeTLS(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Proto", r.Proto)
		_, _ = w.Write([]byte("secure"))
	}))
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		tls  config.UpstreamTLS
	}{
		{"ca file", config.UpstreamTLS{CAFile: caFile}},
		{"ca file and server name", config.UpstreamTLS{CAFile: caFile, ServerName: "example.com"}},
		{"insecure skip verify", config.UpstreamTLS{InsecureSkipVerify: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := newUpstream(t, []string{srv.URL}, func(c *config.Upstream) { c.TLS = tc.tls })
			rec, d, _ := serveDirect(u, httptest.NewRequest(http.MethodGet, "http://gw.example/", nil), &Forward{Route: "r"})
			if d != nil {
				t.Fatalf("denial %s: %s", d.Code, d.Reason)
			}
			if rec.Body.String() != "secure" || rec.Header().Get("X-Proto") != "HTTP/2.0" {
				t.Fatalf("got %q over %s, want HTTP/2", rec.Body.String(), rec.Header().Get("X-Proto"))
			}
		})
	}
	t.Run("wrong server name", func(t *testing.T) {
		t.Parallel()
		u := newUpstream(t, []string{srv.URL}, func(c *config.Upstream) {
			c.TLS = config.UpstreamTLS{CAFile: caFile, ServerName: "other.example"}
		})
		_, d, _ := serveDirect(u, httptest.NewRequest(http.MethodGet, "http://gw.example/", nil), &Forward{Route: "r"})
		if d == nil || d.Code != "upstream.tls_failed" {
			t.Fatalf("denial %+v, want upstream.tls_failed", d)
		}
	})
}
