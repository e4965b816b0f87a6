package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/problem"
	"github.com/pinpointgw/pinpoint/internal/router"
	"github.com/pinpointgw/pinpoint/internal/stage/accept"
	"github.com/pinpointgw/pinpoint/internal/stage/cors"
	"github.com/pinpointgw/pinpoint/internal/upstream"
)

// DebugHeader carries an operator credential (an admin token) that unlocks
// debug disclosure on a gateway configured with disclosure: debug.
const DebugHeader = "Pinpoint-Debug-Token"

// ServeHTTP runs the pipeline for one request.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	st := g.states.Get().(*state)
	x := &st.x
	x.Request, x.Start = r, time.Now()
	snap := g.snap.Load()
	idHeader := "X-Request-Id"
	if snap != nil {
		idHeader = snap.idHeader
		x.Revision = snap.Revision
	}
	st.rw.reset(w, idHeader)
	x.ResponseHeader = st.rw.Header()
	g.o.Metrics.InFlight(1)
	defer g.finish(st, snap)

	if snap == nil {
		g.deny(st, snap, &pipeline.Denial{Code: "gateway.not_ready", Stage: "accept"})
		return
	}
	g.run(st, snap)
}

// run is the pipeline proper.
func (g *Gateway) run(st *state, snap *Snapshot) {
	x, rw := &st.x, &st.rw
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			g.log.Error("panic while handling request", "request_id", x.ID, "panic", v, "stack", string(debug.Stack()))
			if !rw.wroteHeader {
				g.deny(st, snap, &pipeline.Denial{Code: "gateway.internal_error", Reason: "recovered panic; see the server log"})
			}
		}
	}()

	d := snap.accept.Handle(x)
	rw.id = x.ID
	g.traceRequest(st, snap)
	if d.Denied() {
		g.deny(st, snap, d.Denial)
		return
	}

	st.traceStep("route")
	t0 := time.Now()
	m, n, res := snap.routes.Match(x.Host, x.Request.Method, x.Path, x.Params[:])
	if res == router.MethodNotAllowed && cors.IsPreflight(x.Request) {
		m, n, res = snap.routePreflight(x, m, n, res)
	}
	x.NParams = n
	switch res {
	case router.NotFound:
		x.Record(pipeline.Step{Stage: "route", Outcome: pipeline.OutcomeDeny, Code: "route.not_found", Duration: time.Since(t0)})
		g.deny(st, snap, &pipeline.Denial{Code: "route.not_found", Stage: "route",
			Params: map[string]string{"method": x.Request.Method, "path": x.Path},
			Reason: "no route matches host " + strconv.Quote(x.Host) + " path " + strconv.Quote(x.Path)})
		return
	case router.MethodNotAllowed:
		x.Record(pipeline.Step{Stage: "route", Outcome: pipeline.OutcomeDeny, Code: "route.method_not_allowed", Note: "allowed: " + m.Allow, Duration: time.Since(t0)})
		g.deny(st, snap, &pipeline.Denial{Code: "route.method_not_allowed", Stage: "route",
			Params: map[string]string{"method": x.Request.Method, "path": x.Path, "allow": m.Allow},
			Header: http.Header{"Allow": {m.Allow}},
			Reason: "routes match the path but none allows " + x.Request.Method})
		return
	}
	rt := m.Value
	x.Route = rt.name
	st.aiRoute = rt.ai != nil
	st.openAI = st.aiRoute && rt.ai.OpenAIErrors()
	x.Record(pipeline.Step{Stage: "route", Outcome: pipeline.OutcomePass, Rule: rt.name, Note: m.Pattern, Duration: time.Since(t0)})

	if !rt.sunset.IsZero() {
		if !x.Start.Before(rt.sunset) {
			g.deny(st, snap, &pipeline.Denial{Code: "route.deprecated_sunset", Stage: "route", Rule: rt.name,
				Params: map[string]string{"sunset": rt.sunset.UTC().Format(time.RFC3339)},
				Header: http.Header{"Sunset": {rt.sunsetHTTP}},
				Reason: "route " + rt.name + " has sunset " + rt.sunset.UTC().Format(time.RFC3339)})
			return
		}
		rw.Header().Set("Sunset", rt.sunsetHTTP)
	}

	if rt.customLimits {
		if dn := rt.limits.Check(x); dn != nil {
			g.deny(st, snap, dn)
			return
		}
	}
	if dn := accept.LimitBody(x, rt.limits.MaxBodyBytes); dn != nil {
		g.deny(st, snap, dn)
		return
	}

	for _, s := range rt.stages {
		st.traceStage(s)
		d := s.Handle(x)
		if !d.Ends() {
			continue
		}
		if d.Denial != nil {
			if d.Denial.Stage == "" {
				d.Denial.Stage = s.Name()
			}
			g.deny(st, snap, d.Denial)
			return
		}
		x.Record(pipeline.Step{Stage: s.Name(), Outcome: pipeline.OutcomePass, Note: "answered by the gateway"})
		writeAnswer(rw, d.Answer)
		return
	}

	if rt.ai != nil {
		st.traceStep("ai")
		if dn := rt.ai.Serve(rw, x); dn != nil {
			if dn.Stage == "" {
				dn.Stage = "ai"
			}
			g.deny(st, snap, dn)
		}
		return
	}
	if rt.upstream == nil {
		g.deny(st, snap, &pipeline.Denial{Code: "upstream.no_healthy_target", Stage: "upstream",
			Params: map[string]string{"route": rt.name}, Reason: "route has no upstream"})
		return
	}
	st.forward = rt.forward
	st.forward.Path = rt.upstreamPath(x, m.Prefix)
	st.traceStep("upstream")
	var dn *pipeline.Denial
	if x.Simulation != nil {
		dn = g.previewUpstream(st, rt)
	} else {
		dn = g.serveUpstream(st, rt)
	}
	if dn != nil {
		if dn.Stage == "" {
			dn.Stage = "upstream"
		}
		g.deny(st, snap, dn)
	}
}

// deny writes the problem for d and remembers it for the call log.
func (g *Gateway) deny(st *state, snap *Snapshot, d *pipeline.Denial) {
	x, rw := &st.x, &st.rw
	if rw.wroteHeader {
		return
	}
	p := problem.New(d.Code, d.Params)
	if d.Stage != "" {
		p.Stage = d.Stage
	}
	if d.Status != 0 {
		p.Status = d.Status
	}
	p.RequestID = x.ID
	if n := len(x.Trace); n == 0 || x.Trace[n-1].Stage != p.Stage || x.Trace[n-1].Outcome != pipeline.OutcomeDeny {
		x.Record(pipeline.Step{Stage: p.Stage, Outcome: pipeline.OutcomeDeny, Code: p.Code, Rule: d.Rule, Note: d.Reason})
	}
	st.code, st.layer, st.stage = p.Code, p.Layer, p.Stage
	p.DecisionToken = g.decisionToken(x, p, d)

	mode := problem.Standard
	if snap != nil {
		mode = snap.disclosure
	}
	if mode == problem.Debug {
		if g.isDebugCaller(x.Request) {
			p.Trace = x.Trace
		} else {
			mode = problem.Standard
		}
	}
	h := rw.Header()
	for k, v := range d.Header {
		h[k] = v
	}
	if rw.id == "" {
		// Refused before the accept stage assigned an id (no snapshot yet).
		rw.id = accept.NewRequestID()
		x.ID, p.RequestID = rw.id, rw.id
	}
	if st.openAI {
		problem.WriteOpenAI(rw, x.Request, p, mode)
		return
	}
	problem.Write(rw, x.Request, p, mode)
}

// isDebugCaller reports whether r presents an operator credential (an admin
// token). It is only consulted on refusals when disclosure is debug.
func (g *Gateway) isDebugCaller(r *http.Request) bool {
	tok := r.Header.Get(DebugHeader)
	if tok == "" || g.o.Store == nil {
		return false
	}
	sum := sha256.Sum256([]byte(tok))
	_, err := g.o.Store.AdminTokenByHash(r.Context(), hex.EncodeToString(sum[:]))
	return err == nil
}

// finish records metrics and the call log, then returns st to the pool.
func (g *Gateway) finish(st *state, snap *Snapshot) {
	x, rw := &st.x, &st.rw
	g.o.Metrics.InFlight(-1)
	status := rw.status
	if !rw.wroteHeader {
		status = statusClientClosed
	}
	code, layer := st.code, st.layer
	if code == "" && status >= 400 && x.UpstreamStatus != 0 {
		code, layer = upstreamLabel(status), problem.LayerUpstream
	}
	total := time.Since(x.Start)
	route := x.Route
	if route == "" {
		route = noRoute
	}
	g.o.Metrics.ObserveRequest(route, status, code, total, x.UpstreamLatency)
	if code != "" {
		stage := st.stage
		if stage == "" {
			stage = "upstream"
		}
		g.o.Metrics.Denial(route, code, stage, layer)
	}
	st.traceEnd(status, code, layer, total)
	wouldDeny := false
	for i := range x.Trace {
		if s := &x.Trace[i]; s.Outcome == pipeline.OutcomeWouldDeny {
			g.o.Metrics.WouldDeny(route, s.Stage, s.Code)
			wouldDeny = true
		}
	}
	g.observe(st, snap, status, code, layer, total)
	if calls := g.calls.Load(); calls != nil && (snap == nil || snap.logCalls) {
		calls.Log(g.callRecord(st, snap, status, code, layer, total, wouldDeny))
	}
	st.code, st.layer, st.stage = "", "", ""
	st.openAI, st.aiRoute = false, false
	st.forward = upstream.Forward{}
	x.Reset()
	st.rw.reset(nil, "")
	g.states.Put(st)
}

// statusClientClosed is logged when the client went away before any
// response was written (nginx's convention).
const statusClientClosed = 499

// noRoute labels metrics of requests that matched no route.
const noRoute = "(none)"

func upstreamLabel(status int) string {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return "upstream.denied"
	case status == http.StatusTooManyRequests:
		return "upstream.rate_limited"
	case status >= 500:
		return "upstream.error"
	}
	return ""
}

// routePreflight routes a CORS preflight that no route matches with method
// OPTIONS. A preflight asks about the method it names, so it goes to the
// route that would serve that method, if that route answers CORS; failing
// that, to the first CORS route of the path (whose cors stage then refuses
// the method with cors.method_not_allowed rather than a bare 405).
func (s *Snapshot) routePreflight(x *pipeline.Exchange, m router.Match[*Route], n int, res router.Result) (router.Match[*Route], int, router.Result) {
	try := func(method string) bool {
		pm, pn, pres := s.routes.Match(x.Host, method, x.Path, x.Params[:])
		if pres == router.Matched && pm.Value.cors {
			m, n, res = pm, pn, pres
			return true
		}
		return false
	}
	if try(x.Request.Header.Get("Access-Control-Request-Method")) {
		return m, n, res
	}
	for method := range strings.SplitSeq(m.Allow, ", ") {
		if method != http.MethodOptions && try(method) {
			break
		}
	}
	return m, n, res
}
