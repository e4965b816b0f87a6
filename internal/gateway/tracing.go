package gateway

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/redact"
	"github.com/pinpointgw/pinpoint/internal/telemetry"
)

// OpenTelemetry spans of a request (telemetry.tracing). A request that is
// not sampled, or any request while tracing is off, never gets a
// spanState: every hook below is then one nil check, inlined, and
// allocates nothing.

// spanState is the tracing state of one sampled request.
type spanState struct {
	span *telemetry.RequestSpan
	// stage is the stage whose span is running; from is the index of its
	// first step in the decision trace.
	stage string
	from  int
	// redaction hides secrets in the values copied into spans.
	redaction *redact.Policy
}

// traceRequest starts the request's server span, right after the accept
// stage gave it its traceparent, when the snapshot traces and the
// traceparent says the request is sampled. Simulated requests are never
// traced.
func (g *Gateway) traceRequest(st *state, snap *Snapshot) {
	if snap.tracer != nil && st.x.Simulation == nil && telemetry.Sampled(st.x.TraceParent) {
		startSpans(st, snap)
	}
}

// traceStage starts the span of stage s (ending the one before it).
func (st *state) traceStage(s pipeline.Stage) {
	if st.spans != nil {
		st.startStage(s.Name(), time.Now())
	}
}

// traceStep starts the span of a step the gateway runs itself ("route",
// "upstream").
func (st *state) traceStep(name string) {
	if st.spans != nil {
		st.startStage(name, time.Now())
	}
}

// traceEnd ends the request's spans when it has them.
func (st *state) traceEnd(status int, code, layer string, total time.Duration) {
	if st.spans != nil {
		st.endSpans(status, code, layer, total)
	}
}

func startSpans(st *state, snap *Snapshot) {
	x := &st.x
	r := x.Request
	// The traceparent continues a trusted proxy's trace when it is the one
	// the proxy sent; otherwise the accept stage derived it.
	tp := r.Header["Traceparent"]
	fromParent := x.PeerTrusted && len(tp) == 1 && tp[0] == x.TraceParent
	ss := &spanState{redaction: snap.redaction}
	if ss.redaction == nil {
		ss.redaction = redact.Default()
	}
	ss.span = snap.tracer.StartRequest(x.TraceParent, fromParent, r.Method, x.Start,
		attribute.String("http.request.method", r.Method),
		attribute.String("pinpoint.request_id", x.ID),
	)
	st.spans = ss
	// The accept stage has already run: its span covers it after the fact.
	ss.span.StartStage("accept", false, x.Start)
	ss.stage = "accept"
	st.startStage("", time.Now())
}

// startStage ends the running stage span, with what its steps decided,
// and starts the span of stage name ("" starts none).
func (st *state) startStage(name string, now time.Time) {
	ss, x := st.spans, &st.x
	if ss.span.InStage() {
		failed, attrs := stageAttrs(x.Trace[min(ss.from, len(x.Trace)):], ss.stage, ss.redaction)
		ss.span.SetStage(failed, attrs...)
		ss.span.EndStage(now)
	}
	ss.stage, ss.from = name, len(x.Trace)
	if name == "" {
		return
	}
	ss.span.StartStage(name, name == "upstream", now)
	if name == "upstream" {
		// The upstream's spans become children of the gateway's call.
		x.TraceParent = ss.span.TraceParent()
	}
}

// stageAttrs sums up what a stage decided from the trace steps it
// recorded: the last one says how it ended. failed is an error outcome.
func stageAttrs(steps []pipeline.Step, stage string, p *redact.Policy) (failed bool, attrs []attribute.KeyValue) {
	var last *pipeline.Step
	for i := range steps {
		if steps[i].Stage == stage {
			last = &steps[i]
		}
	}
	if last == nil {
		return false, []attribute.KeyValue{attribute.String("pinpoint.outcome", pipeline.OutcomePass)}
	}
	attrs = append(attrs, attribute.String("pinpoint.outcome", last.Outcome))
	if last.Code != "" {
		attrs = append(attrs, attribute.String("pinpoint.code", last.Code))
	}
	if last.Rule != "" {
		attrs = append(attrs, attribute.String("pinpoint.rule", p.Text(last.Rule)))
	}
	if last.Note != "" {
		attrs = append(attrs, attribute.String("pinpoint.note", p.Text(last.Note)))
	}
	return last.Outcome == pipeline.OutcomeError, attrs
}

// endSpans ends the running stage span and the server span with what
// the call log also keeps: the answer, its reason code and who called.
func (st *state) endSpans(status int, code, layer string, total time.Duration) {
	ss, x := st.spans, &st.x
	st.spans = nil
	end := x.Start.Add(total)
	if ss.span.InStage() {
		failed, attrs := stageAttrs(x.Trace[min(ss.from, len(x.Trace)):], ss.stage, ss.redaction)
		ss.span.SetStage(failed, attrs...)
	}
	r := x.Request
	attrs := []attribute.KeyValue{
		attribute.Int("http.response.status_code", status),
		attribute.String("url.path", x.Path),
		attribute.Int64("pinpoint.revision", x.Revision),
	}
	str := func(k, v string) {
		if v != "" {
			attrs = append(attrs, attribute.String(k, v))
		}
	}
	if x.Path == "" {
		str("url.path", r.URL.EscapedPath())
	}
	str("url.query", ss.redaction.Query(r.URL.RawQuery))
	str("url.scheme", x.Scheme)
	str("server.address", x.Host)
	if x.ClientIP.IsValid() {
		str("client.address", x.ClientIP.String())
	}
	str("user_agent.original", ss.redaction.Text(r.UserAgent()))
	str("pinpoint.route", x.Route)
	str("pinpoint.code", code)
	str("pinpoint.layer", layer)
	str("pinpoint.stage", st.stage)
	str("pinpoint.consumer_id", x.Identity.ConsumerID)
	str("pinpoint.credential_id", x.Identity.CredentialID)
	str("pinpoint.tenant_id", x.Identity.TenantID)
	str("pinpoint.upstream.target", x.Target)
	if x.UpstreamStatus != 0 {
		attrs = append(attrs, attribute.Int("pinpoint.upstream.status_code", x.UpstreamStatus),
			attribute.Int("pinpoint.upstream.attempts", x.Attempts))
	}
	for i := range x.Trace {
		if x.Trace[i].Outcome == pipeline.OutcomeWouldDeny {
			attrs = append(attrs, attribute.Bool("pinpoint.would_deny", true))
			break
		}
	}
	name := r.Method
	if x.Route != "" {
		name += " " + x.Route
	}
	ss.span.End(name, status >= 500, end, attrs...)
}

// tracerFor returns the tracer of cfg: prev's when its tracing block did
// not change (so spans in flight and the exporter's connections survive a
// reload), else a new one (fresh). Nil when tracing is off.
func tracerFor(cfg *config.Config, prev *Snapshot, gw Options) (t *telemetry.Tracer, fresh bool, err error) {
	tc := cfg.Telemetry.Tracing
	if tc == nil {
		return nil, false, nil
	}
	if prev != nil && prev.tracer.Same(*tc) {
		return prev.tracer, false, nil
	}
	t, err = telemetry.NewTracer(*tc, telemetry.TracerOptions{Version: gw.Version, Logger: gw.Logger, BatchTimeout: gw.TraceBatchTimeout})
	return t, err == nil, err
}

// shutdownTracer flushes and stops a tracer that no snapshot uses any more.
func shutdownTracer(t *telemetry.Tracer, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := t.Shutdown(ctx); err != nil {
		log.Warn("trace exporter did not flush at shutdown; spans were dropped", "error", err)
	}
}

// FlushTraces exports the spans of finished requests now (tests, and
// before a planned stop).
func (g *Gateway) FlushTraces(ctx context.Context) error {
	if s := g.snap.Load(); s != nil && s.tracer != nil {
		return s.tracer.ForceFlush(ctx)
	}
	return nil
}
