// Package introspect is the introspection authentication method: it
// validates opaque bearer tokens with OAuth 2.0 token introspection
// (RFC 7662), caching answers by the token's SHA-256 and collapsing
// concurrent lookups of one token into one call.
package introspect

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// Kind is the authenticator type this package implements.
const Kind = "introspection"

// Defaults of the introspection block (see config.IntrospectionAuth).
const (
	defaultTimeout       = 2 * time.Second
	defaultCacheTTL      = 60 * time.Second
	defaultCacheSize     = 10000
	defaultConsumerClaim = "client_id"
	defaultScopeClaim    = "scope"
	// inactiveTTL is how long inactive (and expired) answers are cached.
	inactiveTTL = 10 * time.Second
)

// Options are the run-time dependencies of a Method. Zero values get
// defaults.
type Options struct {
	// HTTPClient calls the introspection endpoint. Default
	// http.DefaultClient; each call is bounded by the block's timeout.
	HTTPClient *http.Client
	// Logger receives configuration warnings. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock for exp, nbf and the cache. Default time.Now.
	Now func() time.Time
}

// Method is a configured introspection authenticator. It is safe for
// concurrent use; Close it when the snapshot that built it is released.
type Method struct {
	name            string
	rule            string
	reasonPrefix    string
	url             string
	authorization   string // HTTP Basic credentials of the gateway; "" for none
	timeout         time.Duration
	ttl             time.Duration
	consumerClaim   string
	scopeClaim      string
	requireConsumer bool
	client          *http.Client
	now             func() time.Time
	cache           *cache
	flights         *flights
	cancel          context.CancelFunc
}

// The method set of authn.Method (not imported: package authn uses this one).
var _ interface {
	Name() string
	Kind() string
	Challenge() string
	Authenticate(*pipeline.Exchange, *identity.Directory) (bool, *pipeline.Denial)
} = (*Method)(nil)

// New builds the authenticator name from its introspection block.
// Configuration problems are returned as config.FieldErrors relative to the
// block ("url", "client_secret", "cache_size").
func New(name string, c *config.IntrospectionAuth, o Options) (*Method, error) {
	if c == nil {
		return nil, config.Fieldf("", "an introspection block is required for type introspection")
	}
	var errs []error
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		errs = append(errs, config.Fieldf("url", "required: the introspection endpoint (RFC 7662)"))
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		errs = append(errs, config.Fieldf("url", "%q is not an absolute http(s) URL", c.URL))
	}
	switch {
	case c.ClientID != "" && c.ClientSecret == "":
		errs = append(errs, config.Fieldf("client_secret", "set client_secret to ${ENV_NAME} and export the secret in that variable (it is empty)"))
	case c.ClientID == "" && c.ClientSecret != "":
		errs = append(errs, config.Fieldf("client_id", "required with client_secret"))
	}
	if c.Timeout < 0 {
		errs = append(errs, config.Fieldf("timeout", "must not be negative"))
	}
	if c.CacheTTL < 0 {
		errs = append(errs, config.Fieldf("cache_ttl", "must not be negative"))
	}
	if c.CacheSize < 0 {
		errs = append(errs, config.Fieldf("cache_size", "must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	base, cancel := context.WithCancel(context.Background())
	m := &Method{
		name:            name,
		rule:            "authenticator:" + name,
		reasonPrefix:    `introspection authenticator "` + name + `": `,
		url:             c.URL,
		timeout:         c.Timeout.Or(defaultTimeout),
		ttl:             c.CacheTTL.Or(defaultCacheTTL),
		consumerClaim:   cmp.Or(c.ConsumerClaim, defaultConsumerClaim),
		scopeClaim:      cmp.Or(c.ScopeClaim, defaultScopeClaim),
		requireConsumer: c.RequireConsumer,
		client:          o.HTTPClient,
		now:             o.Now,
		cache:           newCache(cmp.Or(c.CacheSize, defaultCacheSize)),
		flights:         newFlights(base),
		cancel:          cancel,
	}
	if c.ClientID != "" {
		// RFC 6749 §2.3.1: form-encode both before HTTP Basic.
		m.authorization = "Basic " + base64.StdEncoding.EncodeToString(
			[]byte(url.QueryEscape(c.ClientID)+":"+url.QueryEscape(c.ClientSecret)))
	}
	log := o.Logger.With("authenticator", name)
	if u.Scheme == "http" {
		log.Warn("introspection url uses plain http: tokens and the client secret travel unencrypted", "url", c.URL)
	}
	if c.ClientID == "" {
		log.Warn("introspection without client_id: most authorization servers refuse unauthenticated introspection")
	}
	return m, nil
}

// Name is the authenticator's configured name.
func (m *Method) Name() string { return m.name }

// Kind is "introspection".
func (m *Method) Kind() string { return Kind }

// Challenge is the WWW-Authenticate challenge offered when a request
// carries no credential: Bearer realm="pinpoint".
func (m *Method) Challenge() string { return challenge }

// Close cancels introspection calls in flight. It is safe to call more
// than once; the method must not be used afterwards.
func (m *Method) Close() { m.cancel() }
