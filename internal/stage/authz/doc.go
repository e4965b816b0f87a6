// Package authz is pipeline stage 7: it decides whether the authenticated
// caller may perform the request, from the route's authorize block:
//
//	authorize:
//	  tenants: [acme]
//	  deny_groups: [suspended-partners]
//	  groups: [partners]
//	  scopes: [orders:write]
//	  owner:
//	    - param: user_id
//	      equals: consumer.metadata.user_id
//	  policies: [business-hours]
//
// The rules are checked in this order, and the first that fails refuses:
//
//  1. an identity: an anonymous caller (auth.optional) gets 401
//     authz.authentication_required with the route's WWW-Authenticate;
//  2. tenants: the consumer's tenant must be listed (authz.tenant_not_allowed;
//     the caller is never told which tenants are);
//  3. deny_groups: no group of the caller may be listed (authz.role_denied);
//  4. groups: the caller must be in one (authz.role_missing);
//  5. scopes: all of them, or one with scopes_mode any (authz.scope_missing;
//     bearer credentials also get WWW-Authenticate: Bearer
//     error="insufficient_scope", scope="..." per RFC 6750 §3.1);
//  6. owner: each rule's path parameter or JSON body field must equal the
//     caller attribute it names (authz.not_owner). A missing parameter,
//     field or attribute refuses too. Body fields are read from JSON bodies
//     only (Content-Type application/json or */*+json), at most the route's
//     body limit; the body is put back for the upstream. JSON strings and
//     numbers compare by their text ("42" and 42 both match "42");
//  7. policies, in the listed order (authz.policy_denied with the policy's
//     own detail and hint). A policy that fails to evaluate refuses too:
//     authorization fails closed, and the trace says why.
//
// With mode report_only on the authorize block (or, for one policy, on the
// policy) a failing rule is traced as would_deny and the request goes on.
// An anonymous caller in report_only mode is traced once and let through
// without checking the other rules.
//
// # Policies
//
// A policy is a CEL expression (https://cel.dev) of type bool, compiled
// once per config revision; a type error is a config error with its line
// and column. It sees four variables:
//
//	request.method     string   "GET"
//	request.path       string   the normalized path, "/orders/42"
//	request.host       string   lower-cased, without port
//	request.scheme     string   "https"
//	request.headers    map(string, string)  lower-cased names, first value:
//	                            request.headers['x-tenant']
//	request.query      map(string, string)  first value of each parameter
//	request.params     map(string, string)  the route's path parameters
//	request.client_ip  string   resolved through trusted proxies only
//	request.time       google.protobuf.Timestamp  when the gateway
//	                            accepted the request
//	consumer.id        string   "" when the credential maps to no consumer
//	consumer.name      string
//	consumer.tenant    string   "" for none
//	consumer.groups    list(string)
//	consumer.metadata  map(string, string)
//	credential.method  string   "api_key", "jwt", "introspection", "basic",
//	                            "hmac" or "mtls"
//	credential.id      string   the key id, token subject, user name, ...
//	credential.scopes  list(string)
//	credential.claims  map(string, dyn)  a token's claims; empty for others
//	route.name         string
//	route.version      string
//
// Misspelled fields ("request.methd") and type mismatches
// ("request.method == 1") are config errors. Reading a map key that is not
// there is an evaluation error, which refuses the request; test for it with
// 'x-tenant' in request.headers, has(consumer.metadata.plan), or the
// optional syntax request.headers[?'x-tenant'].orValue(""). Claims are
// dynamic: compare them (credential.claims.admin == true) so the
// expression stays bool.
//
// Besides the CEL standard library, policies can use optional values, the
// strings extension ("a,b".split(","), lowerAscii, ...) and the sets
// extension (sets.intersects(consumer.groups, ["admins", "ops"])).
// Timestamp accessors take IANA zone names or offsets, checked when the
// policy is compiled: request.time.getHours("Europe/Berlin") >= 8;
// without a zone they use UTC. request.time.getDayOfWeek() is 0 on Sunday.
//
// Examples:
//
//	'partners' in consumer.groups && request.method == 'GET'
//	request.headers[?'x-tenant'].orValue('') == consumer.tenant
//	request.params.account == credential.claims.account_id
//	credential.claims.?amr.orValue([]).exists(m, m == 'mfa')
//	request.time.getDayOfWeek("Europe/Berlin") in [1, 2, 3, 4, 5]
//
// Every evaluation runs under a cost limit (CEL's operation count, about
// 50,000: far more than any realistic policy needs); an expression that
// exceeds it, for example nested comprehensions over large lists, is
// stopped and the request refused.
package authz
