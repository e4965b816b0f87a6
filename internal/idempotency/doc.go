// Package idempotency executes a request that carries an idempotency key
// once per caller and key, and replays its response to repeats, as the
// route's idempotency block configures (see config.Idempotency).
//
// The gateway builds one Gate per route and snapshot and calls it after
// every other stage, right before the upstream:
//
//	t, d := gate.Begin(x)      // refuse d.Denial, or write d.Answer (a replay)
//	w = t.Wrap(w)              // capture the response while it streams
//	failed := true
//	defer func() { t.Finish(ctx, failed) }()
//	failed = upstream.Serve(w, x, f) != nil
//
// # Which requests
//
// A request takes part when its method is one of the block's methods
// (default POST) and it carries the key header (default Idempotency-Key).
// Without a key it runs normally, or is refused with 400
// idempotency.key_missing when the block has required: true. A key must be
// one header line of 1 to 255 visible ASCII characters (0x21-0x7E), else
// 400 idempotency.key_invalid.
//
// # Scope
//
// Keys are per route and per caller, so two callers never see each other's
// responses. The caller is, in this order of preference:
//
//	consumer:ID                    an authenticated caller with a consumer
//	credential:AUTHENTICATOR:ID    an authenticated caller without one (the
//	                               authenticator's name keeps a JWT subject
//	                               from meeting a basic user of the same name)
//	ip:ADDR                        everybody else, by client IP (resolved
//	                               through trusted proxies only)
//
// The scope is the route name, "|", then the caller; a '|' or '%' in the
// route name and a ':' or '%' in the authenticator's name are
// percent-encoded, so no two routes or callers can share a scope.
//
// # Fingerprint
//
// A key names one operation: the hex SHA-256 of the method, the normalized
// path, the raw query and the body. A repeat with another fingerprint is
// refused with 422 idempotency.key_reused. The body is read through
// Exchange.Body up to Options.MaxBodyBytes (default 1 MiB); a request whose
// body is longer, or whose body cannot be read (over the route's body
// limit, broken off), runs without idempotency, so the upstream and the
// body limits answer it as usual; the trace says so.
//
// # Life of a key
//
// The first request inserts an in-flight record whose lock lapses after
// Options.LockTimeout (the route's upstream timeout) plus LockMargin, so a
// node that crashes mid-request does not lock the key for the whole TTL.
// A repeat while it is in flight is refused with 409
// idempotency.in_progress and Retry-After: 1. The record holds a random
// token that only the request which inserted it knows; once the lock has
// lapsed and another request has taken the key, the first request can
// neither store its response over the new record nor release it (its
// trace says the response was not stored).
//
// The response streams to the client unchanged; a copy of its status,
// headers and body (up to max_response_bytes, default 1 MiB) is kept on
// the side and stored for ttl (default 24h) when the upstream is done.
// Repeats within the TTL get that response again, byte for byte, with
// Idempotent-Replayed: true, and the upstream is not called.
//
// The key is released instead, so that the client may retry, when the
// upstream failed without a response (the gateway's 502/503/504), answered
// with a status of 500 or more, sent a body over max_response_bytes,
// switched protocols, or the response broke off (client gone, upstream
// reset). A response that broke off may have been acted on by the
// upstream; a retry then runs again.
//
// # Stored headers
//
// The stored headers are those the upstream added. Left out are:
// hop-by-hop headers (Connection, Keep-Alive, Proxy-*, TE, Trailer,
// Transfer-Encoding, Upgrade), Date (a replay is a new message), Set-Cookie
// (session secrets are not kept at rest in the store, and a replay does
// not set cookies again), and the headers the gateway had set before the
// upstream was called (request id, CORS, rate-limit headers), which the
// replaying request gets anew from its own stages.
//
// # Store failures
//
// With on_store_error: fail_open (default) a request whose key cannot be
// recorded runs without idempotency; with fail_closed it is refused with
// 503 idempotency.unavailable. Either way the trace says why and the
// Observer hears of it. Failures to store or release after the response
// are traced and observed; the client's response is not affected.
//
// Records expire on their own in Redis (NewRedisStore); the gateway's local
// store needs Sweep to delete expired records.
package idempotency
