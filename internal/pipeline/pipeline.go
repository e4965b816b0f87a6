// Package pipeline holds the types every stage shares: the per-request
// Exchange, the Stage interface, the Decision a stage returns, the Denial
// that names a reason code, and the decision trace.
//
// A refusal is a value, not an error: a stage that refuses returns
// Deny(&Denial{...}) and the gateway decides how to answer. Errors are for
// things that went wrong.
package pipeline

import (
	"errors"
	"net/http"
	"net/netip"
	"time"
)

// Stage is one step of the request pipeline. Stages are built once per config
// snapshot and must be safe for concurrent use; Handle only reads their state.
type Stage interface {
	// Name is the stage name used in traces and problem bodies ("ip", "authn", ...).
	Name() string
	// Handle inspects the exchange and returns Continue or Deny.
	Handle(x *Exchange) Decision
}

// Decision is what a stage returns: continue, deny with a reason, or (for
// the few stages that answer requests themselves, such as CORS preflights)
// an answer the gateway writes instead of calling the upstream.
type Decision struct {
	// Denial is nil to continue.
	Denial *Denial
	// Answer, when non-nil, ends the pipeline with this response.
	Answer *Answer
}

// Answer is a response a stage writes itself (a CORS preflight, a replayed
// idempotent response): a status, headers and an optional body.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// Continue lets the request go on to the next stage.
func Continue() Decision { return Decision{} }

// Deny refuses the request with d.
func Deny(d *Denial) Decision { return Decision{Denial: d} }

// Respond ends the pipeline with a bodiless answer (e.g. 204 to a preflight).
func Respond(a *Answer) Decision { return Decision{Answer: a} }

// Denied reports whether the decision refuses the request.
func (d Decision) Denied() bool { return d.Denial != nil }

// Ends reports whether the pipeline stops here (refused or answered).
func (d Decision) Ends() bool { return d.Denial != nil || d.Answer != nil }

// Denial is a refusal: a catalog code plus what the caller and the operator
// need to understand it.
type Denial struct {
	// Code is a reason code from the problem catalog.
	Code string
	// Stage is the stage that refused; the gateway fills it in when empty.
	Stage string
	// Rule identifies the rule, policy or check that refused (operator-only).
	Rule string
	// Params fill the client-safe {placeholders} of the code's detail and hint.
	// Values must be safe to show to the caller.
	Params map[string]string
	// Reason is the operator-facing explanation kept in the trace and call
	// log; never sent to the client (it may hold internal addresses).
	Reason string
	// Header holds extra response headers (Allow, WWW-Authenticate, Retry-After).
	Header http.Header
	// Status overrides the catalog status when non-zero (e.g. upstream.error labels).
	Status int
}

// ErrBodyTooLarge is returned by a request body that crossed its size
// limit; the upstream stage answers 413 request.body_too_large when it sees it
// before any response byte was written.
var ErrBodyTooLarge = errors.New("request body too large")

// Outcomes recorded in the trace.
const (
	OutcomePass      = "pass"
	OutcomeDeny      = "deny"
	OutcomeSkip      = "skip"
	OutcomeWouldDeny = "would_deny"
	OutcomeError     = "error"
	// OutcomeClientClosed: the client went away before an answer was written.
	OutcomeClientClosed = "client_closed"
)

// Step is one entry of the decision trace.
type Step struct {
	Stage    string        `json:"stage"`
	Outcome  string        `json:"outcome"`
	Code     string        `json:"code,omitempty"`
	Rule     string        `json:"rule,omitempty"`
	Note     string        `json:"note,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// Param is one captured path parameter; Value is a substring of the path.
type Param struct {
	Name, Value string
}

// MaxParams bounds the path parameters one route may capture, so that the
// exchange can hold them without allocating.
const MaxParams = 8

// Exchange is the per-request state the stages share. The gateway pools
// exchanges; stages must not keep references to one after Handle returns.
type Exchange struct {
	// Request is the incoming request; its URL.Path is the normalized path.
	Request *http.Request
	// ID is the request id returned in X-Request-Id.
	ID string
	// Start is when the gateway accepted the request.
	Start time.Time
	// Peer is the address of the direct TCP peer.
	Peer netip.Addr
	// PeerTrusted is true when Peer is one of gateway.trusted_proxies, so its
	// forwarding headers were believed.
	PeerTrusted bool
	// ClientIP is the client address, resolved through trusted proxies only.
	ClientIP netip.Addr
	// Scheme is "http" or "https" as the client used it (from a trusted
	// proxy's X-Forwarded-Proto/Forwarded, else from the connection).
	Scheme string
	// Host is the request host, lower-cased and without port.
	Host string
	// Path is the normalized path every stage and the logs see.
	Path string
	// RawURI is the request URI exactly as received (the WAF inspects it).
	RawURI string
	// TraceParent is the W3C traceparent sent upstream: the incoming one from
	// a trusted proxy, else a new one derived from the request id.
	TraceParent string
	// Route is the name of the matched route ("" before the route stage).
	Route string
	// Params are the captured path parameters; NParams of them are valid.
	Params  [MaxParams]Param
	NParams int
	// Revision is the config revision the request runs on.
	Revision int64
	// ResponseHeader is the header map of the response the gateway will
	// write (its own refusal or the upstream's answer). Stages that must
	// decorate every answer (CORS) set headers here.
	ResponseHeader http.Header
	// Identity is who the authn stage found behind the request; its zero
	// value (Authenticated false) is an anonymous caller.
	Identity Identity
	// Simulation is set when the request is simulated (pinpoint simulate,
	// apply --dry-run replays), nil for real traffic. Stages then decide
	// as usual but change no state: see Simulation.
	Simulation *Simulation
	// Trace is the decision trace, appended to by every stage.
	Trace []Step
	// Upstream facts, filled by the upstream stage for the call log.
	Target          string
	UpstreamStatus  int
	UpstreamLatency time.Duration
	Attempts        int

	// body is what stages read of the request body; see Body.
	body requestBody
}

// Identity is the authenticated caller. It is filled by the authn stage
// (credential facts) and completed by the consumer stage (consumer and
// tenant). Slices and maps are shared with the credential store and must not
// be modified.
type Identity struct {
	// Authenticated is true once a credential was verified.
	Authenticated bool
	// Method is the kind of credential: "api_key", "jwt", "introspection",
	// "basic", "hmac" or "mtls".
	Method string
	// Authenticator is the name of the configured authenticator that verified it.
	Authenticator string
	// CredentialID identifies the credential without revealing it: an API
	// key's prefix id ("pp_live_k7f3a9c2d1e0"), a JWT's subject, a basic
	// user name, an HMAC key id or a certificate subject. Safe to log.
	CredentialID string
	// Bearer is true when the credential came as an Authorization: Bearer
	// token, so scope refusals answer with RFC 6750 insufficient_scope.
	Bearer bool
	// ConsumerID is the consumer the credential belongs to ("" when the
	// credential maps to none, e.g. a JWT of an unregistered subject).
	ConsumerID string
	// ConsumerName is the consumer's display name.
	ConsumerName string
	// TenantID is the consumer's tenant ("" for none).
	TenantID string
	// Scopes granted to this credential.
	Scopes []string
	// Groups (roles) of the consumer, and of the token when it carries them.
	Groups []string
	// Metadata is the consumer's metadata (user_id, plan, ...).
	Metadata map[string]string
	// Claims are a token's claims (JWT, introspection); nil otherwise.
	Claims map[string]any
	// ExpiresAt is when the credential expires (zero: never).
	ExpiresAt time.Time
}

// HasScope reports whether the identity was granted scope s.
func (id *Identity) HasScope(s string) bool {
	for _, v := range id.Scopes {
		if v == s {
			return true
		}
	}
	return false
}

// InGroup reports whether the identity belongs to group g.
func (id *Identity) InGroup(g string) bool {
	for _, v := range id.Groups {
		if v == g {
			return true
		}
	}
	return false
}

// Param returns the value of the named path parameter.
func (x *Exchange) Param(name string) (string, bool) {
	for i := 0; i < x.NParams; i++ {
		if x.Params[i].Name == name {
			return x.Params[i].Value, true
		}
	}
	return "", false
}

// Record appends a trace step.
func (x *Exchange) Record(s Step) { x.Trace = append(x.Trace, s) }

// Reset clears x for reuse, keeping the trace's backing array.
func (x *Exchange) Reset() {
	trace := x.Trace[:0]
	*x = Exchange{Trace: trace}
}

// Header returns the response header map, creating a detached one when the
// gateway did not set ResponseHeader (unit tests of a single stage).
func (x *Exchange) Header() http.Header {
	if x.ResponseHeader == nil {
		x.ResponseHeader = http.Header{}
	}
	return x.ResponseHeader
}
