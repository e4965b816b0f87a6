package pipeline

// Simulation marks an exchange that is simulated rather than served: the
// request was described by an operator (pinpoint simulate) or rebuilt from
// the call log (apply --dry-run). Every stage decides exactly as it would
// for real traffic, but a simulated request changes no state:
//
//   - rate limits and quotas are evaluated against the current counts
//     without charging them (a peek), and the trace says so;
//   - the idempotency gate reports what it would check, and takes no key;
//   - an API key's last-used time is not updated;
//   - the upstream is not contacted: the gateway reports where the request
//     would be forwarded instead.
//
// It may also assume an identity without its secret (AsCredential or
// AsConsumer); the revoked, expired and suspended checks still apply.
type Simulation struct {
	// AsCredential assumes the credential with this id: an API key's
	// prefix id ("pp_live_k7f3a9c2d1e0", or just "k7f3a9c2d1e0"), a basic
	// user name or an HMAC key id. The route must accept that kind of
	// credential.
	AsCredential string
	// AsConsumer assumes a caller of this consumer without a particular
	// credential; Scopes are then the scopes granted.
	AsConsumer string
	// Scopes granted with AsConsumer (with AsCredential the credential's
	// own scopes apply).
	Scopes []string
	// Groups are added to the consumer's groups with AsConsumer (the
	// groups a token carried, for a replayed token-authenticated request).
	Groups []string
	// Authenticator, when set with AsConsumer, names the authenticator the
	// identity is attributed to (a replay keeps the original one).
	Authenticator string
}

// Simulated reports whether x is a simulated request.
func (x *Exchange) Simulated() bool { return x.Simulation != nil }

// Assumed reports whether the simulation assumes an identity.
func (s *Simulation) Assumed() bool {
	return s != nil && (s.AsCredential != "" || s.AsConsumer != "")
}
