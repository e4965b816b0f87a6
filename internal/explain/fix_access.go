package explain

import (
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/identity"
)

// This file writes the fixes of identity and access refusals: authn.*,
// consumer.*, tenant.*, authz.*, ip.*, cors.* and csrf.*.

func (fx *fixer) authn() *Fix {
	key := fx.keyPrefix()
	switch fx.code {
	case "authn.credential_missing":
		return &Fix{Cause: "The request carried no credential of a kind " + fx.routeField("auth.methods") + " accepts.",
			Actions: append(fx.whereCredentials(),
				"If the route is meant to be public, remove its auth block, or set "+fx.routeField("auth.optional")+": true to admit anonymous callers; then "+fx.apply()+".")}
	case "authn.credential_malformed", "authn.token_malformed":
		return &Fix{Cause: "The credential could not be parsed: " + orSomething(fx.why, "it is not well formed") + ".",
			Actions: []string{"The client must send the credential exactly as issued, without quotes or extra spaces; API keys look like pp_<environment>_<id>_<secret>.",
				"If the client lost its key, issue a new one: " + fx.createKeyCmd(nil) + "."}}
	case "authn.credential_ambiguous":
		return &Fix{Cause: "The request carried more than one credential: " + orSomething(fx.why, "the gateway does not guess which one counts") + ".",
			Actions: []string{"The client must send exactly one credential (for example the X-API-Key header or an Authorization: Bearer token, not both)."}}
	case "authn.credential_wrong_location":
		acts := fx.whereCredentials()
		if a := fx.authenticator(); a != nil && a.APIKey != nil && a.APIKey.Query == "" {
			acts = append(acts, "Keys in URLs end up in logs; only if you must, set authenticators "+a.Name+" api_key.query to the parameter name and "+fx.apply()+".")
		}
		return &Fix{Cause: "An API key was sent where " + orSomething(fx.x.Caller.Authenticator, "the authenticator") + " does not read keys: " + orSomething(fx.why, "a header or parameter it is not configured for") + ".",
			Actions: acts}
	case "authn.key_unknown":
		return &Fix{Cause: "No API key " + key + " exists, or its secret does not match the stored hash (" + orSomething(fx.why, "see the trace") + ").",
			Actions: []string{"Check that the client sends the whole key it was given. A lost key cannot be recovered: issue a new one with " + fx.createKeyCmd(nil) + " and hand it over."}}
	case "authn.key_expired":
		return fx.keyReplace("API key "+key+" expired"+fx.keyTime(func(k *identity.KeyRecord) time.Time { return k.ExpiresAt })+".",
			"change or remove expires_at of the key in the configuration")
	case "authn.key_revoked":
		why := ""
		if k := fx.f.Key; k != nil && k.RevokedReason != "" {
			why = " (reason: " + k.RevokedReason + ")"
		}
		return fx.keyReplace("API key "+key+" was revoked"+fx.keyTime(func(k *identity.KeyRecord) time.Time { return k.RevokedAt })+why+"; revocation is final.",
			"remove the key from the configuration")
	case "authn.key_not_yet_valid":
		return &Fix{Cause: "API key " + key + " is not valid yet" + fx.keyTime(func(k *identity.KeyRecord) time.Time { return k.NotBefore }) + ".",
			Actions: []string{"The client can retry after that time; or issue a key valid now: " + fx.createKeyCmd(fx.keyScopes()) + "."}}
	case "authn.key_rotated":
		next := ""
		if k := fx.f.Key; k != nil && k.ReplacedBy != "" {
			next = " by key " + identity.Prefix(k.Env, k.ReplacedBy)
		}
		return &Fix{Cause: "API key " + key + " was rotated" + next + " and its grace period is over.",
			Actions: []string{"The client must switch to the replacement key it was given at rotation.",
				"If the replacement was lost, issue another: " + fx.createKeyCmd(fx.keyScopes()) + "."}}
	case "authn.key_wrong_environment":
		env := "this gateway's"
		if fx.cfg != nil {
			env = "the " + fx.cfg.Gateway.Environment
		}
		return &Fix{Cause: "API key " + key + " belongs to another environment; this gateway serves " + env + " environment.",
			Actions: []string{"Send the key to the gateway of its own environment, or issue a key for this one: " + fx.createKeyCmd(fx.keyScopes()) + "."}}
	case "authn.consumer_unknown":
		claim := "consumer_claim"
		if a := fx.authenticator(); a != nil {
			if a.JWT != nil && a.JWT.ConsumerClaim != "" {
				claim = "consumer_claim (" + a.JWT.ConsumerClaim + ")"
			} else if a.Introspection != nil && a.Introspection.ConsumerClaim != "" {
				claim = "consumer_claim (" + a.Introspection.ConsumerClaim + ")"
			}
		}
		return &Fix{Cause: "The credential is valid but its " + claim + " names no known consumer" + suffix(fx.x.Caller.Credential, ": ") + ".",
			Actions: []string{"Create the consumer: `pinpoint consumers create " + orSomething(fx.x.Caller.Credential, "ID") + "`.",
				"Or fix the authenticator's consumer_claim, or turn off require_consumer, and " + fx.apply() + "."}}
	case "authn.idp_unavailable":
		return &Fix{Cause: "The identity provider could not be reached: " + orSomething(fx.why, "see the trace") + ".",
			Actions: []string{"Check that the gateway reaches " + fx.idpEndpoint() + " (DNS, firewall, TLS); the caller cannot fix this."}}
	case "authn.basic_invalid":
		return &Fix{Cause: "Basic authentication failed: " + orSomething(fx.why, "unknown user or wrong password") + ".",
			Actions: []string{"The client must send the right user name and password. To reset a password, put a new argon2id or bcrypt hash in the consumer's basic credentials and " + fx.apply() + "."}}
	case "authn.client_cert_missing":
		return &Fix{Cause: "The route accepts only TLS client certificates and the connection presented none that verified.",
			Actions: []string{"The client must connect with its certificate; the listener needs tls.client_ca_file naming the CA that issued it."}}
	case "authn.client_cert_unknown":
		return &Fix{Cause: "The client certificate verified, but no consumer lists it: " + orSomething(fx.why, "see the trace") + ".",
			Actions: []string{"Add the certificate's subject or SHA-256 fingerprint to the consumer's mtls list and " + fx.apply() + "."}}
	}
	if strings.HasPrefix(fx.code, "authn.token_") {
		return fx.token()
	}
	if strings.HasPrefix(fx.code, "authn.signature_") || fx.code == "authn.digest_mismatch" {
		return &Fix{Cause: "The HMAC request signature was refused: " + orSomething(fx.why, "see the trace") + ".",
			Actions: []string{"The client must sign the exact request it sends (the listed headers, in order, with the shared secret and the current time); a proxy that rewrites a signed header breaks the signature.",
				"Signing rules are the authenticator's hmac block (clock_skew, required_headers); keys are the consumers' hmac_keys."}}
	}
	return nil
}

// token is the fix of a JWT or introspection refusal, with the
// authenticator's settings.
func (fx *fixer) token() *Fix {
	a := fx.authenticator()
	var j *config.JWTAuth
	if a != nil {
		j = a.JWT
	}
	cause := "The bearer token was refused: " + orSomething(fx.why, "see the trace") + "."
	var acts []string
	switch fx.code {
	case "authn.token_expired", "authn.token_not_yet_valid":
		acts = append(acts, "The client must get a fresh token from its identity provider.")
		if j != nil {
			acts = append(acts, "If clocks disagree, raise jwt.leeway (now "+j.Leeway.D().String()+") of authenticator "+a.Name+" or fix NTP.")
		}
	case "authn.token_issuer_mismatch":
		if j != nil {
			acts = append(acts, "The gateway expects issuer "+j.Issuer+" (jwt.issuer of authenticator "+a.Name+"); the client must use that identity provider, or change jwt.issuer and "+fx.apply()+".")
		}
	case "authn.token_audience_mismatch":
		if j != nil {
			acts = append(acts, "The gateway accepts audiences "+list(j.Audiences)+" (jwt.audiences of authenticator "+a.Name+"); the client must request a token for one of them, or add its audience and "+fx.apply()+".")
		}
	case "authn.token_algorithm_not_allowed":
		if j != nil {
			acts = append(acts, "Accepted algorithms are jwt.algorithms of authenticator "+a.Name+" "+list(j.Algorithms)+"; add the provider's algorithm if it is safe (never none).")
		}
	case "authn.token_unknown_kid", "authn.token_invalid":
		if j != nil && j.JWKSURL != "" {
			acts = append(acts, "Check that "+j.JWKSURL+" publishes the key the token names; tokens from another environment's provider do not verify.")
		}
	case "authn.token_claim_missing":
		if j != nil {
			acts = append(acts, "Required claims are "+list(j.RequiredClaims)+" (jwt.required_claims of authenticator "+a.Name+"); the provider must issue them, or remove the claim from the list.")
		}
	case "authn.token_inactive":
		acts = append(acts, "The authorization server says the token is not active (expired, revoked or unknown); the client must get a new one.")
	}
	acts = append(acts, "The client should get a new token from its identity provider and retry.")
	return &Fix{Cause: cause, Actions: acts}
}

// idpEndpoint names the identity provider's URL from the authenticator.
func (fx *fixer) idpEndpoint() string {
	if a := fx.authenticator(); a != nil {
		switch {
		case a.JWT != nil && a.JWT.JWKSURL != "":
			return a.JWT.JWKSURL
		case a.Introspection != nil:
			return a.Introspection.URL
		}
	}
	return "the identity provider's endpoint"
}

// whereCredentials tells the client where the route's authenticators read
// credentials.
func (fx *fixer) whereCredentials() []string {
	if fx.cfg == nil || fx.rt == nil || fx.rt.Auth == nil {
		return []string{"The client must send a credential as the WWW-Authenticate header of the answer describes."}
	}
	var ways []string
	for _, m := range fx.rt.Auth.Methods {
		for i := range fx.cfg.Authenticators {
			a := &fx.cfg.Authenticators[i]
			if a.Name != m {
				continue
			}
			switch a.Type {
			case "api_key":
				header := defaultKeyHeader
				bearer := true
				if a.APIKey != nil {
					if a.APIKey.Header != "" {
						header = a.APIKey.Header
					}
					if a.APIKey.Bearer != nil {
						bearer = *a.APIKey.Bearer
					}
				}
				w := "an API key in the " + header + " header"
				if bearer {
					w += " or as Authorization: Bearer"
				}
				ways = append(ways, w+" ("+a.Name+")")
			case "jwt", "introspection":
				ways = append(ways, "a bearer token ("+a.Name+")")
			case "basic":
				ways = append(ways, "Authorization: Basic ("+a.Name+")")
			case "hmac":
				ways = append(ways, "an HMAC Signature ("+a.Name+")")
			case "mtls":
				ways = append(ways, "a TLS client certificate ("+a.Name+")")
			}
		}
	}
	if len(ways) == 0 {
		return []string{"The client must send a credential as the WWW-Authenticate header of the answer describes."}
	}
	return []string{"The client must send " + strings.Join(ways, ", or ") + "."}
}

// keyTime formats one of the key record's times as " at T", or "".
func (fx *fixer) keyTime(at func(*identity.KeyRecord) time.Time) string {
	if k := fx.f.Key; k != nil {
		if t := at(k); !t.IsZero() {
			return " at " + t.UTC().Format(time.RFC3339)
		}
	}
	return ""
}

// keyReplace is the fix for a key that can no longer be used.
func (fx *fixer) keyReplace(cause, declaredChange string) *Fix {
	if k := fx.f.Key; k != nil && k.Source == identity.SourceConfig {
		return &Fix{Cause: cause, Actions: []string{
			"The key is declared in the configuration (consumer " + fx.consumerOr() + "): " + declaredChange + ", or declare a new key, and " + fx.apply() + ".",
			"Or issue a run-time key: " + fx.createKeyCmd(fx.keyScopes()) + "."}}
	}
	return &Fix{Cause: cause, Actions: []string{
		"Issue a replacement with the same scopes and hand it to the client: " + fx.createKeyCmd(fx.keyScopes()) + " (add --expires-in 2160h for a bounded lifetime)."}}
}

// suspended is the fix of consumer.suspended and tenant.suspended.
func (fx *fixer) suspended() *Fix {
	if fx.code == "tenant.suspended" {
		t := orSomething(fx.x.Caller.Tenant, strings.TrimPrefix(fx.rule, "tenant:"))
		cause := "Tenant " + t + " is suspended, which suspends all its consumers"
		declared := false
		if r := fx.f.Tenant; r != nil {
			if r.SuspendedReason != "" {
				cause += " (reason: " + fx.policyText(r.SuspendedReason) + ")"
			}
			declared = r.Source == identity.SourceConfig
		}
		if declared {
			return &Fix{Cause: cause + ".", Actions: []string{"The tenant is declared in the configuration: set its status to active and " + fx.apply() + "."}}
		}
		return &Fix{Cause: cause + ".", Actions: []string{"If access should be restored: `pinpoint tenants activate " + t + "`."}}
	}
	c := orSomething(fx.x.Caller.Consumer, strings.TrimPrefix(fx.rule, "consumer:"))
	cause := "Consumer " + c + " is suspended"
	if r := fx.f.Consumer; r != nil && r.SuspendedReason != "" {
		cause += " (reason: " + fx.policyText(r.SuspendedReason) + ")"
	}
	if fx.consumerDeclared() {
		return &Fix{Cause: cause + ".", Actions: []string{"The consumer is declared in the configuration: set its status to active and " + fx.apply() + "."}}
	}
	return &Fix{Cause: cause + ".", Actions: []string{"If access should be restored: `pinpoint consumers activate " + c + "`."}}
}

// policyText redacts operator text that might quote a secret.
func (fx *fixer) policyText(s string) string { return policyFor(fx.cfg).Text(s) }

func (fx *fixer) authz() *Fix {
	var az *config.Authorize
	if fx.rt != nil {
		az = fx.rt.Authorize
	}
	consumer := fx.consumerOr()
	switch fx.code {
	case "authz.scope_missing":
		return fx.scopeMissing(az)
	case "authz.role_missing":
		groups := []string(nil)
		if az != nil {
			groups = az.Groups
		}
		cause := "Consumer " + consumer + " is in none of the groups " + fx.routeField("authorize.groups") + " requires " + list(groups) + "."
		return &Fix{Cause: cause, Actions: []string{fx.groupChange("add one of " + list(groups) + " to"),
			"Or, if the route should admit it, extend " + fx.routeField("authorize.groups") + " and " + fx.apply() + "."}}
	case "authz.role_denied":
		return &Fix{Cause: "Consumer " + consumer + " is in a group " + fx.routeField("authorize.deny_groups") + " refuses: " + orSomething(fx.why, "see the trace") + ".",
			Actions: []string{fx.groupChange("remove the group from"),
				"Or remove the group from " + fx.routeField("authorize.deny_groups") + " and " + fx.apply() + "."}}
	case "authz.tenant_not_allowed":
		t := orSomething(fx.x.Caller.Tenant, "(none)")
		tenants := []string(nil)
		if az != nil {
			tenants = az.Tenants
		}
		return &Fix{Cause: "Tenant " + t + " of consumer " + consumer + " is not in " + fx.routeField("authorize.tenants") + " " + list(tenants) + ".",
			Actions: []string{"If the tenant should have access, add " + t + " to " + fx.routeField("authorize.tenants") + " and " + fx.apply() + "."}}
	case "authz.not_owner":
		rule := fx.rule
		if az != nil && strings.HasPrefix(rule, "owner[") {
			for i, o := range az.Owner {
				if rule == "owner["+itoa(i)+"]" {
					what := "path parameter " + o.Param
					if o.BodyField != "" {
						what = "body field " + o.BodyField
					}
					rule += " (" + what + " must equal " + o.Equals + ")"
				}
			}
		}
		return &Fix{Cause: "Ownership rule " + rule + " of route " + fx.x.Route + " did not hold: " + orSomething(fx.why, "the resource belongs to someone else") + ".",
			Actions: []string{"This is usually the caller asking for someone else's resource, and the refusal is right.",
				"If the rule compares the wrong attribute, fix " + fx.routeField("authorize.owner") + " and " + fx.apply() + "."}}
	case "authz.policy_denied":
		name := strings.TrimPrefix(fx.rule, "policy:")
		cause := "Policy " + name + " refused the request: " + orSomething(fx.why, "it evaluated to false") + "."
		acts := []string{}
		if p := fx.policy(name); p != nil {
			cause = "Policy " + name + " (" + p.Expression + ") refused the request: " + orSomething(fx.why, "it evaluated to false") + "."
		}
		acts = append(acts, "Check the policy's inputs for this caller (consumer "+consumer+", credential "+orSomething(fx.x.Caller.Credential, "none")+"); `pinpoint simulate` replays the request against a changed policy without sending it.",
			"If the policy is wrong, change policies "+name+" expression and "+fx.apply()+"; set its mode to report_only to measure a change before enforcing it.")
		return &Fix{Cause: cause, Actions: acts}
	case "authz.authentication_required":
		return &Fix{Cause: "The route's auth is optional but its authorize rules need an identity, and the caller sent no credential.",
			Actions: append(fx.whereCredentials(), "Or drop the authorize rules that need an identity from route "+fx.x.Route+".")}
	}
	return nil
}

// scopeMissing names the missing scopes and how to grant them to this
// kind of credential.
func (fx *fixer) scopeMissing(az *config.Authorize) *Fix {
	var required []string
	anyMode := false
	if az != nil {
		required, anyMode = az.Scopes, az.ScopesMode == "any"
	}
	granted := fx.keyScopes()
	var missing []string
	for _, s := range required {
		if !contains(granted, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) == 0 {
		// The key changed since, or the configuration is unknown: the
		// stage's own words.
		if m := between(fx.why, "lacks scope ", " ("); m != "" {
			missing = strings.Fields(m)
		}
	}
	want := strings.Join(missing, " ")
	if anyMode {
		want = "one of " + strings.Join(missing, ", ")
	}
	who := "Credential " + fx.keyPrefix()
	if fx.x.Caller.Key != nil {
		who = "Key " + fx.keyPrefix()
	}
	cause := who + " lacks scope " + want + ", which " + fx.routeField("authorize.scopes") + " requires."
	var acts []string
	grant := missing
	if anyMode && len(missing) > 0 {
		grant = missing[:1]
	}
	switch k := fx.f.Key; {
	case k != nil && k.Source == identity.SourceConfig:
		acts = append(acts, "The key is declared in the configuration: add "+strings.Join(grant, ", ")+" to the scopes of key "+k.ID+" under consumer "+k.ConsumerID+", and "+fx.apply()+".")
	case k != nil:
		acts = append(acts, "An API key's scopes are fixed when it is issued: issue a replacement with the scope, "+
			fx.createKeyCmd(append(append([]string(nil), k.Scopes...), grant...))+", hand it to the client, then revoke the old key: `pinpoint keys revoke "+k.ID+" --reason \"replaced: scope "+strings.Join(grant, " ")+" added\"`.")
	case identity.LooksLikeKey(fx.x.Caller.Credential):
		acts = append(acts, "Issue a key with the scope: "+fx.createKeyCmd(grant)+".")
	default:
		acts = append(acts, "The token's scope claim lacks it: grant "+strings.Join(grant, ", ")+" to the client at its identity provider, and have it fetch a new token.")
	}
	acts = append(acts, "Or, if the route should not require it, remove it from "+fx.routeField("authorize.scopes")+" and "+fx.apply()+".")
	return &Fix{Cause: cause, Actions: acts}
}

// groupChange says how to change the caller's groups.
func (fx *fixer) groupChange(verb string) string {
	c := fx.consumerOr()
	if fx.consumerDeclared() {
		return "Consumer " + c + " is declared in the configuration: " + verb + " its groups and " + fx.apply() + "."
	}
	groups := []string(nil)
	if r := fx.f.Consumer; r != nil {
		groups = r.Groups
	}
	return "Consumer " + c + " (groups now " + list(groups) + "): " + verb + " its groups with `pinpoint consumers update " + c +
		" --group ...` (update replaces name, tenant, groups and metadata: repeat the ones to keep)."
}

// policy returns the named policy of the configuration.
func (fx *fixer) policy(name string) *config.Policy {
	if fx.cfg == nil {
		return nil
	}
	for i := range fx.cfg.Policies {
		if fx.cfg.Policies[i].Name == name {
			return &fx.cfg.Policies[i]
		}
	}
	return nil
}

func (fx *fixer) ip() *Fix {
	addr := orSomething(fx.x.Request.ClientIP, "the client")
	var f *config.IPFilter
	field := fx.rule
	if fx.cfg != nil {
		switch {
		case strings.HasPrefix(fx.rule, "gateway.ip"):
			f, field = &fx.cfg.Gateway.IP, strings.TrimPrefix(fx.rule, "gateway.")
			field = "gateway." + field
		case fx.rt != nil:
			f, field = &fx.rt.IP, fx.routeField(strings.TrimPrefix(fx.rule, "route."))
		}
	}
	proxies := "If every client shows up with a proxy's address, add the proxy to gateway.trusted_proxies so the client's own address is used."
	if fx.code == "ip.denied" {
		entries := ""
		if f != nil {
			entries = " " + list(f.Deny)
		}
		return &Fix{Cause: "Client " + addr + " is on the deny list " + field + entries + ": " + orSomething(fx.why, "see the trace") + ".",
			Actions: []string{"If the address should be allowed, remove the matching entry from " + field + " and " + fx.apply() + ".", proxies}}
	}
	entries := ""
	if f != nil {
		entries = " " + list(f.Allow)
	}
	return &Fix{Cause: "Client " + addr + " is on none of the entries of the allow list " + field + entries + ".",
		Actions: []string{"If the client should be admitted, add its address or network to " + field + " and " + fx.apply() + ".", proxies}}
}

func (fx *fixer) cors() *Fix {
	var c *config.CORS
	if fx.rt != nil {
		c = fx.rt.CORS
	}
	origin := orSomething(header(fx.in, "Origin"), "the caller's origin")
	switch fx.code {
	case "cors.origin_not_allowed":
		allowed := ""
		if c != nil {
			allowed = " " + list(c.AllowOrigins)
		}
		return &Fix{Cause: "Origin " + origin + " is not in " + fx.routeField("cors.allow_origins") + allowed + ".",
			Actions: []string{"If the web application at " + origin + " is yours, add it (exact, or a pattern such as https://*.example.com) to " + fx.routeField("cors.allow_origins") + " and " + fx.apply() + "."}}
	case "cors.method_not_allowed":
		method := orSomething(header(fx.in, "Access-Control-Request-Method"), "the method")
		allowed := ""
		if c != nil && len(c.AllowMethods) > 0 {
			allowed = " " + list(c.AllowMethods)
		}
		return &Fix{Cause: "The preflight from " + origin + " asked for " + method + ", which " + fx.routeField("cors.allow_methods") + allowed + " does not allow.",
			Actions: []string{"Add " + method + " to " + fx.routeField("cors.allow_methods") + " (and to the route's methods) and " + fx.apply() + "."}}
	case "cors.header_not_allowed":
		hdrs := orSomething(header(fx.in, "Access-Control-Request-Headers"), "a header")
		return &Fix{Cause: "The preflight from " + origin + " asked to send " + hdrs + ": " + orSomething(fx.why, "not in cors.allow_headers") + ".",
			Actions: []string{"Add the header to " + fx.routeField("cors.allow_headers") + " and " + fx.apply() + ", or have the client stop sending it."}}
	}
	return nil
}

func (fx *fixer) csrf() *Fix {
	var c *config.CSRF
	if fx.rt != nil {
		c = fx.rt.CSRF
	}
	switch fx.code {
	case "csrf.origin_mismatch":
		origin := orSomething(header(fx.in, "Origin"), "another site")
		trusted := ""
		if c != nil {
			trusted = " " + list(c.TrustedOrigins)
		}
		return &Fix{Cause: "A state-changing request came from " + origin + ", which is neither the request's own origin nor in " + fx.routeField("csrf.trusted_origins") + trusted + ".",
			Actions: []string{"This is what a cross-site request forgery looks like; if " + origin + " is your own application, add it to " + fx.routeField("csrf.trusted_origins") + " and " + fx.apply() + ".",
				fx.reportOnly("csrf.mode")}}
	case "csrf.token_missing", "csrf.token_mismatch":
		cookie, header := "csrf_token", "X-CSRF-Token"
		if c != nil && c.Token != nil {
			cookie, header = orSomething(c.Token.Cookie, cookie), orSomething(c.Token.Header, header)
		}
		return &Fix{Cause: "The double-submit CSRF check failed: " + orSomething(fx.why, "the header and the cookie differ") + ".",
			Actions: []string{"The client page must copy the " + cookie + " cookie into the " + header + " header of every state-changing request."}}
	}
	return nil
}

// defaultKeyHeader is where api_key authenticators read keys by default.
const defaultKeyHeader = "X-API-Key"

func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, end)
	return v
}

func suffix(s, sep string) string {
	if s == "" {
		return ""
	}
	return sep + s
}
