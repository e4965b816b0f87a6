package gateway

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/redact"

	"github.com/pinpointgw/pinpoint/internal/jsontext"
)

// Bounds of the decision inputs kept per request.
const (
	// maxInputHeaderBytes bounds the header names and values kept.
	maxInputHeaderBytes = 8 << 10
	// maxInputBody is the largest body kept (JSON only, redacted).
	maxInputBody = 8 << 10
	// maxInputHeaders is how many header fields are kept, at most.
	maxInputHeaders = 64
)

// hopByHop are the headers that describe one connection, not the request;
// they are not decision inputs and a replay must not send them.
var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Te": true,
	"Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
}

// redactionPolicy builds the snapshot's redaction policy: the config's
// redact block, gateway.call_log.redact_query, and the headers and query
// parameters its authenticators and CSRF checks read credentials from.
func redactionPolicy(cfg *config.Config) *redact.Policy {
	rc := cfg.Redact
	rc.QueryParams = slices.Clone(rc.QueryParams)
	var headers []string
	for _, a := range cfg.Authenticators {
		if a.APIKey != nil {
			if a.APIKey.Header != "" {
				headers = append(headers, a.APIKey.Header)
			}
			if a.APIKey.Query != "" {
				rc.QueryParams = append(rc.QueryParams, a.APIKey.Query)
			}
		}
	}
	for i := range cfg.Routes {
		if c := cfg.Routes[i].CSRF; c != nil && c.Token != nil && c.Token.Header != "" {
			headers = append(headers, c.Token.Header)
		}
	}
	return redact.New(rc, cfg.Gateway.CallLog.RedactsQuery(), headers)
}

// headerVerdicts remembers, per snapshot, whether the policy hides each
// header name seen, so that the common names are decided once rather than
// on every request. Copy on write, bounded: names past maxVerdicts (a
// client inventing names) are decided each time.
type headerVerdicts struct {
	m atomic.Pointer[map[string]bool]
}

const maxVerdicts = 256

func (c *headerVerdicts) hidden(p *redact.Policy, name string) bool {
	old := c.m.Load()
	if old != nil {
		if v, ok := (*old)[name]; ok {
			return v
		}
	}
	v := p.Header(name)
	if old == nil || len(*old) < maxVerdicts {
		next := make(map[string]bool, 1+lenOf(old))
		if old != nil {
			maps.Copy(next, *old)
		}
		next[name] = v
		c.m.CompareAndSwap(old, &next)
	}
	return v
}

func lenOf(m *map[string]bool) int {
	if m == nil {
		return 0
	}
	return len(*m)
}

// inputBufs recycles the buffers decision inputs are encoded in.
var inputBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// inputs returns the JSON decision inputs of the request for the call log
// (what a replay needs, redacted; see pipeline.Inputs), or nil when they
// are not kept (explain.keep_inputs: false, or a simulated request).
//
// The JSON is written by hand into a pooled buffer: the call log keeps one
// copy, so the common request pays one allocation for its inputs (plus
// the redaction of a query string or a JSON body, when it has one).
func (g *Gateway) inputs(st *state, snap *Snapshot) []byte {
	x := &st.x
	r := x.Request
	if snap == nil || !snap.keepInputs || x.Simulation != nil || r == nil {
		return nil
	}
	p := snap.redaction
	bp := inputBufs.Get().(*[]byte)
	b := (*bp)[:0]

	b = append(b, `{"method":`...)
	b = jsontext.AppendString(b, r.Method)
	if x.Scheme != "" {
		b = append(b, `,"scheme":`...)
		b = jsontext.AppendString(b, x.Scheme)
	}
	b = append(b, `,"host":`...)
	b = jsontext.AppendString(b, r.Host)
	raw, query := requestTarget(x)
	b = append(b, `,"path":`...)
	b = jsontext.AppendString(b, raw)
	if query != "" {
		b = append(b, `,"query":`...)
		b = jsontext.AppendString(b, p.Query(query))
	}
	b = appendInputHeaders(b, r.Header, p, &snap.headerVerdicts)
	if x.ClientIP.IsValid() {
		b = append(b, `,"client_ip":"`...)
		b = x.ClientIP.AppendTo(b)
		b = append(b, '"')
	}
	if x.Peer.IsValid() {
		b = append(b, `,"peer":"`...)
		b = x.Peer.AppendTo(b)
		b = append(b, '"')
	}
	if x.PeerTrusted {
		b = append(b, `,"peer_trusted":true`...)
	}
	if id := &x.Identity; id.Authenticated {
		b = appendField(b, "credential", id.CredentialID)
		b = appendField(b, "consumer", id.ConsumerID)
		b = appendField(b, "auth_method", id.Method)
		b = appendField(b, "authenticator", id.Authenticator)
		if id.Method != "api_key" && len(id.Scopes) > 0 {
			b = append(b, `,"scopes":[`...)
			for i, s := range id.Scopes {
				if i > 0 {
					b = append(b, ',')
				}
				b = jsontext.AppendString(b, s)
			}
			b = append(b, ']')
		}
	}
	if r.ContentLength > 0 {
		b = append(b, `,"body_bytes":`...)
		b = strconv.AppendInt(b, r.ContentLength, 10)
	}
	if st.aiRoute {
		// A model call's body is the caller's prompt: user content, not a
		// decision input, and never kept in the call log.
		if r.ContentLength > 0 || x.BodyRead() {
			b = append(b, `,"body_omitted":true`...)
		}
	} else {
		b = appendInputBody(b, x, p)
	}
	b = append(b, '}')

	out := make([]byte, len(b))
	copy(out, b)
	if cap(b) <= 64<<10 {
		*bp = b
		inputBufs.Put(bp)
	}
	return out
}

// requestTarget splits the request target as received into its escaped
// path and raw query.
func requestTarget(x *pipeline.Exchange) (path, query string) {
	raw := x.RawURI
	if raw == "" {
		return x.Request.URL.EscapedPath(), x.Request.URL.RawQuery
	}
	path, query, _ = strings.Cut(raw, "?")
	if path != "" && path[0] != '/' && path != "*" {
		// Absolute form (GET http://host/p): keep the path part.
		if i := strings.Index(path, "://"); i >= 0 {
			rest := path[i+3:]
			if j := strings.IndexByte(rest, '/'); j >= 0 {
				path = rest[j:]
			} else {
				path = "/"
			}
		}
	}
	return path, query
}

// appendInputHeaders writes the redacted, bounded request headers in
// name order.
func appendInputHeaders(b []byte, h http.Header, p *redact.Policy, verdicts *headerVerdicts) []byte {
	if len(h) == 0 {
		return b
	}
	var arr [maxInputHeaders]string
	names := arr[:0]
	truncated := false
	for k := range h {
		if hopByHop[k] {
			continue
		}
		if len(names) == maxInputHeaders {
			truncated = true
			break
		}
		names = append(names, k)
	}
	slices.Sort(names)
	b = append(b, `,"headers":{`...)
	size := 0
	first := true
	for _, k := range names {
		vs := h[k]
		if size += len(k); size > maxInputHeaderBytes {
			truncated = true
			break
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = jsontext.AppendString(b, k)
		b = append(b, ":["...)
		hidden := verdicts.hidden(p, k)
		for i, v := range vs {
			if i > 0 {
				b = append(b, ',')
			}
			if hidden {
				b = jsontext.AppendString(b, redact.Mask)
				continue
			}
			if size += len(v); size > maxInputHeaderBytes {
				truncated = true
				b = jsontext.AppendString(b, "")
				continue
			}
			b = jsontext.AppendString(b, p.Text(v))
		}
		b = append(b, ']')
	}
	b = append(b, '}')
	if truncated {
		b = append(b, `,"headers_truncated":true`...)
	}
	return b
}

// appendInputBody keeps a body a stage read whole, when it is small JSON
// (redacted); any other body is marked omitted.
func appendInputBody(b []byte, x *pipeline.Exchange, p *redact.Policy) []byte {
	buf, complete := x.BufferedBody()
	had := x.Request.ContentLength > 0 || len(buf) > 0
	if !had {
		return b
	}
	if complete && len(buf) > 0 && len(buf) <= maxInputBody && pipeline.IsJSON(x.Request.Header.Get("Content-Type")) {
		if red := p.JSON(buf); json.Valid(red) {
			b = append(b, `,"body":`...)
			return append(b, red...)
		}
	}
	return append(b, `,"body_omitted":true`...)
}

func appendField(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return jsontext.AppendString(b, v)
}
