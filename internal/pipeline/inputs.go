package pipeline

import "encoding/json"

// Inputs are the decision inputs of one request as the call log keeps them
// (store.Call.Inputs, JSON): what the stages decided on, with every secret
// redacted, so that explain can show the request as the gateway saw it and
// apply --dry-run can replay it through another revision.
//
// A replay cannot present the redacted credential, so it assumes the
// identity recorded here (Credential, or Consumer with Scopes) the way
// pinpoint simulate --as-credential does: the proposed revision's view of
// that credential (its scopes, its consumer's status, the route's rules)
// decides.
type Inputs struct {
	// Method, Scheme and Host are as the client sent them (Host with its port, if any).
	Method string `json:"method"`
	Scheme string `json:"scheme,omitempty"`
	Host   string `json:"host"`
	// Path is the request path as received, before normalization (escaped).
	Path string `json:"path"`
	// Query is the raw query, redacted by the redaction policy.
	Query string `json:"query,omitempty"`
	// Header holds the request headers (canonical names), redacted; hop-by-hop
	// headers are left out, and so are values past a total of 8 KiB
	// (HeaderTruncated is then true).
	Header          map[string][]string `json:"headers,omitempty"`
	HeaderTruncated bool                `json:"headers_truncated,omitempty"`
	// ClientIP is the resolved client address; Peer the direct TCP peer and
	// PeerTrusted whether it was a trusted proxy (so its forwarding headers
	// were believed). A replay connects from Peer, so the proposed
	// revision's trusted_proxies resolve the client again.
	ClientIP    string `json:"client_ip,omitempty"`
	Peer        string `json:"peer,omitempty"`
	PeerTrusted bool   `json:"peer_trusted,omitempty"`
	// Credential is the credential's id (an API key's prefix id, a token
	// subject, …), Consumer its consumer; AuthMethod the kind of credential
	// ("api_key", "jwt", …) and Authenticator the authenticator that
	// verified it.
	Credential    string `json:"credential,omitempty"`
	Consumer      string `json:"consumer,omitempty"`
	AuthMethod    string `json:"auth_method,omitempty"`
	Authenticator string `json:"authenticator,omitempty"`
	// Scopes are the scopes a token granted (kept for token methods only:
	// an API key's scopes come from the revision that replays it).
	Scopes []string `json:"scopes,omitempty"`
	// BodyBytes is the request's Content-Length (0: none or unknown).
	BodyBytes int64 `json:"body_bytes,omitempty"`
	// Body is the request body, kept only when a stage read it whole (waf,
	// validate, a policy on the body, idempotency) and it is JSON of at
	// most 8 KiB; JSON fields named by the redaction policy are masked.
	// BodyOmitted is true when the request had a body that was not kept:
	// a replay then sends none, and says so.
	Body        json.RawMessage `json:"body,omitempty"`
	BodyOmitted bool            `json:"body_omitted,omitempty"`
}

// BufferedBody returns what stages have read of the request body and
// whether that is the whole body; nil when no stage read it.
func (x *Exchange) BufferedBody() (buf []byte, complete bool) {
	return x.body.buf, x.body.complete
}
