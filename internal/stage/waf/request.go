package waf

import (
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/corazawaf/coraza/v3/types"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// requestHeaders feeds the connection, the request line and the headers
// to tx and runs phase 1.
//
// The client address is x.ClientIP, which the accept stage resolved
// through trusted proxies only (REMOTE_ADDR is what CRS and IP rules
// see, so it must not be a spoofable header). The URI is the raw one as
// received: the WAF must see encodings that normalization removed. The
// headers are fed straight from the request's map, without copying it;
// net/http moves Host and Transfer-Encoding out of the map, so they are
// added back (CRS checks both).
func requestHeaders(tx types.Transaction, x *pipeline.Exchange) *types.Interruption {
	r := x.Request
	client := ""
	if x.ClientIP.IsValid() {
		client = x.ClientIP.Unmap().String()
	}
	server, port := serverAddr(r)
	tx.ProcessConnection(client, 0, server, port)

	uri := x.RawURI
	if uri == "" {
		uri = r.RequestURI
	}
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	tx.ProcessURI(uri, r.Method, r.Proto)
	for k, vs := range r.Header {
		for _, v := range vs {
			tx.AddRequestHeader(k, v)
		}
	}
	// net/http refuses HTTP/1.1 requests without Host, so an empty Host
	// there was sent empty (CRS 920290), not left out (920280).
	if r.Host != "" || r.ProtoAtLeast(1, 1) {
		tx.AddRequestHeader("Host", r.Host)
	}
	for _, te := range r.TransferEncoding {
		tx.AddRequestHeader("Transfer-Encoding", te)
	}
	if r.ContentLength > 0 && len(r.Header["Content-Length"]) == 0 {
		// A request built in process (simulate, tests) has a length but
		// no header; one read by net/http always keeps the header.
		tx.AddRequestHeader("Content-Length", strconv.FormatInt(r.ContentLength, 10))
	}
	host := x.Host
	if host == "" {
		host = r.Host
	}
	tx.SetServerName(host)
	return tx.ProcessRequestHeaders()
}

// serverAddr is the local address the request came in on, when the
// server recorded it.
func serverAddr(r *http.Request) (string, int) {
	a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return "", 0
	}
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String(), t.Port
	}
	return a.String(), 0
}

// hasBody reports whether the request has a body to inspect.
func hasBody(x *pipeline.Exchange) bool {
	if x.BodyRead() {
		return true
	}
	b := x.Request.Body
	return b != nil && b != http.NoBody
}

// requestBody reads the body through x.Body (shared with the other
// stages; the upstream still gets every byte) up to body_limit and
// writes it to tx. A body over the limit is refused when
// body_limit_action is reject; otherwise (process_partial) its first
// body_limit bytes are inspected. A body cut off by a read error is
// inspected as far as it was read.
//
// Form, JSON, XML and multipart bodies are parsed by the body processor
// coraza.conf-recommended selects from Content-Type; a JSON or XML body
// cut off at the limit cannot be parsed, and rule 200002 blocks it.
func (s *Stage) requestBody(tx types.Transaction, x *pipeline.Exchange, f *facts, start time.Time) (*pipeline.Denial, *types.Interruption) {
	over := s.reject && x.Request.ContentLength > s.bodyLimit
	var buf []byte
	if !over {
		var complete bool
		var err error
		buf, complete, err = x.Body(s.bodyLimit)
		switch {
		case err != nil:
			f.readErr = err.Error()
		case !complete || int64(len(buf)) > s.bodyLimit:
			over = true
		}
	}
	if over {
		f.partial = true
		if s.reject {
			d := &pipeline.Denial{
				Code:   "request.body_too_large",
				Stage:  stageName,
				Rule:   ruleBodyLimit,
				Params: map[string]string{"limit": s.limitParam},
				Reason: "the body is longer than waf.body_limit (" + s.limitParam + " bytes) and waf.body_limit_action is reject",
			}
			s.record(x, d, start)
			if !s.reportOnly {
				return d, nil
			}
			if buf == nil {
				buf, _, _ = x.Body(s.bodyLimit)
			}
		}
	}
	if int64(len(buf)) > s.bodyLimit {
		buf = buf[:s.bodyLimit]
	}
	if len(buf) == 0 {
		return nil, nil
	}
	it, _, err := tx.WriteRequestBody(buf)
	if err != nil && f.readErr == "" {
		f.readErr = "writing the body to the WAF: " + err.Error()
	}
	return nil, it
}
