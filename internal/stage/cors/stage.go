// Package cors is pipeline stage 4: it answers CORS preflights and
// decorates answers to browser callers from allowed origins.
//
// A preflight (OPTIONS with Origin and Access-Control-Request-Method) from
// an allowed origin, for an allowed method and allowed headers, is answered
// 204 by the stage itself. A preflight from a disallowed origin is refused
// with cors.origin_not_allowed and no CORS headers; one asking for a method
// or header that is not allowed is refused with cors.method_not_allowed or
// cors.header_not_allowed, and because it comes from an allowed origin the
// refusal carries Access-Control-Allow-Origin so browser code can read the
// problem body.
//
// An actual request from an allowed origin gets Access-Control-Allow-Origin
// (and -Credentials, -Expose-Headers, Vary: Origin) on the response header
// map, which both the gateway's own refusals and the upstream's answer use.
// One from a disallowed origin is served without CORS headers, so the
// browser hides the answer from the calling script; with cors.enforce it is
// refused instead. A same-origin request is never refused. Every answer
// on a route with cors carries Vary: Origin, so shared caches keep the
// variants apart.
//
// Origin "null" (sandboxed frames, file: pages, cross-origin redirects)
// is allowed only by an explicit "null" entry in allow_origins (or "*"):
// every opaque context sends it, so allowing it allows all of them.
package cors

import (
	"net/http"
	"net/textproto"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

const stageName = "cors"

// Response header names, in canonical form so maps can be indexed directly.
const (
	hAllowOrigin      = "Access-Control-Allow-Origin"
	hAllowCredentials = "Access-Control-Allow-Credentials"
	hAllowMethods     = "Access-Control-Allow-Methods"
	hAllowHeaders     = "Access-Control-Allow-Headers"
	hExposeHeaders    = "Access-Control-Expose-Headers"
	hMaxAge           = "Access-Control-Max-Age"
	hRequestMethod    = "Access-Control-Request-Method"
	hRequestHeaders   = "Access-Control-Request-Headers"
	hVary             = "Vary"
	hOrigin           = "Origin"
)

// Header values shared by every answer. Each slice has len == cap, so an
// append by a later writer copies instead of writing into it.
var (
	valueStar          = []string{"*"}
	valueTrue          = []string{"true"}
	valueVaryOrigin    = []string{"Origin"}
	valueVaryPreflight = []string{"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"}
)

// Trace notes (constants, so the pass path does not allocate).
const (
	noteUnlisted  = "origin not in cors.allow_origins: served without CORS headers"
	notePreflight = "preflight answered 204"
)

// Stage is the cors stage of one route. It is safe for concurrent use.
type Stage struct {
	origins     origins
	credentials bool
	enforce     bool
	methods     []string // allowed methods, compared case-sensitively
	anyHeader   bool     // allow_headers has "*": echo what is asked for
	headers     []string // allowed request headers as written, compared ignoring case
	// Precomputed header values.
	methodsValue []string // ["GET, POST"]
	headersValue []string // ["Accept, Content-Type"]; nil with anyHeader and no names
	exposeValue  []string // nil when nothing is exposed
	maxAgeValue  []string // ["600"]
	methodsList  string   // "GET, POST" for the {allow} placeholder
}

var _ pipeline.Stage = (*Stage)(nil)

// Name returns "cors".
func (s *Stage) Name() string { return stageName }

// IsPreflight reports whether r is a CORS preflight: OPTIONS with an Origin
// and an Access-Control-Request-Method. The gateway uses it to hand
// preflights to a route whose methods do not include OPTIONS.
func IsPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && len(r.Header[hOrigin]) > 0 && len(r.Header[hRequestMethod]) > 0
}

// Handle answers preflights, and decorates actual requests from allowed
// origins with CORS response headers. Requests without Origin are not
// CORS requests and pass with only Vary: Origin added.
func (s *Stage) Handle(x *pipeline.Exchange) pipeline.Decision {
	r := x.Request
	ov := r.Header[hOrigin]
	if len(ov) > 0 && IsPreflight(r) {
		return s.preflight(x, ov)
	}
	if len(ov) == 1 && s.origins.match(ov[0]) {
		s.decorate(x.Header(), ov)
		return pipeline.Continue()
	}
	// Every answer of a CORS route depends on Origin, including those
	// without CORS headers: a shared cache must not hand an answer to a
	// request without Origin (or from another origin) to an allowed one.
	addVary(x.Header(), valueVaryOrigin)
	if len(ov) == 0 || len(ov) == 1 && ov[0] == "" || sameOrigin(x, ov[0]) {
		return pipeline.Continue()
	}
	if s.enforce {
		return pipeline.Deny(originDenial(ov, "cors.enforce"))
	}
	x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomePass, Rule: "cors.allow_origins", Note: noteUnlisted})
	return pipeline.Continue()
}

// decorate sets the CORS headers of an answer to an allowed origin.
func (s *Stage) decorate(h http.Header, ov []string) {
	s.allowOrigin(h, ov)
	if s.exposeValue != nil {
		h[hExposeHeaders] = s.exposeValue
	}
	addVary(h, valueVaryOrigin)
}

// addVary adds v (whose first name is Origin) to h's Vary, keeping what is
// there; it leaves a Vary that already names Origin, or is "*", alone.
func addVary(h http.Header, v []string) {
	old := h[hVary]
	if len(old) == 0 {
		h[hVary] = v
		return
	}
	for _, line := range old {
		for name := range strings.SplitSeq(line, ",") {
			name = textproto.TrimString(name)
			if name == "*" || equalFold(name, hOrigin) {
				return
			}
		}
	}
	h[hVary] = append(old[:len(old):len(old)], v...)
}

// sameOrigin reports whether origin is the request's own: x.Scheme (or the
// connection's) + "://" + the Host header, a default port ignored.
func sameOrigin(x *pipeline.Exchange, origin string) bool {
	scheme := x.Scheme
	if scheme == "" {
		scheme = "http"
		if x.Request.TLS != nil {
			scheme = "https"
		}
	}
	n := len(scheme) + 3
	if len(origin) <= n || !equalFold(origin[:len(scheme)], scheme) || origin[len(scheme):n] != "://" {
		return false
	}
	rest, host := origin[n:], x.Request.Host
	if equalFold(rest, host) {
		return true
	}
	def := defaultPort(scheme)
	return def != "" && strings.HasSuffix(host, ":"+def) && equalFold(rest, host[:len(host)-len(def)-1])
}
