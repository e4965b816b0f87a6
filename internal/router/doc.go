// Package router is Pinpoint's route table: it maps a request's host, method
// and normalized path to the route that serves it, or says why none does
// (404 route.not_found, or 405 route.method_not_allowed with the Allow list).
//
// The table is built once per config snapshot by New and only read by Match,
// which is safe for concurrent use and does not allocate.
//
// # Patterns
//
// Host patterns are an exact name ("api.example.com"), a leading wildcard
// ("*.example.com", matching one or more labels in front of example.com but
// not example.com itself), or "*"/empty for any host. Hosts compare
// case-insensitively and a trailing dot on the request host is ignored.
//
// Path patterns follow the grammar in pattern.go: "/orders" matches exactly
// (and not "/orders/"), "/orders/{id}" captures one non-empty segment,
// "/files/{path...}" captures the rest of the path, slashes included (also the
// empty rest of "/files/"), and "/api/*" matches "/api", "/api/" and
// everything below, but not "/apix". Paths compare case-sensitively.
//
// # Precedence
//
// Match picks a route deterministically, whatever order the routes were
// configured in:
//
//  1. Host groups are tried from most to least specific: the exact host, then
//     wildcard hosts from the longest suffix to the shortest, then routes for
//     any host. A group whose paths do not serve the request falls through to
//     the next one, as in Kong and Traefik: a request for api.example.com that
//     no api.example.com route serves can still reach a "*.example.com" or
//     any-host route.
//  2. Within a group, exact literal paths beat parameter patterns, which beat
//     prefix patterns ("/api/*").
//  3. Among parameter patterns, segments are compared left to right: a literal
//     segment beats {param}, which beats {name...}. "/users/me" beats
//     "/users/{id}" beats "/users/{rest...}".
//  4. Among prefix patterns the longest (most segments) wins; equal lengths are
//     compared segment by segment as in rule 3.
//
// # Methods
//
// A route with no methods accepts every method; HEAD is accepted wherever GET
// is (as Go's ServeMux does), OPTIONS never implicitly. When the most specific
// matching path has no route for the request's method, Match keeps looking at
// less specific paths, first in the same host group and then in the groups
// after it: with "/users/{id}" for GET in one route and "/users/*" for any
// method in another, DELETE /users/7 goes to the second. Only when no matching
// path accepts the method is the answer MethodNotAllowed, whose Allow lists the
// methods of the most specific matching path ("GET, HEAD, POST").
//
// # Conflicts
//
// New refuses two routes that would answer the same request: the same host
// pattern, the same path pattern (patterns that differ only in parameter names
// are the same) and at least one method in common. The error is a
// *ConflictError naming both route indices; a route refused on its own
// (invalid pattern, host or method) is a *RouteError.
package router
