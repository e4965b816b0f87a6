// Package gateway runs the request pipeline on the current config snapshot
// and owns how snapshots are built, swapped and persisted as revisions.
//
// A request runs accept → route → (route stages) → upstream on the snapshot
// that was current when it arrived. Every refusal is a *pipeline.Denial
// turned into problem+json here, in one place.
package gateway

import (
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pinpointgw/pinpoint/internal/ai"
	"github.com/pinpointgw/pinpoint/internal/ai/meter"
	"github.com/pinpointgw/pinpoint/internal/analytics"
	"github.com/pinpointgw/pinpoint/internal/audit"
	"github.com/pinpointgw/pinpoint/internal/calllog"
	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/telemetry"
	"github.com/pinpointgw/pinpoint/internal/upstream"
)

// Options configure a Gateway.
type Options struct {
	// Store persists revisions (and is read for debug credentials).
	Store store.Store
	// Metrics receives request and reload metrics; required.
	Metrics *telemetry.Metrics
	// Logger is the server log; default slog.Default().
	Logger *slog.Logger
	// ConfigFile, when set, owns the configuration: admin-API applies and
	// rollbacks are refused (see DESIGN.md §4).
	ConfigFile string
	// LookupEnv resolves ${ENV} references; default os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Identities holds the consumers, tenants and keys created at run time
	// (shared by every snapshot). Nil: an empty registry.
	Identities *identity.Registry
	// HTTPClient fetches JWKS and calls introspection endpoints. Nil: a
	// client with a 10 s timeout.
	HTTPClient *http.Client
	// Audit records rejected applies (config.rejected). Nil: not recorded.
	Audit *audit.Recorder
	// Analytics counts every finished request in the per-minute roll-ups
	// (unless analytics.enabled is false). Nil: no roll-ups.
	Analytics *analytics.Aggregator

	// AIMeter counts the tokens and spend of ai.access rules across
	// revisions. Nil: a fresh meter.
	AIMeter *meter.Meter
	// AIUsage records one usage record per AI call. Nil: not recorded.
	AIUsage *ai.Recorder
	// AIMetrics counts AI calls, tokens and cost. Nil: registered with
	// Metrics.Registry.
	AIMetrics *ai.Metrics
	// AITransport, when set, carries every call to AI providers (tests).
	AITransport http.RoundTripper

	// Version is the gateway's version, the service.version of its spans.
	Version string
	// TraceBatchTimeout is how long finished spans wait to be exported
	// together (telemetry.tracing). Zero: 5 s.
	TraceBatchTimeout time.Duration

	// counters are shared by every revision; set by New.
	counters *counters
}

// Gateway is the proxy handler plus the control plane that swaps its snapshots.
type Gateway struct {
	o    Options
	log  *slog.Logger
	snap atomic.Pointer[Snapshot]

	// applyMu serializes applies so revisions are committed and published in order.
	applyMu sync.Mutex
	// draining is set when graceful shutdown starts; readiness turns false.
	draining atomic.Bool
	// listening is set once the listeners are up.
	listening atomic.Bool

	// calls receives one record per request; nil until SetCallLog.
	calls atomic.Pointer[calllog.Writer]

	states sync.Pool

	// tokens seal the decision_token of refusals (token.go).
	tokens tokenKeys
}

// SetCallLog routes call records to w (nil turns the call log off).
func (g *Gateway) SetCallLog(w *calllog.Writer) { g.calls.Store(w) }

// New creates a gateway with no snapshot; call Start (or Apply) next.
func New(o Options) *Gateway {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Identities == nil {
		o.Identities = identity.NewRegistry()
	}
	if o.AIMeter == nil {
		o.AIMeter = meter.New(nil)
	}
	if o.AIMetrics == nil {
		o.AIMetrics = ai.NewMetrics(o.Metrics.Registry)
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	var qs store.Quotas
	if o.Store != nil {
		qs = o.Store
	}
	o.counters = newCounters(qs, o.Logger)
	g := &Gateway{o: o, log: o.Logger}
	g.states.New = func() any { return &state{} }
	o.Metrics.SetUpstreams(g.upstreamHealth)
	return g
}

// Current returns the snapshot being served, or nil.
func (g *Gateway) Current() *Snapshot { return g.snap.Load() }

// Revision implements admin.Control.
func (g *Gateway) Revision() int64 {
	if s := g.snap.Load(); s != nil {
		return s.Revision
	}
	return 0
}

// SetListening marks the listeners as up (readiness).
func (g *Gateway) SetListening(up bool) { g.listening.Store(up) }

// Drain marks the gateway as shutting down: readiness turns false so load
// balancers stop sending new traffic while in-flight requests finish.
func (g *Gateway) Drain() { g.draining.Store(true) }

// Ready implements admin.Control.
func (g *Gateway) Ready() error {
	switch {
	case g.draining.Load():
		return errDraining
	case g.snap.Load() == nil:
		return errNoRevision
	case !g.listening.Load():
		return errNotListening
	}
	return nil
}

// Close releases the current snapshot's upstreams and persists the quota
// counts; call it after the last request.
func (g *Gateway) Close() {
	release(g.snap.Swap(nil), nil)
	g.o.counters.close()
}

// state is the pooled per-request state: the exchange, the response writer
// wrapper and the upstream call, allocated together once.
type state struct {
	x       pipeline.Exchange
	rw      responseWriter
	forward upstream.Forward
	// code, layer and stage of the gateway's own refusal, if any.
	code, layer, stage string
	// preview is where a simulated request would have been forwarded.
	preview *upstream.Preview
	// spans are the request's OpenTelemetry spans; nil unless sampled.
	spans *spanState
	// openAI is set when the route answers refusals in OpenAI's error shape.
	openAI bool
	// aiRoute is set when the AI gateway serves the route.
	aiRoute bool
}
