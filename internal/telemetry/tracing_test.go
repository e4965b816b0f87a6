package telemetry

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/telemetry/otlptest"
)

func newTestTracer(t *testing.T, c config.Tracing) *Tracer {
	t.Helper()
	tr, err := NewTracer(c, TracerOptions{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	return tr
}

func ratio(r float64) *float64 { return &r }

func TestTracerExportsToOTLPReceiver(t *testing.T) {
	t.Parallel()
	rc := otlptest.NewReceiver(t)
	tr := newTestTracer(t, config.Tracing{Endpoint: rc.URL, ServiceName: "edge", Headers: map[string]string{"Authorization": "Bearer collector-token"}})

	const derived = "00-0192aaaa8f3a7b219c4d2f6e8a1b3c5d-1111111111111111-01"
	const incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	start := time.Now()

	root := tr.StartRequest(derived, false, "GET", start, attribute.String("pinpoint.request_id", "r1"))
	root.StartStage("authn", false, start.Add(time.Millisecond))
	root.SetStage(false, attribute.String("pinpoint.outcome", "pass"))
	root.StartStage("upstream", true, start.Add(2*time.Millisecond))
	up := root.TraceParent()
	root.End("GET orders", true, start.Add(3*time.Millisecond), attribute.Int("http.response.status_code", 502))

	child := tr.StartRequest(incoming, true, "POST", start)
	child.End("POST", false, start.Add(time.Millisecond))

	if err := tr.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := rc.Spans()
	if len(spans) != 4 {
		t.Fatalf("received %d spans, want 4: %+v", len(spans), spans)
	}
	by := map[string]otlptest.Span{}
	for _, s := range spans {
		by[s.Name] = s
	}
	srv := by["GET orders"]
	if srv.TraceID != "0192aaaa8f3a7b219c4d2f6e8a1b3c5d" || srv.ParentID != "" || srv.Kind != tracepb.Span_SPAN_KIND_SERVER || !srv.Error {
		t.Errorf("derived server span = %+v; want trace id of the traceparent, root, server kind, error", srv)
	}
	if srv.Attributes["pinpoint.request_id"] != "r1" || srv.Attributes["http.response.status_code"] != "502" {
		t.Errorf("server span attributes = %v", srv.Attributes)
	}
	if srv.Resource["service.name"] != "edge" || srv.Resource["service.version"] != "test" {
		t.Errorf("resource = %v", srv.Resource)
	}
	if srv.StartNano != uint64(start.UnixNano()) || srv.EndNano != uint64(start.Add(3*time.Millisecond).UnixNano()) {
		t.Errorf("server span times %d..%d, want the request's", srv.StartNano, srv.EndNano)
	}
	authn, upstream := by["authn"], by["upstream"]
	if authn.ParentID != srv.SpanID || authn.TraceID != srv.TraceID || authn.Attributes["pinpoint.outcome"] != "pass" || authn.Kind != tracepb.Span_SPAN_KIND_INTERNAL {
		t.Errorf("authn span = %+v, want a child of %s", authn, srv.SpanID)
	}
	if authn.EndNano != upstream.StartNano {
		t.Errorf("authn ends at %d, upstream starts at %d: the next stage ends the one before", authn.EndNano, upstream.StartNano)
	}
	if upstream.Kind != tracepb.Span_SPAN_KIND_CLIENT || upstream.ParentID != srv.SpanID {
		t.Errorf("upstream span = %+v", upstream)
	}
	if want := "00-" + srv.TraceID + "-" + upstream.SpanID + "-01"; up != want {
		t.Errorf("upstream traceparent %q, want %q (the upstream span's context)", up, want)
	}
	cont := by["POST"]
	if cont.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" || cont.ParentID != "00f067aa0ba902b7" {
		t.Errorf("continued span = %+v, want a child of the incoming traceparent", cont)
	}
	hs := rc.Headers()
	if len(hs) == 0 || hs[0].Get("Authorization") != "Bearer collector-token" {
		t.Errorf("export headers = %v, want the configured Authorization", hs)
	}
}

func TestTracerSampleRatio(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		ratio    *float64
		min, max float64
	}{
		{nil, 1, 1}, {ratio(1), 1, 1}, {ratio(0), 0, 0}, {ratio(0.25), 0.23, 0.27}, {ratio(0.5), 0.48, 0.52},
	} {
		tr := newTestTracer(t, config.Tracing{Endpoint: "http://127.0.0.1:1/v1/traces", SampleRatio: tc.ratio})
		const n = 20000
		sampled := 0
		for range n {
			var id [16]byte
			binary.BigEndian.PutUint64(id[:8], rng.Uint64())
			binary.BigEndian.PutUint64(id[8:], rng.Uint64())
			// A UUIDv7 request id: version and variant bits are fixed.
			id[6] = 0x70 | id[6]&0x0f
			id[8] = 0x80 | id[8]&0x3f
			if tr.Sample(id) {
				sampled++
			}
		}
		got := float64(sampled) / n
		if got < tc.min || got > tc.max {
			t.Errorf("ratio %v: sampled %.3f of UUIDv7 trace ids, want %.2f..%.2f", tc.ratio, got, tc.min, tc.max)
		}
	}
}

func TestTracerSame(t *testing.T) {
	t.Parallel()
	c := config.Tracing{Endpoint: "http://127.0.0.1:1/v1/traces", SampleRatio: ratio(0.5)}
	tr := newTestTracer(t, c)
	d := c
	d.SampleRatio = ratio(0.5)
	if !tr.Same(d) {
		t.Error("an equal block is not Same")
	}
	d.SampleRatio = ratio(0.1)
	if tr.Same(d) {
		t.Error("a changed ratio is Same")
	}
	var none *Tracer
	if none.Same(c) {
		t.Error("nil tracer is Same")
	}
}

func TestSampledAndParseTraceParent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		tp      string
		sampled bool
		valid   bool
	}{
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", true, true},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", false, true},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03", true, true},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0a", false, true},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0b", true, true},
		{"00-00000000000000000000000000000000-00f067aa0ba902b7-01", true, false},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", false, false},
		{"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", true, false},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0z", false, false},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0B", false, false},
		{"", false, false},
	} {
		if got := Sampled(tc.tp); got != tc.sampled {
			t.Errorf("Sampled(%q) = %v", tc.tp, got)
		}
		sc, err := ParseTraceParent(tc.tp)
		if (err == nil) != tc.valid {
			t.Errorf("ParseTraceParent(%q) error %v, want valid=%v", tc.tp, err, tc.valid)
		}
		if err == nil && (sc.IsSampled() != tc.sampled || !sc.IsRemote() || !strings.Contains(tc.tp, sc.TraceID().String())) {
			t.Errorf("ParseTraceParent(%q) = %v", tc.tp, sc)
		}
	}
}

// FuzzParseTraceParent: whatever is parsed round-trips through the
// traceparent a span would send on.
func FuzzParseTraceParent(f *testing.F) {
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-zz")
	f.Add("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01")
	f.Fuzz(func(t *testing.T, tp string) {
		sc, err := ParseTraceParent(tp)
		if err != nil {
			return
		}
		if !sc.IsValid() {
			t.Fatalf("ParseTraceParent(%q) accepted an invalid span context", tp)
		}
		if Sampled(tp) != sc.IsSampled() {
			t.Fatalf("Sampled(%q) = %v, parsed flags %v", tp, Sampled(tp), sc.TraceFlags())
		}
	})
}

func TestNewTracerNeedsEndpoint(t *testing.T) {
	t.Parallel()
	if _, err := NewTracer(config.Tracing{}, TracerOptions{}); err == nil {
		t.Fatal("no endpoint accepted")
	}
}
