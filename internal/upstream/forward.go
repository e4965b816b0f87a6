package upstream

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/problem"
)

// Header values shared by every response; net/http copies them into the
// client's header map, so they are never modified.
var (
	layerUpstream   = []string{problem.LayerUpstream}
	codeDeniedV     = []string{codeDenied}
	codeRateLimitV  = []string{codeRateLimited}
	codeUpstreamErr = []string{codeUpstreamError}
)

// rewrite is ReverseProxy's Rewrite hook. ReverseProxy has already removed
// hop-by-hop headers and the client's Forwarded and X-Forwarded-* headers;
// rewrite sets them again from what the gateway knows to be true.
func (u *Upstream) rewrite(pr *httputil.ProxyRequest) {
	st := stateOf(pr.In.Context())
	if st == nil {
		return
	}
	in, out, x, f := pr.In, pr.Out, st.x, st.f
	setTargetURL(out.URL, st.target, st.path)
	if f.PreserveHost {
		out.Host = in.Host
	} else {
		out.Host = ""
	}
	h := out.Header
	// One backing array for the header values set below (cap-limited
	// slices, so that an append by a header rule never overwrites a neighbor).
	vals := make([]string, 5)
	set := func(name, v string) {
		vals[0] = v
		h[name] = vals[0:1:1]
		vals = vals[1:]
	}
	peer := peerAddr(x, in)
	if peer != "" {
		xff := peer
		// A client-supplied chain is only believed from a trusted proxy;
		// otherwise the backend sees the direct peer alone.
		if prior := in.Header["X-Forwarded-For"]; x.PeerTrusted && len(prior) > 0 {
			xff = strings.Join(prior, ", ") + ", " + peer
		}
		set("X-Forwarded-For", xff)
		if prior := in.Header["Forwarded"]; x.PeerTrusted && len(prior) > 0 {
			h["Forwarded"] = []string{strings.Join(prior, ", ") + ", for=" + forwardedNode(peer)}
		}
	}
	host := in.Host
	if v := in.Header.Get("X-Forwarded-Host"); x.PeerTrusted && v != "" {
		host = v
	}
	if host != "" {
		set("X-Forwarded-Host", host)
	}
	proto := x.Scheme
	if proto == "" {
		proto = "http"
		if in.TLS != nil {
			proto = "https"
		}
	}
	set("X-Forwarded-Proto", proto)
	if x.ID != "" {
		set(requestIDHeader(f), x.ID)
	}
	if x.TraceParent != "" {
		set("Traceparent", x.TraceParent)
	}
	if _, ok := h["Tracestate"]; ok && !continuesTrace(x, in) {
		// W3C Trace Context: a tracestate belongs to the trace its
		// traceparent names; when the gateway started a new trace (the
		// client's traceparent was untrusted or invalid), it is dropped.
		delete(h, "Tracestate")
	}
	if st.body != nil {
		// The gateway already holds the whole body; a 100-continue
		// handshake with the target would only add a round trip.
		delete(h, "Expect")
	}
	f.Request.Apply(h)
}

// continuesTrace reports whether the request's traceparent continues the
// trace of the one it came with (from a trusted proxy): same trace id.
func continuesTrace(x *pipeline.Exchange, in *http.Request) bool {
	tp := in.Header["Traceparent"]
	return x.PeerTrusted && len(tp) == 1 && len(tp[0]) >= 35 && len(x.TraceParent) >= 35 &&
		tp[0][3:35] == x.TraceParent[3:35]
}

func requestIDHeader(f *Forward) string {
	if f.RequestIDHeader == "" {
		return DefaultRequestIDHeader
	}
	return http.CanonicalHeaderKey(f.RequestIDHeader)
}

// peerAddr is the direct peer's address: x.Peer, or the host of the
// request's RemoteAddr when the gateway did not fill x.Peer.
func peerAddr(x *pipeline.Exchange, r *http.Request) string {
	if x.Peer.IsValid() {
		return x.Peer.Unmap().WithZone("").String()
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return ""
}

// forwardedNode formats an address as an RFC 7239 node: IPv6 is bracketed
// and quoted.
func forwardedNode(addr string) string {
	if strings.IndexByte(addr, ':') >= 0 {
		return `"[` + addr + `]"`
	}
	return addr
}

// setTargetURL points u at target t with the escaped upstream path esc
// joined after the target's base path. The query is left as it is.
func setTargetURL(u *url.URL, t *target, esc string) {
	u.Scheme = t.scheme
	u.Host = t.host
	u.User = nil
	if esc == "" || esc[0] != '/' {
		esc = "/" + esc
	}
	p := esc
	if t.basePath != "" {
		p = t.basePath + esc
	}
	if strings.IndexByte(p, '%') < 0 {
		u.Path, u.RawPath = p, ""
		return
	}
	if dec, err := url.PathUnescape(p); err == nil {
		u.Path, u.RawPath = dec, p
		return
	}
	u.Path, u.RawPath = p, ""
}

// modifyResponse is ReverseProxy's ModifyResponse hook: it applies the
// route's response header rules, labels the response as the backend's and
// records it on the exchange. Status and body pass through untouched.
func (u *Upstream) modifyResponse(resp *http.Response) error {
	st := stateOf(resp.Request.Context())
	if st == nil {
		return nil
	}
	h := resp.Header
	st.f.Response.Apply(h)
	// The gateway's own request id wins over an echo from the backend, so
	// the client never sees two.
	if name := requestIDHeader(st.f); len(st.rw.Header()[name]) > 0 {
		delete(h, name)
	}
	h[problem.HeaderLayer] = layerUpstream
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		h[problem.HeaderCode] = codeDeniedV
	case code == http.StatusTooManyRequests:
		h[problem.HeaderCode] = codeRateLimitV
	case code >= 500:
		h[problem.HeaderCode] = codeUpstreamErr
	default:
		// A backend must not be able to pass its answer off as a gateway refusal.
		delete(h, problem.HeaderCode)
	}
	st.x.UpstreamStatus = resp.StatusCode
	return nil
}
