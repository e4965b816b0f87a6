package cors

import (
	"fmt"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/authn/credential"
)

// maxDisplay bounds a client-supplied value echoed in a problem or trace.
const maxDisplay = 200

// preflight answers a preflight: 204 with the CORS headers when origin,
// method and every requested header are allowed, else the refusal of the
// first check that failed.
func (s *Stage) preflight(x *pipeline.Exchange, ov []string) pipeline.Decision {
	r := x.Request
	if len(ov) != 1 || !s.origins.match(ov[0]) {
		return pipeline.Deny(originDenial(ov, "preflight"))
	}
	origin := ov[0]
	method := r.Header.Get(hRequestMethod)
	if !s.methodAllowed(method) {
		m := credential.Display(method, 64)
		return pipeline.Deny(&pipeline.Denial{
			Code:   "cors.method_not_allowed",
			Stage:  stageName,
			Rule:   "cors.allow_methods",
			Params: map[string]string{"method": m, "allow": s.methodsList},
			Reason: fmt.Sprintf("preflight from %q asks for method %q, not in cors.allow_methods [%s]", origin, m, s.methodsList),
			Header: s.refusalHeader(ov),
		})
	}
	requested := r.Header[hRequestHeaders]
	if name, ok := s.headersAllowed(requested); !ok {
		n := credential.Display(name, 100)
		return pipeline.Deny(&pipeline.Denial{
			Code:   "cors.header_not_allowed",
			Stage:  stageName,
			Rule:   "cors.allow_headers",
			Params: map[string]string{"header": n},
			Reason: fmt.Sprintf("preflight from %q asks for header %q, not in cors.allow_headers", origin, n),
			Header: s.refusalHeader(ov),
		})
	}
	h := make(http.Header, 7)
	s.allowOrigin(h, ov)
	h[hAllowMethods] = s.methodsValue
	switch {
	case s.anyHeader && len(requested) > 0:
		// Every requested name was checked to be a token: safe to echo.
		h[hAllowHeaders] = []string{strings.Join(requested, ", ")}
	case s.headersValue != nil:
		h[hAllowHeaders] = s.headersValue
	}
	h[hMaxAge] = s.maxAgeValue
	h[hVary] = valueVaryPreflight
	x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomePass, Rule: "cors.preflight", Note: notePreflight})
	return pipeline.Respond(&pipeline.Answer{Status: http.StatusNoContent, Header: h})
}

// allowOrigin sets Access-Control-Allow-Origin (and -Credentials) for the
// allowed origin ov[0]. The reflected value is the request's own Origin
// slice, clipped so that an append copies: no allocation, and the value is
// the one that matched. Nobody may write into its element.
func (s *Stage) allowOrigin(h http.Header, ov []string) {
	if s.origins.any {
		h[hAllowOrigin] = valueStar
	} else {
		h[hAllowOrigin] = ov[:1:1]
	}
	if s.credentials {
		h[hAllowCredentials] = valueTrue
	}
}

// refusalHeader is the header of a refusal sent to an allowed origin, so
// that browser code may read the problem body.
func (s *Stage) refusalHeader(ov []string) http.Header {
	h := make(http.Header, 3)
	s.allowOrigin(h, ov)
	h[hVary] = valueVaryPreflight
	return h
}

// methodAllowed reports whether method is in allow_methods. Methods are
// case-sensitive (RFC 9110 §9.1), as browsers compare them.
func (s *Stage) methodAllowed(method string) bool {
	if method == "" {
		return false
	}
	for _, m := range s.methods {
		if m == method {
			return true
		}
	}
	return false
}

// headersAllowed checks the comma-separated names of the
// Access-Control-Request-Headers lines against allow_headers, ignoring
// case. It returns the first name that is not allowed (or not a token).
func (s *Stage) headersAllowed(lines []string) (name string, ok bool) {
	for _, line := range lines {
		for name := range strings.SplitSeq(line, ",") {
			name = textproto.TrimString(name)
			if name == "" {
				continue
			}
			if !isToken(name) {
				return name, false
			}
			if s.anyHeader {
				continue
			}
			if !s.headerAllowed(name) {
				return name, false
			}
		}
	}
	return "", true
}

func (s *Stage) headerAllowed(name string) bool {
	for _, h := range s.headers {
		if equalFold(h, name) {
			return true
		}
	}
	return false
}

// originDenial refuses a request from an origin not in allow_origins
// (check names the path that refused: "preflight" or "cors.enforce"). It
// carries no CORS headers.
func originDenial(ov []string, check string) *pipeline.Denial {
	o := credential.Display(ov[0], maxDisplay)
	reason := fmt.Sprintf("%s: origin %q is not in cors.allow_origins", check, o)
	if len(ov) > 1 {
		reason = fmt.Sprintf("%s: the request carries %d Origin headers (first %q); a browser sends one", check, len(ov), o)
	}
	return &pipeline.Denial{
		Code:   "cors.origin_not_allowed",
		Stage:  stageName,
		Rule:   "cors.allow_origins",
		Params: map[string]string{"origin": o},
		Reason: reason,
	}
}
