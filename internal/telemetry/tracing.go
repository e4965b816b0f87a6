package telemetry

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"reflect"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// Tracer exports the gateway's spans over OTLP/HTTP (telemetry.tracing).
// The gateway decides sampling itself, before any span exists, so that a
// request that is not sampled costs nothing: Sample is the decision for a
// trace the gateway starts, and a trusted proxy's decision (the sampled
// flag of its traceparent) is followed as it is.
//
// A Tracer is safe for concurrent use. Shutdown flushes and stops it.
type Tracer struct {
	cfg       config.Tracing
	provider  *sdktrace.TracerProvider
	tracer    trace.Tracer
	threshold uint64
}

// TracerOptions are the run-time dependencies of a Tracer.
type TracerOptions struct {
	// Version is the service.version resource attribute ("" for none).
	Version string
	// Logger receives export failures. Default slog.Default().
	Logger *slog.Logger
	// BatchTimeout is how long spans wait to be exported in a batch.
	// Default 5 s (OpenTelemetry's default).
	BatchTimeout time.Duration
}

// ratioBits is how many low bits of a trace id's last 8 bytes decide
// sampling. Pinpoint's trace ids are UUIDv7 request ids whose byte 8
// carries the RFC 9562 variant in its top two bits, so only the lower 62
// bits are random; W3C random trace ids are random there too.
const ratioBits = 62

// NewTracer builds the exporter and provider of c (defaults applied). No
// connection is made until the first export.
func NewTracer(c config.Tracing, o TracerOptions) (*Tracer, error) {
	if c.Endpoint == "" {
		return nil, errors.New("tracing: endpoint is required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.BatchTimeout <= 0 {
		o.BatchTimeout = 5 * time.Second
	}
	setErrorHandler(o.Logger)
	opts := []otlptracehttp.Option{
		otlptracehttp.WithEndpointURL(c.Endpoint),
		otlptracehttp.WithTimeout(c.Timeout.Or(10 * time.Second)),
	}
	if len(c.Headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(c.Headers))
	}
	exp, err := otlptracehttp.New(context.Background(), opts...)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	name := c.ServiceName
	if name == "" {
		name = "pinpoint"
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", name)}
	if o.Version != "" {
		attrs = append(attrs, attribute.String("service.version", o.Version))
	}
	// Sampling is decided before a span is started (see Sample), so the
	// provider records every span it is asked for.
	p := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(o.BatchTimeout)),
		sdktrace.WithResource(resource.NewSchemaless(attrs...)),
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithIDGenerator(idGenerator{}),
		sdktrace.WithSpanLimits(spanLimits()),
	)
	t := &Tracer{cfg: c, provider: p, tracer: p.Tracer("github.com/pinpointgw/pinpoint")}
	ratio := c.Ratio()
	switch {
	case ratio >= 1:
		t.threshold = 1 << ratioBits
	case ratio > 0:
		t.threshold = uint64(math.Round(ratio * (1 << ratioBits)))
	}
	return t, nil
}

// Same reports whether t was built from c, so a reload can keep it.
func (t *Tracer) Same(c config.Tracing) bool {
	return t != nil && reflect.DeepEqual(t.cfg, c)
}

// Sample reports whether a trace the gateway starts with this trace id is
// sampled (telemetry.tracing.sample_ratio). It is deterministic in the
// trace id, so every node decides alike.
func (t *Tracer) Sample(traceID [16]byte) bool {
	return binary.BigEndian.Uint64(traceID[8:])&(1<<ratioBits-1) < t.threshold
}

// ForceFlush exports the spans that have ended.
func (t *Tracer) ForceFlush(ctx context.Context) error { return t.provider.ForceFlush(ctx) }

// Shutdown exports the spans that have ended and stops the exporter.
func (t *Tracer) Shutdown(ctx context.Context) error { return t.provider.Shutdown(ctx) }

// maxAttributeLength bounds an attribute value (a long User-Agent or note),
// so one request cannot blow up an export.
const maxAttributeLength = 2048

func spanLimits() sdktrace.SpanLimits {
	l := sdktrace.NewSpanLimits()
	l.AttributeValueLengthLimit = maxAttributeLength
	return l
}

var errorHandlerOnce sync.Once

// setErrorHandler sends OpenTelemetry's internal errors (failed exports)
// to the server log instead of the standard logger. OpenTelemetry keeps
// one handler per process; the first tracer's logger wins.
func setErrorHandler(log *slog.Logger) {
	errorHandlerOnce.Do(func() {
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			log.Warn("trace export failed; spans were dropped", "error", err)
		}))
	})
}

// rootTraceKey carries the trace id a root span must have: the one the
// accept stage derived from the request id, so that the request id and the
// trace id are the same 128 bits.
type rootTraceKey struct{}

// idGenerator makes random span ids, and trace ids as rootTraceKey says
// (random when it is absent).
type idGenerator struct{}

func (idGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	tid, ok := ctx.Value(rootTraceKey{}).(trace.TraceID)
	if !ok || !tid.IsValid() {
		for !tid.IsValid() {
			_, _ = rand.Read(tid[:])
		}
	}
	return tid, newSpanID()
}

func (idGenerator) NewSpanID(context.Context, trace.TraceID) trace.SpanID { return newSpanID() }

func newSpanID() trace.SpanID {
	var s trace.SpanID
	for !s.IsValid() {
		_, _ = rand.Read(s[:])
	}
	return s
}
