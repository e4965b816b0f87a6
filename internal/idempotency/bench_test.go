package idempotency

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/redisconn/redistest"
	"github.com/pinpointgw/pinpoint/internal/store"
)

var (
	benchBody = []byte(`{"item":"tea","quantity":2,"note":"by the window"}`)
	benchResp = []byte(`{"id":"ord_123","status":"created"}`)
)

// benchExchange readies x for one more request. Each call allocates the
// request body reader (2 allocs), as a real request would have one.
func benchExchange(x *pipeline.Exchange, req *http.Request, k string) {
	req.Body = io.NopCloser(bytes.NewReader(benchBody))
	if k != "" {
		req.Header[key] = []string{k}
	}
	trace := x.Trace[:0]
	*x = pipeline.Exchange{Request: req, Path: "/orders", Route: "orders", ClientIP: netip.MustParseAddr("192.0.2.1"),
		ResponseHeader: http.Header{}, Trace: trace}
}

// firstUse runs one first use of a key end to end: Begin, a 201 response
// through Wrap, Finish.
func firstUse(b *testing.B, g *Gate, x *pipeline.Exchange, req *http.Request, w http.ResponseWriter, k string) {
	benchExchange(x, req, k)
	tx, d := g.Begin(x)
	if tx == nil || d.Ends() {
		b.Fatalf("not a first use: %+v", x.Trace)
	}
	rw := tx.Wrap(w)
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(http.StatusCreated)
	_, _ = rw.Write(benchResp)
	tx.Finish(context.Background(), false)
}

func benchFirstUse(b *testing.B, st store.Idempotency) {
	g := newGate(b, st, config.Idempotency{}, nil)
	req := httptest.NewRequest("POST", "/orders", nil)
	w := discardWriter{http.Header{}}
	var x pipeline.Exchange
	keys := make([]string, b.N)
	for i := range keys {
		keys[i] = "bench-" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		firstUse(b, g, &x, req, w, keys[i])
	}
}

func benchReplay(b *testing.B, st store.Idempotency) {
	g := newGate(b, st, config.Idempotency{}, nil)
	req := httptest.NewRequest("POST", "/orders", nil)
	var x pipeline.Exchange
	firstUse(b, g, &x, req, discardWriter{http.Header{}}, "replayed")
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		benchExchange(&x, req, "replayed")
		_, d := g.Begin(&x)
		if d.Answer == nil {
			b.Fatalf("not replayed: %+v", x.Trace)
		}
	}
}

func BenchmarkFirstUseMemory(b *testing.B) { benchFirstUse(b, newMemStore()) }
func BenchmarkReplayMemory(b *testing.B)   { benchReplay(b, newMemStore()) }

func BenchmarkFirstUseRedis(b *testing.B) { benchFirstUse(b, NewRedisStore(redistest.Client(b))) }
func BenchmarkReplayRedis(b *testing.B)   { benchReplay(b, NewRedisStore(redistest.Client(b))) }

// BenchmarkNoKey is what the gate costs every POST that carries no key.
func BenchmarkNoKey(b *testing.B) {
	g := newGate(b, newMemStore(), config.Idempotency{}, nil)
	req := httptest.NewRequest("POST", "/orders", nil)
	var x pipeline.Exchange
	b.ReportAllocs()
	for range b.N {
		benchExchange(&x, req, "")
		if tx, d := g.Begin(&x); tx != nil || d.Ends() {
			b.Fatal("a request without a key took part")
		}
	}
}

// discardWriter is a response writer that keeps nothing.
type discardWriter struct{ h http.Header }

func (w discardWriter) Header() http.Header       { return w.h }
func (discardWriter) WriteHeader(int)             {}
func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
