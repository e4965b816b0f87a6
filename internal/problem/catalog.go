// Package problem owns Pinpoint's reason-code catalog and writes RFC 9457
// problem+json responses from it.
//
// The catalog is the single source of truth for every refusal the gateway
// writes: its stable code, HTTP status, title, a client-safe detail and hint
// (templates with {placeholders}), and the operator documentation that
// docs/reason-codes.md is generated from. Handlers only ever name a code.
package problem

import (
	"sort"
	"strings"
)

// Code describes one reason code. Codes are never renamed or reused.
type Code struct {
	// Code is the stable identifier, "family.cause", e.g. "route.not_found".
	Code string
	// Status is the HTTP status the gateway answers with.
	Status int
	// Stage is the pipeline stage that raises the code ("route", "upstream", "admin", ...).
	Stage string
	// Title is a short, human-readable summary that does not change between occurrences.
	Title string
	// Detail is the client-safe explanation; {name} placeholders are filled
	// from the denial's parameters. It must never need a secret to be useful.
	Detail string
	// Hint tells the caller what to do next; client-safe like Detail.
	Hint string
	// Doc is the operator documentation: what causes it and how to fix it.
	Doc string
	// Layer is "gateway" for everything Pinpoint writes; "upstream" for codes that
	// only label a backend's own response in headers and logs.
	Layer string
}

// Layers.
const (
	LayerGateway  = "gateway"
	LayerUpstream = "upstream"
)

var catalog = []Code{
	// accept / request
	{Code: "request.invalid_path", Status: 400, Stage: "accept", Title: "Invalid request path",
		Detail: "The request path is not acceptable: {reason}.",
		Hint:   "Send a plain, normalized path: no %2F, %5C or %2E%2E, no control characters, and no ../ above the root.",
		Doc:    "The accept stage normalizes every path once. Paths that smuggle separators or dot segments in percent-encoding, or climb above the root, are refused so that routing, policies and logs cannot disagree about which resource is meant."},
	{Code: "request.malformed", Status: 400, Stage: "accept", Title: "Malformed request",
		Detail: "The request could not be parsed: {reason}.",
		Hint:   "Check the request line and headers your client sends.",
		Doc:    "The request is not valid HTTP as far as the gateway can tell (for example an absolute URI for a host the gateway does not serve, or an invalid Host header)."},
	{Code: "request.uri_too_long", Status: 414, Stage: "accept", Title: "Request URI too long",
		Detail: "The request URI is {length} bytes; this gateway accepts at most {limit}.",
		Hint:   "Move large parameters into the request body.",
		Doc:    "Raise gateway.limits.max_uri_bytes (or the route's limits) if long URIs are legitimate."},
	{Code: "request.header_too_large", Status: 431, Stage: "accept", Title: "Request headers too large",
		Detail: "The request headers total {size} bytes; this gateway accepts at most {limit}.",
		Hint:   "Send fewer or smaller headers (large cookies are the usual cause).",
		Doc:    "The sum of header names and values exceeds gateway.limits.max_header_bytes."},
	{Code: "request.too_many_headers", Status: 431, Stage: "accept", Title: "Too many request headers",
		Detail: "The request carries {count} header fields; this gateway accepts at most {limit}.",
		Hint:   "Send fewer header fields.",
		Doc:    "The number of header fields exceeds gateway.limits.max_header_count."},
	{Code: "request.body_too_large", Status: 413, Stage: "accept", Title: "Request body too large",
		Detail: "The request body exceeds the limit of {limit} bytes for this route.",
		Hint:   "Send a smaller body, or split the upload.",
		Doc:    "Raise gateway.limits.max_body_bytes or the route's limits.max_body_bytes if large bodies are expected. A declared Content-Length over the limit is refused before the body is read; a streamed body is cut off when it crosses the limit."},

	// route
	{Code: "route.not_found", Status: 404, Stage: "route", Title: "No route matches",
		Detail: "No route matches {method} {path} on this host.",
		Hint:   "Check the URL and host name; the API may live under a different path or version.",
		Doc:    "No route's hosts and paths match the request. `pinpoint explain <request-id>` shows the normalized host and path the gateway matched against; compare them with the routes of the running revision."},
	{Code: "route.method_not_allowed", Status: 405, Stage: "route", Title: "Method not allowed",
		Detail: "{method} is not allowed on {path}; allowed: {allow}.",
		Hint:   "Use one of the methods listed in the Allow header.",
		Doc:    "A route matches the host and path but none of them allows the method. The Allow header lists the methods the matching routes accept."},
	{Code: "route.deprecated_sunset", Status: 410, Stage: "route", Title: "API version retired",
		Detail: "This API version was retired on {sunset}.",
		Hint:   "Move to a current version of the API.",
		Doc:    "The route's sunset time has passed. Before the sunset the route answers normally with Deprecation and Sunset headers; remove the route or its sunset to serve it again."},

	// upstream (written by the gateway)
	{Code: "upstream.connect_failed", Status: 502, Stage: "upstream", Title: "Upstream unreachable",
		Detail: "The gateway could not connect to the service behind route {route}.",
		Hint:   "This is not a problem with your request; retry later or contact the API owner.",
		Doc:    "Connecting to the target was refused or failed. The trace holds the target address and the dial error; check that the service is listening and that the address in the upstream is right."},
	{Code: "upstream.reset", Status: 502, Stage: "upstream", Title: "Upstream connection reset",
		Detail: "The service behind route {route} closed the connection before answering.",
		Hint:   "This is not a problem with your request; retry later or contact the API owner.",
		Doc:    "The connection to the target was reset or closed mid-request. Common causes: the service crashed, or its keep-alive timeout is shorter than the gateway's upstream idle timeout."},
	{Code: "upstream.dns_failed", Status: 502, Stage: "upstream", Title: "Upstream name not resolved",
		Detail: "The gateway could not resolve the service behind route {route}.",
		Hint:   "This is not a problem with your request; contact the API owner.",
		Doc:    "Resolving the target's host name failed. The trace holds the name; check DNS and the upstream's target URL."},
	{Code: "upstream.tls_failed", Status: 502, Stage: "upstream", Title: "Upstream TLS handshake failed",
		Detail: "The gateway could not establish a trusted TLS connection to the service behind route {route}.",
		Hint:   "This is not a problem with your request; contact the API owner.",
		Doc:    "The TLS handshake with the target failed, usually because its certificate is not trusted or does not match its name. Fix the certificate, or set the upstream's tls.ca_file / tls.server_name; tls.insecure_skip_verify exists but turns verification off."},
	{Code: "upstream.bad_response", Status: 502, Stage: "upstream", Title: "Invalid upstream response",
		Detail: "The service behind route {route} sent a response the gateway could not read.",
		Hint:   "This is not a problem with your request; contact the API owner.",
		Doc:    "The target answered with something that is not valid HTTP, or its response headers exceeded the gateway's limit."},
	{Code: "upstream.no_healthy_target", Status: 503, Stage: "upstream", Title: "No healthy upstream target",
		Detail: "Every target of the service behind route {route} is currently marked unhealthy.",
		Hint:   "Retry after the time in Retry-After; the service is unavailable right now.",
		Doc:    "Active health checks or passive ejection marked every target of the upstream down. `pinpoint explain` lists the targets and why each was ejected."},
	{Code: "upstream.circuit_open", Status: 503, Stage: "upstream", Title: "Upstream circuit open",
		Detail: "The gateway is temporarily not sending requests to the service behind route {route} after repeated failures.",
		Hint:   "Retry after the time in Retry-After.",
		Doc:    "The upstream's circuit breaker opened because its failure rate crossed the threshold. It half-opens after circuit_breaker.open_for and closes again when probes succeed."},
	{Code: "upstream.timeout", Status: 504, Stage: "upstream", Title: "Upstream timed out",
		Detail: "The service behind route {route} did not answer within {timeout}.",
		Hint:   "Retry later; if the operation is slow by nature, ask the API owner about its time limit.",
		Doc:    "The target did not send response headers within the route's timeout (or the upstream's response_header timeout). Raise the route's timeout if the operation is legitimately slow."},
	{Code: "upstream.denied", Status: 403, Stage: "upstream", Layer: LayerUpstream, Title: "Refused by the backend",
		Doc: "Label only: the backend itself answered 401 or 403. The response is passed through untouched with Pinpoint-Layer: upstream and this code in Pinpoint-Code and the call log, so nobody mistakes it for a gateway refusal."},
	{Code: "upstream.rate_limited", Status: 429, Stage: "upstream", Layer: LayerUpstream, Title: "Rate limited by the backend",
		Doc: "Label only: the backend itself answered 429; passed through untouched."},
	{Code: "upstream.error", Status: 500, Stage: "upstream", Layer: LayerUpstream, Title: "Backend error",
		Doc: "Label only: the backend itself answered with a 5xx status; passed through untouched."},

	// gateway
	{Code: "gateway.not_ready", Status: 503, Stage: "accept", Title: "Gateway not ready",
		Detail: "The gateway has no configuration loaded yet.",
		Hint:   "Retry in a moment.",
		Doc:    "No revision has been applied yet, so there are no routes. Apply a configuration with `pinpoint apply -f` or start with `--config`."},
	{Code: "gateway.internal_error", Status: 500, Stage: "accept", Title: "Internal gateway error",
		Detail: "The gateway failed while handling this request.",
		Hint:   "Retry later and quote the request id if you contact the API owner.",
		Doc:    "An unexpected failure inside the gateway (a recovered panic). The server log has the stack trace under the request id; please report it."},

	// admin API
	{Code: "admin.unauthorized", Status: 401, Stage: "admin", Title: "Admin token required",
		Detail: "The admin API needs a valid bearer token.",
		Hint:   "Send Authorization: Bearer <admin token>; the token was printed at first start and is stored under the data directory.",
		Doc:    "The admin request had no token, or a token that does not match any stored admin token hash."},
	{Code: "admin.not_found", Status: 404, Stage: "admin", Title: "Not found",
		Detail: "{what} was not found.",
		Hint:   "Check the identifier.",
		Doc:    "The admin API has no such object."},
	{Code: "admin.method_not_allowed", Status: 405, Stage: "admin", Title: "Method not allowed",
		Detail: "{method} is not allowed here.",
		Hint:   "See the Allow header.",
		Doc:    "The admin endpoint exists but does not accept this method."},
	{Code: "admin.bad_request", Status: 400, Stage: "admin", Title: "Bad admin request",
		Detail: "{reason}",
		Hint:   "Check the request against the admin API reference.",
		Doc:    "The admin request could not be understood (bad query parameter or body)."},
	{Code: "admin.config_invalid", Status: 422, Stage: "admin", Title: "Configuration invalid",
		Detail: "The configuration has {count} error(s); nothing was applied.",
		Hint:   "Fix the errors listed in the errors member and apply again.",
		Doc:    "The submitted configuration failed validation. It was rejected whole and the running revision keeps serving. Each error names file, line, column and field path."},
	{Code: "admin.config_owned_by_file", Status: 409, Stage: "admin", Title: "Configuration owned by a file",
		Detail: "This gateway's configuration is owned by the file {file}; change that file instead.",
		Hint:   "Edit the file (the gateway reloads it) or restart without --config to manage configuration through the admin API.",
		Doc:    "When `pinpoint serve --config FILE` runs, the file owns the configuration and admin-API applies or rollbacks would be overwritten by the next reload, so they are refused."},
	{Code: "admin.store_unavailable", Status: 503, Stage: "admin", Title: "Store unavailable",
		Detail: "The gateway could not read or write its store.",
		Hint:   "Retry later; check the server log.",
		Doc:    "A store operation failed. The server log has the error."},
}

var byCode = func() map[string]*Code {
	m := make(map[string]*Code, len(catalog))
	for i := range catalog {
		c := &catalog[i]
		if c.Layer == "" {
			c.Layer = LayerGateway
		}
		if _, dup := m[c.Code]; dup {
			panic("problem: duplicate reason code " + c.Code)
		}
		m[c.Code] = c
	}
	return m
}()

// Lookup returns the catalog entry for code.
func Lookup(code string) (*Code, bool) {
	c, ok := byCode[code]
	return c, ok
}

// All returns every catalog entry sorted by code.
func All() []Code {
	out := append([]Code(nil), catalog...)
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// Family returns the part of a code before the first dot ("route" for "route.not_found").
func Family(code string) string {
	if i := strings.IndexByte(code, '.'); i > 0 {
		return code[:i]
	}
	return code
}
