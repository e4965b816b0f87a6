package cors

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// Defaults documented on config.CORS.
var (
	defaultMethods      = []string{"GET", "HEAD", "POST"}
	defaultAllowHeaders = []string{"Accept", "Accept-Language", "Content-Language", "Content-Type", "Authorization", "X-Request-Id"}
	// defaultExposeHeaders are what a browser script needs to report a
	// refusal or back off; every exposed name is sent on every answer, so
	// the list is kept short.
	defaultExposeHeaders = []string{"X-Request-Id", "Pinpoint-Code", "Pinpoint-Layer", "Retry-After"}
)

const defaultMaxAge = 10 * time.Minute

// New validates c and builds the stage of a route; it returns nil, nil when
// c is nil (the route has no cors block). routeMethods are the route's
// methods (nil when it allows every method), the default of allow_methods.
// apiKeyHeader is the header API keys are read from on this route ("" when
// none), added to the default allow_headers. An allow_headers entry "*"
// allows any header a preflight asks for, and the answer echoes the asked
// names (unlike a literal "*" answer, that also works with credentials).
// Errors are config.FieldError
// values relative to the cors block ("allow_origins[2]"), joined.
func New(c *config.CORS, routeMethods []string, apiKeyHeader string) (*Stage, error) {
	if c == nil {
		return nil, nil
	}
	s := &Stage{credentials: c.AllowCredentials, enforce: c.Enforce}
	var errs []error
	if len(c.AllowOrigins) == 0 {
		errs = append(errs, config.Fieldf("allow_origins", "%v", errNoOrigins))
	}
	for i, o := range c.AllowOrigins {
		path := "allow_origins[" + strconv.Itoa(i) + "]"
		if o == "*" && c.AllowCredentials {
			errs = append(errs, config.Fieldf(path, `"*" cannot be combined with allow_credentials: `+
				"never reflect an arbitrary Origin with credentials (any site could read authenticated answers); list the origins"))
			continue
		}
		if err := s.origins.add(o); err != nil {
			errs = append(errs, config.Fieldf(path, "%v", err))
		}
	}

	methods := c.AllowMethods
	if len(methods) == 0 {
		methods = routeMethods
		if len(methods) == 0 {
			methods = defaultMethods
		}
	}
	for i, m := range c.AllowMethods {
		if !isToken(m) || m == "*" {
			errs = append(errs, config.Fieldf("allow_methods["+strconv.Itoa(i)+"]", "%q is not a method name (list the methods, e.g. GET, POST)", m))
		}
	}
	s.methods = dedupe(methods, false)
	s.methodsList = strings.Join(s.methods, ", ")
	s.methodsValue = []string{s.methodsList}

	headers := c.AllowHeaders
	if len(headers) == 0 {
		headers = defaultAllowHeaders
		if apiKeyHeader != "" {
			headers = append(headers[:len(headers):len(headers)], apiKeyHeader)
		}
	}
	for i, h := range c.AllowHeaders {
		if h == "*" {
			s.anyHeader = true
			continue
		}
		if !isToken(h) {
			errs = append(errs, config.Fieldf("allow_headers["+strconv.Itoa(i)+"]", "%q is not a header name", h))
		}
	}
	s.headers = dedupe(headers, true)
	if len(s.headers) > 0 && !s.anyHeader {
		s.headersValue = []string{strings.Join(s.headers, ", ")}
	}

	expose := c.ExposeHeaders
	if len(expose) == 0 {
		expose = defaultExposeHeaders
	}
	for i, h := range c.ExposeHeaders {
		switch {
		case h == "*" && c.AllowCredentials:
			errs = append(errs, config.Fieldf("expose_headers["+strconv.Itoa(i)+"]",
				`"*" does not work with allow_credentials (browsers take it as a header named "*"); list the headers`))
		case h != "*" && !isToken(h):
			errs = append(errs, config.Fieldf("expose_headers["+strconv.Itoa(i)+"]", "%q is not a header name", h))
		}
	}
	if e := dedupe(expose, true); len(e) > 0 {
		s.exposeValue = []string{strings.Join(e, ", ")}
	}
	s.maxAgeValue = []string{strconv.FormatInt(int64(c.MaxAge.Or(defaultMaxAge)/time.Second), 10)}

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// isToken reports whether s is an RFC 9110 token (method and header names).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isLetter(c) || isDigit(c) || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// dedupe returns names without "*" and duplicates, in order and as
// written; with fold (header names) duplicates are found ignoring case.
func dedupe(names []string, fold bool) []string {
	out := make([]string, 0, len(names))
next:
	for _, n := range names {
		if n == "*" || n == "" {
			continue
		}
		for _, o := range out {
			if o == n || fold && equalFold(o, n) {
				continue next
			}
		}
		out = append(out, n)
	}
	return out
}
