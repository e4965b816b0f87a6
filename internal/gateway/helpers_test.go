package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/calllog"
	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
	"github.com/pinpointgw/pinpoint/internal/telemetry"
)

// harness is a real gateway on a real SQLite store behind a real listener.
type harness struct {
	t     testing.TB
	g     *Gateway
	st    store.Store
	calls *calllog.Writer
	srv   *httptest.Server
}

func newHarness(t testing.TB, doc string, opts ...func(*Options)) *harness {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir()+"/pinpoint.db")
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Store: st, Metrics: telemetry.New()}
	for _, f := range opts {
		f(&o)
	}
	g := New(o)
	h := &harness{t: t, g: g, st: st}
	if doc != "" {
		h.apply(doc)
	}
	h.calls = calllog.New(st, calllog.Options{FlushInterval: 5 * time.Millisecond})
	g.SetCallLog(h.calls)
	g.SetListening(true)
	h.srv = httptest.NewServer(g)
	t.Cleanup(func() {
		h.srv.Close()
		_ = h.calls.Close(context.Background())
		g.Close()
		st.Close()
	})
	return h
}

func (h *harness) apply(doc string) admin.ApplyResult {
	h.t.Helper()
	res, err := h.g.apply(context.Background(), admin.ApplyRequest{
		Filename: "test.yaml", Document: []byte(doc), Author: "test", Source: "test",
	})
	if err != nil {
		h.t.Fatalf("apply: %v", err)
	}
	return res
}

// do sends a request through the gateway and returns the response with its body read.
func (h *harness) do(method, path string, hdr map[string]string, body string) (*http.Response, string) {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// problemBody decodes a problem+json body and checks the contract every
// refusal must keep.
func problemBody(t testing.TB, resp *http.Response, body string, status int, code string) map[string]any {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q; body %s", ct, body)
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, body)
	}
	if p["code"] != code || resp.Header.Get("Pinpoint-Code") != code {
		t.Fatalf("code %v / header %q, want %s", p["code"], resp.Header.Get("Pinpoint-Code"), code)
	}
	if p["layer"] != "gateway" || resp.Header.Get("Pinpoint-Layer") != "gateway" {
		t.Fatalf("layer %v", p["layer"])
	}
	id := resp.Header.Get("X-Request-Id")
	if id == "" || p["request_id"] != id {
		t.Fatalf("request id header %q body %v", id, p["request_id"])
	}
	return p
}

// waitCall polls the call log for a request id.
func (h *harness) waitCall(id string) store.Call {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		calls, err := h.st.QueryCalls(context.Background(), store.CallQuery{RequestID: id})
		if err != nil {
			h.t.Fatal(err)
		}
		if len(calls) == 1 {
			return calls[0]
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.t.Fatalf("call %s never reached the call log", id)
	return store.Call{}
}

// backend is a real HTTP server that describes what it received.
func backend(t *testing.T, name string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Backend", name)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"backend": name, "path": r.URL.EscapedPath(), "query": r.URL.RawQuery,
			"xff": r.Header.Get("X-Forwarded-For"), "request_id": r.Header.Get("X-Request-Id"),
			"host": r.Host, "traceparent": r.Header.Get("traceparent"),
		})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func decode(t testing.TB, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, body)
	}
	return m
}

// simpleConfig routes /api/* (strip prefix) and /users/{id} to url.
func simpleConfig(url string) string {
	return `version: 1
listeners:
  - {name: public, kind: proxy, address: "127.0.0.1:0"}
routes:
  - name: api
    paths: ["/api/*"]
    strip_prefix: true
    upstream: app
  - name: users
    paths: ["/users/{id}"]
    methods: [GET, DELETE]
    rewrite: "/v2/people/{id}"
    upstream: app
upstreams:
  - name: app
    targets: [{url: "` + url + `"}]
`
}

// slowBackend answers body only after release is closed; started is closed
// when the first request arrives. It serves one request.
func slowBackend(t *testing.T, body string) (url string, started, release chan struct{}) {
	t.Helper()
	started, release = make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, started, release
}

// getInBackground sends a GET and delivers the body (or the error text).
func getInBackground(client *http.Client, url string) <-chan string {
	done := make(chan string, 1)
	go func() {
		resp, err := client.Get(url)
		if err != nil {
			done <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- string(b)
	}()
	return done
}
