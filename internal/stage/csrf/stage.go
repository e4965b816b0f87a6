// Package csrf is pipeline stage 8: it refuses cross-site state-changing
// requests on routes authenticated by cookies.
//
// Safe methods (GET, HEAD, OPTIONS) always pass. For the others, the
// cross-origin check is the standard library's http.CrossOriginProtection:
// a browser's Sec-Fetch-Site header decides ("same-origin" and "none"
// pass, "same-site" and "cross-site" are refused), and without it the
// Origin header must match the Host header; csrf.trusted_origins may call
// too. A request with neither header is a non-browser client (or a
// same-origin request of a very old browser) and passes. A refusal is
// csrf.origin_mismatch.
//
// With csrf.token the stage also requires a double-submit token: the
// request must carry the same value in a cookie and a header (a page of
// the application can read the cookie and copy it; another site cannot),
// else csrf.token_missing or csrf.token_mismatch. Token values never
// appear in a denial, its trace or its params.
package csrf

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/authn/credential"
)

const stageName = "csrf"

// Defaults of csrf.token, documented on config.CSRFToken.
const (
	defaultCookie = "csrf_token"
	defaultHeader = "X-CSRF-Token"
)

// Stage is the csrf stage of one route. It is safe for concurrent use.
type Stage struct {
	cop        *http.CrossOriginProtection
	reportOnly bool
	token      bool
	cookie     string // token cookie name
	header     string // token header name, canonical
	headerName string // token header name as configured, for the client
}

var _ pipeline.Stage = (*Stage)(nil)

// New validates c and builds the stage of a route; it returns nil, nil when
// c is nil (the route has no csrf block). Errors are config.FieldError
// values relative to the csrf block ("trusted_origins[0]", "token.header",
// "mode"), joined.
func New(c *config.CSRF) (*Stage, error) {
	if c == nil {
		return nil, nil
	}
	s := &Stage{cop: http.NewCrossOriginProtection()}
	var errs []error
	switch c.Mode {
	case "", "enforce":
	case "report_only":
		s.reportOnly = true
	default:
		errs = append(errs, config.Fieldf("mode", "unknown mode %q: want %q or %q", c.Mode, "enforce", "report_only"))
	}
	for i, o := range c.TrustedOrigins {
		if err := s.cop.AddTrustedOrigin(o); err != nil {
			errs = append(errs, config.Fieldf("trusted_origins["+strconv.Itoa(i)+"]", "%v (want scheme://host[:port])", err))
			continue
		}
		// Origin is compared byte for byte and browsers send it in lower
		// case: trust that spelling too.
		if l := strings.ToLower(o); l != o {
			_ = s.cop.AddTrustedOrigin(l)
		}
	}
	if t := c.Token; t != nil {
		s.token = true
		s.cookie, s.header = t.Cookie, t.Header
		if s.cookie == "" {
			s.cookie = defaultCookie
		}
		if s.header == "" {
			s.header = defaultHeader
		}
		if !isToken(s.cookie) {
			errs = append(errs, config.Fieldf("token.cookie", "%q is not a valid cookie name", s.cookie))
		}
		if !isToken(s.header) {
			errs = append(errs, config.Fieldf("token.header", "%q is not a valid header name", s.header))
		}
		s.headerName = s.header
		s.header = textproto.CanonicalMIMEHeaderKey(s.header)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// Name returns "csrf".
func (s *Stage) Name() string { return stageName }

// Handle refuses an unsafe request that is cross-origin, or that lacks a
// matching double-submit token. In report_only mode each would-be refusal
// is recorded as a would_deny step and the request goes on.
func (s *Stage) Handle(x *pipeline.Exchange) pipeline.Decision {
	r := x.Request
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return pipeline.Continue()
	}
	if s.cop.Check(r) != nil {
		if d := s.refuse(x, originDenial(r)); d != nil {
			return pipeline.Deny(d)
		}
	}
	if s.token {
		if d := s.checkToken(r); d != nil {
			if d = s.refuse(x, d); d != nil {
				return pipeline.Deny(d)
			}
		}
	}
	return pipeline.Continue()
}

// refuse returns d to answer with, or records it as would_deny and returns
// nil in report_only mode.
func (s *Stage) refuse(x *pipeline.Exchange, d *pipeline.Denial) *pipeline.Denial {
	if !s.reportOnly {
		return d
	}
	x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomeWouldDeny, Code: d.Code, Rule: d.Rule, Note: d.Reason})
	return nil
}

// checkToken compares the token header with the token cookie in constant
// time. It returns nil when they are present and equal.
func (s *Stage) checkToken(r *http.Request) *pipeline.Denial {
	var header string
	if v := r.Header[s.header]; len(v) > 0 { // s.header is canonical
		header = v[0]
	}
	cookie, _ := cookieValue(r.Header, s.cookie)
	if header == "" || cookie == "" {
		var missing string
		switch {
		case header == "" && cookie == "":
			missing = "both the " + s.header + " header and the " + s.cookie + " cookie"
		case header == "":
			missing = "the " + s.header + " header"
		default:
			missing = "the " + s.cookie + " cookie"
		}
		return &pipeline.Denial{Code: "csrf.token_missing", Stage: stageName, Rule: "csrf.token",
			Params: s.tokenParams(), Reason: "double-submit token: the request lacks " + missing}
	}
	if subtle.ConstantTimeCompare([]byte(header), []byte(cookie)) != 1 {
		return &pipeline.Denial{Code: "csrf.token_mismatch", Stage: stageName, Rule: "csrf.token",
			Params: s.tokenParams(), Reason: "double-submit token: the " + s.header + " header differs from the " + s.cookie + " cookie"}
	}
	return nil
}

// tokenParams fill the {header} and {cookie} placeholders: names only.
func (s *Stage) tokenParams() map[string]string {
	return map[string]string{"header": s.headerName, "cookie": s.cookie}
}

// originDenial explains a request CrossOriginProtection refused, naming
// the header that decided.
func originDenial(r *http.Request) *pipeline.Denial {
	origin := r.Header.Get("Origin")
	shown := "unknown"
	if origin != "" {
		shown = credential.Display(origin, 200)
	}
	var reason string
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		reason = fmt.Sprintf("Sec-Fetch-Site is %q, and Origin %q is not in csrf.trusted_origins",
			credential.Display(site, 64), credential.Display(origin, 200))
	} else {
		reason = fmt.Sprintf("no Sec-Fetch-Site; Origin %q does not match Host %q and is not in csrf.trusted_origins",
			credential.Display(origin, 200), credential.Display(r.Host, 200))
	}
	return &pipeline.Denial{
		Code:   "csrf.origin_mismatch",
		Stage:  stageName,
		Rule:   "csrf.origin",
		Params: map[string]string{"origin": shown},
		Reason: reason,
	}
}
