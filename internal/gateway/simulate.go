package gateway

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/redact"
)

var _ admin.Simulator = (*Gateway)(nil)

// Simulate implements admin.Simulator: it runs a described request through
// the live revision, or through a proposed document compiled aside (never
// published or stored), on the same pipeline real requests take, with
// x.Simulation set so that no stage changes state and no upstream is
// contacted (see pipeline.Simulation).
func (g *Gateway) Simulate(ctx context.Context, req admin.SimulateRequest) (admin.SimulateResult, error) {
	d, err := describe(req)
	if err != nil {
		return admin.SimulateResult{}, err
	}
	snap := g.snap.Load()
	proposed := req.Config != ""
	if proposed {
		name := req.Filename
		if name == "" {
			name = "proposed.yaml"
		}
		cfg, err := config.Load(name, []byte(req.Config), g.lookupEnv())
		if err != nil {
			return admin.SimulateResult{}, err
		}
		next, fresh, err := compile(cfg, snap, g.o)
		if err != nil {
			return admin.SimulateResult{}, withFile(err, name)
		}
		defer discard(next, fresh)
		snap = next
	}
	if snap == nil {
		return admin.SimulateResult{}, errNoRevision
	}
	st, rec := g.simulateOn(ctx, snap, d)
	res := simulationResult(snap, st, rec)
	res.Proposed = proposed
	if d.defaultIP {
		res.Notes = append(res.Notes, "no client_ip given: simulated as a request from 127.0.0.1")
	}
	return res, nil
}

// described is a request to simulate, from an operator's description or
// from a call record's decision inputs.
type described struct {
	method, scheme, host string
	// uri is the escaped path and raw query.
	uri    string
	header http.Header
	body   []byte
	peer   netip.Addr
	sim    *pipeline.Simulation
	// defaultIP is set when no client address was given.
	defaultIP bool
}

// describe validates an operator's simulate request.
func describe(req admin.SimulateRequest) (described, error) {
	bad := func(reason string) (described, error) { return described{}, &admin.InvalidRequestError{Reason: reason} }
	d := described{method: strings.ToUpper(req.Method), header: http.Header{}, body: []byte(req.Body)}
	if d.method == "" {
		d.method = http.MethodGet
	}
	if strings.IndexFunc(d.method, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		return bad("method must be an HTTP method such as GET or POST")
	}
	u, err := url.Parse(req.URL)
	if err != nil || req.URL == "" {
		return bad("url must be an absolute URL (https://api.example.com/orders) or a path with a Host header")
	}
	for k, vs := range req.Headers {
		ck := http.CanonicalHeaderKey(k)
		if ck == "Host" {
			if len(vs) > 0 {
				d.host = vs[0]
			}
			continue
		}
		d.header[ck] = append(d.header[ck], vs...)
	}
	switch {
	case u.Scheme == "http" || u.Scheme == "https":
		if u.Host == "" {
			return bad("url has no host")
		}
		d.scheme, d.host = u.Scheme, u.Host
	case u.Scheme != "" || u.Host != "":
		return bad("url must use http or https")
	case !strings.HasPrefix(u.Path, "/"):
		return bad("url must be absolute or start with /")
	case d.host == "":
		return bad("a url without a host needs a Host header")
	}
	d.uri = u.EscapedPath()
	if u.RawQuery != "" {
		d.uri += "?" + u.RawQuery
	}
	ip := req.ClientIP
	if ip == "" {
		ip, d.defaultIP = "127.0.0.1", true
	}
	client, err := netip.ParseAddr(ip)
	if err != nil {
		return bad("client_ip: " + err.Error())
	}
	d.peer = client
	if req.Peer != "" {
		if d.peer, err = netip.ParseAddr(req.Peer); err != nil {
			return bad("peer: " + err.Error())
		}
		if d.defaultIP {
			d.defaultIP = false
		}
	}
	d.sim = &pipeline.Simulation{}
	switch {
	case req.AsCredential != "" && req.AsConsumer != "":
		return bad("give as_credential or as_consumer, not both")
	case len(req.Scopes) > 0 && req.AsConsumer == "":
		return bad("scopes are granted with as_consumer only (a credential has its own)")
	}
	d.sim.AsCredential, d.sim.AsConsumer, d.sim.Scopes = req.AsCredential, req.AsConsumer, req.Scopes
	return d, nil
}

// replayOf rebuilds a request from a call record's decision inputs. The
// redacted credential cannot be presented again, so the recorded identity
// is assumed: an API key, basic user or HMAC key by its id (the revision
// replayed decides what that credential may do), a token's or
// certificate's caller as its consumer with the token's scopes.
func replayOf(in *pipeline.Inputs) described {
	d := described{method: in.Method, scheme: in.Scheme, host: in.Host, uri: in.Path, header: http.Header{}}
	if d.method == "" {
		d.method = http.MethodGet
	}
	if d.uri == "" {
		d.uri = "/"
	}
	if in.Query != "" {
		d.uri += "?" + in.Query
	}
	for k, vs := range in.Header {
		if !hopByHop[k] {
			d.header[k] = vs
		}
	}
	if len(in.Body) > 0 {
		d.body = in.Body
	}
	peer := in.Peer
	if peer == "" {
		peer = in.ClientIP
	}
	if a, err := netip.ParseAddr(peer); err == nil {
		d.peer = a
	} else {
		d.peer = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	d.sim = &pipeline.Simulation{}
	switch {
	case in.Credential != "" && (in.AuthMethod == "api_key" || in.AuthMethod == "basic" || in.AuthMethod == "hmac"):
		d.sim.AsCredential = in.Credential
	case in.Consumer != "":
		d.sim.AsConsumer, d.sim.Scopes, d.sim.Authenticator = in.Consumer, in.Scopes, in.Authenticator
	}
	return d
}

// request builds the *http.Request the pipeline runs on; every call
// builds a fresh one, since stages edit requests (credentials are
// stripped, bodies buffered).
func (d *described) request(ctx context.Context) *http.Request {
	h := make(http.Header, len(d.header))
	for k, vs := range d.header {
		h[k] = append([]string(nil), vs...)
	}
	u, err := url.ParseRequestURI(d.uri)
	if err != nil {
		u = &url.URL{Path: "/"}
	}
	r := &http.Request{
		Method: d.method, URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Host: d.host, RequestURI: d.uri,
		RemoteAddr: netip.AddrPortFrom(d.peer, 40000).String(),
		Body:       http.NoBody,
	}
	if d.scheme == "https" {
		r.TLS = &tls.ConnectionState{HandshakeComplete: true}
	}
	if len(d.body) > 0 {
		r.Body = io.NopCloser(bytes.NewReader(d.body))
		r.ContentLength = int64(len(d.body))
	}
	return r.WithContext(ctx)
}

// simulateOn runs d through snap on the same run loop as real requests,
// into a recorder; nothing is logged, counted or measured.
func (g *Gateway) simulateOn(ctx context.Context, snap *Snapshot, d described) (*state, *recorder) {
	st := &state{}
	x := &st.x
	sim := *d.sim
	x.Request, x.Start = d.request(ctx), time.Now()
	x.Revision = snap.Revision
	x.Simulation = &sim
	rec := &recorder{header: http.Header{}}
	st.rw.reset(rec, snap.idHeader)
	x.ResponseHeader = st.rw.Header()
	g.run(st, snap)
	return st, rec
}

// previewUpstream stands in for serveUpstream on a simulated request: the
// idempotency gate reports instead of taking the key, and the upstream
// says where the request would go instead of being called.
func (g *Gateway) previewUpstream(st *state, rt *Route) *pipeline.Denial {
	x := &st.x
	if rt.idem != nil {
		if d := rt.idem.Preview(x); d.Denial != nil {
			if d.Denial.Stage == "" {
				d.Denial.Stage = "idempotency"
			}
			return d.Denial
		}
	}
	p, dn := rt.upstream.Preview(x, &st.forward)
	if dn != nil {
		return dn
	}
	st.preview = &p
	return nil
}

// simulationResult describes what the simulated request in st got.
func simulationResult(snap *Snapshot, st *state, rec *recorder) admin.SimulateResult {
	x, rw := &st.x, &st.rw
	pol := snap.redaction
	res := admin.SimulateResult{Revision: snap.Revision, RequestID: x.ID, Route: x.Route, Trace: redactTrace(pol, x.Trace)}
	if len(rec.header) > 0 {
		res.Header = pol.Headers(rec.header)
	}
	if id := &x.Identity; id.Authenticated {
		res.Identity = &admin.SimulatedIdentity{Method: id.Method, Authenticator: id.Authenticator,
			Credential: id.CredentialID, Consumer: id.ConsumerID, Tenant: id.TenantID, Scopes: id.Scopes,
			Assumed: x.Simulation.Assumed()}
	}
	switch {
	case st.code != "":
		res.Outcome, res.Status, res.Code, res.Stage, res.Layer = admin.SimDenied, rw.status, st.code, st.stage, st.layer
		res.Problem = append([]byte(nil), rec.body.Bytes()...)
		res.Summary = "denied: " + strconv.Itoa(rw.status) + " " + st.code + " at stage " + st.stage
		if rule := denyingRule(x.Trace); rule != "" {
			res.Summary += " (rule " + rule + ")"
		}
	case st.preview != nil:
		p := st.preview
		res.Outcome = admin.SimForwarded
		res.Forward = &admin.SimulatedForward{Upstream: p.Upstream, Target: p.Target, URL: pol.URL(p.URL),
			Balance: p.Balance, Candidates: p.Candidates, Circuit: p.Circuit}
		res.Summary = "would be forwarded to upstream " + p.Upstream + " target " + p.Target + ", path " + forwardPath(res.Forward.URL)
		res.Notes = append(res.Notes, "the upstream was not contacted; its answer decides the status")
	default:
		res.Outcome, res.Status = admin.SimAnswered, rw.status
		res.Body = pol.Text(rec.body.String())
		res.Summary = "answered by the gateway itself: " + strconv.Itoa(rw.status)
	}
	for i := range x.Trace {
		switch x.Trace[i].Stage {
		case "limit":
			res.Notes = appendOnce(res.Notes, "rate limits and quotas were evaluated against the current counts without charging them (a peek)")
		case "idempotency":
			res.Notes = appendOnce(res.Notes, "the idempotency key was reported, not taken")
		}
	}
	if x.Simulation.Assumed() {
		res.Notes = append(res.Notes, "the identity was assumed without its secret; revocation, expiry and suspension were checked")
	}
	return res
}

// redactTrace copies a trace with its notes passed through the policy.
func redactTrace(p *redact.Policy, trace []pipeline.Step) []pipeline.Step {
	out := make([]pipeline.Step, len(trace))
	for i, s := range trace {
		s.Note = p.Text(s.Note)
		out[i] = s
	}
	return out
}

// denyingRule is the rule of the trace's last deny step.
func denyingRule(trace []pipeline.Step) string {
	for i := len(trace) - 1; i >= 0; i-- {
		if trace[i].Outcome == pipeline.OutcomeDeny {
			return trace[i].Rule
		}
	}
	return ""
}

func forwardPath(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		if p := u.RequestURI(); p != "" {
			return p
		}
	}
	return raw
}

func appendOnce(list []string, s string) []string {
	for _, v := range list {
		if v == s {
			return list
		}
	}
	return append(list, s)
}

// recorder is the response writer of a simulated request.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
