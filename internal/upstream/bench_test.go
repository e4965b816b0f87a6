package upstream

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// measures the proxy and not a recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) Flush()                      {}

func BenchmarkServe(b *testing.B) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer be.Close()
	u := newUpstream(b, []string{be.URL}, nil)
	r := httptest.NewRequest(http.MethodGet, "http://gw.example/orders/42?expand=items", nil)
	r.RemoteAddr = "192.0.2.10:51234"
	f := &Forward{Route: "orders", Path: "/orders/42"}
	w := &discardWriter{h: make(http.Header)}
	x := exchange(r)
	x.TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	x.Trace = make([]pipeline.Step, 0, 8)
	b.ReportAllocs()
	for b.Loop() {
		x.Trace = x.Trace[:0]
		x.Attempts = 0
		clear(w.h)
		if d := u.Serve(w, x, f); d != nil {
			b.Fatal(d.Reason)
		}
	}
}

// BenchmarkBaselineRoundTrip is the floor BenchmarkServe is measured
// against: a bare http.Transport round trip to the same backend, whose
// server-side allocations (same process) both benchmarks include.
func BenchmarkBaselineRoundTrip(b *testing.B) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer be.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, be.URL+"/orders/42?expand=items", nil)
	buf := make([]byte, 512)
	b.ReportAllocs()
	for b.Loop() {
		resp, err := tr.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := resp.Body.Read(buf); err != nil {
				break
			}
		}
		_ = resp.Body.Close()
	}
}
