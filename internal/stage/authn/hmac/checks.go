package hmac

import (
	"fmt"
	"slices"
	"time"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/authn/credential"
)

// checkRequired refuses a signature that does not cover a required header
// (or covers it while the request lacks it).
func (m *Method) checkRequired(x *pipeline.Exchange, list string, s *scratch) *pipeline.Denial {
	r := x.Request
	check := func(req string) *pipeline.Denial {
		a, b := alternatives(req)
		if (listed(list, a) && present(r, a, s.name)) || (b != "" && listed(list, b) && present(r, b, s.name)) {
			return nil
		}
		what := "does not sign"
		if listed(list, a) || (b != "" && listed(list, b)) {
			what = "signs but does not send"
		}
		return m.deny("authn.signature_headers_missing", map[string]string{"header": req},
			fmt.Sprintf("hmac authenticator %q: the request %s the required header %s (signed: %s)", m.name, what, req, credential.Display(list, 200)))
	}
	for _, req := range m.required {
		if d := check(req); d != nil {
			return d
		}
	}
	if !m.digestReq && (r.ContentLength > 0 || slices.Contains(r.TransferEncoding, "chunked")) {
		return check("digest")
	}
	return nil
}

// checkDate bounds replay: the signed Date (or X-Date) must be within the
// clock skew. An unsigned date proves nothing and is not looked at.
func (m *Method) checkDate(x *pipeline.Exchange, list, keyID string) *pipeline.Denial {
	var v, name string
	switch {
	case listed(list, "x-date"):
		v, name = x.Request.Header.Get("X-Date"), "X-Date"
	case listed(list, "date"):
		v, name = x.Request.Header.Get("Date"), "Date"
	default:
		return nil
	}
	if v == "" {
		return nil // signed but absent: the signing string cannot be built
	}
	t, ok := parseDate(v)
	if !ok {
		return m.malformed("its " + name + " header is not an HTTP date like \"Sun, 06 Nov 1994 08:49:37 GMT\"")
	}
	diff := m.now().Sub(t)
	if diff <= m.skew && diff >= -m.skew {
		return nil
	}
	dir := "behind"
	if diff < 0 {
		dir = "ahead of"
	}
	skew := fmtDuration(diff)
	return m.deny("authn.signature_expired", map[string]string{"skew": skew, "allowed": m.skewText},
		fmt.Sprintf("hmac authenticator %q: key %q: the signed %s %s is %s %s the gateway's clock; clock_skew allows %s",
			m.name, keyID, name, t.UTC().Format(time.RFC3339), skew, dir, m.skewText))
}
