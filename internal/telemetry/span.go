package telemetry

import (
	"context"
	"encoding/hex"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// RequestSpan is the server span of one sampled request and the span of
// the stage running now. It belongs to one request; it is not safe for
// concurrent use.
type RequestSpan struct {
	tracer trace.Tracer
	ctx    context.Context // carries the server span
	server trace.Span
	stage  trace.Span
}

// traceParentLen is the length of a version 00 W3C traceparent.
const traceParentLen = 55

// ParseTraceParent decodes a version 00 W3C traceparent
// ("00-<trace id>-<parent id>-<flags>").
func ParseTraceParent(tp string) (trace.SpanContext, error) {
	if len(tp) != traceParentLen || tp[:3] != "00-" || tp[35] != '-' || tp[52] != '-' {
		return trace.SpanContext{}, errors.New("not a version 00 traceparent")
	}
	tid, err := trace.TraceIDFromHex(tp[3:35])
	if err != nil {
		return trace.SpanContext{}, err
	}
	sid, err := trace.SpanIDFromHex(tp[36:52])
	if err != nil {
		return trace.SpanContext{}, err
	}
	hi, lo := hexDigit(tp[53]), hexDigit(tp[54])
	if hi < 0 || lo < 0 {
		return trace.SpanContext{}, errors.New("traceparent flags are not two lower-case hex digits")
	}
	return trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: tid, SpanID: sid, TraceFlags: trace.TraceFlags(hi<<4 | lo), Remote: true,
	}), nil
}

// hexDigit is the value of a lower-case hex digit, or -1.
func hexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}

// Sampled reports whether a version 00 traceparent has its sampled flag
// set; it does not allocate.
func Sampled(tp string) bool {
	if len(tp) != traceParentLen {
		return false
	}
	d := hexDigit(tp[54])
	return d >= 0 && d&1 == 1
}

// StartRequest starts the server span of a request at start. traceParent
// is the request's traceparent: with fromParent (it came from a trusted
// proxy) the span is its child; otherwise the gateway derived it, and the
// span is a root span with its trace id.
func (t *Tracer) StartRequest(traceParent string, fromParent bool, name string, start time.Time, attrs ...attribute.KeyValue) *RequestSpan {
	ctx := context.Background()
	sc, err := ParseTraceParent(traceParent)
	switch {
	case err != nil:
		// No usable traceparent: a root span with a random trace id.
	case fromParent:
		ctx = trace.ContextWithRemoteSpanContext(ctx, sc)
	default:
		ctx = context.WithValue(ctx, rootTraceKey{}, sc.TraceID())
	}
	ctx, span := t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithTimestamp(start), trace.WithAttributes(attrs...))
	return &RequestSpan{tracer: t.tracer, ctx: ctx, server: span}
}

// StartStage ends the running stage span, if any, at start and starts the
// span of stage name as a child of the server span. client marks a stage
// that calls another service (the upstream).
func (s *RequestSpan) StartStage(name string, client bool, start time.Time) {
	s.EndStage(start)
	kind := trace.SpanKindInternal
	if client {
		kind = trace.SpanKindClient
	}
	_, s.stage = s.tracer.Start(s.ctx, name,
		trace.WithSpanKind(kind), trace.WithTimestamp(start))
}

// SetStage adds attributes to the running stage span; failed marks it as
// an error.
func (s *RequestSpan) SetStage(failed bool, attrs ...attribute.KeyValue) {
	if s.stage == nil {
		return
	}
	s.stage.SetAttributes(attrs...)
	if failed {
		s.stage.SetStatus(codes.Error, "")
	}
}

// InStage reports whether a stage span is running.
func (s *RequestSpan) InStage() bool { return s.stage != nil }

// EndStage ends the running stage span, if any, at end.
func (s *RequestSpan) EndStage(end time.Time) {
	if s.stage != nil {
		s.stage.End(trace.WithTimestamp(end))
		s.stage = nil
	}
}

// TraceParent is the W3C traceparent of the running stage span (else of
// the server span): what the upstream receives, so that its spans are
// children of the gateway's.
func (s *RequestSpan) TraceParent() string {
	sp := s.server
	if s.stage != nil {
		sp = s.stage
	}
	sc := sp.SpanContext()
	tid, sid := sc.TraceID(), sc.SpanID()
	var b [traceParentLen]byte
	copy(b[:], "00-")
	hex.Encode(b[3:35], tid[:])
	b[35] = '-'
	hex.Encode(b[36:52], sid[:])
	b[52] = '-'
	hex.Encode(b[53:55], []byte{byte(sc.TraceFlags())})
	return string(b[:])
}

// TraceID is the hex trace id of the request's spans.
func (s *RequestSpan) TraceID() string { return s.server.SpanContext().TraceID().String() }

// End ends the running stage span and then the server span at end, named
// name, with attrs; failed marks the request as an error (a 5xx answer).
func (s *RequestSpan) End(name string, failed bool, end time.Time, attrs ...attribute.KeyValue) {
	s.EndStage(end)
	s.server.SetName(name)
	s.server.SetAttributes(attrs...)
	if failed {
		s.server.SetStatus(codes.Error, "")
	}
	s.server.End(trace.WithTimestamp(end))
}
