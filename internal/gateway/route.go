package gateway

import (
	"net/http"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/ai"
	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/idempotency"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/accept"
	"github.com/pinpointgw/pinpoint/internal/stage/limit"
	"github.com/pinpointgw/pinpoint/internal/upstream"
)

// Route is a route compiled for one snapshot: everything the request path
// needs, resolved once.
type Route struct {
	name     string
	upstream *upstream.Upstream
	// forward is the per-route template of the upstream call; the request
	// path is filled per request.
	forward upstream.Forward
	// limits are the route's effective limits; checked again after routing
	// only when the route overrides the gateway's.
	limits       accept.Limits
	customLimits bool
	stripPrefix  bool
	rewrite      []rewritePart
	// stages run between routing and the upstream: ip, waf, cors, authn,
	// consumer, authz, csrf, limit, validate (those the route configures).
	stages []pipeline.Stage
	// limit is the route's limit stage (also in stages), for quota usage.
	limit *limit.Stage
	// idem, when set, executes requests with an idempotency key once.
	idem *idempotency.Gate
	// cors is set when the route answers CORS preflights itself.
	cors bool
	// ai, when set, serves the route from the AI gateway instead of an upstream.
	ai *ai.Endpoint
	// sunset, when set, retires the route at that time.
	sunset     time.Time
	sunsetHTTP string
}

// rewritePart is a literal or a {param} of a rewrite template.
type rewritePart struct {
	literal string
	param   string
}

func compileRewrite(tpl string) []rewritePart {
	if tpl == "" {
		return nil
	}
	var parts []rewritePart
	for tpl != "" {
		i := strings.IndexByte(tpl, '{')
		j := strings.IndexByte(tpl, '}')
		if i < 0 || j < i {
			parts = append(parts, rewritePart{literal: tpl})
			break
		}
		if i > 0 {
			parts = append(parts, rewritePart{literal: tpl[:i]})
		}
		parts = append(parts, rewritePart{param: strings.TrimSuffix(tpl[i+1:j], "...")})
		tpl = tpl[j+1:]
	}
	return parts
}

// upstreamPath is the path sent upstream: rewritten, stripped or as received.
func (rt *Route) upstreamPath(x *pipeline.Exchange, prefix string) string {
	switch {
	case rt.rewrite != nil:
		var b strings.Builder
		for _, p := range rt.rewrite {
			if p.param == "" {
				b.WriteString(p.literal)
				continue
			}
			v, _ := x.Param(p.param)
			b.WriteString(v)
		}
		return b.String()
	case rt.stripPrefix && prefix != "":
		rest := strings.TrimPrefix(x.Path, prefix)
		if rest == "" || rest[0] != '/' {
			return "/" + rest
		}
		return rest
	}
	return x.Path
}

// compileRoute builds a route; limits are its effective limits and entry
// the (widest) limits the accept stage already enforced.
func compileRoute(rc *config.Route, limits, entry accept.Limits, u *upstream.Upstream, reqIDHeader string) (*Route, error) {
	rt := &Route{
		name:        rc.Name,
		upstream:    u,
		stripPrefix: rc.StripPrefix,
		rewrite:     compileRewrite(rc.Rewrite),
		limits:      limits,
		forward: upstream.Forward{
			Route:           rc.Name,
			Timeout:         rc.Timeout.Or(30 * time.Second),
			Idempotent:      rc.Idempotent,
			PreserveHost:    rc.PreserveHost,
			RequestIDHeader: reqIDHeader,
			Request:         upstream.CompileHeaderOps(rc.Headers.Request),
			Response:        upstream.CompileHeaderOps(rc.Headers.Response),
		},
	}
	rt.customLimits = rt.limits != entry
	rt.forward.MaxBodyBytes = rt.limits.MaxBodyBytes
	if rc.Sunset != "" {
		t, err := time.Parse(time.RFC3339, rc.Sunset)
		if err != nil {
			return nil, err
		}
		rt.sunset = t
		rt.sunsetHTTP = t.UTC().Format(http.TimeFormat)
	}
	return rt, nil
}

func acceptLimits(l config.Limits) accept.Limits {
	return accept.Limits{
		MaxBodyBytes:   l.MaxBodyBytes.Or(10 << 20),
		MaxHeaderBytes: l.MaxHeaderBytes.Or(64 << 10),
		MaxURIBytes:    l.MaxURIBytes.Or(8 << 10),
		MaxHeaderCount: orInt(l.MaxHeaderCount, 100),
	}
}

func orInt(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// widest is the field-wise maximum of two limits.
func widest(a, b accept.Limits) accept.Limits {
	return accept.Limits{
		MaxBodyBytes:   max(a.MaxBodyBytes, b.MaxBodyBytes),
		MaxHeaderBytes: max(a.MaxHeaderBytes, b.MaxHeaderBytes),
		MaxURIBytes:    max(a.MaxURIBytes, b.MaxURIBytes),
		MaxHeaderCount: max(a.MaxHeaderCount, b.MaxHeaderCount),
	}
}
