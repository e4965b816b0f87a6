// Package jwt is the jwt authentication method: it verifies JSON Web Tokens
// sent as "Authorization: Bearer <jwt>" with keys from a JWKS URL, PEM
// public keys or an HMAC secret (golang-jwt for verification, keyfunc and
// jwkset for keys), and maps every way a token can fail to one reason code.
package jwt

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	jwtlib "github.com/golang-jwt/jwt/v5"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// Kind is the authenticator type this package implements.
const Kind = "jwt"

// Options are the run-time dependencies of a Method. Zero values get
// defaults.
type Options struct {
	// HTTPClient fetches the JWKS. Default http.DefaultClient; each fetch is
	// bounded to 5s regardless.
	HTTPClient *http.Client
	// Logger receives JWKS refresh failures. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock for exp, nbf and iat and for rate-limiting JWKS
	// refreshes. Default time.Now.
	Now func() time.Time

	// unknownKIDInterval and firstFetchWait override the constants (tests).
	unknownKIDInterval time.Duration
	firstFetchWait     time.Duration
}

// Method is a configured jwt authenticator. It is safe for concurrent use;
// Close it when the snapshot that built it is released.
type Method struct {
	name         string
	rule         string
	reasonPrefix string
	s            *settings
	allowed      string // algorithms joined with ", " (client-safe)
	now          func() time.Time
	parser       *jwtlib.Parser
	keyfunc      jwtlib.Keyfunc
	remote       *remoteSet // nil without jwks_url
	extra        []string   // required claims the parser does not check itself
}

// The method set of authn.Method (not imported: package authn uses this one).
var _ interface {
	Name() string
	Kind() string
	Challenge() string
	Authenticate(*pipeline.Exchange, *identity.Directory) (bool, *pipeline.Denial)
} = (*Method)(nil)

// New builds the authenticator name from its jwt block. Configuration
// problems are returned as config.FieldErrors relative to the block
// ("secret", "public_keys[0].file", "algorithms[1]", "jwks_url").
//
// With jwks_url it starts fetching the key set in the background and waits
// up to 2s for the first answer; an unreachable JWKS does not fail New:
// tokens are answered with authn.idp_unavailable until a key set arrives.
func New(name string, c *config.JWTAuth, o Options) (*Method, error) {
	s, err := compile(c)
	if err != nil {
		return nil, err
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.Logger = o.Logger.With("authenticator", name)
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Method{
		name:         name,
		rule:         "authenticator:" + name,
		reasonPrefix: "jwt authenticator " + `"` + name + `": `,
		s:            s,
		allowed:      strings.Join(s.algorithms, ", "),
		now:          o.Now,
	}
	opts := []jwtlib.ParserOption{
		jwtlib.WithValidMethods(s.algorithms),
		jwtlib.WithLeeway(s.leeway),
		jwtlib.WithTimeFunc(o.Now),
		jwtlib.WithIssuedAt(),
	}
	if s.issuer != "" {
		opts = append(opts, jwtlib.WithIssuer(s.issuer))
	}
	if len(s.audiences) > 0 {
		opts = append(opts, jwtlib.WithAudience(s.audiences...))
	}
	for _, claim := range s.required {
		switch claim {
		case "exp":
			opts = append(opts, jwtlib.WithExpirationRequired())
		case "nbf":
			opts = append(opts, jwtlib.WithNotBeforeRequired())
		default:
			if !slices.Contains(m.extra, claim) {
				m.extra = append(m.extra, claim)
			}
		}
	}
	m.parser = jwtlib.NewParser(opts...)

	if len(s.secret) > 0 {
		secret := s.secret
		m.keyfunc = func(*jwtlib.Token) (any, error) { return secret, nil }
		return m, nil
	}
	var storage jwkset.Storage
	var given *jwkset.MemoryJWKSet
	if len(s.keys) > 0 {
		given = jwkset.NewMemoryStorage()
		for _, k := range s.keys {
			_ = given.KeyWrite(context.Background(), k.jwk) // never fails for memory storage
		}
		storage = given
	}
	if s.jwksURL != "" {
		gap := cmp.Or(o.unknownKIDInterval, unknownKIDInterval)
		m.remote = newRemoteSet(s.jwksURL, s.refresh, gap, o)
		storage = m.remote
		if given != nil {
			// PEM keys first, then the JWKS (refreshing on unknown kids).
			storage, err = jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
				Given:    given,
				HTTPURLs: map[string]jwkset.Storage{s.jwksURL: m.remote},
			})
			if err != nil {
				m.remote.close()
				return nil, err
			}
		}
		if strings.HasPrefix(s.jwksURL, "http:") {
			o.Logger.Warn("jwks_url uses plain http: anyone on the path can substitute signing keys", "url", s.jwksURL)
		}
	}
	kf, err := keyfunc.New(keyfunc.Options{Storage: storage})
	if err != nil {
		m.Close()
		return nil, err
	}
	m.keyfunc = kf.Keyfunc
	if m.remote != nil {
		m.remote.waitFirst(cmp.Or(o.firstFetchWait, firstFetchWait))
	}
	return m, nil
}

// Name is the authenticator's configured name.
func (m *Method) Name() string { return m.name }

// Kind is "jwt".
func (m *Method) Kind() string { return Kind }

// Challenge is the WWW-Authenticate challenge offered when a request
// carries no credential: Bearer realm="pinpoint".
func (m *Method) Challenge() string { return challenge }

// Close stops the background JWKS refresh. It is safe to call more than
// once; the method must not be used afterwards.
func (m *Method) Close() {
	if m.remote != nil {
		m.remote.close()
	}
}
