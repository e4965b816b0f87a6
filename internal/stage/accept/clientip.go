package accept

import (
	"net/http"
	"net/netip"
	"strings"
)

// MaxHops bounds how many forwarding hops are examined, counted from the
// nearest proxy. A longer chain is not an error: the walk ends there and
// the client is the farthest trusted hop examined.
const MaxHops = 32

// Which header a trusted proxy's client chain is read from; see
// Config.ForwardedHeader.
const (
	// HeaderXForwardedFor reads X-Forwarded-For and X-Forwarded-Proto only.
	HeaderXForwardedFor = "X-Forwarded-For"
	// HeaderForwarded reads the RFC 7239 Forwarded header only.
	HeaderForwarded = "Forwarded"
	// HeaderAuto reads Forwarded when the request has one, else
	// X-Forwarded-For.
	HeaderAuto = "auto"
)

// Canonical header keys, used to index http.Header without canonicalizing.
const (
	hdrForwarded   = "Forwarded"
	hdrXFF         = "X-Forwarded-For"
	hdrXFProto     = "X-Forwarded-Proto"
	hdrXRealIP     = "X-Real-Ip"
	hdrTraceParent = "Traceparent"
)

// Why a walk along the forwarding chain ended before reaching an untrusted
// address. The strings go into the trace note.
const (
	stopNone      = ""
	stopHopLimit  = "hop limit reached"
	stopNoChain   = "trusted peer sent no forwarding header"
	stopUnknown   = "stopped at an unknown hop"
	stopHidden    = "stopped at an obfuscated hop"
	stopMalformed = "stopped at a malformed hop"
	stopNoFor     = "stopped at a hop without for="
	stopAllTrust  = "whole chain trusted"
)

// resolution is where the client address came from.
type resolution struct {
	client netip.Addr
	// source is the header whose chain was believed, or "".
	source string
	// pos is the client's element counted from the right, 1-based; 0 when
	// the client is the peer itself.
	pos int
	// proxy is the trusted hop nearest to the client (the peer when no
	// forwarding header was believed).
	proxy netip.Addr
	// stop says why the walk ended other than at an untrusted address.
	stop string
	// proto is "http" or "https" as the chain reported it, or "".
	proto string
}

// resolveClient finds the client address of a request whose direct peer is
// peer. Forwarding headers are read only when the peer is trusted; then the
// chain is walked from the right, skipping trusted proxies, and the first
// untrusted address is the client. A hop that is not an address (malformed,
// "unknown", obfuscated) ends the walk, and the client is then the last
// trusted hop that could be verified: we refuse to guess past a hop we cannot
// read, and a client can only damage elements to the left of the ones the
// trusted proxies appended.
func (s *Stage) resolveClient(h http.Header, peer netip.Addr, peerTrusted bool) resolution {
	if !peerTrusted {
		return resolution{client: peer, proxy: peer}
	}
	fwd, xff := h[hdrForwarded], h[hdrXFF]
	switch {
	case s.forwarded == HeaderForwarded || s.forwarded == HeaderAuto && len(fwd) > 0:
		if len(fwd) == 0 {
			break
		}
		return s.walkForwarded(fwd, peer)
	case len(xff) > 0:
		r := s.walkXFF(xff, peer)
		r.proto = xffProto(h[hdrXFProto], xff, r.pos)
		return r
	}
	return resolution{client: peer, proxy: peer, stop: stopNoChain}
}

// walkForwarded walks a Forwarded header from the right. Elements are read
// left to right into a ring of the last MaxHops, so the walk allocates
// nothing however long the header is.
func (s *Stage) walkForwarded(lines []string, peer netip.Addr) resolution {
	var ring [MaxHops]ForwardedElement
	n := 0
	sc := fwdScanner{values: lines}
	for {
		el, ok, _ := sc.next()
		if !ok {
			break
		}
		ring[n%MaxHops] = el
		n++
	}
	r := resolution{client: peer, proxy: peer, source: HeaderForwarded}
	for k := 1; k <= n; k++ {
		if k > MaxHops {
			r.stop = stopHopLimit
			return r
		}
		el := &ring[(n-k)%MaxHops]
		if el.For == "" {
			r.stop = stopNoFor
			if el.Malformed {
				r.stop = stopMalformed
			}
			return r
		}
		a, kind := parseNode(el.For)
		if kind != nodeIP {
			r.stop = stopFor(kind)
			return r
		}
		r.client, r.pos, r.proto = a, k, schemeOf(el.Proto)
		if !s.IsTrusted(a) {
			return r
		}
		r.proxy = a
	}
	r.stop = stopAllTrust
	return r
}

// walkXFF walks X-Forwarded-For from the right, line by line and element by
// element, without allocating.
func (s *Stage) walkXFF(lines []string, peer netip.Addr) resolution {
	r := resolution{client: peer, proxy: peer, source: HeaderXForwardedFor}
	k := 0
	for li := len(lines) - 1; li >= 0; li-- {
		line := lines[li]
		for line != "" {
			el := line
			if i := strings.LastIndexByte(line, ','); i >= 0 {
				el, line = line[i+1:], line[:i]
			} else {
				line = ""
			}
			el = trimOWS(el)
			if el == "" {
				continue
			}
			if k == MaxHops {
				r.stop = stopHopLimit
				return r
			}
			k++
			a, kind := parseNode(el)
			if kind != nodeIP {
				r.stop = stopFor(kind)
				return r
			}
			r.client, r.pos = a, k
			if !s.IsTrusted(a) {
				return r
			}
			r.proxy = a
		}
	}
	r.stop = stopAllTrust
	return r
}

func stopFor(k nodeKind) string {
	switch k {
	case nodeUnknown:
		return stopUnknown
	case nodeObfuscated:
		return stopHidden
	}
	return stopMalformed
}

// xffProto picks the client's scheme from X-Forwarded-Proto: the element at
// the client's position when the header lists one scheme per
// X-Forwarded-For element, else its last element (written by the nearest
// proxy, which is trusted). Values other than http and https are ignored.
func xffProto(proto, xff []string, pos int) string {
	if len(proto) == 0 || pos == 0 {
		return ""
	}
	if n := countElements(proto); n > 1 && n == countElements(xff) {
		return schemeOf(elementFromRight(proto, pos))
	}
	return schemeOf(elementFromRight(proto, 1))
}

// countElements counts the non-empty elements of a comma-separated list.
func countElements(lines []string) int {
	n := 0
	for _, line := range lines {
		for line != "" {
			el := line
			if i := strings.IndexByte(line, ','); i >= 0 {
				el, line = line[:i], line[i+1:]
			} else {
				line = ""
			}
			if trimOWS(el) != "" {
				n++
			}
		}
	}
	return n
}

// elementFromRight returns the k-th (1-based) non-empty element of a
// comma-separated list, counted from the right.
func elementFromRight(lines []string, k int) string {
	for li := len(lines) - 1; li >= 0; li-- {
		line := lines[li]
		for line != "" {
			el := line
			if i := strings.LastIndexByte(line, ','); i >= 0 {
				el, line = line[i+1:], line[:i]
			} else {
				line = ""
			}
			if el = trimOWS(el); el != "" {
				if k--; k == 0 {
					return el
				}
			}
		}
	}
	return ""
}

// schemeOf returns "http" or "https" for those values (any case), else "".
func schemeOf(v string) string {
	switch {
	case strings.EqualFold(v, "https"):
		return "https"
	case strings.EqualFold(v, "http"):
		return "http"
	}
	return ""
}

// peerAddr parses http.Request.RemoteAddr. Unix sockets ("@", a path) and
// anything else that is not an IP address yield the zero Addr, which is
// never trusted.
func peerAddr(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	if a, err := netip.ParseAddr(remote); err == nil {
		return a.Unmap().WithZone("")
	}
	return netip.Addr{}
}
