// Package validate is pipeline stage 10: it checks requests against the
// route's OpenAPI document (routes[].openapi) and the JSON limits
// (limits.max_json_depth, limits.max_json_field_bytes), after the limit
// stage and before the upstream.
//
// # Checks, in order
//
//  1. Operation: the document must describe the method and path
//     (request.operation_unknown 404, unless unknown_operation: allow).
//  2. Parameters (openapi.parameters): path, query, header and cookie
//     parameters (request.invalid_parameter 400).
//  3. Body (openapi.body): a required body must be present
//     (request.body_required 400), its media type one the operation accepts
//     (request.invalid_content_type 415, with an Accept header listing the
//     accepted ones).
//  4. JSON limits and syntax, for bodies with a JSON Content-Type
//     (application/json, */*+json): one pass of a byte scanner over the
//     buffered body, before anything is decoded (request.json_too_deep 400,
//     request.json_field_too_long 400, request.invalid_json 400).
//  5. Schema: a JSON body is decoded and validated against the operation's
//     schema for its media type (request.invalid_body 422). Bodies of other
//     media types (forms, multipart, XML) are checked for presence and media
//     type only. Should kin-openapi fail to validate at all (not a schema
//     violation, its own error), the body goes on and the trace records an
//     error step: the client is not refused for the gateway's failure.
//
// The body is read once, through Exchange.Body, up to the route's
// max_body_bytes (request.body_too_large 413 beyond it), and the upstream
// still receives every byte. The document's security requirements are not
// checked: authentication is the authn stage's job.
//
// # Answers never echo values
//
// kin-openapi's error messages embed the offending value, so they are not
// used. The client is told where (parameter name, JSON pointer) and which
// rule ("must be >= 1", "is required", "has an unknown property"), worded
// here from the failing schema keyword and the document's own values; the
// operator's reason lists up to five problems the same way. The first
// problem in a deterministic order (parameters in document order, body
// problems by JSON pointer) is the one the client sees.
//
// # Matching the request to an operation
//
// The stage matches the path as the client sent it (Exchange.Path, after
// the accept stage normalized it), not the path sent upstream: the
// document describes the API its callers see. When the document's servers
// have URL paths ("https://api.example.com/shop/v1", "/v1"), a request
// path must start with one of them, and the rest is matched against the
// document's paths; the servers' scheme and host are ignored, since the
// route already decides which hosts it serves. A route "/api/*" with
// strip_prefix whose document lists "/orders" therefore sets
// servers: [{url: /api}] in the document. Path-level servers override the
// document's for their path; operation-level servers are not used for
// matching. See matcher for the precedence of templates.
//
// # OpenAPI 3.1
//
// kin-openapi v0.153.0 loads 3.0, 3.1 and 3.2 documents. For 3.1 schemas it
// offers a JSON Schema 2020-12 validator, which is exact but compiles the
// schema on every call (0.3 to 0.7 ms and 1300 to 3200 allocations per
// request in this package's benchmarks, ten to twenty times its 3.0
// validator). So a 3.1 schema goes to
// kin-openapi's 3.0 validator, which also understands the common 3.1
// forms (type arrays such as [string, "null"], numeric
// exclusiveMinimum/exclusiveMaximum, examples), unless it uses a keyword
// only the 2020-12 validator knows (const, prefixItems, contains,
// patternProperties, dependentSchemas, dependentRequired, propertyNames,
// unevaluatedItems, unevaluatedProperties, if/then/else, $defs,
// contentSchema); such schemas pay the 2020-12 validator's cost. In 3.1
// documents, nullable: true (a 3.0 keyword) is still honoured.
//
// # report_only
//
// In report_only mode the document's refusals are recorded as would_deny
// steps (code, rule, and the reason as the note) and the request goes on.
// The size limits (max_body_bytes, max_json_depth, max_json_field_bytes)
// are enforced in either mode: the stage decodes bodies in report_only
// mode too, and the limits are what keep that decoding safe.
package validate
