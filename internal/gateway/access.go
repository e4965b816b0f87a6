package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/authn"
	"github.com/pinpointgw/pinpoint/internal/stage/authn/basic"
	"github.com/pinpointgw/pinpoint/internal/stage/authn/hmac"
	"github.com/pinpointgw/pinpoint/internal/stage/authn/introspect"
	"github.com/pinpointgw/pinpoint/internal/stage/authn/jwt"
	"github.com/pinpointgw/pinpoint/internal/stage/authn/mtls"
	"github.com/pinpointgw/pinpoint/internal/stage/authz"
	"github.com/pinpointgw/pinpoint/internal/stage/consumer"
	"github.com/pinpointgw/pinpoint/internal/stage/cors"
	"github.com/pinpointgw/pinpoint/internal/stage/csrf"
	"github.com/pinpointgw/pinpoint/internal/stage/ip"
)

// access is the identity-and-access part of a snapshot, compiled once per
// revision: the directory, the authenticators, the policies and the
// gateway-wide IP list. Routes build their stages from it.
type access struct {
	dir            *identity.Directory
	authenticators map[string]authn.Method
	// authCfg is each authenticator's configuration, to reuse unchanged
	// ones (and their JWKS and introspection caches) across revisions.
	authCfg  map[string]config.Authenticator
	policies *authz.Policies
	globalIP *ip.List
	// fresh are the authenticators this revision created.
	fresh []authn.Method
}

// closeAuthenticator stops an authenticator's background work (JWKS
// refresh, introspection calls), if it has any.
func closeAuthenticator(m authn.Method) {
	if c, ok := m.(interface{ Close() }); ok {
		c.Close()
	}
}

// close stops the authenticators this access part created; for a snapshot
// that is never published.
func (a *access) close() {
	if a == nil {
		return
	}
	for _, m := range a.fresh {
		closeAuthenticator(m)
	}
}

// retire stops the authenticators of a replaced snapshot that next does
// not reuse.
func (a *access) retire(next *access) {
	if a == nil {
		return
	}
	for name, m := range a.authenticators {
		if next == nil || next.authenticators[name] != m {
			closeAuthenticator(m)
		}
	}
}

// compileAccess builds the access part; errors are positioned in cfg. On
// errors the caller must close the result.
func compileAccess(cfg *config.Config, prev *access, live *identity.Registry, o Options) (*access, config.Errors) {
	var errs config.Errors
	a := &access{authenticators: map[string]authn.Method{}, authCfg: map[string]config.Authenticator{}}
	declared, err := identity.Compile(cfg)
	errs = append(errs, cfg.BlockErrors("", err)...)
	if declared == nil {
		declared = &identity.Declared{}
	}
	a.dir = &identity.Directory{Declared: declared, Live: live}
	errs = append(errs, checkIdentities(cfg, a.dir)...)

	for i, ac := range cfg.Authenticators {
		if prev != nil && ac.Type != "api_key" {
			// api_key methods carry the environment; they are cheap to rebuild.
			if old, ok := prev.authenticators[ac.Name]; ok && reflect.DeepEqual(prev.authCfg[ac.Name], ac) {
				a.authenticators[ac.Name], a.authCfg[ac.Name] = old, ac
				continue
			}
		}
		m, err := newAuthenticator(ac, cfg.Gateway.Environment, o)
		if err != nil {
			errs = append(errs, cfg.BlockErrors(fmt.Sprintf("authenticators[%d].%s", i, ac.Type), err)...)
			continue
		}
		a.authenticators[ac.Name], a.authCfg[ac.Name] = m, ac
		a.fresh = append(a.fresh, m)
	}
	a.policies, err = authz.CompilePolicies(cfg.Policies)
	errs = append(errs, cfg.BlockErrors("policies", err)...)
	a.globalIP, err = ip.Compile(cfg.Gateway.IP)
	errs = append(errs, cfg.BlockErrors("gateway.ip", err)...)
	// Returned with its errors too, so that the routes' stages are still
	// checked and every error reported at once; compile closes it.
	return a, errs
}

// checkIdentities refuses declarations that would shadow run-time objects,
// unknown tenants and bad password hashes.
func checkIdentities(cfg *config.Config, dir *identity.Directory) config.Errors {
	var errs config.Errors
	live := dir.Live
	for i, t := range cfg.Tenants {
		if live != nil && live.Tenant(t.ID) != nil {
			errs = append(errs, cfg.Errorf(fmt.Sprintf("tenants[%d].id", i),
				"tenant %q already exists in the store (created at run time); delete it there (pinpoint tenants delete %s) or choose another id", t.ID, t.ID))
		}
	}
	for i, c := range cfg.Consumers {
		path := fmt.Sprintf("consumers[%d]", i)
		if live != nil && live.Consumer(c.ID) != nil {
			errs = append(errs, cfg.Errorf(path+".id",
				"consumer %q already exists in the store (created at run time); delete it there (pinpoint consumers delete %s) or choose another id", c.ID, c.ID))
		}
		if c.Tenant != "" && dir.Tenant(c.Tenant) == nil {
			errs = append(errs, cfg.Errorf(path+".tenant", "unknown tenant %q: declare it under tenants or create it with pinpoint tenants create", c.Tenant))
		}
		for j, k := range c.APIKeys {
			if live != nil && k.ID != "" && live.Key(k.ID) != nil {
				errs = append(errs, cfg.Errorf(fmt.Sprintf("%s.api_keys[%d].id", path, j), "key id %q is already used by a key issued at run time", k.ID))
			}
		}
		for j, b := range c.Basic {
			if err := basic.ValidateHash(b.PasswordHash); err != nil && b.PasswordHash != "" {
				errs = append(errs, cfg.Errorf(fmt.Sprintf("%s.basic[%d].password_hash", path, j), "%v", err))
			}
		}
	}
	return errs
}

// newAuthenticator builds one configured authenticator.
func newAuthenticator(ac config.Authenticator, env string, o Options) (authn.Method, error) {
	switch ac.Type {
	case "api_key":
		return authn.NewAPIKey(ac.Name, ac.APIKey, env), nil
	case "jwt":
		return jwt.New(ac.Name, ac.JWT, jwt.Options{HTTPClient: o.HTTPClient, Logger: o.Logger})
	case "introspection":
		return introspect.New(ac.Name, ac.Introspection, introspect.Options{HTTPClient: o.HTTPClient, Logger: o.Logger})
	case "basic":
		c := ac.Basic
		if c == nil {
			c = &config.BasicAuth{}
		}
		return basic.New(ac.Name, c)
	case "hmac":
		c := ac.HMAC
		if c == nil {
			c = &config.HMACAuth{}
		}
		return hmac.New(ac.Name, c, hmac.Options{})
	case "mtls":
		return mtls.New(ac.Name), nil
	}
	return nil, errors.New("unknown authenticator type " + ac.Type)
}

// routeStages builds a route's access stages in pipeline order: ip, waf
// (built by the caller; nil when the WAF does not run on the route), cors,
// authn, consumer, authz, csrf.
func (a *access) routeStages(cfg *config.Config, i int, limits int64, wafStage pipeline.Stage) ([]pipeline.Stage, config.Errors) {
	rc := &cfg.Routes[i]
	path := fmt.Sprintf("routes[%d]", i)
	var (
		stages []pipeline.Stage
		errs   config.Errors
	)
	list, err := ip.Compile(rc.IP)
	errs = append(errs, cfg.BlockErrors(path+".ip", err)...)
	if s := ip.New(a.globalIP, list); s != nil {
		stages = append(stages, s)
	}
	if wafStage != nil {
		stages = append(stages, wafStage)
	}

	var methods []authn.Method
	keyHeader := ""
	if rc.Auth != nil {
		for _, name := range rc.Auth.Methods {
			m := a.authenticators[name]
			if m == nil {
				continue // reported by validation
			}
			methods = append(methods, m)
			if k, ok := m.(*authn.APIKey); ok && keyHeader == "" {
				keyHeader = k.Header()
			}
		}
	}
	if rc.CORS != nil {
		s, err := cors.New(rc.CORS, rc.Methods, keyHeader)
		if err != nil {
			errs = append(errs, cfg.BlockErrors(path+".cors", err)...)
		} else {
			stages = append(stages, s)
		}
	}
	challenge := ""
	if rc.Auth != nil {
		an := authn.New(methods, a.dir, rc.Auth.Optional)
		stages = append(stages, an, consumer.New(a.dir))
		if ch := an.Challenges(); len(ch) > 0 {
			challenge = ch[0]
		}
	}
	if rc.Authorize != nil {
		s, err := authz.New(rc.Authorize, a.policies, authz.Route{
			Name: rc.Name, Version: rc.Version, Params: rc.Params(),
			Challenge: challenge, MaxBodyBytes: limits,
		})
		if err != nil {
			errs = append(errs, cfg.BlockErrors(path+".authorize", err)...)
		} else {
			stages = append(stages, s)
		}
	}
	if rc.CSRF != nil {
		s, err := csrf.New(rc.CSRF)
		if err != nil {
			errs = append(errs, cfg.BlockErrors(path+".csrf", err)...)
		} else {
			stages = append(stages, s)
		}
	}
	return stages, errs
}

// corsHeaders are removed from upstream answers on routes where the
// gateway answers CORS itself, so the browser never sees two values.
var corsHeaders = []string{
	"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
	"Access-Control-Allow-Headers", "Access-Control-Expose-Headers", "Access-Control-Max-Age",
}

// writeAnswer writes a stage's own answer (a CORS preflight, a replayed
// idempotent response).
func writeAnswer(w http.ResponseWriter, a *pipeline.Answer) {
	h := w.Header()
	for k, v := range a.Header {
		h[k] = v
	}
	w.WriteHeader(a.Status)
	if len(a.Body) > 0 {
		_, _ = w.Write(a.Body)
	}
}
