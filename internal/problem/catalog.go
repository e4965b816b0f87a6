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

	// ip
	{Code: "ip.denied", Status: 403, Stage: "ip", Title: "Client address blocked",
		Detail: "Requests from your network address are blocked on this API.",
		Hint:   "If you believe this is a mistake, contact the API owner and quote the request id.",
		Doc:    "The client IP (resolved through gateway.trusted_proxies only) is on a deny list: gateway.ip.deny or the route's ip.deny. The trace names the list and the matching entry. Remove the entry, or check trusted_proxies if every client appears with a proxy's address."},
	{Code: "ip.not_allowed", Status: 403, Stage: "ip", Title: "Client address not allowed",
		Detail: "This API only accepts requests from allowed network addresses, and yours is not one of them.",
		Hint:   "Call from an allowed network, or ask the API owner to allow your address.",
		Doc:    "The route (or the gateway) has an ip.allow list and the client IP is on none of its entries. The trace names the list. Add the client's network, or check gateway.trusted_proxies if every client appears with a proxy's address."},

	// waf
	{Code: "waf.blocked", Status: 403, Stage: "waf", Title: "Blocked by the web application firewall",
		Detail: "The request was blocked by the gateway's web application firewall as a likely {category} attack.",
		Hint:   "If this request is legitimate, send the request id to the API owner so they can review the rule that matched.",
		Doc:    "The request's anomaly score reached the inbound threshold of the OWASP Core Rule Set. The trace and the call log list the rule ids, their messages and the names of the matched variables (never their values). To remove a false positive, add a waf.exclusions entry (rule_ids or tags, optionally targets) globally or on the route; to try rules without blocking, set waf.mode: report_only."},

	// cors
	{Code: "cors.origin_not_allowed", Status: 403, Stage: "cors", Title: "Origin not allowed",
		Detail: "Cross-origin requests from {origin} are not allowed on this API.",
		Hint:   "Call the API from an allowed web origin, or from a server.",
		Doc:    "A preflight (or, on routes with cors.enforce, an actual request) came from an Origin that is not in the route's cors.allow_origins. The trace holds the origin and the list. Add the origin (exact, or a pattern such as https://*.example.com)."},
	{Code: "cors.method_not_allowed", Status: 403, Stage: "cors", Title: "Method not allowed for cross-origin requests",
		Detail: "Cross-origin {method} requests are not allowed on this API; allowed: {allow}.",
		Hint:   "Use one of the allowed methods.",
		Doc:    "A preflight asked for a method that is not in the route's cors.allow_methods."},
	{Code: "cors.header_not_allowed", Status: 403, Stage: "cors", Title: "Header not allowed for cross-origin requests",
		Detail: "Cross-origin requests may not send the header {header} on this API.",
		Hint:   "Remove the header from the request, or ask the API owner to allow it.",
		Doc:    "A preflight's Access-Control-Request-Headers named a header that is not in the route's cors.allow_headers."},

	// authn
	{Code: "authn.credential_missing", Status: 401, Stage: "authn", Title: "Credential required",
		Detail: "This API requires authentication: {accepted}.",
		Hint:   "Send a credential as described in the WWW-Authenticate header.",
		Doc:    "The route's auth.methods found no credential of any accepted kind. WWW-Authenticate lists a challenge per method (for API keys, the header the key belongs in)."},
	{Code: "authn.credential_malformed", Status: 401, Stage: "authn", Title: "Malformed credential",
		Detail: "The {kind} presented is not well formed: {reason}.",
		Hint:   "Send the credential exactly as it was issued, without extra spaces or quotes.",
		Doc:    "A credential was found but cannot be parsed (an API key that is not pp_<env>_<id>_<secret>, a Basic header that is not base64 user:password, a broken HMAC Authorization header)."},
	{Code: "authn.credential_ambiguous", Status: 401, Stage: "authn", Title: "Several credentials presented",
		Detail: "The request carries more than one credential ({found}); send exactly one.",
		Hint:   "Remove all but one credential from the request.",
		Doc:    "Two different credentials were presented (for example an X-API-Key header and a different bearer token). The gateway refuses to guess which one the caller meant."},
	{Code: "authn.credential_wrong_location", Status: 401, Stage: "authn", Title: "Credential in the wrong place",
		Detail: "An API key was sent in {found}, which this API does not read.",
		Hint:   "Send the key in {expected}.",
		Doc:    "An API key was found where this route's api_key authenticator does not look (for example in the query string when query is not enabled, or in a header other than the configured one). Keys in URLs end up in logs; send them in a header."},
	{Code: "authn.key_unknown", Status: 401, Stage: "authn", Title: "Unknown API key",
		Detail: "The API key {key_id} is not known to this API.",
		Hint:   "Check that you copied the whole key; ask the API owner for a new one if it was deleted.",
		Doc:    "No key with this prefix id exists, or the secret part does not match the stored hash (the trace says which). Keys are stored only as SHA-256 hashes, so a lost key cannot be recovered: issue a new one with `pinpoint keys create`."},
	{Code: "authn.key_expired", Status: 401, Stage: "authn", Title: "API key expired",
		Detail: "The API key {key_id} expired at {expired_at}.",
		Hint:   "Ask the API owner for a new key.",
		Doc:    "The key's expires_at has passed. Issue a new key, or extend it (`pinpoint keys create`, or change expires_at where the key is declared)."},
	{Code: "authn.key_revoked", Status: 401, Stage: "authn", Title: "API key revoked",
		Detail: "The API key {key_id} has been revoked.",
		Hint:   "Ask the API owner for a new key.",
		Doc:    "The key was revoked (`pinpoint keys revoke`); the revocation reason is in the trace and in `pinpoint keys show`. Revocation cannot be undone; issue a new key."},
	{Code: "authn.key_not_yet_valid", Status: 401, Stage: "authn", Title: "API key not yet valid",
		Detail: "The API key {key_id} becomes valid at {not_before}.",
		Hint:   "Retry after that time.",
		Doc:    "The key's not_before lies in the future."},
	{Code: "authn.key_rotated", Status: 401, Stage: "authn", Title: "API key replaced",
		Detail: "The API key {key_id} was replaced by a new key and its grace period ended at {expired_at}.",
		Hint:   "Use the replacement key you were given when the key was rotated.",
		Doc:    "The key was rotated (`pinpoint keys rotate`) and the grace period in which the old and new key both work is over. The trace names the replacement key's prefix id."},
	{Code: "authn.key_wrong_environment", Status: 401, Stage: "authn", Title: "API key for another environment",
		Detail: "The API key {key_id} is a {key_env} key; this gateway serves the {env} environment.",
		Hint:   "Use a {env} key here, or send the request to the {key_env} endpoint.",
		Doc:    "Keys carry their environment in the prefix (pp_live_…, pp_test_…) and a gateway accepts only keys of gateway.environment."},
	{Code: "authn.consumer_unknown", Status: 401, Stage: "authn", Title: "Credential not linked to a consumer",
		Detail: "The credential is valid but is not linked to a consumer of this API.",
		Hint:   "Ask the API owner to register your client.",
		Doc:    "The authenticator verified the credential, but it names a consumer (for tokens: the consumer_claim) that does not exist, and the authenticator sets require_consumer. Create the consumer, or fix the claim mapping."},
	{Code: "authn.token_malformed", Status: 401, Stage: "authn", Title: "Malformed token",
		Detail: "The bearer token is not a well-formed JWT: {reason}.",
		Hint:   "Send the token exactly as your identity provider issued it.",
		Doc:    "The bearer token could not be parsed as a JWS compact serialization (three base64url parts, a JSON header and claims)."},
	{Code: "authn.token_invalid", Status: 401, Stage: "authn", Title: "Invalid token signature",
		Detail: "The bearer token's signature does not verify.",
		Hint:   "Get a new token from your identity provider; this one was altered or signed by another issuer.",
		Doc:    "The token's signature does not verify with the key its header names. Usually the token comes from another environment's identity provider, or the configured secret or public key is wrong."},
	{Code: "authn.token_algorithm_not_allowed", Status: 401, Stage: "authn", Title: "Token algorithm not allowed",
		Detail: "Tokens signed with {alg} are not accepted here; accepted: {allowed}.",
		Hint:   "Ask your identity provider for a token signed with an accepted algorithm.",
		Doc:    "The token's alg is not in the authenticator's jwt.algorithms (none is never accepted). This protects against algorithm-confusion attacks."},
	{Code: "authn.token_expired", Status: 401, Stage: "authn", Title: "Token expired",
		Detail: "The bearer token expired at {expired_at}.",
		Hint:   "Get a new token from your identity provider (refresh it) and retry.",
		Doc:    "The token's exp is in the past, beyond the authenticator's leeway."},
	{Code: "authn.token_not_yet_valid", Status: 401, Stage: "authn", Title: "Token not yet valid",
		Detail: "The bearer token is not valid before {not_before}.",
		Hint:   "Check your clock, or retry after that time.",
		Doc:    "The token's nbf (or iat) is in the future, beyond the leeway. Often a clock skew between the identity provider and the gateway: raise jwt.leeway or fix NTP."},
	{Code: "authn.token_issuer_mismatch", Status: 401, Stage: "authn", Title: "Token from another issuer",
		Detail: "The bearer token was issued by {issuer}, which this API does not accept.",
		Hint:   "Get a token from the identity provider this API uses.",
		Doc:    "The token's iss differs from the authenticator's jwt.issuer."},
	{Code: "authn.token_audience_mismatch", Status: 401, Stage: "authn", Title: "Token for another audience",
		Detail: "The bearer token is not meant for this API (its audience is {audience}).",
		Hint:   "Request a token for this API's audience from your identity provider.",
		Doc:    "None of the token's aud values is in the authenticator's jwt.audiences."},
	{Code: "authn.token_unknown_kid", Status: 401, Stage: "authn", Title: "Token signed with an unknown key",
		Detail: "The bearer token names a signing key ({kid}) this API does not know.",
		Hint:   "Get a new token; if the problem persists, the identity provider may have rotated keys the gateway has not seen yet.",
		Doc:    "The token's kid is not in the JWKS (after a refresh, rate-limited so unknown kids cannot flood the identity provider) or in the configured keys."},
	{Code: "authn.token_claim_missing", Status: 401, Stage: "authn", Title: "Token lacks a required claim",
		Detail: "The bearer token lacks the required claim {claim}.",
		Hint:   "Ask your identity provider for a token that carries {claim}.",
		Doc:    "The authenticator's jwt.required_claims (or the consumer_claim with require_consumer) names a claim the token does not carry."},
	{Code: "authn.token_inactive", Status: 401, Stage: "authn", Title: "Token not active",
		Detail: "The authorization server reports this token as not active (expired, revoked or unknown).",
		Hint:   "Get a new token and retry.",
		Doc:    "OAuth2 token introspection (RFC 7662) answered active: false."},
	{Code: "authn.idp_unavailable", Status: 503, Stage: "authn", Title: "Identity provider unavailable",
		Detail: "The gateway cannot verify credentials right now because the identity provider is unreachable.",
		Hint:   "This is not a problem with your credential; retry after the time in Retry-After.",
		Doc:    "The JWKS endpoint or the introspection endpoint could not be reached or answered with an error, and no cached answer could be used. The trace holds the endpoint and the error. This is a 503 because the caller cannot fix it."},
	{Code: "authn.basic_invalid", Status: 401, Stage: "authn", Title: "Invalid user name or password",
		Detail: "The user name or password is not correct.",
		Hint:   "Check the credentials and retry.",
		Doc:    "Basic authentication failed: the user is unknown, or the password does not match its argon2id or bcrypt hash (the trace says which; the caller is not told)."},
	{Code: "authn.signature_key_unknown", Status: 401, Stage: "authn", Title: "Unknown signing key",
		Detail: "The request is signed with the key id {key_id}, which this API does not know.",
		Hint:   "Check the key id your client signs with.",
		Doc:    "An HMAC-signed request names a keyId no consumer has in hmac_keys."},
	{Code: "authn.signature_invalid", Status: 401, Stage: "authn", Title: "Invalid request signature",
		Detail: "The request signature does not verify.",
		Hint:   "Sign exactly the headers listed in the signature, in that order, with the shared secret; see the API's signing guide.",
		Doc:    "The HMAC signature over the listed headers does not match. The trace holds the signing string's header list (not the secret). Common causes: a proxy changed a signed header, or the client signs a different request target."},
	{Code: "authn.signature_expired", Status: 401, Stage: "authn", Title: "Request signature too old or too new",
		Detail: "The request's Date is {skew} away from the gateway's clock; at most {allowed} is accepted.",
		Hint:   "Sign with the current time and check the client's clock.",
		Doc:    "The signed Date header is outside hmac.clock_skew, which bounds replay."},
	{Code: "authn.signature_headers_missing", Status: 401, Stage: "authn", Title: "Required header not signed",
		Detail: "The request signature must cover {header}.",
		Hint:   "Include {header} in the signed headers.",
		Doc:    "The signature's header list lacks one of hmac.required_headers (by default date and, for requests with a body, digest)."},
	{Code: "authn.digest_mismatch", Status: 401, Stage: "authn", Title: "Body digest mismatch",
		Detail: "The request body does not match its Digest header.",
		Hint:   "Compute the digest over the exact body you send.",
		Doc:    "The Digest (SHA-256) or Content-Digest header does not match the body received, so the body was altered after signing."},
	{Code: "authn.client_cert_missing", Status: 401, Stage: "authn", Title: "Client certificate required",
		Detail: "This API requires a TLS client certificate.",
		Hint:   "Connect with the client certificate you were issued.",
		Doc:    "The route accepts only mTLS and the connection presented no verified client certificate (the listener needs tls.client_ca_file)."},
	{Code: "authn.client_cert_unknown", Status: 401, Stage: "authn", Title: "Client certificate not registered",
		Detail: "The client certificate ({subject}) is not registered for this API.",
		Hint:   "Ask the API owner to register your certificate.",
		Doc:    "The certificate verified against the listener's client CA, but no consumer lists its subject or SHA-256 fingerprint under mtls."},

	// consumer
	{Code: "consumer.suspended", Status: 403, Stage: "consumer", Title: "Consumer suspended",
		Detail: "Access for this client is suspended ({category}).",
		Hint:   "Contact the API owner to restore access.",
		Doc:    "The consumer's status is suspended. The caller sees only the category; the operator's reason is in the trace and `pinpoint consumers show`. Restore with `pinpoint consumers activate`."},
	{Code: "tenant.suspended", Status: 403, Stage: "consumer", Title: "Organization suspended",
		Detail: "Access for your organization is suspended ({category}).",
		Hint:   "Contact the API owner to restore access.",
		Doc:    "The consumer's tenant is suspended, which suspends all its consumers. Restore with `pinpoint tenants activate`."},

	// authz
	{Code: "authz.scope_missing", Status: 403, Stage: "authz", Title: "Required scope missing",
		Detail: "This operation requires scope {required}; the credential presented has {granted}.",
		Hint:   "Ask the API owner for a credential with scope {required}.",
		Doc:    "The route's authorize.scopes (all or any) are not granted to the credential. Bearer tokens also get WWW-Authenticate: Bearer error=\"insufficient_scope\". Grant the scope to the key (`pinpoint keys create --scope`) or the token's client."},
	{Code: "authz.role_missing", Status: 403, Stage: "authz", Title: "Required role missing",
		Detail: "This operation is limited to the roles {required}.",
		Hint:   "Ask the API owner to grant your client one of these roles.",
		Doc:    "The route's authorize.groups lists groups (roles), and the consumer is in none of them."},
	{Code: "authz.role_denied", Status: 403, Stage: "authz", Title: "Role excluded",
		Detail: "Clients with the role {group} may not perform this operation.",
		Hint:   "Use a client without that role, or contact the API owner.",
		Doc:    "The consumer belongs to a group in the route's authorize.deny_groups."},
	{Code: "authz.tenant_not_allowed", Status: 403, Stage: "authz", Title: "Organization not allowed",
		Detail: "Your organization may not use this operation.",
		Hint:   "Contact the API owner if your organization should have access.",
		Doc:    "The route's authorize.tenants does not include the consumer's tenant (or the consumer has none). The caller is not told which tenants are allowed."},
	{Code: "authz.not_owner", Status: 403, Stage: "authz", Title: "Not the owner of this resource",
		Detail: "You may only access resources that belong to you ({field} must match your identity).",
		Hint:   "Request your own resource.",
		Doc:    "An ownership rule (authorize.owner) compares a path parameter or body field with an attribute of the caller, and they differ. The trace names the rule, the field and the attribute (values redacted)."},
	{Code: "authz.policy_denied", Status: 403, Stage: "authz", Title: "Refused by policy",
		Detail: "{detail}",
		Hint:   "{hint}",
		Doc:    "A named policy (a CEL expression under policies:) evaluated to false. Detail and hint are the policy's own. The trace names the policy; `pinpoint explain` shows its inputs. A policy that fails to evaluate also refuses (fail closed) and the trace says why."},
	{Code: "authz.authentication_required", Status: 401, Stage: "authz", Title: "Authentication required",
		Detail: "This operation requires an authenticated caller.",
		Hint:   "Send a credential as described in the WWW-Authenticate header.",
		Doc:    "The route's auth is optional, but its authorize rules need an identity and the caller sent none."},

	// csrf
	{Code: "csrf.origin_mismatch", Status: 403, Stage: "csrf", Title: "Cross-site request refused",
		Detail: "State-changing requests from another site ({origin}) are not allowed.",
		Hint:   "Send the request from the application's own pages.",
		Doc:    "A state-changing request (POST, PUT, PATCH, DELETE) on a route with csrf carries Sec-Fetch-Site: cross-site, or an Origin that is neither the request's own nor in csrf.trusted_origins. This is what a cross-site request forgery looks like."},
	{Code: "csrf.token_missing", Status: 403, Stage: "csrf", Title: "CSRF token missing",
		Detail: "This request must carry the CSRF token in the {header} header.",
		Hint:   "Copy the value of the {cookie} cookie into the {header} header.",
		Doc:    "The route uses double-submit CSRF tokens (csrf.token) and the request lacks the header or the cookie."},
	{Code: "csrf.token_mismatch", Status: 403, Stage: "csrf", Title: "CSRF token mismatch",
		Detail: "The CSRF token in the {header} header does not match the {cookie} cookie.",
		Hint:   "Reload the page to get a fresh token.",
		Doc:    "The double-submit token header differs from the cookie (compared in constant time)."},

	// limit
	{Code: "ratelimit.exceeded", Status: 429, Stage: "limit", Title: "Rate limit exceeded",
		Detail: "Rate limit {limit} ({rate}) is exhausted; retry in {retry_after} seconds.",
		Hint:   "Wait for the time in Retry-After before sending more requests, and spread requests out; the RateLimit headers show how much room is left.",
		Doc:    "A GCRA rate limit of the route (routes[].rate_limits) refused the request. The detail names the limit and its rate, never other callers' usage. Raise the rate or burst, key the limit differently, or set its mode to report_only to measure first."},
	{Code: "ratelimit.unavailable", Status: 503, Stage: "limit", Title: "Rate limiting unavailable",
		Detail: "The gateway cannot check rate limit {limit} right now.",
		Hint:   "Retry in a moment.",
		Doc:    "The limit uses store: redis with on_store_error: fail_closed, and Redis could not be reached or did not answer within redis.timeout. With fail_open the node counts locally meanwhile and the trace says so."},
	{Code: "quota.exceeded", Status: 429, Stage: "limit", Title: "Quota exhausted",
		Detail: "Quota {quota} of {limit} requests per {period} is used up; it resets at {reset}.",
		Hint:   "Wait until the reset time in the detail and Retry-After, or ask the API owner for a larger plan.",
		Doc:    "A calendar quota of the route (routes[].quotas) is used up for the caller's consumer, tenant or credential. Usage is kept across restarts; read it with `pinpoint quotas usage`. Raise the limit or the caller's plan."},
	{Code: "quota.unavailable", Status: 503, Stage: "limit", Title: "Quota check unavailable",
		Detail: "The gateway cannot check quota {quota} right now.",
		Hint:   "Retry in a moment.",
		Doc:    "The quota uses store: redis with on_store_error: fail_closed, and Redis could not be reached."},

	// validate
	{Code: "request.operation_unknown", Status: 404, Stage: "validate", Title: "Operation not in the API description",
		Detail: "The API description of this route has no operation {method} {path}.",
		Hint:   "Check the method and path against the API documentation.",
		Doc:    "The route validates requests against an OpenAPI document (routes[].openapi) and the document describes no operation for this method and path. Add the operation to the document, or set unknown_operation: allow."},
	{Code: "request.invalid_parameter", Status: 400, Stage: "validate", Title: "Invalid request parameter",
		Detail: "The {in} parameter {name} is invalid: {rule}.",
		Hint:   "Correct the parameter as the API documentation describes it.",
		Doc:    "A path, query or header parameter does not satisfy the route's OpenAPI document (missing while required, wrong type, out of range, not matching a pattern or enum). The value is never echoed."},
	{Code: "request.invalid_content_type", Status: 415, Stage: "validate", Title: "Unsupported content type",
		Detail: "This operation does not accept Content-Type {content_type}; it accepts {accepted}.",
		Hint:   "Send the body in one of the accepted media types.",
		Doc:    "The request body's media type is not one of the operation's requestBody content types in the OpenAPI document."},
	{Code: "request.body_required", Status: 400, Stage: "validate", Title: "Request body required",
		Detail: "This operation requires a request body.",
		Hint:   "Send the body the API documentation describes.",
		Doc:    "The operation's requestBody is required in the OpenAPI document and the request has none."},
	{Code: "request.invalid_json", Status: 400, Stage: "validate", Title: "Malformed JSON body",
		Detail: "The request body is not valid JSON: {reason}.",
		Hint:   "Send a well-formed JSON document.",
		Doc:    "The body was declared as JSON but does not parse; the detail gives the offset of the syntax error."},
	{Code: "request.invalid_body", Status: 422, Stage: "validate", Title: "Request body does not match the schema",
		Detail: "The request body is invalid at {pointer}: {rule}.",
		Hint:   "Correct the field named by the JSON pointer as the API documentation describes it.",
		Doc:    "The JSON body parses but violates the operation's request schema in the OpenAPI document. The detail names the first failing field as a JSON pointer and the rule it breaks (type, required, enum, pattern, range, length, additionalProperties), never the value."},
	{Code: "request.json_too_deep", Status: 400, Stage: "validate", Title: "JSON body nested too deeply",
		Detail: "The JSON body nests deeper than {limit} levels.",
		Hint:   "Flatten the document.",
		Doc:    "The body's object/array nesting exceeds limits.max_json_depth."},
	{Code: "request.json_field_too_long", Status: 400, Stage: "validate", Title: "JSON field too long",
		Detail: "A string or key in the JSON body at {pointer} is longer than {limit} bytes.",
		Hint:   "Shorten the field, or upload large content another way.",
		Doc:    "A string value or object key exceeds limits.max_json_field_bytes."},

	// idempotency
	{Code: "idempotency.key_missing", Status: 400, Stage: "idempotency", Title: "Idempotency key required",
		Detail: "This operation requires an {header} header.",
		Hint:   "Send a unique {header} (for example a UUID) with each new operation, and the same one when you retry it.",
		Doc:    "The route's idempotency block has required: true and the request carries no key."},
	{Code: "idempotency.key_invalid", Status: 400, Stage: "idempotency", Title: "Invalid idempotency key",
		Detail: "The {header} header must be 1 to 255 visible ASCII characters.",
		Hint:   "Use a UUID or a similar random string.",
		Doc:    "The key is empty, too long or contains characters outside visible ASCII."},
	{Code: "idempotency.in_progress", Status: 409, Stage: "idempotency", Title: "Request with this idempotency key in progress",
		Detail: "A request with the same {header} is still being processed.",
		Hint:   "Retry after the time in Retry-After; the first request's response will then be replayed.",
		Doc:    "Two requests with the same key from the same caller overlapped; the second is refused until the first completes. A crashed node's lock expires after the route's timeout."},
	{Code: "idempotency.key_reused", Status: 422, Stage: "idempotency", Title: "Idempotency key reused",
		Detail: "The {header} was already used for a different request.",
		Hint:   "Use a new key for a new operation; reuse a key only to retry exactly the same request.",
		Doc:    "A request with this key from this caller was seen within the TTL with another method, path or body (compared by SHA-256 fingerprint)."},
	{Code: "idempotency.unavailable", Status: 503, Stage: "idempotency", Title: "Idempotency store unavailable",
		Detail: "The gateway cannot record idempotency keys right now.",
		Hint:   "Retry in a moment with the same key.",
		Doc:    "The idempotency store (the gateway's store, or Redis with store: redis) failed and the route has on_store_error: fail_closed."},

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

	// AI gateway
	{Code: "ai.request_invalid", Status: 400, Stage: "ai", Title: "Invalid AI request",
		Detail: "The request body is not a valid {operation} request: {reason}.",
		Hint:   "Send a JSON object with \"model\" and the fields OpenAI's API documents for this endpoint.",
		Doc:    "An OpenAI-compatible endpoint of the AI gateway (routes[].ai.api: openai) could not read the request: it is not a JSON object, names no model, or lacks messages (chat) or input (embeddings)."},
	{Code: "ai.endpoint_unknown", Status: 404, Stage: "ai", Title: "Unknown AI endpoint",
		Detail: "{method} {path} is not an endpoint of this OpenAI-compatible API.",
		Hint:   "Use POST chat/completions, POST embeddings or GET models under this API's base URL.",
		Doc:    "The route serves the OpenAI-compatible API under its path prefix; only chat/completions, embeddings and models are served. Point the SDK's base URL at the prefix (e.g. http://gateway/v1)."},
	{Code: "ai.model_unknown", Status: 404, Stage: "ai", Title: "Unknown model",
		Detail: "The model {model} is not served here.",
		Hint:   "List the models you may use with GET models, and send one of those names.",
		Doc:    "The request's model is not one of ai.models, or not one of the models the route serves (routes[].ai.models), or is a chat model sent to embeddings (or the reverse). Add it to ai.models, or tell the caller the right name."},
	{Code: "ai.model_not_allowed", Status: 403, Stage: "ai", Title: "Model not allowed",
		Detail: "Your credential may not use the model {model}.",
		Hint:   "Use one of the models GET models lists for your credential, or ask the API owner for access.",
		Doc:    "The model exists, but an ai.access rule that applies to the caller lists models and this one is not among them. `pinpoint explain <request-id>` names the rule."},
	{Code: "ai.budget_exceeded", Status: 429, Stage: "ai", Title: "AI budget exhausted",
		Detail: "The {period} budget of {budget} USD ({rule}) is used up: {spent} USD spent; it resets at {reset}.",
		Hint:   "Wait until the reset, or ask the API owner for a larger budget.",
		Doc:    "An ai.access rule's daily_budget_usd or monthly_budget_usd is spent, counting the cost a call may still incur (its prompt and max_tokens, or reserve_output_tokens) before it is admitted. Spending is read back from the usage records at start, so restarts do not reset it. Read it with `pinpoint usage`."},
	{Code: "ai.tokens_rate_exceeded", Status: 429, Stage: "ai", Title: "Token rate limit exceeded",
		Detail: "The limit of {limit} tokens per minute ({rule}) is used up; retry in {retry_after} s.",
		Hint:   "Wait for Retry-After seconds, send shorter prompts, or set a smaller max_tokens.",
		Doc:    "An ai.access rule's tokens_per_minute counts prompt and completion tokens, streamed output included, over a sliding minute. A call is admitted only if its prompt plus max_tokens (or reserve_output_tokens) fits; the reservation is settled with the provider's usage when the call ends."},
	{Code: "ai.provider_unavailable", Status: 503, Stage: "ai", Title: "AI provider unavailable",
		Detail: "No provider could serve the model {model}: {attempts} attempts failed.",
		Hint:   "Retry in a moment.",
		Doc:    "Every target of the model (its priorities and fallbacks) failed with a 429, a 5xx, a timeout, a broken connection, or its max_concurrency cap. The trace lists each attempt, its provider and its error; `pinpoint explain <request-id>` shows it."},
	{Code: "ai.provider_denied", Status: 502, Stage: "ai", Title: "AI provider refused the gateway",
		Detail: "The provider behind the model {model} refused the gateway's own credentials. This is the gateway's provider configuration, not your key.",
		Hint:   "Nothing to change on your side; tell the API owner, quoting the request id.",
		Doc:    "The provider answered 401 or 403 (an invalid, revoked or unfunded provider key, a wrong Azure deployment) on every target tried. Check ai.providers[].api_key and the provider's console; the trace holds the provider's message."},
	{Code: "ai.prompt_unknown", Status: 404, Stage: "ai", Title: "Unknown prompt",
		Detail: "There is no prompt named {prompt} here.",
		Hint:   "Check the prompt name in the URL.",
		Doc:    "The route serves prompt APIs (routes[].ai.api: prompts) and the last path segment names no prompt of ai.prompts served by the route."},
	{Code: "ai.prompt_input_invalid", Status: 422, Stage: "ai", Title: "Invalid prompt variables",
		Detail: "The variables do not match the prompt's schema: {reason}.",
		Hint:   "Send a JSON object that matches the prompt's variables schema.",
		Doc:    "The request body of a prompt API failed validation against ai.prompts[].variables (a JSON Schema)."},
	{Code: "ai.output_invalid", Status: 502, Stage: "ai", Title: "Model answer does not match the schema",
		Detail: "The model's answer does not match the prompt's output schema: {reason}.",
		Hint:   "Retry; models occasionally produce invalid output.",
		Doc:    "A prompt with an output schema got an answer that is not JSON or does not match ai.prompts[].output. Tighten the prompt, or use a model with native structured output."},

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
	{Code: "admin.conflict", Status: 409, Stage: "admin", Title: "Conflict",
		Detail: "{reason}",
		Hint:   "Look at the object's current state (GET it); if its identifier is taken, choose another.",
		Doc:    "The object already exists (or its state does not allow the operation, e.g. revoking a revoked key)."},
	{Code: "admin.declared_in_config", Status: 409, Stage: "admin", Title: "Object declared in the configuration",
		Detail: "{what} is declared in the configuration ({source}); change it there.",
		Hint:   "Edit the configuration and apply it; objects created through the admin API are the only ones it can change.",
		Doc:    "Consumers, tenants and keys declared in the configuration belong to it; a write through the admin API would be undone by the next apply, so it is refused. Keys issued at run time for a declared consumer are fine."},
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
