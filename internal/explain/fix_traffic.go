package explain

import (
	"sort"
	"strconv"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// This file writes the fixes of the traffic-side refusals: ratelimit.*,
// quota.*, waf.*, request.*, idempotency.*, route.*, upstream.* and
// gateway.*.

func itoa(i int) string { return strconv.Itoa(i) }

func (fx *fixer) limit() *Fix {
	name := fx.rule
	if i := strings.IndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	switch fx.code {
	case "ratelimit.exceeded":
		shape := ""
		if l := fx.rateLimit(name); l != nil {
			shape = " (" + l.Rate + ", burst " + itoa(l.Burst) + ", counted per " + orSomething(l.Key, "consumer") + ")"
		}
		return &Fix{Cause: "Rate limit " + name + shape + " of route " + fx.x.Route + " was exhausted by this caller.",
			Actions: []string{"The client should wait for Retry-After and spread its requests; the RateLimit headers show the room left.",
				"If the limit is too tight for this caller, raise the rate or burst of " + fx.routeField("rate_limits["+name+"]") + ", or count by another key, and " + fx.apply() + ".",
				fx.reportOnly("rate_limits[" + name + "].mode")}}
	case "quota.exceeded":
		q := fx.quota(name)
		cause := "Quota " + name + " of route " + fx.x.Route + " is used up: " + orSomething(fx.why, "see the trace") + "."
		if q != nil {
			cause = "Quota " + name + " of route " + fx.x.Route + " (" + strconv.FormatInt(q.Limit, 10) + " per " + q.Period
			if plan := fx.plan(q); plan != "" && q.Plans[plan] > 0 {
				cause = "Quota " + name + " of route " + fx.x.Route + " (plan " + plan + ": " + strconv.FormatInt(q.Plans[plan], 10) + " per " + q.Period
			}
			cause += ", counted per " + orSomething(q.Key, "consumer") + ") is used up for this period."
		}
		acts := []string{}
		who := "--consumer " + fx.consumerOr()
		if q != nil && q.Key == "tenant" && fx.x.Caller.Tenant != "" {
			who = "--tenant " + fx.x.Caller.Tenant
		}
		acts = append(acts, "See the usage: `pinpoint quotas usage "+who+" --route "+fx.x.Route+" --quota "+name+"`; it resets at the period's end (Retry-After).")
		if q != nil {
			field := orSomething(q.PlanField, "plan")
			plan := fx.plan(q)
			if len(q.Plans) > 0 {
				acts = append(acts, "Plans of this quota: "+plans(q.Plans)+"; the caller's plan is its consumer metadata "+field+
					" ("+orSomething(plan, "none: the default limit "+strconv.FormatInt(q.Limit, 10)+" applies")+").")
				if !fx.consumerDeclared() && fx.x.Caller.Consumer != "" {
					acts = append(acts, "Move the consumer to a larger plan with `pinpoint consumers update "+fx.x.Caller.Consumer+" --meta "+field+"="+largerPlan(q.Plans, plan)+"` (update replaces name, tenant, groups and metadata: repeat the ones to keep).")
				}
			}
			target := "limit"
			if plan != "" && q.Plans[plan] > 0 {
				target = "plans." + plan
			}
			acts = append(acts, "Or raise "+fx.routeField("quotas["+name+"]."+target)+" and "+fx.apply()+".")
		}
		return &Fix{Cause: cause, Actions: acts}
	case "ratelimit.unavailable", "quota.unavailable":
		return &Fix{Cause: "Redis, which counts " + fx.rule + " across nodes, could not be reached and the limit fails closed: " + orSomething(fx.why, "see the trace") + ".",
			Actions: []string{"Check Redis (redis.url, network, redis.timeout); the caller cannot fix this.",
				"To keep serving while Redis is down, set on_store_error: fail_open on " + fx.routeField(fx.rule) + " (each node then counts locally)."}}
	}
	return nil
}

// plan is the caller's plan for quota q: its consumer's metadata field
// plan_field, from the consumer's record or the configuration.
func (fx *fixer) plan(q *config.Quota) string {
	field := orSomething(q.PlanField, "plan")
	if c := fx.f.Consumer; c != nil {
		return c.Metadata[field]
	}
	if i := fx.declaredConsumer(fx.consumerOr()); i >= 0 {
		return fx.cfg.Consumers[i].Metadata[field]
	}
	return ""
}

func plans(m map[string]int64) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + "=" + strconv.FormatInt(m[n], 10)
	}
	return strings.Join(parts, ", ")
}

// largerPlan is the plan with the smallest limit above the current
// plan's, or "PLAN" when there is none.
func largerPlan(m map[string]int64, current string) string {
	best, bestN := "PLAN", int64(-1)
	for name, n := range m {
		if name != current && n > m[current] && (bestN < 0 || n < bestN) {
			best, bestN = name, n
		}
	}
	return best
}

func (fx *fixer) rateLimit(name string) *config.RateLimit {
	if fx.rt == nil {
		return nil
	}
	for i := range fx.rt.RateLimits {
		if fx.rt.RateLimits[i].Name == name {
			return &fx.rt.RateLimits[i]
		}
	}
	return nil
}

func (fx *fixer) quota(name string) *config.Quota {
	if fx.rt == nil {
		return nil
	}
	for i := range fx.rt.Quotas {
		if fx.rt.Quotas[i].Name == name {
			return &fx.rt.Quotas[i]
		}
	}
	return nil
}

func (fx *fixer) waf() *Fix {
	cause := "The web application firewall blocked the request: its anomaly score reached the threshold."
	if ids := firstRule(fx.rule); ids != "RULE-ID" {
		cause = "The web application firewall blocked the request: OWASP CRS rules " + ids + " matched and their anomaly score reached the threshold."
	}
	return &Fix{Cause: cause,
		Actions: []string{"If the request is an attack, nothing is to be done: the refusal is right.",
			"If it is legitimate (a false positive), exclude the rules for this route: add to " + fx.routeField("waf.exclusions") + " an entry {rule_ids: [" + firstRule(fx.rule) + "]} (optionally with targets) and " + fx.apply() + ".",
			fx.reportOnly("waf.mode")}}
}

// firstRule lists the matched rules of a WAF rule list ("942100,949110")
// that an exclusion should name: not the CRS's own anomaly-score rules
// (949xxx, 959xxx, 980xxx), which only add up the others.
func firstRule(rules string) string {
	var ids []string
	for _, id := range strings.FieldsFunc(rules, func(r rune) bool { return r == ',' || r == ' ' }) {
		if strings.HasPrefix(id, "949") || strings.HasPrefix(id, "959") || strings.HasPrefix(id, "980") {
			continue
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return "RULE-ID"
	}
	return strings.Join(ids, ", ")
}

func (fx *fixer) request() *Fix {
	why := orSomething(fx.why, "see the trace")
	switch fx.code {
	case "request.invalid_path", "request.malformed":
		return &Fix{Cause: "The gateway could not accept the request as sent: " + why + ".",
			Actions: []string{"The client must send a plain, well-formed request; the gateway refuses encoded separators and dot segments so that routes, policies and logs agree on the resource."}}
	case "request.uri_too_long", "request.header_too_large", "request.too_many_headers", "request.body_too_large":
		field := map[string]string{"request.uri_too_long": "max_uri_bytes", "request.header_too_large": "max_header_bytes",
			"request.too_many_headers": "max_header_count", "request.body_too_large": "max_body_bytes"}[fx.code]
		now := ""
		if fx.cfg != nil {
			l := fx.cfg.Gateway.Limits
			if fx.rt != nil {
				l = l.Merge(fx.rt.Limits)
			}
			now = " (now " + limitValue(l, field) + ")"
		}
		return &Fix{Cause: "The request exceeds a size limit: " + why + ".",
			Actions: []string{"If such requests are legitimate, raise limits." + field + now + " of route " + orSomething(fx.x.Route, "(gateway.limits)") + " or gateway.limits, and " + fx.apply() + "; otherwise the client must send less."}}
	}
	spec := "the route's OpenAPI document"
	if fx.rt != nil && fx.rt.OpenAPI != nil {
		spec = fx.rt.OpenAPI.Spec
	}
	switch fx.code {
	case "request.operation_unknown":
		return &Fix{Cause: spec + " describes no operation " + fx.x.Request.Method + " " + fx.x.Request.Path + ".",
			Actions: []string{"If the operation exists, add it to " + spec + " and " + fx.apply() + "; or set " + fx.routeField("openapi.unknown_operation") + ": allow."}}
	}
	return &Fix{Cause: "The request does not match " + spec + ": " + why + ".",
		Actions: []string{"The client must correct the request as the API documentation describes (the problem's detail names the field and the rule).",
			"If the document is wrong, fix " + spec + " and " + fx.apply() + ". " + fx.reportOnly("openapi.mode")}}
}

// limitValue formats one field of a Limits block.
func limitValue(l config.Limits, field string) string {
	switch field {
	case "max_uri_bytes":
		return strconv.FormatInt(int64(l.MaxURIBytes), 10) + " bytes"
	case "max_header_bytes":
		return strconv.FormatInt(int64(l.MaxHeaderBytes), 10) + " bytes"
	case "max_header_count":
		return strconv.Itoa(l.MaxHeaderCount)
	}
	return strconv.FormatInt(int64(l.MaxBodyBytes), 10) + " bytes"
}

func (fx *fixer) idempotency() *Fix {
	header := "Idempotency-Key"
	if fx.rt != nil && fx.rt.Idempotency != nil && fx.rt.Idempotency.Header != "" {
		header = fx.rt.Idempotency.Header
	}
	switch fx.code {
	case "idempotency.key_missing":
		return &Fix{Cause: fx.routeField("idempotency.required") + " is true and the request has no " + header + " header.",
			Actions: []string{"The client must send a unique " + header + " (a UUID) with each new operation and repeat it on retries; or set idempotency.required: false."}}
	case "idempotency.key_invalid":
		return &Fix{Cause: "The " + header + " header is not 1 to 255 visible ASCII characters.", Actions: []string{"The client should use a UUID."}}
	case "idempotency.in_progress":
		return &Fix{Cause: "Another request with the same " + header + " from this caller was still running.",
			Actions: []string{"The client should retry after Retry-After; the first request's response is then replayed."}}
	case "idempotency.key_reused":
		return &Fix{Cause: "The " + header + " was used before for a different request (method, path or body).",
			Actions: []string{"The client must use a new key for a new operation and reuse a key only to retry exactly the same request."}}
	case "idempotency.unavailable":
		return &Fix{Cause: "The idempotency store failed and the route fails closed: " + orSomething(fx.why, "see the trace") + ".",
			Actions: []string{"Check the store (or Redis with store: redis); set " + fx.routeField("idempotency.on_store_error") + ": fail_open to serve meanwhile."}}
	}
	return nil
}

func (fx *fixer) route() *Fix {
	r := fx.x.Request
	switch fx.code {
	case "route.not_found":
		acts := []string{"Check the client's URL; the gateway matched the normalized host " + r.Host + " and path " + r.Path + "."}
		if fx.cfg != nil {
			acts = append(acts, "Routes of revision "+strconv.FormatInt(fx.x.Revision.Number, 10)+": "+fx.routeList()+". If the path should be served, add it to a route's paths and "+fx.apply()+".")
		}
		return &Fix{Cause: "No route matches host " + r.Host + " and path " + r.Path + ".", Actions: acts}
	case "route.method_not_allowed":
		allowed := between(fx.why, "allowed: ", ";")
		for _, s := range fx.x.Steps {
			if s.Code == fx.code {
				allowed = strings.TrimPrefix(s.Note, "allowed: ")
			}
		}
		return &Fix{Cause: "A route matches " + r.Path + " but none allows " + r.Method + " (allowed: " + orSomething(allowed, "see the Allow header") + ").",
			Actions: []string{"If " + r.Method + " should be served, add it to the methods of the route for " + r.Path + " and " + fx.apply() + "."}}
	case "route.deprecated_sunset":
		sunset := ""
		if fx.rt != nil {
			sunset = " (" + fx.rt.Sunset + ")"
		}
		return &Fix{Cause: "Route " + fx.x.Route + " was retired at its sunset" + sunset + ".",
			Actions: []string{"The client must move to the current API version; to serve the route again, remove " + fx.routeField("sunset") + " and " + fx.apply() + "."}}
	}
	return nil
}

// routeList lists the revision's routes with their paths, bounded.
func (fx *fixer) routeList() string {
	const max = 8
	var parts []string
	for i, rt := range fx.cfg.Routes {
		if i == max {
			parts = append(parts, "and "+itoa(len(fx.cfg.Routes)-max)+" more")
			break
		}
		p := rt.Name + " " + list(rt.Paths)
		if len(rt.Hosts) > 0 {
			p += " on " + strings.Join(rt.Hosts, ", ")
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}

func (fx *fixer) upstream() *Fix {
	target := "the upstream"
	attempts := ""
	if u := fx.x.Upstream; u != nil {
		if u.Target != "" {
			target = u.Target
		}
		if u.Attempts > 0 {
			attempts = " after " + itoa(u.Attempts) + " attempt(s)"
		}
	}
	service := "the service behind route " + fx.x.Route
	if fx.rt != nil {
		service = "upstream " + fx.rt.Upstream
	}
	switch fx.code {
	case "upstream.denied", "upstream.rate_limited", "upstream.error":
		return &Fix{Cause: "The backend itself answered " + strconv.Itoa(fx.x.Status) + " (" + target + "); the gateway passed it through untouched.",
			Actions: []string{"Look in the backend's logs for request id " + fx.x.RequestID + " (sent upstream as X-Request-Id); the gateway did not refuse this request."}}
	case "upstream.timeout":
		timeout := ""
		if fx.rt != nil {
			timeout = " (now " + fx.rt.Timeout.D().String() + ")"
		}
		return &Fix{Cause: target + " did not answer within the route's timeout" + attempts + ".",
			Actions: []string{"Check " + service + "; if the operation is slow by nature, raise " + fx.routeField("timeout") + timeout + " and " + fx.apply() + "."}}
	case "upstream.no_healthy_target", "upstream.circuit_open":
		return &Fix{Cause: "Every target of " + service + " was marked down, or its circuit breaker was open: " + orSomething(fx.why, "see the trace") + ".",
			Actions: []string{"Check the health of " + service + "'s targets; the gateway sends traffic again when probes succeed."}}
	}
	return &Fix{Cause: "The gateway could not get an answer from " + target + attempts + ": " + orSomething(fx.why, strings.TrimPrefix(fx.code, "upstream.")) + ".",
		Actions: []string{"Check that " + service + " is running and reachable from the gateway at " + target + " (address, port, DNS, TLS certificate); the caller cannot fix this."}}
}

func (fx *fixer) gateway() *Fix {
	switch fx.code {
	case "gateway.not_ready":
		return &Fix{Cause: "The gateway had no configuration loaded yet.",
			Actions: []string{"Apply one with `pinpoint apply -f gateway.yaml`, or start with `pinpoint serve --config gateway.yaml`."}}
	case "gateway.internal_error":
		return &Fix{Cause: "The gateway failed while handling the request (a recovered panic).",
			Actions: []string{"The server log has the stack trace under request id " + fx.x.RequestID + "; please report it."}}
	}
	return nil
}
