// Package explain answers the operator's question "why was this request
// refused?" from the call log: the request as the gateway saw it (redacted),
// every stage with its outcome, the deciding rule, the caller, the config
// revision in force, the upstream's answer and a fix written for the
// operator. `pinpoint explain <request-id>` and
// GET /admin/requests/{id}/explain both serve an Explanation.
//
// The JSON form of Explanation is a stable interface for tools: fields are
// only ever added, never renamed or removed.
package explain

import (
	"encoding/json"
	"time"
)

// Outcomes of a request as a whole.
const (
	// OutcomeRefused: the gateway refused the request with a reason code
	// (a problem+json answer; 5xx codes such as upstream.timeout included).
	OutcomeRefused = "refused"
	// OutcomeUpstreamError: the request was forwarded and the backend itself
	// answered 401, 403, 429 or 5xx (labelled upstream.*, layer upstream).
	OutcomeUpstreamError = "upstream_error"
	// OutcomeClientClosed: the client went away before an answer was written.
	OutcomeClientClosed = "client_closed"
	// OutcomeAllowed: the request was served.
	OutcomeAllowed = "allowed"
)

// Explanation is why one request was answered the way it was.
type Explanation struct {
	// RequestID is the request's id (the X-Request-Id the client received).
	RequestID string `json:"request_id"`
	// Time is when the gateway accepted the request.
	Time time.Time `json:"time"`
	// Outcome is one of the Outcome* constants.
	Outcome string `json:"outcome"`
	// Status is the HTTP status the client received.
	Status int `json:"status"`
	// Code is the reason code ("" for allowed requests).
	Code string `json:"code,omitempty"`
	// Title is the code's catalog title.
	Title string `json:"title,omitempty"`
	// Layer is "gateway" for refusals Pinpoint wrote, "upstream" for the
	// backend's own answers.
	Layer string `json:"layer,omitempty"`
	// Route is the matched route ("" when none matched).
	Route string `json:"route,omitempty"`
	// Decision is the deciding step of a refusal; nil for allowed requests.
	Decision *Decision `json:"decision,omitempty"`
	// Request is the request as the gateway saw it, secrets redacted.
	Request Request `json:"request"`
	// Caller is who the gateway found behind the request.
	Caller Caller `json:"caller"`
	// Revision is the configuration revision the request ran on.
	Revision Revision `json:"revision"`
	// Steps are the stages in the order they ran, with their outcomes.
	Steps []Step `json:"steps"`
	// WouldDeny are the report_only rules that would have refused the
	// request had they been enforced (the request went on).
	WouldDeny []Step `json:"would_deny,omitempty"`
	// Upstream is the upstream's answer; nil when no upstream was called.
	Upstream *Upstream `json:"upstream,omitempty"`
	// Latency is the gateway's total time for the request.
	Latency time.Duration `json:"latency_ns"`
	// Fix tells the operator what would make the request pass; nil for
	// allowed requests without would-deny steps.
	Fix *Fix `json:"fix,omitempty"`
	// Notes are caveats about the explanation itself (e.g. the revision
	// document could not be read, so the fix is generic).
	Notes []string `json:"notes,omitempty"`
}

// Decision is the step that decided a refusal.
type Decision struct {
	// Stage that refused ("authz", "limit", ...).
	Stage string `json:"stage"`
	// Rule is the rule, policy or check that refused ("scopes",
	// "policy:business-hours", "rate_limits.per-key", "route.ip.allow").
	Rule string `json:"rule,omitempty"`
	// Reason is the operator-facing explanation the stage recorded
	// (redacted; never sent to the client).
	Reason string `json:"reason,omitempty"`
}

// Request is the request as the gateway saw it. Values of secret-bearing
// headers and query parameters are replaced by "redacted".
type Request struct {
	Method string `json:"method"`
	// Scheme is "http" or "https" as the client used it; "" when the call
	// log kept no decision inputs.
	Scheme string `json:"scheme,omitempty"`
	Host   string `json:"host"`
	// Path is the normalized path the stages matched.
	Path string `json:"path"`
	// RawPath is the path as received, when it differs from Path.
	RawPath string `json:"raw_path,omitempty"`
	// Query is the raw query, redacted.
	Query string `json:"query,omitempty"`
	// Headers are the request headers, redacted (empty when the call log
	// kept no decision inputs); HeadersTruncated is true when the gateway
	// kept only the first 8 KiB of them.
	Headers          map[string][]string `json:"headers,omitempty"`
	HeadersTruncated bool                `json:"headers_truncated,omitempty"`
	// BodyBytes is the request's Content-Length (0: none or unknown).
	BodyBytes int64 `json:"body_bytes,omitempty"`
	// Body is the JSON body, redacted, when a stage read it whole and it was
	// small; BodyOmitted is true when the request had a body not kept.
	Body        json.RawMessage `json:"body,omitempty"`
	BodyOmitted bool            `json:"body_omitted,omitempty"`
	// ClientIP is the client address, resolved through trusted proxies only.
	ClientIP string `json:"client_ip,omitempty"`
	// Peer is the direct TCP peer, and PeerTrusted whether it is one of
	// gateway.trusted_proxies (so its forwarding headers were believed).
	Peer        string `json:"peer,omitempty"`
	PeerTrusted bool   `json:"peer_trusted,omitempty"`
	// Source is "inputs" when the call log kept the decision inputs (full
	// headers), "call" when only the call record's method, host and path
	// are known.
	Source string `json:"source"`
}

// Caller is who the gateway found behind the request.
type Caller struct {
	// Credential identifies the credential without revealing it: an API
	// key's prefix id (pp_live_k7f3a9c2d1e0), a token subject, a user name.
	Credential string `json:"credential,omitempty"`
	// Presented is, for a request refused before its credential verified,
	// the API key prefix id it presented (from the authn stage's trace).
	Presented string `json:"presented,omitempty"`
	// Method is the kind of credential: "api_key", "jwt", "introspection",
	// "basic", "hmac" or "mtls".
	Method string `json:"method,omitempty"`
	// Authenticator is the configured authenticator that verified it.
	Authenticator string `json:"authenticator,omitempty"`
	// Consumer is the consumer id, ConsumerName its display name.
	Consumer     string `json:"consumer,omitempty"`
	ConsumerName string `json:"consumer_name,omitempty"`
	// Tenant is the consumer's tenant.
	Tenant string `json:"tenant,omitempty"`
	// Key is the API key's record now (scopes, validity, revocation), when
	// the credential is a known key.
	Key *Key `json:"key,omitempty"`
}

// Key is the operator's view of an API key (never its secret or hash).
type Key struct {
	// ID is the prefix id (the part after pp_<env>_).
	ID        string    `json:"id"`
	Scopes    []string  `json:"scopes,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	// RevokedReason is the operator's reason for revoking it.
	RevokedReason string `json:"revoked_reason,omitempty"`
	// ReplacedBy is the key that replaced it by rotation.
	ReplacedBy string `json:"replaced_by,omitempty"`
	// Source is "config" (declared in the configuration) or "store"
	// (issued at run time).
	Source string `json:"source"`
}

// Revision is the configuration revision a request ran on.
type Revision struct {
	Number    int64     `json:"number"`
	Author    string    `json:"author,omitempty"`
	Source    string    `json:"source,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	Summary   string    `json:"summary,omitempty"`
	// Missing is true when the store no longer holds the revision.
	Missing bool `json:"missing,omitempty"`
}

// Step is one stage of the decision trace.
type Step struct {
	Stage   string `json:"stage"`
	Outcome string `json:"outcome"`
	Code    string `json:"code,omitempty"`
	Rule    string `json:"rule,omitempty"`
	// Note is what the stage recorded (redacted).
	Note     string        `json:"note,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// Upstream is the upstream's side of a request.
type Upstream struct {
	// Status is the status the client received from the upstream's answer
	// (0 when the upstream never answered).
	Status int `json:"status,omitempty"`
	// Target is the target address last tried.
	Target string `json:"target,omitempty"`
	// Attempts is how many targets were tried (retries included).
	Attempts int `json:"attempts,omitempty"`
	// Latency is the time spent waiting for the upstream.
	Latency time.Duration `json:"latency_ns"`
}

// Fix is what the operator can do about a refusal.
type Fix struct {
	// Cause names what refused and why, in one sentence.
	Cause string `json:"cause"`
	// Actions are the changes that would let the request pass (or would
	// tell the caller what to change), most direct first. Commands are
	// real pinpoint CLI lines.
	Actions []string `json:"actions"`
}
