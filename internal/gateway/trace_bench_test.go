package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
	"github.com/pinpointgw/pinpoint/internal/telemetry"
	"github.com/pinpointgw/pinpoint/internal/telemetry/otlptest"
)

// passStage passes every request and records its step, as real stages do.
type passStage struct{ name, rule string }

func (s passStage) Name() string { return s.name }
func (s passStage) Handle(x *pipeline.Exchange) pipeline.Decision {
	x.Record(pipeline.Step{Stage: s.name, Outcome: pipeline.OutcomePass, Rule: s.rule})
	return pipeline.Continue()
}

// answerStage ends the pipeline with a 204 of its own, so that the
// measurement holds no upstream call and no refusal.
type answerStage struct{}

var noContent = &pipeline.Answer{Status: http.StatusNoContent}

func (answerStage) Name() string                                { return "answer" }
func (answerStage) Handle(*pipeline.Exchange) pipeline.Decision { return pipeline.Respond(noContent) }

// nullWriter is a ResponseWriter that keeps nothing.
type nullWriter struct{ h http.Header }

func (w *nullWriter) Header() http.Header         { return w.h }
func (w *nullWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nullWriter) WriteHeader(int)             {}

// traceGateway is a gateway with two routes: /bare runs only answerStage,
// /ten runs ten passing stages before it. tracing is "" (off) or a
// sample_ratio with an OTLP endpoint nothing listens on (only sampled
// requests would export).
func traceGateway(tb testing.TB, tracing string) *Gateway { return traceGatewayRatio(tb, tracing, "0") }

// traceGatewayRatio is traceGateway with a sample ratio.
func traceGatewayRatio(tb testing.TB, tracing, ratio string) *Gateway {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), tb.TempDir()+"/pinpoint.db")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	g := New(Options{Store: st, Metrics: telemetry.New(), Logger: slog.New(slog.DiscardHandler)})
	doc := `version: 1
listeners:
  - {name: public, kind: proxy, address: "127.0.0.1:0"}
routes:
  - {name: bare, paths: ["/bare"], upstream: app}
  - {name: ten, paths: ["/ten"], upstream: app}
upstreams:
  - {name: app, targets: [{url: "http://127.0.0.1:1"}]}
`
	if tracing != "" {
		doc += "telemetry:\n  tracing: {endpoint: \"" + tracing + "\", sample_ratio: " + ratio + "}\n"
	}
	if _, err := g.apply(context.Background(), admin.ApplyRequest{Filename: "bench.yaml", Document: []byte(doc)}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(g.Close)
	// Test-only: the stages are set before the first request.
	snap := g.Current()
	snap.byName["bare"].stages = []pipeline.Stage{answerStage{}}
	ten := make([]pipeline.Stage, 0, 11)
	for _, n := range []string{"ip", "waf", "cors", "authn", "consumer", "authz", "csrf", "limit", "validate", "idempotency"} {
		ten = append(ten, passStage{name: n, rule: n + ".rule"})
	}
	snap.byName["ten"].stages = append(ten, answerStage{})
	return g
}

func serveLoop(g *Gateway, path string) func(n int) {
	r := httptest.NewRequest("GET", "http://gw.example"+path, nil)
	r.RemoteAddr = "192.0.2.1:1234"
	w := &nullWriter{h: http.Header{}}
	return func(n int) {
		for range n {
			clear(w.h)
			g.ServeHTTP(w, r)
		}
	}
}

// BenchmarkTrace10Stages measures what the decision trace and the span
// hooks cost per stage when nothing is denied: a route with ten passing
// stages against the same route with none, with tracing off and with
// tracing on but the request not sampled. The two routes are served in
// alternating batches, so that load on the machine weighs on both alike;
// ns/stage is (ten - bare) / 10 per request and allocs/stage the same
// difference in allocations.
func BenchmarkTrace10Stages(b *testing.B) {
	for _, mode := range []struct{ name, tracing string }{
		{"tracing_off", ""},
		{"unsampled", "http://127.0.0.1:1/v1/traces"},
	} {
		b.Run(mode.name, func(b *testing.B) {
			g := traceGateway(b, mode.tracing)
			bare, ten := serveLoop(g, "/bare"), serveLoop(g, "/ten")
			bare(100)
			ten(100)
			allocs := (testing.AllocsPerRun(1000, func() { ten(1) }) - testing.AllocsPerRun(1000, func() { bare(1) })) / 10
			const batch = 64
			var tBare, tTen time.Duration
			n := 0
			b.ResetTimer()
			for b.Loop() {
				t0 := time.Now()
				bare(batch)
				t1 := time.Now()
				ten(batch)
				tTen += time.Since(t1)
				tBare += t1.Sub(t0)
				n += batch
			}
			b.ReportMetric(float64(tBare.Nanoseconds())/float64(n), "ns/bare-request")
			b.ReportMetric(float64(tTen.Nanoseconds())/float64(n), "ns/ten-stage-request")
			b.ReportMetric(float64((tTen-tBare).Nanoseconds())/float64(n)/10, "ns/stage")
			b.ReportMetric(allocs, "allocs/stage")
		})
	}
}

// BenchmarkTraceSampled is what a sampled request costs (informational:
// spans allocate): the same ten-stage route with every request sampled and
// exported to a real OTLP receiver, against it unsampled.
func BenchmarkTraceSampled(b *testing.B) {
	rc := otlptest.NewReceiver(b)
	for _, ratio := range []string{"0", "1"} {
		b.Run("ratio_"+ratio, func(b *testing.B) {
			loop := serveLoop(traceGatewayRatio(b, rc.URL, ratio), "/ten")
			loop(100)
			b.ReportAllocs()
			b.ResetTimer()
			loop(b.N)
		})
	}
}

// TestTrace10StagesAllocateNothingPerStage: ten passing stages allocate
// nothing more than none, with tracing off and unsampled.
func TestTrace10StagesAllocateNothingPerStage(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops items)")
	}
	for _, tracing := range []string{"", "http://127.0.0.1:1/v1/traces"} {
		g := traceGateway(t, tracing)
		bare, ten := serveLoop(g, "/bare"), serveLoop(g, "/ten")
		bare(10)
		ten(10)
		a := testing.AllocsPerRun(200, func() { bare(1) })
		b := testing.AllocsPerRun(200, func() { ten(1) })
		if b > a {
			t.Errorf("tracing %q: ten stages allocate %.1f per request, none %.1f: stages must not allocate", tracing, b, a)
		}
	}
}

// BenchmarkStageTraceHooks isolates one stage's share of tracing on an
// unsampled request: the span hook and the stage's trace step, as the run
// loop executes them (ten stages, then the trace is reset as finish does).
func BenchmarkStageTraceHooks(b *testing.B) {
	st := &state{}
	stages := make([]pipeline.Stage, 10)
	for i := range stages {
		stages[i] = passStage{name: "stage", rule: "rule"}
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range stages {
			st.traceStage(s)
			s.Handle(&st.x)
		}
		st.x.Trace = st.x.Trace[:0]
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10, "ns/stage")
}
