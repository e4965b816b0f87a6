package authn

import (
	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// Method is one configured authenticator (an entry of authenticators:).
// Methods are built once per snapshot and must be safe for concurrent use.
type Method interface {
	// Name is the authenticator's configured name ("corp-jwt").
	Name() string
	// Kind is its type: "api_key", "jwt", "introspection", "basic", "hmac"
	// or "mtls".
	Kind() string
	// Challenge is the WWW-Authenticate challenge offered when no method
	// found a credential, e.g. `Bearer realm="pinpoint"` or
	// `APIKey header="X-API-Key"`.
	Challenge() string
	// Authenticate looks for its kind of credential in x.Request.
	//
	// found is false when the request carries none (the next method is
	// tried). Otherwise the method either fills x.Identity (Authenticated,
	// Method, Authenticator, CredentialID, Bearer, ConsumerID, Scopes,
	// Claims, ExpiresAt; the stage completes the consumer fields) and
	// returns a nil denial, or returns the denial that refuses the request.
	// A denial's Reason and Rule are operator-only and should name the
	// authenticator and what exactly failed; its Params must be client-safe;
	// its Header carries WWW-Authenticate for 401s.
	Authenticate(x *pipeline.Exchange, dir *identity.Directory) (found bool, d *pipeline.Denial)
}
