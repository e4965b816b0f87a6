package upstream

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"time"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// maxReplayBody is the largest request body buffered so that a retry can
// send it again; larger bodies and bodies of unknown length are streamed
// and never retried.
const maxReplayBody = 64 << 10

// DefaultRequestIDHeader carries the request id upstream unless
// Forward.RequestIDHeader names another header.
const DefaultRequestIDHeader = "X-Request-Id"

// DefaultKeyHeader marks a request safe to retry, whatever its method,
// unless Forward.KeyHeader names another header.
const DefaultKeyHeader = "Idempotency-Key"

// Forward says how one request goes upstream. The gateway fills it per
// request from the matched route; Serve does not keep it after returning.
type Forward struct {
	// Route is the route name; it appears in client-facing problem details.
	Route string
	// Path is the escaped upstream path after strip_prefix and rewrite,
	// before the target URL's base path is joined in front of it
	// ("/orders/42"; with target "http://10.0.0.5/api" the target sees
	// "/api/orders/42"). Empty: the request's own escaped path.
	Path string
	// Timeout bounds the whole exchange, retries included, up to the
	// response headers; the body then streams without a limit. Zero: 30s.
	Timeout time.Duration
	// Idempotent is the route's idempotent flag: every method may be
	// retried, and 502/503/504 answers are retried for all methods.
	Idempotent bool
	// KeyHeader is the header that marks a request safe to retry: a
	// request of any method with a non-empty value in it may be sent again
	// after a failure before the target answered (a refused connect, a
	// reset), as idempotent methods may. The gateway sets it to the route's
	// idempotency.header ("Idempotency-Key", "X-Request-Key"). Empty:
	// DefaultKeyHeader. It is matched case-insensitively; given in
	// canonical form (http.CanonicalHeaderKey, idempotency.Gate.Header) the
	// lookup does not allocate.
	KeyHeader string
	// PreserveHost sends the client's Host header instead of the target's.
	PreserveHost bool
	// RequestIDHeader names the header that carries the request id upstream
	// (gateway.request_id_header). Empty: X-Request-Id.
	RequestIDHeader string
	// MaxBodyBytes is the request body limit in force; it only fills the
	// {limit} of request.body_too_large.
	MaxBodyBytes int64
	// Request edits the headers sent upstream; Response edits the
	// backend's response headers.
	Request, Response HeaderOps
}

// stateKey finds the exchangeState in a request context.
type stateKey struct{}

// exchangeState is one Serve call's state, shared with the ReverseProxy
// hooks through the request context. States are pooled; nothing may keep
// one after Serve returns.
type exchangeState struct {
	u       *Upstream
	x       *pipeline.Exchange
	f       *Forward
	ctx     context.Context // canceled with errRouteTimeout when f.Timeout expires
	cancel  context.CancelCauseFunc
	timer   *time.Timer
	timeout time.Duration
	start   time.Time
	path    string // escaped upstream path (before the target's base path)

	target   *target
	tried    []*target
	triedBuf [4]*target
	retries  int

	retryable bool // the request may be sent again
	safe      bool // answered failures (502/503/504, ...) may be retried too
	body      []byte
	streamed  *bodyReader

	result  result   // for the circuit breaker
	failed  *verdict // set when the exchange failed without a response
	failErr string
	rw      trackingWriter
}

var statePool = sync.Pool{New: func() any { return new(exchangeState) }}

func stateOf(ctx context.Context) *exchangeState {
	st, _ := ctx.Value(stateKey{}).(*exchangeState)
	return st
}

func (st *exchangeState) bodyErr() error {
	if st.streamed == nil {
		return nil
	}
	return st.streamed.failure()
}

func (u *Upstream) newProxy() *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite:   u.rewrite,
		Transport: attemptTransport{u},
		// Streams (text/event-stream, unknown length) are flushed after every
		// write by ReverseProxy itself; other responses are flushed at least every
		// 100 ms. Flushing every write of every response (-1) costs about a
		// fifth of the throughput in bench/run.sh.
		FlushInterval:  100 * time.Millisecond,
		BufferPool:     copyBuffers{},
		ModifyResponse: u.modifyResponse,
		ErrorHandler:   u.proxyError,
		ErrorLog:       slog.NewLogLogger(u.log.Handler(), slog.LevelDebug),
	}
}

// Serve proxies x.Request to a target of the upstream.
//
// When the exchange fails before anything was written to w, Serve writes
// nothing and returns a Denial: an upstream.* code, request.body_too_large
// when the body reader returned pipeline.ErrBodyTooLarge, or
// request.malformed when the client's body could not be read. Otherwise it
// returns nil: the backend's response, whatever its status, was passed
// through. It also returns nil when the client went away before a response
// (nobody is left to answer); the trace then ends with a step whose outcome
// is OutcomeClientClosed.
//
// Serve records one trace step per attempt and fills x.Target,
// x.UpstreamStatus, x.UpstreamLatency and x.Attempts. When a response body
// breaks off after the headers were sent, ReverseProxy aborts the handler
// with panic(http.ErrAbortHandler), which net/http handles by closing the
// client connection; a recovering middleware must re-panic that value.
func (u *Upstream) Serve(w http.ResponseWriter, x *pipeline.Exchange, f *Forward) *pipeline.Denial {
	if f == nil {
		f = &Forward{}
	}
	now := time.Now()
	var tk ticket
	if u.breaker != nil {
		ok, t, wait := u.breaker.allow(now)
		if !ok {
			x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomeDeny, Code: codeCircuitOpen,
				Rule: u.name, Note: "circuit open; next probe in " + wait.Round(time.Second).String()})
			return u.unavailable(codeCircuitOpen, f, wait, "upstream "+u.name+": circuit breaker open")
		}
		tk = t
	}
	u.budget.request()
	t := u.bal.pick(x, now.UnixNano(), nil)
	if t == nil {
		if u.breaker != nil {
			u.breaker.done(now, tk, resultNeutral)
		}
		x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomeDeny, Code: codeNoHealthy,
			Rule: u.name, Note: "no healthy target"})
		return u.unavailable(codeNoHealthy, f, u.retryAfter(now), "upstream "+u.name+": every target is down or ejected")
	}
	st := statePool.Get().(*exchangeState)
	st.u, st.x, st.f, st.start = u, x, f, now
	st.tried = append(st.triedBuf[:0], t)
	st.target = t
	t.inflight.Add(1)
	defer u.release(st, tk)
	return u.serve(st, w)
}

func (u *Upstream) serve(st *exchangeState, w http.ResponseWriter) *pipeline.Denial {
	x, f := st.x, st.f
	r := x.Request
	st.path = f.Path
	if st.path == "" {
		st.path = r.URL.EscapedPath()
	}
	st.safe = f.Idempotent || isSafeMethod(r.Method)
	st.retryable = u.retries > 0 && (f.Idempotent || isIdempotentMethod(r.Method) || carriesKey(r.Header, f.KeyHeader))
	body := r.Body
	if body != nil && body != http.NoBody && r.ContentLength != 0 {
		if st.retryable && r.ContentLength > 0 && r.ContentLength <= maxReplayBody {
			if ok, d := st.bufferBody(r); !ok {
				return d
			}
			body = io.NopCloser(bytes.NewReader(st.body))
		} else {
			st.retryable = false
			st.streamed = &bodyReader{rc: body}
			body = st.streamed
		}
	}

	st.timeout = f.Timeout
	if st.timeout <= 0 {
		st.timeout = defaultRouteTimeout
	}
	ctx, cancel := context.WithCancelCause(r.Context())
	st.ctx, st.cancel = ctx, cancel
	st.timer = time.AfterFunc(st.timeout, func() { cancel(errRouteTimeout) })

	r2 := r.WithContext(context.WithValue(ctx, stateKey{}, st))
	r2.Body = body
	if st.body != nil {
		buf := st.body
		r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	}
	st.rw.ResponseWriter = w
	u.proxy.ServeHTTP(&st.rw, r2)

	if st.failed == nil || st.rw.wrote || st.failed.closed {
		return nil
	}
	return st.denial(*st.failed, st.failErr)
}

// bufferBody reads a small body of a retryable request so that it can be
// sent again. When reading fails it reports false with the refusal, or with
// nil when the client went away.
func (st *exchangeState) bufferBody(r *http.Request) (bool, *pipeline.Denial) {
	buf := make([]byte, r.ContentLength)
	_, err := io.ReadFull(r.Body, buf)
	if err == nil {
		st.body = buf
		return true, nil
	}
	note := "reading request body: " + err.Error()
	st.streamed = &bodyReader{err: err}
	st.ctx = r.Context()
	v := st.classify(err)
	if v.closed {
		st.x.Record(pipeline.Step{Stage: stageName, Outcome: OutcomeClientClosed, Note: note})
		return false, nil
	}
	st.x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomeDeny, Code: v.code, Note: note})
	d := st.denial(v, note)
	d.Rule, d.Reason = "", note // nothing was sent: no target to name
	return false, d
}

// release ends an exchange: it runs even when ReverseProxy aborts the
// handler with a panic, so the target's in-flight count and the circuit
// breaker stay right.
func (u *Upstream) release(st *exchangeState, tk ticket) {
	if st.timer != nil {
		st.timer.Stop()
	}
	if st.cancel != nil {
		st.cancel(nil)
	}
	st.target.inflight.Add(-1)
	if u.breaker != nil {
		u.breaker.done(time.Now(), tk, st.result)
	}
	*st = exchangeState{}
	statePool.Put(st)
}

func isSafeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// carriesKey reports whether h has a non-empty first value for the key
// header name (empty: DefaultKeyHeader).
func carriesKey(h http.Header, name string) bool {
	if name == "" {
		name = DefaultKeyHeader
	}
	return h.Get(name) != ""
}

func isIdempotentMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
		return true
	}
	return false
}

// bodyReader passes a streamed request body through and remembers its first
// read error, so that a broken or oversized upload is not blamed on the target.
type bodyReader struct {
	rc  io.ReadCloser
	mu  sync.Mutex
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil && err != io.EOF {
		b.mu.Lock()
		if b.err == nil {
			b.err = err
		}
		b.mu.Unlock()
	}
	return n, err
}

func (b *bodyReader) Close() error { return b.rc.Close() }

func (b *bodyReader) failure() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// trackingWriter records whether anything reached the client, so that a
// failure after that point is never turned into a problem response.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *trackingWriter) WriteHeader(code int) {
	if code >= 200 || code == http.StatusSwitchingProtocols {
		w.wrote = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *trackingWriter) Write(p []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(p)
}

// FlushError lets http.ResponseController flush through the wrapper.
func (w *trackingWriter) FlushError() error {
	w.wrote = true
	// Asserting the common interfaces first avoids ResponseController's
	// allocations on every flush (ReverseProxy flushes after each write).
	switch f := w.ResponseWriter.(type) {
	case interface{ FlushError() error }:
		return f.FlushError()
	case http.Flusher:
		f.Flush()
		return nil
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Flush implements http.Flusher for callers that type-assert it.
func (w *trackingWriter) Flush() { _ = w.FlushError() }

// Hijack takes over the client connection for protocol upgrades (WebSocket).
func (w *trackingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.wrote = true
	}
	return c, brw, err
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (w *trackingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// copyBufferSize is the size of ReverseProxy's body copy buffers.
const copyBufferSize = 32 << 10

// copyBuffers pools ReverseProxy's body copy buffers. The pool holds array
// pointers, so that neither Get nor Put allocates.
type copyBuffers struct{}

var copyBufferPool = sync.Pool{New: func() any { return new([copyBufferSize]byte) }}

func (copyBuffers) Get() []byte { return copyBufferPool.Get().(*[copyBufferSize]byte)[:] }

func (copyBuffers) Put(b []byte) {
	if cap(b) == copyBufferSize {
		copyBufferPool.Put((*[copyBufferSize]byte)(b[:copyBufferSize]))
	}
}
