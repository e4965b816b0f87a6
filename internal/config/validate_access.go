package config

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Authenticator types.
var authenticatorTypes = []string{"api_key", "jwt", "introspection", "basic", "hmac", "mtls"}

var (
	objectID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	keyID    = regexp.MustCompile(`^[a-z0-9]{4,32}$`)
	keyEnv   = regexp.MustCompile(`^[a-z0-9]{1,16}$`)
)

// SuspensionCategories are what a refused caller may be told about a
// suspension (Suspension.Category); the first is the default.
var SuspensionCategories = []string{"administrative", "billing", "abuse", "security", "expired"}

// ValidObjectID reports whether id can name a tenant or consumer: letters,
// digits, '.', '_' and '-', starting with a letter or digit, at most 128.
func ValidObjectID(id string) bool { return objectID.MatchString(id) }

// access checks authenticators, policies, tenants, consumers and the
// access blocks of the gateway and routes.
func (v *validator) access(c *Config) {
	v.ipFilter("gateway.ip", c.Gateway.IP)
	if c.Gateway.Environment != "" && !keyEnv.MatchString(c.Gateway.Environment) {
		v.failValue("gateway.environment", c.Gateway.Environment,
			fmt.Sprintf("invalid environment %q: 1-16 lowercase letters and digits (it appears in API keys: pp_<environment>_…)", c.Gateway.Environment))
	}
	authenticators := v.authenticators(c.Authenticators)
	policies := v.policies(c.Policies)
	v.tenants(c.Tenants)
	v.consumers(c.Consumers)
	for i := range c.Routes {
		v.routeAccess(index("routes", i), &c.Routes[i], authenticators, policies)
	}
}

// uniqueID checks an object's id (tenants, consumers).
func (v *validator) uniqueID(path, id, what string, seen map[string]string) {
	idPath := join(path, "id")
	switch {
	case id == "":
		v.required(idPath, "every "+what+" needs a unique id")
	case !objectID.MatchString(id):
		v.failValue(idPath, id, fmt.Sprintf("invalid %s id %q: letters, digits, '.', '_' and '-', at most 128", what, id))
	case seen[id] != "":
		v.failValue(idPath, id, fmt.Sprintf("duplicate %s id %q (first defined at line %d)", what, id, v.d.at(seen[id]).line))
	default:
		seen[id] = idPath
	}
}

// refers checks a reference to a named object of kind what.
func (v *validator) refers(path, name, what string, names []string) {
	if slices.Contains(names, name) {
		return
	}
	msg := fmt.Sprintf("unknown %s %q", what, name)
	if s, ok := closest(name, names); ok {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	v.failValue(path, name, msg)
}

func (v *validator) mode(path, mode string) {
	switch mode {
	case "", "enforce", "report_only":
	default:
		v.failValue(path, mode, fmt.Sprintf(`invalid mode %q: use "enforce" or "report_only"`, mode))
	}
}

func (v *validator) status(path, status string, s Suspension) {
	switch status {
	case "", "active", "suspended":
	default:
		v.failValue(join(path, "status"), status, fmt.Sprintf(`invalid status %q: use "active" or "suspended"`, status))
	}
	if s.Category != "" && !slices.Contains(SuspensionCategories, s.Category) {
		v.failValue(join(path, "suspension.category"), s.Category,
			fmt.Sprintf("invalid category %q: use one of %s", s.Category, strings.Join(SuspensionCategories, ", ")))
	}
}

// fromEnv requires a secret to be given as a ${ENV} reference.
func (v *validator) fromEnv(path, value, what string) {
	if value == "" {
		return
	}
	if _, ok := v.d.secret[path]; !ok {
		v.fail(path, what+" must not be written in the file: give it as \"${ENV_NAME}\" and set that variable")
	}
}

func (v *validator) ipFilter(path string, f IPFilter) {
	for _, list := range []struct {
		name    string
		entries []string
	}{{"allow", f.Allow}, {"deny", f.Deny}} {
		for j, e := range list.entries {
			p := index(join(path, list.name), j)
			var err error
			if strings.Contains(e, "/") {
				_, err = netip.ParsePrefix(e)
			} else {
				_, err = netip.ParseAddr(e)
			}
			if err != nil {
				v.failValue(p, e, fmt.Sprintf(`invalid CIDR or IP address %q (examples: "10.0.0.0/8", "2001:db8::/32", "192.168.1.7")`, e))
			}
		}
	}
	v.mode(join(path, "mode"), f.Mode)
}

func (v *validator) authenticators(as []Authenticator) []string {
	seen := map[string]string{}
	var names []string
	for i := range as {
		a := &as[i]
		path := index("authenticators", i)
		if v.unique(path, a.Name, "authenticator", seen) {
			names = append(names, a.Name)
		}
		blocks := map[string]bool{"api_key": a.APIKey != nil, "jwt": a.JWT != nil, "introspection": a.Introspection != nil,
			"basic": a.Basic != nil, "hmac": a.HMAC != nil}
		typePath := join(path, "type")
		switch {
		case a.Type == "":
			v.required(typePath, strings.Join(authenticatorTypes, ", "))
		case !slices.Contains(authenticatorTypes, a.Type):
			v.refers(typePath, a.Type, "authenticator type", authenticatorTypes)
		}
		for block, set := range blocks {
			if set && block != a.Type {
				v.fail(join(path, block), fmt.Sprintf("a %s block does not belong to an authenticator of type %q", block, a.Type))
			}
		}
		switch a.Type {
		case "jwt":
			if a.JWT == nil {
				v.required(join(path, "jwt"), "a jwt block with jwks_url, secret or public_keys")
			} else {
				v.jwt(join(path, "jwt"), a.JWT)
			}
		case "introspection":
			if a.Introspection == nil {
				v.required(join(path, "introspection"), "an introspection block with the endpoint url")
			} else {
				v.introspection(join(path, "introspection"), a.Introspection)
			}
		case "api_key":
			if a.APIKey != nil {
				if a.APIKey.Header != "" {
					v.headerName(join(path, "api_key.header"), a.APIKey.Header)
				}
				if q := a.APIKey.Query; q != "" && !objectID.MatchString(q) {
					v.failValue(join(path, "api_key.query"), q, fmt.Sprintf("invalid query parameter name %q", q))
				}
			}
		case "hmac":
			if a.HMAC != nil {
				for j, h := range a.HMAC.RequiredHeaders {
					if h != "(request-target)" && !isToken(h) {
						v.failValue(index(join(path, "hmac.required_headers"), j), h, headerNameMessage(h))
					}
				}
			}
		}
	}
	return names
}

func (v *validator) jwt(path string, j *JWTAuth) {
	if j.JWKSURL == "" && j.Secret == "" && len(j.PublicKeys) == 0 {
		v.fail(path, "set one key source: jwks_url, secret or public_keys")
	}
	if j.JWKSURL != "" {
		v.httpURL(join(path, "jwks_url"), j.JWKSURL)
	}
	v.fromEnv(join(path, "secret"), j.Secret, "the JWT secret")
	for i, k := range j.PublicKeys {
		if k.File == "" {
			v.required(join(index(join(path, "public_keys"), i), "file"), "the PEM file of the public key")
		}
	}
}

func (v *validator) introspection(path string, in *IntrospectionAuth) {
	if in.URL == "" {
		v.required(join(path, "url"), "the introspection endpoint (RFC 7662)")
	} else {
		v.httpURL(join(path, "url"), in.URL)
	}
	v.fromEnv(join(path, "client_secret"), in.ClientSecret, "the client secret")
	v.notNegative(join(path, "cache_size"), in.CacheSize, 0)
}

func (v *validator) httpURL(path, raw string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		v.failValue(path, raw, fmt.Sprintf("invalid URL %q: want http(s)://host/path", raw))
	}
}

func (v *validator) policies(ps []Policy) []string {
	seen := map[string]string{}
	var names []string
	for i := range ps {
		p := &ps[i]
		path := index("policies", i)
		if v.unique(path, p.Name, "policy", seen) {
			names = append(names, p.Name)
		}
		if strings.TrimSpace(p.Expression) == "" {
			v.required(join(path, "expression"), "a CEL expression that is true when the request is allowed")
		}
		v.mode(join(path, "mode"), p.Mode)
	}
	return names
}

func (v *validator) tenants(ts []Tenant) {
	seen := map[string]string{}
	for i := range ts {
		path := index("tenants", i)
		v.uniqueID(path, ts[i].ID, "tenant", seen)
		v.status(path, ts[i].Status, ts[i].Suspension)
	}
}

func (v *validator) consumers(cs []Consumer) {
	seen := map[string]string{}
	keys, users, hmacs := map[string]string{}, map[string]string{}, map[string]string{}
	for i := range cs {
		c := &cs[i]
		path := index("consumers", i)
		v.uniqueID(path, c.ID, "consumer", seen)
		v.status(path, c.Status, c.Suspension)
		for j, k := range c.APIKeys {
			v.consumerKey(index(join(path, "api_keys"), j), k, keys)
		}
		for j, b := range c.Basic {
			bp := index(join(path, "basic"), j)
			v.uniqueValue(join(bp, "username"), b.Username, "user name", "the user name", users)
			if b.PasswordHash == "" {
				v.required(join(bp, "password_hash"), `an argon2id or bcrypt hash ("$argon2id$v=19$…" or "$2b$12$…")`)
			}
		}
		for j, h := range c.HMACKeys {
			hp := index(join(path, "hmac_keys"), j)
			v.uniqueValue(join(hp, "id"), h.ID, "HMAC key id", "the keyId clients sign with", hmacs)
			if h.Secret == "" {
				v.required(join(hp, "secret"), `the shared secret as "${ENV_NAME}"`)
			}
			v.fromEnv(join(hp, "secret"), h.Secret, "the HMAC secret")
		}
		for j, m := range c.MTLS {
			mp := index(join(path, "mtls"), j)
			if m.Subject == "" && m.SHA256 == "" {
				v.fail(mp, "set subject (the certificate's common name) or sha256 (its fingerprint)")
			}
			if m.SHA256 != "" {
				if b, err := hex.DecodeString(m.SHA256); err != nil || len(b) != 32 {
					v.fail(join(mp, "sha256"), "want the 64 hex digits of the certificate's SHA-256 fingerprint")
				}
			}
		}
	}
}

// uniqueValue requires value at path, unique across the document; seen
// maps values to the path of their first use.
func (v *validator) uniqueValue(path, value, what, hint string, seen map[string]string) {
	switch {
	case value == "":
		v.required(path, hint)
	case seen[value] != "":
		v.fail(path, fmt.Sprintf("%s %q is used twice (first at line %d)", what, value, v.d.at(seen[value]).line))
	default:
		seen[value] = path
	}
}

func (v *validator) consumerKey(path string, k ConsumerKey, seen map[string]string) {
	switch {
	case k.Key != "" && k.SHA256 != "":
		v.fail(path, "set key or sha256, not both")
	case k.Key == "" && k.SHA256 == "":
		v.fail(path, `set sha256 (with id) or key ("${ENV_NAME}")`)
	case k.Key != "":
		v.fromEnv(join(path, "key"), k.Key, "an API key")
	default:
		if b, err := hex.DecodeString(k.SHA256); err != nil || len(b) != 32 {
			v.fail(join(path, "sha256"), "want the 64 lowercase hex digits of the SHA-256 of the whole key")
		}
		if k.ID == "" {
			v.required(join(path, "id"), "the key's prefix id (pp_<env>_<id>_…) to go with sha256")
		}
	}
	if k.ID != "" {
		switch {
		case !keyID.MatchString(k.ID):
			v.failValue(join(path, "id"), k.ID, fmt.Sprintf("invalid key id %q: 4-32 lowercase letters and digits", k.ID))
		case seen[k.ID] != "":
			v.failValue(join(path, "id"), k.ID, fmt.Sprintf("key id %q is used twice (first at line %d)", k.ID, v.d.at(seen[k.ID]).line))
		default:
			seen[k.ID] = join(path, "id")
		}
	}
	if k.Environment != "" && !keyEnv.MatchString(k.Environment) {
		v.failValue(join(path, "environment"), k.Environment, fmt.Sprintf("invalid environment %q", k.Environment))
	}
	for _, f := range []struct{ name, value string }{{"not_before", k.NotBefore}, {"expires_at", k.ExpiresAt}} {
		if f.value == "" {
			continue
		}
		if _, err := time.Parse(time.RFC3339, f.value); err != nil {
			v.failValue(join(path, f.name), f.value, fmt.Sprintf(`invalid time %q: use RFC 3339, e.g. "2027-01-31T00:00:00Z"`, f.value))
		}
	}
}

func (v *validator) routeAccess(path string, r *Route, authenticators, policies []string) {
	v.ipFilter(join(path, "ip"), r.IP)
	if r.CORS != nil {
		cp := join(path, "cors")
		if len(r.CORS.AllowOrigins) == 0 {
			v.required(join(cp, "allow_origins"), `the origins allowed to call, e.g. ["https://app.example.com"]`)
		}
	}
	if r.Auth != nil {
		mp := join(path, "auth.methods")
		if len(r.Auth.Methods) == 0 {
			v.required(mp, "the names of the authenticators this route accepts")
		}
		for j, m := range r.Auth.Methods {
			v.refers(index(mp, j), m, "authenticator", authenticators)
		}
	}
	if a := r.Authorize; a != nil {
		ap := join(path, "authorize")
		if r.Auth == nil {
			v.fail(ap, "authorize needs auth: without an authenticated caller there is nothing to authorize")
		}
		switch a.ScopesMode {
		case "", "all", "any":
		default:
			v.failValue(join(ap, "scopes_mode"), a.ScopesMode, fmt.Sprintf(`invalid scopes_mode %q: use "all" or "any"`, a.ScopesMode))
		}
		for j, p := range a.Policies {
			v.refers(index(join(ap, "policies"), j), p, "policy", policies)
		}
		v.mode(join(ap, "mode"), a.Mode)
	}
	if r.CSRF != nil {
		v.mode(join(path, "csrf.mode"), r.CSRF.Mode)
	}
}
