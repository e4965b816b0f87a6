package jwt

import (
	"cmp"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// Defaults of the jwt block (see config.JWTAuth).
const (
	defaultRefresh       = 15 * time.Minute
	minRefresh           = time.Second
	defaultLeeway        = 30 * time.Second
	defaultConsumerClaim = "sub"
	defaultScopeClaim    = "scope"
)

// Algorithm families by the key that verifies them.
var (
	hmacAlgs  = []string{"HS256", "HS384", "HS512"}
	rsaAlgs   = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	ecAlgs    = []string{"ES256", "ES384", "ES512"}
	edAlgs    = []string{"EdDSA"}
	asymAlgs  = slices.Concat(rsaAlgs, ecAlgs, edAlgs)
	knownAlgs = slices.Concat(hmacAlgs, asymAlgs)
)

// hmacMinSecret is the shortest secret each HS algorithm accepts: the size
// of its hash output (RFC 7518 §3.2).
var hmacMinSecret = map[string]int{"HS256": 32, "HS384": 48, "HS512": 64}

// settings is a validated jwt block with its defaults applied.
type settings struct {
	jwksURL    string
	refresh    time.Duration
	secret     []byte
	keys       []publicKey
	algorithms []string

	issuer          string
	audiences       []string
	leeway          time.Duration
	required        []string
	consumerClaim   string
	requireConsumer bool
	scopeClaim      string
	groupsClaim     string
}

// compile validates c and applies its defaults. Errors are FieldErrors
// relative to the jwt block.
func compile(c *config.JWTAuth) (*settings, error) {
	if c == nil {
		return nil, config.Fieldf("", "a jwt block is required for type jwt")
	}
	s := &settings{
		refresh:         c.JWKSRefresh.Or(defaultRefresh),
		secret:          []byte(c.Secret),
		issuer:          c.Issuer,
		audiences:       c.Audiences,
		leeway:          c.Leeway.Or(defaultLeeway),
		required:        c.RequiredClaims,
		consumerClaim:   cmp.Or(c.ConsumerClaim, defaultConsumerClaim),
		requireConsumer: c.RequireConsumer,
		scopeClaim:      cmp.Or(c.ScopeClaim, defaultScopeClaim),
		groupsClaim:     c.GroupsClaim,
	}
	if s.required == nil {
		s.required = []string{"exp"}
	}
	var errs []error
	if c.JWKSURL != "" {
		u, err := url.Parse(c.JWKSURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, config.Fieldf("jwks_url", "%q is not an absolute http(s) URL", c.JWKSURL))
		} else {
			s.jwksURL = c.JWKSURL
		}
	}
	if c.JWKSRefresh < 0 || (c.JWKSRefresh != 0 && c.JWKSRefresh.D() < minRefresh) {
		errs = append(errs, config.Fieldf("jwks_refresh", "must be at least %s", minRefresh))
	}
	if c.Leeway < 0 {
		errs = append(errs, config.Fieldf("leeway", "must not be negative"))
	}
	keys, keyErr := loadPublicKeys(c.PublicKeys)
	errs = append(errs, keyErr)
	s.keys = keys
	for i, a := range c.Audiences {
		if strings.TrimSpace(a) == "" {
			errs = append(errs, config.Fieldf("audiences["+strconv.Itoa(i)+"]", "empty audience"))
		}
	}
	for i, name := range s.required {
		if strings.TrimSpace(name) == "" {
			errs = append(errs, config.Fieldf("required_claims["+strconv.Itoa(i)+"]", "empty claim name"))
		}
	}
	sourceErr := s.checkKeySources(c)
	errs = append(errs, sourceErr)
	if sourceErr == nil && keyErr == nil {
		// Which algorithms fit depends on the keys, so only judge them
		// once the keys are known.
		algs, err := s.chooseAlgorithms(c.Algorithms, len(c.PublicKeys) > 0)
		errs = append(errs, err)
		s.algorithms = algs
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// checkKeySources refuses blocks without a key source and blocks that mix a
// secret with public keys (HS* next to public keys invites algorithm
// confusion).
func (s *settings) checkKeySources(c *config.JWTAuth) error {
	public := c.JWKSURL != "" || len(c.PublicKeys) > 0
	switch {
	case len(s.secret) > 0 && public:
		return config.Fieldf("secret", "a secret cannot be combined with jwks_url or public_keys "+
			"(algorithm confusion: HS* tokens next to public keys); use a separate authenticator for HS* tokens")
	case !public && len(s.secret) == 0:
		for _, a := range c.Algorithms {
			if strings.HasPrefix(a, "HS") {
				return config.Fieldf("secret", "set secret to ${ENV_NAME} and export the HMAC secret in that variable (it is empty)")
			}
		}
		return config.Fieldf("", "no key source: set jwks_url, public_keys, or secret (as ${ENV_NAME})")
	case len(s.secret) > 0 && len(s.secret) < hmacMinSecret["HS256"]:
		return config.Fieldf("secret", "the secret has %d bytes; HS256 needs at least 32 (RFC 7518 §3.2)", len(s.secret))
	}
	return nil
}

// chooseAlgorithms validates the configured algorithms, or derives the
// default: what the configured keys can verify.
func (s *settings) chooseAlgorithms(given []string, hasPEM bool) ([]string, error) {
	if len(given) == 0 {
		switch {
		case len(s.secret) > 0:
			var out []string
			for _, a := range hmacAlgs {
				if len(s.secret) >= hmacMinSecret[a] {
					out = append(out, a)
				}
			}
			return out, nil
		case s.jwksURL != "":
			return asymAlgs, nil
		default:
			var out []string
			for _, a := range asymAlgs {
				if s.canVerify(a) {
					out = append(out, a)
				}
			}
			return out, nil
		}
	}
	var errs []error
	var out []string
	for i, a := range given {
		path := "algorithms[" + strconv.Itoa(i) + "]"
		switch {
		case strings.EqualFold(a, "none"):
			errs = append(errs, config.Fieldf(path, `"none" is never accepted: unsigned tokens would let any caller choose its identity`))
		case !slices.Contains(knownAlgs, a):
			msg := "unknown algorithm %q; use one of " + strings.Join(knownAlgs, ", ")
			if i := slices.IndexFunc(knownAlgs, func(k string) bool { return strings.EqualFold(k, a) }); i >= 0 {
				msg = "unknown algorithm %q (did you mean " + strconv.Quote(knownAlgs[i]) + "?)"
			}
			errs = append(errs, config.Fieldf(path, msg, a))
		case slices.Contains(hmacAlgs, a) && len(s.secret) == 0:
			errs = append(errs, config.Fieldf(path, "%s cannot be used with jwks_url or public_keys "+
				"(algorithm confusion: a public key would be taken as an HMAC secret); use a separate authenticator with a secret", a))
		case slices.Contains(hmacAlgs, a) && len(s.secret) < hmacMinSecret[a]:
			errs = append(errs, config.Fieldf(path, "%s needs a secret of at least %d bytes; the secret has %d", a, hmacMinSecret[a], len(s.secret)))
		case !slices.Contains(hmacAlgs, a) && len(s.secret) > 0:
			errs = append(errs, config.Fieldf(path, "%s needs jwks_url or public_keys; a secret verifies only HS256, HS384 and HS512", a))
		case !slices.Contains(hmacAlgs, a) && s.jwksURL == "" && hasPEM && !s.canVerify(a):
			errs = append(errs, config.Fieldf(path, "no key in public_keys can verify %s", a))
		default:
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out, errors.Join(errs...)
}

// canVerify reports whether one of the PEM keys verifies alg.
func (s *settings) canVerify(alg string) bool {
	for _, k := range s.keys {
		if slices.Contains(k.algs, alg) {
			return true
		}
	}
	return false
}
