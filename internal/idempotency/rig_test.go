package idempotency

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/problem"
	"github.com/pinpointgw/pinpoint/internal/stage/stagetest"
	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/upstream"
)

// rig is a small gateway around one Gate, served by a real HTTP server:
// it builds the exchange (identity from X-Test-* headers), runs Begin,
// writes refusals as problems and replays as answers, and otherwise
// proxies through internal/upstream to a real backend, with the response
// writer wrapped and Finish deferred the way the gateway does it.
type rig struct {
	t       *testing.T
	gate    *Gate
	clock   *stagetest.Clock
	front   *httptest.Server
	backend *httptest.Server
	up      *upstream.Upstream
	hits    atomic.Int64 // requests that reached the backend

	// hold, when set, makes the backend wait for it before answering.
	hold chan struct{}

	mu      sync.Mutex
	seq     int
	results map[string]*result
	errs    []string // what the Observer heard: "op: error"
}

// result is what one request did inside the rig.
type result struct {
	done   chan struct{} // closed when the handler returned
	trace  []pipeline.Step
	denial *pipeline.Denial
}

// reply is what a client of the rig got.
type reply struct {
	status int
	header http.Header
	body   []byte
	*result
}

func newRig(t *testing.T, st store.Idempotency, cfg config.Idempotency) *rig {
	t.Helper()
	applyDefaults(&cfg)
	r := &rig{t: t, clock: stagetest.NewClock(t0), results: map[string]*result{}}
	g, err := New(Options{Route: "orders", Config: &cfg, LockTimeout: 10 * time.Second, MaxBodyBytes: 1 << 10,
		Store: st, Clock: r.clock.Now, Observer: r.observe})
	if err != nil {
		t.Fatal(err)
	}
	r.gate = g
	r.backend = httptest.NewServer(http.HandlerFunc(r.serveBackend))
	t.Cleanup(r.backend.Close)
	r.up, err = upstream.New(config.Upstream{Name: "orders", Targets: []config.Target{{URL: r.backend.URL}},
		Retry:       config.Retry{Attempts: -1},
		HealthCheck: config.HealthCheck{Passive: config.PassiveHealthCheck{ConsecutiveFailures: -1}}}, upstream.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.up.Close)
	r.front = httptest.NewServer(http.HandlerFunc(r.serveFront))
	t.Cleanup(r.front.Close)
	return r
}

// applyDefaults fills cfg like config.Load does.
func applyDefaults(cfg *config.Idempotency) {
	if cfg.Header == "" {
		cfg.Header = "Idempotency-Key"
	}
	if len(cfg.Methods) == 0 {
		cfg.Methods = []string{http.MethodPost}
	}
	if cfg.TTL == 0 {
		cfg.TTL = config.Duration(24 * time.Hour)
	}
	if cfg.MaxResponseBytes == 0 {
		cfg.MaxResponseBytes = 1 << 20
	}
	if cfg.Store == "" {
		cfg.Store = "local"
	}
	if cfg.OnStoreError == "" {
		cfg.OnStoreError = "fail_open"
	}
}

func (r *rig) observe(route, op string, err error) {
	if route != "orders" {
		r.t.Errorf("observer got route %q", route)
	}
	r.mu.Lock()
	r.errs = append(r.errs, op+": "+err.Error())
	r.mu.Unlock()
}

func (r *rig) observed() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...)
}

func (r *rig) serveFront(w http.ResponseWriter, req *http.Request) {
	res := r.result(req.Header.Get("X-Test-Seq"))
	x := &pipeline.Exchange{Request: req, Start: time.Now(), Path: req.URL.Path, Route: "orders", ResponseHeader: w.Header()}
	x.ClientIP = netip.MustParseAddr("192.0.2.1")
	if ip := req.Header.Get("X-Test-IP"); ip != "" {
		x.ClientIP = netip.MustParseAddr(ip)
	}
	if c := req.Header.Get("X-Test-Consumer"); c != "" {
		x.Identity = pipeline.Identity{Authenticated: true, Method: "api_key", Authenticator: "keys", CredentialID: "cred-" + c, ConsumerID: c}
	}
	if auth, id, ok := strings.Cut(req.Header.Get("X-Test-Credential"), "/"); ok {
		x.Identity = pipeline.Identity{Authenticated: true, Method: "jwt", Authenticator: auth, CredentialID: id}
	}
	// Stages before idempotency decorate the response (CORS does).
	w.Header().Set("Vary", "Origin")
	w.Header().Set("X-Request-Id", req.Header.Get("X-Test-Seq"))
	defer func() {
		res.trace = append([]pipeline.Step(nil), x.Trace...)
		close(res.done)
	}()

	t, d := r.gate.Begin(x)
	switch {
	case d.Denial != nil:
		res.denial = d.Denial
		writeDenial(w, req, d.Denial)
		return
	case d.Answer != nil:
		for k, v := range d.Answer.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(d.Answer.Status)
		_, _ = w.Write(d.Answer.Body)
		return
	}
	rw := t.Wrap(w)
	failed := true
	defer func() { t.Finish(req.Context(), failed) }()
	dn := r.up.Serve(rw, x, &upstream.Forward{Route: "orders"})
	failed = dn != nil
	if dn != nil {
		res.denial = dn
		writeDenial(w, req, dn)
	}
}

func writeDenial(w http.ResponseWriter, req *http.Request, d *pipeline.Denial) {
	for k, v := range d.Header {
		w.Header()[k] = v
	}
	p := problem.New(d.Code, d.Params)
	if d.Stage != "" {
		p.Stage = d.Stage
	}
	problem.Write(w, req, p, problem.Standard)
}

// serveBackend answers like an orders service. X-Want-Status picks the
// status (default 201), X-Want-Size pads the body to that many bytes,
// X-Want-Chunks streams it in two flushed writes, X-Want-Break sends half
// a body and cuts the connection; the body echoes
// the request body after a sequence number, so repeats that reached the
// backend are told apart from replays.
func (r *rig) serveBackend(w http.ResponseWriter, req *http.Request) {
	n := r.hits.Add(1)
	if r.hold != nil {
		<-r.hold
	}
	in, _ := io.ReadAll(req.Body)
	body := []byte("call " + strconv.FormatInt(n, 10) + ": " + string(in))
	if s := req.Header.Get("X-Want-Size"); s != "" {
		size, _ := strconv.Atoi(s)
		body = append(body, bytes.Repeat([]byte{'.'}, max(0, size-len(body)))...)
	}
	status := http.StatusCreated
	if s := req.Header.Get("X-Want-Status"); s != "" {
		status, _ = strconv.Atoi(s)
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain")
	h.Set("Location", "/orders/"+strconv.FormatInt(n, 10))
	h.Add("Vary", "Accept")
	h.Set("Set-Cookie", "session=secret")
	h.Set("X-Request-Id", "backend-id")
	if req.Header.Get("X-Want-Break") != "" {
		h.Set("Content-Length", strconv.Itoa(2*len(body)))
		w.WriteHeader(status)
		_, _ = w.Write(body)
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	w.WriteHeader(status)
	if req.Header.Get("X-Want-Chunks") != "" {
		// Two flushed writes: chunked, no Content-Length to go by.
		half := len(body) / 2
		_, _ = w.Write(body[:half])
		w.(http.Flusher).Flush()
		body = body[half:]
	}
	_, _ = w.Write(body)
}

func (r *rig) result(seq string) *result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := r.results[seq]
	if res == nil {
		res = &result{done: make(chan struct{})}
		r.results[seq] = res
	}
	return res
}

// do sends a request and waits until the rig's handler, Finish included,
// has returned. hdr alternates names and values.
func (r *rig) do(method, path, body string, hdr ...string) reply {
	r.t.Helper()
	r.mu.Lock()
	r.seq++
	seq := "req-" + strconv.Itoa(r.seq)
	r.mu.Unlock()
	res := r.result(seq)
	req, err := http.NewRequest(method, r.front.URL+path, strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("X-Test-Seq", seq)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := r.front.Client().Do(req)
	if err != nil {
		if req.Header.Get("X-Want-Break") == "" {
			r.t.Errorf("%s %s: %v", method, path, err)
		}
		<-res.done
		return reply{result: res}
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	<-res.done
	if err != nil && req.Header.Get("X-Want-Break") == "" {
		r.t.Errorf("%s %s: reading body: %v", method, path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: out, result: res}
}

// step returns the trace steps of the idempotency stage.
func (res *result) steps() []pipeline.Step {
	var out []pipeline.Step
	for _, s := range res.trace {
		if s.Stage == stageName {
			out = append(out, s)
		}
	}
	return out
}

// notes lists "outcome: note" of the idempotency steps.
func (res *result) notes() string { return stepNotes(res.trace) }

// stepNotes lists "outcome: note" of the idempotency steps in trace.
func stepNotes(trace []pipeline.Step) string {
	var b strings.Builder
	n := 0
	for _, s := range trace {
		if s.Stage != stageName {
			continue
		}
		if n > 0 {
			b.WriteString(" | ")
		}
		n++
		b.WriteString(s.Outcome + ": " + s.Note)
	}
	return b.String()
}
