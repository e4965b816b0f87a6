// Package accept is pipeline stage 0: it gives every request its identity
// before any other stage looks at it. It assigns the request id and W3C
// traceparent, resolves the client IP through trusted proxies only (a client
// can never choose its own address with X-Forwarded-For or Forwarded),
// normalizes the host and path once for every later stage, and enforces the
// URI, header and body size limits.
package accept

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/textproto"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

const stageName = "accept"

// errAsterisk refuses the asterisk-form request target ("*") with any
// method but OPTIONS, where it means "the server as a whole".
var errAsterisk = errors.New("request target * is only allowed with OPTIONS")

// Config configures the accept stage; the gateway builds it from the
// gateway section of a config snapshot, with defaults applied.
type Config struct {
	// TrustedProxies are the networks of proxies whose forwarding headers
	// (X-Forwarded-For or Forwarded, X-Forwarded-Proto), request id and
	// traceparent are believed; single addresses are /32 or /128 prefixes.
	// From gateway.trusted_proxies, e.g. ["10.0.0.0/8", "192.168.1.7"].
	// Empty (the default) trusts nobody: every client's forwarding headers
	// are ignored and the client IP is the TCP peer.
	TrustedProxies []netip.Prefix
	// RequestIDHeader is the request id header name
	// (gateway.request_id_header, default "X-Request-Id").
	RequestIDHeader string
	// ForwardedHeader says which header a trusted proxy writes the client
	// chain into: HeaderXForwardedFor ("X-Forwarded-For", the default, what
	// nginx, Envoy, HAProxy and cloud load balancers write), HeaderForwarded
	// ("Forwarded", RFC 7239), or HeaderAuto ("auto": Forwarded when present,
	// else X-Forwarded-For). Matched case-insensitively.
	//
	// Name the header your proxies actually write. A proxy passes headers
	// it does not manage through untouched, so with "auto" behind a proxy
	// that only appends X-Forwarded-For, a client can send its own
	// Forwarded header and choose its address.
	ForwardedHeader string
	// Limits are the gateway-wide size limits; all must be > 0. When a
	// route may raise a limit above these, pass the largest value any route
	// allows here and re-check each route with Limits.Check and LimitBody
	// after routing.
	Limits Limits
	// SampleTrace decides the sampled flag of a traceparent the stage
	// generates, from its trace id (the tracer's sample ratio). Nil: every
	// generated traceparent is sampled. A trusted proxy's traceparent is
	// passed on with its own flag.
	SampleTrace func(traceID [16]byte) bool
}

// Stage is the accept stage. It is built once per config snapshot by New
// and is safe for concurrent use.
type Stage struct {
	trusted   []netip.Prefix
	idHeader  string
	forwarded string
	limits    Limits
	sample    func(traceID [16]byte) bool
}

var _ pipeline.Stage = (*Stage)(nil)

// New validates cfg and builds the stage.
func New(cfg Config) (*Stage, error) {
	s := &Stage{limits: cfg.Limits, sample: cfg.SampleTrace}
	for _, p := range cfg.TrustedProxies {
		if !p.IsValid() {
			return nil, fmt.Errorf("trusted proxy %v is not a valid network", p)
		}
		a := p.Addr()
		if a.Zone() != "" {
			return nil, fmt.Errorf("trusted proxy %v: zones are not supported", p)
		}
		bits := p.Bits()
		if a.Is4In6() && bits >= 96 {
			// ::ffff:10.0.0.0/104 means 10.0.0.0/8; peers are unmapped.
			a, bits = a.Unmap(), bits-96
		}
		s.trusted = append(s.trusted, netip.PrefixFrom(a, bits).Masked())
	}
	s.idHeader = cfg.RequestIDHeader
	if s.idHeader == "" {
		s.idHeader = "X-Request-Id"
	}
	if !isToken(s.idHeader) {
		return nil, fmt.Errorf("request id header %q is not a valid header name", s.idHeader)
	}
	s.idHeader = textproto.CanonicalMIMEHeaderKey(s.idHeader)
	switch {
	case cfg.ForwardedHeader == "" || strings.EqualFold(cfg.ForwardedHeader, HeaderXForwardedFor):
		s.forwarded = HeaderXForwardedFor
	case strings.EqualFold(cfg.ForwardedHeader, HeaderForwarded):
		s.forwarded = HeaderForwarded
	case strings.EqualFold(cfg.ForwardedHeader, HeaderAuto):
		s.forwarded = HeaderAuto
	default:
		return nil, fmt.Errorf("forwarded header %q: want %q, %q or %q",
			cfg.ForwardedHeader, HeaderXForwardedFor, HeaderForwarded, HeaderAuto)
	}
	l := cfg.Limits
	if l.MaxBodyBytes <= 0 || l.MaxHeaderBytes <= 0 || l.MaxURIBytes <= 0 || l.MaxHeaderCount <= 0 {
		return nil, errors.New("limits: max_body_bytes, max_header_bytes, max_uri_bytes and max_header_count must all be greater than zero")
	}
	return s, nil
}

// Name returns "accept".
func (s *Stage) Name() string { return stageName }

// IsTrusted reports whether a is in one of the trusted proxy networks.
// IPv4-mapped IPv6 addresses are compared as IPv4; the zero Addr (a unix
// socket peer) is never trusted.
func (s *Stage) IsTrusted(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	a = a.Unmap()
	for _, p := range s.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Handle gives the request its identity and refuses it when it is too large
// or its host or path is invalid. It sets x.Peer, x.PeerTrusted, x.ClientIP,
// x.Scheme, x.ID, x.TraceParent, x.RawURI, x.Host and x.Path (the identity
// fields even when it refuses, so the refusal carries the request id), points
// x.Request.URL at the normalized path, wraps the body with the gateway's body
// limit, and records one trace step.
func (s *Stage) Handle(x *pipeline.Exchange) pipeline.Decision {
	start := time.Now()
	r := x.Request

	x.Peer = peerAddr(r.RemoteAddr)
	x.PeerTrusted = s.IsTrusted(x.Peer)
	res := s.resolveClient(r.Header, x.Peer, x.PeerTrusted)
	x.ClientIP = res.client
	x.Scheme = "http"
	if r.TLS != nil {
		x.Scheme = "https"
	}
	if res.proto != "" {
		x.Scheme = res.proto
	}
	x.RawURI = r.RequestURI
	if x.RawURI == "" {
		x.RawURI = r.URL.RequestURI()
	}
	note := s.identify(x, &res, start)

	d := s.check(x)
	step := pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomePass, Note: note}
	if d != nil {
		step.Outcome, step.Code, step.Rule = pipeline.OutcomeDeny, d.Code, d.Rule
	}
	step.Duration = time.Since(start)
	x.Record(step)
	if d != nil {
		return pipeline.Deny(d)
	}
	return pipeline.Continue()
}

// check runs the refusing checks: limits, host, path, body.
func (s *Stage) check(x *pipeline.Exchange) *pipeline.Denial {
	r := x.Request
	lim := s.limits
	lim.MaxBodyBytes = 0 // LimitBody below checks Content-Length and wraps.
	if d := lim.Check(x); d != nil {
		return d
	}
	host, ok := normalizeHost(r.Host)
	if !ok {
		return &pipeline.Denial{
			Code:   "request.malformed",
			Stage:  stageName,
			Rule:   "host",
			Params: map[string]string{"reason": "the Host header is not a valid host name"},
			Reason: fmt.Sprintf("invalid Host header %.128q", r.Host),
		}
	}
	x.Host = host
	raw := pathFromRequest(r)
	var p string
	var err error
	if raw == "*" {
		if r.Method != http.MethodOptions {
			err = errAsterisk
		}
		p = "*"
	} else {
		p, err = NormalizePath(raw)
	}
	if err != nil {
		return &pipeline.Denial{
			Code:  "request.invalid_path",
			Stage: stageName,
			Rule:  "path",
			// The error texts are fixed strings that never echo the request,
			// so they are safe for a template that wants {reason}.
			Params: map[string]string{"reason": err.Error()},
			Reason: fmt.Sprintf("%v: %.256q", err, raw),
		}
	}
	x.Path = p
	setURLPath(r, p)
	return LimitBody(x, s.limits.MaxBodyBytes)
}

// identify sets the request id and traceparent and returns the trace note.
// The generated id, the generated traceparent and the note are written into
// one buffer and converted to one string, so the common request costs a
// single allocation for all three.
func (s *Stage) identify(x *pipeline.Exchange, res *resolution, now time.Time) string {
	var buf [384]byte
	b := buf[:0]
	h := x.Request.Header

	idOff, tpOff := -1, -1
	var id [16]byte
	generated := false
	if v := h[s.idHeader]; x.PeerTrusted && len(v) == 1 && ValidRequestID(v[0]) {
		x.ID = v[0]
	} else {
		newUUIDv7(&id, now)
		generated = true
		idOff = len(b)
		b = appendUUID(b, &id)
	}
	if v := h[hdrTraceParent]; x.PeerTrusted && len(v) == 1 && ValidTraceParent(v[0]) {
		x.TraceParent = v[0]
	} else {
		trace := id
		if !generated {
			trace = newTraceID()
		}
		span := newSpanID()
		tpOff = len(b)
		b = appendTraceParent(b, &trace, &span, s.sample == nil || s.sample(trace))
	}
	noteOff := len(b)
	b = appendNote(b, x, res)

	all := string(b)
	if idOff >= 0 {
		x.ID = all[idOff : idOff+uuidLen]
	}
	if tpOff >= 0 {
		x.TraceParent = all[tpOff : tpOff+traceParentLen]
	}
	return all[noteOff:]
}

// appendNote appends the trace note saying who the client is and whether
// forwarding headers were believed, e.g. "client 203.0.113.7 via trusted
// proxy 10.0.0.2 (X-Forwarded-For)".
func appendNote(b []byte, x *pipeline.Exchange, res *resolution) []byte {
	if !x.Peer.IsValid() {
		return append(b, "peer is not an IP address (unix socket?); client unknown"...)
	}
	b = append(b, "client "...)
	b = x.ClientIP.AppendTo(b)
	if !x.PeerTrusted {
		b = append(b, "; peer untrusted"...)
		h := x.Request.Header
		sep := "; ignored "
		for _, name := range [...]string{hdrForwarded, hdrXFF, hdrXFProto, hdrXRealIP} {
			if len(h[name]) > 0 {
				b = append(b, sep...)
				b = append(b, name...)
				sep = ", "
			}
		}
		return b
	}
	if res.source == "" {
		b = append(b, "; "...)
		return append(b, res.stop...)
	}
	if res.client != res.proxy {
		b = append(b, " via trusted proxy "...)
		b = res.proxy.AppendTo(b)
	}
	b = append(b, " ("...)
	b = append(b, res.source...)
	b = append(b, ')')
	if res.stop != stopNone {
		b = append(b, "; "...)
		b = append(b, res.stop...)
	}
	return b
}
