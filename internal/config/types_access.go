package config

// This file holds the identity and access part of the schema: tenants,
// consumers and their credentials, authenticators, policies, and the
// per-route ip, cors, auth, authorize and csrf blocks.

// IPFilter allows or denies client addresses (resolved through
// gateway.trusted_proxies only). Deny lists are checked first; then, when
// an allow list is set, the address must be on it.
//
//	ip:
//	  allow: ["10.0.0.0/8", "2001:db8::/32"]
//	  deny: ["10.6.6.6"]
type IPFilter struct {
	// Allow lists the addresses and CIDRs that may call. Empty: every
	// address not denied.
	Allow []string `yaml:"allow"`
	// Deny lists addresses and CIDRs that are refused with ip.denied.
	Deny []string `yaml:"deny"`
	// Mode is "enforce" (default) or "report_only": refusals are traced and
	// counted as would_deny, and the request goes on.
	Mode string `yaml:"mode"`
}

// CORS answers preflights and decorates responses for browser callers.
//
//	cors:
//	  allow_origins: ["https://app.example.com", "https://*.example.com"]
//	  allow_methods: [GET, POST]
//	  allow_headers: [Authorization, Content-Type]
//	  expose_headers: [X-Request-Id]
//	  allow_credentials: true
//	  max_age: 10m
type CORS struct {
	// AllowOrigins are the origins allowed to call: exact
	// ("https://app.example.com"), a subdomain pattern
	// ("https://*.example.com", one or more labels) or "*" (any origin;
	// not allowed with allow_credentials). Origins are written as browsers
	// send them: no path, no trailing slash, no default port (":443").
	// The opaque origin "null" matches only an explicit "null" entry.
	// Required.
	AllowOrigins []string `yaml:"allow_origins"`
	// AllowMethods for cross-origin requests. Default: the route's methods,
	// or GET, HEAD and POST when the route allows every method.
	AllowMethods []string `yaml:"allow_methods"`
	// AllowHeaders the browser may send; "*" allows whatever a preflight
	// asks for. Default: Accept, Accept-Language, Content-Language,
	// Content-Type, Authorization, X-Request-Id and the API key header.
	AllowHeaders []string `yaml:"allow_headers"`
	// ExposeHeaders the browser script may read. Default: X-Request-Id,
	// Pinpoint-Code, Pinpoint-Layer and Retry-After.
	ExposeHeaders []string `yaml:"expose_headers"`
	// AllowCredentials lets browsers send cookies and HTTP auth. Default false.
	AllowCredentials bool `yaml:"allow_credentials"`
	// MaxAge lets browsers cache a preflight answer. Default "10m".
	MaxAge Duration `yaml:"max_age"`
	// Enforce refuses actual (non-preflight) requests from disallowed
	// origins with cors.origin_not_allowed. Default false: they are served
	// without CORS headers, so the browser hides the answer from the script.
	Enforce bool `yaml:"enforce"`
}

// RouteAuth says how callers of a route authenticate.
//
//	auth:
//	  methods: [partner-keys, corp-jwt]
type RouteAuth struct {
	// Methods names the authenticators (see authenticators) to try, in
	// order. The first that finds a credential of its kind decides.
	// Required.
	Methods []string `yaml:"methods"`
	// Optional lets requests without any credential through as anonymous
	// callers (a credential that is present must still be valid). Default false.
	Optional bool `yaml:"optional"`
}

// Authorize lists what an authenticated caller must satisfy. All rules
// must hold; the first that fails refuses with its own code.
//
//	authorize:
//	  scopes: [orders:write]
//	  groups: [partners]
//	  tenants: [acme]
//	  owner:
//	    - param: user_id
//	      equals: consumer.metadata.user_id
//	  policies: [business-hours]
type Authorize struct {
	// Scopes the credential must carry.
	Scopes []string `yaml:"scopes"`
	// ScopesMode is "all" (default: every scope) or "any" (at least one).
	ScopesMode string `yaml:"scopes_mode"`
	// Groups (roles): the consumer must be in at least one.
	Groups []string `yaml:"groups"`
	// DenyGroups: consumers in any of these are refused.
	DenyGroups []string `yaml:"deny_groups"`
	// Tenants: the consumer's tenant must be one of these.
	Tenants []string `yaml:"tenants"`
	// Owner rules tie a resource to the caller; every rule must hold.
	Owner []OwnerRule `yaml:"owner"`
	// Policies names policies (see policies) that must allow the request.
	Policies []string `yaml:"policies"`
	// Mode is "enforce" (default) or "report_only" for every rule above.
	Mode string `yaml:"mode"`
}

// OwnerRule requires a path parameter or a JSON body field to equal an
// attribute of the caller: "/users/{id}" only for that user.
//
//	owner:
//	  - param: id
//	    equals: consumer.id
//	  - body_field: /account/owner
//	    equals: claims.sub
type OwnerRule struct {
	// Param is a path parameter of the route ("id" of "/users/{id}").
	Param string `yaml:"param"`
	// BodyField is a JSON pointer into the request body ("/owner_id").
	// Requests without that field are refused.
	BodyField string `yaml:"body_field"`
	// Equals names the caller attribute: "consumer.id", "consumer.tenant",
	// "consumer.metadata.NAME", "credential.id" or "claims.NAME". Required.
	Equals string `yaml:"equals"`
}

// CSRF protects routes authenticated by cookies from cross-site request
// forgery. Safe methods (GET, HEAD, OPTIONS) are never refused.
//
//	csrf:
//	  trusted_origins: ["https://admin.example.com"]
//	  token:
//	    cookie: csrf_token
//	    header: X-CSRF-Token
type CSRF struct {
	// TrustedOrigins may send state-changing requests besides the
	// request's own origin. Example: ["https://app.example.com"].
	TrustedOrigins []string `yaml:"trusted_origins"`
	// Token turns on double-submit tokens: the header must equal the cookie.
	Token *CSRFToken `yaml:"token"`
	// Mode is "enforce" (default) or "report_only".
	Mode string `yaml:"mode"`
}

// CSRFToken names the double-submit cookie and header.
type CSRFToken struct {
	// Cookie holding the token. Default "csrf_token".
	Cookie string `yaml:"cookie"`
	// Header that must repeat it. Default "X-CSRF-Token".
	Header string `yaml:"header"`
}

// Authenticator is a named authentication method that routes refer to in
// auth.methods. Type selects the block that configures it.
//
//	authenticators:
//	  - name: partner-keys
//	    type: api_key
//	  - name: corp-jwt
//	    type: jwt
//	    jwt:
//	      jwks_url: https://login.example.com/.well-known/jwks.json
//	      issuer: https://login.example.com/
//	      audiences: [orders-api]
type Authenticator struct {
	// Name identifies the authenticator. Required, unique.
	Name string `yaml:"name"`
	// Type is "api_key", "jwt", "introspection", "basic", "hmac" or "mtls".
	// Required. Type mtls needs no block: it identifies callers by the TLS
	// client certificate a listener with tls.client_ca_file verified, and
	// consumers list their certificates under mtls.
	Type string `yaml:"type"`
	// APIKey configures type api_key.
	APIKey *APIKeyAuth `yaml:"api_key"`
	// JWT configures type jwt.
	JWT *JWTAuth `yaml:"jwt"`
	// Introspection configures type introspection.
	Introspection *IntrospectionAuth `yaml:"introspection"`
	// Basic configures type basic.
	Basic *BasicAuth `yaml:"basic"`
	// HMAC configures type hmac.
	HMAC *HMACAuth `yaml:"hmac"`
}

// APIKeyAuth reads Pinpoint API keys (pp_<env>_<id>_<secret>).
type APIKeyAuth struct {
	// Header the key is read from. Default "X-API-Key".
	Header string `yaml:"header"`
	// Bearer also reads "Authorization: Bearer <key>". Default true.
	Bearer *bool `yaml:"bearer"`
	// Query names a query parameter the key may be sent in. Default: none
	// (keys in URLs end up in logs and browser history; opt in knowingly).
	Query string `yaml:"query"`
	// Forward sends the key on to the upstream. Default false: the key is
	// the gateway's credential, so it is removed from the request (header,
	// bearer token or query parameter) once verified, and never reaches
	// backend logs.
	Forward bool `yaml:"forward"`
}

// JWTAuth verifies JSON Web Tokens sent as "Authorization: Bearer <jwt>".
// Keys come from a JWKS URL, a shared secret (HS*) or PEM public keys.
type JWTAuth struct {
	// JWKSURL is fetched at start, cached, refreshed in the background and on
	// an unknown kid. Example: "https://login.example.com/.well-known/jwks.json".
	JWKSURL string `yaml:"jwks_url"`
	// JWKSRefresh is the background refresh interval. Default "15m".
	JWKSRefresh Duration `yaml:"jwks_refresh"`
	// Secret is the HMAC secret for HS256/384/512, given as "${ENV_NAME}".
	Secret string `yaml:"secret"`
	// PublicKeys are PEM files of RSA, ECDSA or Ed25519 public keys, each
	// with a key id: {kid: "2026-01", file: "/etc/pinpoint/idp.pem"}.
	PublicKeys []JWTPublicKey `yaml:"public_keys"`
	// Algorithms accepted. Default: the algorithms the keys can verify
	// (RS*, PS*, ES*, EdDSA for public keys; HS* for a secret). "none" is never accepted.
	Algorithms []string `yaml:"algorithms"`
	// Issuer the iss claim must equal. Recommended.
	Issuer string `yaml:"issuer"`
	// Audiences: the aud claim must contain one of these. Recommended.
	Audiences []string `yaml:"audiences"`
	// Leeway tolerated on exp, nbf and iat for clock skew. Default "30s".
	Leeway Duration `yaml:"leeway"`
	// RequiredClaims must be present. Default: ["exp"].
	RequiredClaims []string `yaml:"required_claims"`
	// ConsumerClaim names the claim that holds the consumer id. Default "sub".
	ConsumerClaim string `yaml:"consumer_claim"`
	// RequireConsumer refuses tokens whose consumer_claim names no known
	// consumer (authn.consumer_unknown). Default false: such callers are
	// authenticated by their claims alone.
	RequireConsumer bool `yaml:"require_consumer"`
	// ScopeClaim holds the granted scopes: a space-separated string
	// ("scope", RFC 8693) or an array ("scp", "permissions"). Default "scope".
	ScopeClaim string `yaml:"scope_claim"`
	// GroupsClaim, when set, adds the claim's values (array or
	// space-separated) to the caller's groups. Example: "roles".
	GroupsClaim string `yaml:"groups_claim"`
}

// JWTPublicKey is one PEM public key for JWT verification.
type JWTPublicKey struct {
	// Kid is the key id tokens name in their header. Empty: the key is tried
	// for tokens without a kid.
	Kid string `yaml:"kid"`
	// File is the PEM file. Required.
	File string `yaml:"file"`
}

// IntrospectionAuth validates opaque bearer tokens with OAuth2 token
// introspection (RFC 7662).
type IntrospectionAuth struct {
	// URL of the introspection endpoint. Required.
	URL string `yaml:"url"`
	// ClientID and ClientSecret authenticate the gateway to the endpoint
	// (HTTP Basic). The secret is given as "${ENV_NAME}".
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
	// Timeout of one introspection call. Default "2s".
	Timeout Duration `yaml:"timeout"`
	// CacheTTL keeps active answers at most this long (never past the
	// token's exp). Default "60s"; inactive answers are cached for 10s.
	CacheTTL Duration `yaml:"cache_ttl"`
	// CacheSize bounds the cache (least recently used answers go first).
	// Default 10000.
	CacheSize int `yaml:"cache_size"`
	// ConsumerClaim names the member that holds the consumer id. Default "client_id".
	ConsumerClaim string `yaml:"consumer_claim"`
	// RequireConsumer refuses active tokens of unknown consumers. Default false.
	RequireConsumer bool `yaml:"require_consumer"`
	// ScopeClaim holds the scopes. Default "scope".
	ScopeClaim string `yaml:"scope_claim"`
}

// BasicAuth checks "Authorization: Basic" against the basic credentials of
// consumers (argon2id or bcrypt hashes).
type BasicAuth struct {
	// Realm shown in the WWW-Authenticate challenge. Default "pinpoint".
	Realm string `yaml:"realm"`
}

// HMACAuth verifies requests signed with a shared secret, in the
// draft-cavage HTTP Signatures form:
//
//	Authorization: Signature keyId="k1",algorithm="hmac-sha256",headers="(request-target) date digest",signature="base64"
type HMACAuth struct {
	// ClockSkew bounds the difference between the signed Date and the
	// gateway's clock. Default "5m".
	ClockSkew Duration `yaml:"clock_skew"`
	// RequiredHeaders must be in the signed header list. Default:
	// ["(request-target)", "date"]. Requests with a body must always sign
	// "digest" (or "content-digest"), so a body cannot be swapped under a
	// valid signature. Dropping "date" removes the replay bound.
	RequiredHeaders []string `yaml:"required_headers"`
}

// Policy is a named CEL expression that must evaluate to true for the
// request to be allowed. It sees request, consumer, credential and route.
//
//	policies:
//	  - name: business-hours
//	    expression: request.time.getHours("Europe/Berlin") >= 8
//	    detail: This operation is only available during business hours.
//	    hint: Retry between 08:00 and 18:00 Berlin time.
type Policy struct {
	// Name identifies the policy. Required, unique.
	Name string `yaml:"name"`
	// Expression is a CEL expression of type bool. Required.
	Expression string `yaml:"expression"`
	// Detail is shown to refused callers. Must not reveal secrets.
	// Default: "This request is not allowed by the API's access policy."
	Detail string `yaml:"detail"`
	// Hint tells refused callers what to do. Default: "Contact the API owner
	// if you believe you should have access."
	Hint string `yaml:"hint"`
	// Mode is "enforce" (default) or "report_only".
	Mode string `yaml:"mode"`
}

// Tenant is an organization that consumers belong to.
//
//	tenants:
//	  - id: acme
//	    name: Acme Corp
type Tenant struct {
	// ID identifies the tenant. Required, unique; letters, digits, "-", "_", ".".
	ID string `yaml:"id"`
	// Name is the display name (never shown to other tenants).
	Name string `yaml:"name"`
	// Status is "active" (default) or "suspended".
	Status string `yaml:"status"`
	// Suspension explains a suspended status.
	Suspension Suspension `yaml:"suspension"`
}

// Suspension explains why a consumer or tenant is suspended.
type Suspension struct {
	// Reason is for operators only (trace, explain, admin API).
	Reason string `yaml:"reason"`
	// Category is shown to the caller: "billing", "abuse", "security",
	// "administrative" (default) or "expired".
	Category string `yaml:"category"`
}

// Consumer is a client of the APIs: an application, a partner, a user.
//
//	consumers:
//	  - id: orders-app
//	    name: Orders App
//	    tenant: acme
//	    groups: [partners]
//	    metadata: {user_id: "42"}
//	    api_keys:
//	      - id: k7f3a9c2d1e0
//	        sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//	        scopes: [orders:read]
type Consumer struct {
	// ID identifies the consumer. Required, unique; letters, digits, "-", "_", ".".
	ID string `yaml:"id"`
	// Name is the display name.
	Name string `yaml:"name"`
	// Tenant is the id of the consumer's tenant. Optional.
	Tenant string `yaml:"tenant"`
	// Groups (roles) the consumer belongs to.
	Groups []string `yaml:"groups"`
	// Metadata are free attributes policies and ownership rules can use.
	Metadata map[string]string `yaml:"metadata"`
	// Status is "active" (default) or "suspended".
	Status string `yaml:"status"`
	// Suspension explains a suspended status.
	Suspension Suspension `yaml:"suspension"`
	// APIKeys are keys declared with the consumer (more can be issued at
	// run time with `pinpoint keys create`).
	APIKeys []ConsumerKey `yaml:"api_keys"`
	// Basic credentials for type basic authenticators.
	Basic []BasicCredential `yaml:"basic"`
	// HMACKeys for type hmac authenticators.
	HMACKeys []HMACKey `yaml:"hmac_keys"`
	// MTLS lists the client certificates that identify the consumer.
	MTLS []CertIdentity `yaml:"mtls"`
}

// ConsumerKey declares an API key by its prefix id and the SHA-256 of the
// whole key, or by the whole key from the environment.
type ConsumerKey struct {
	// ID is the key's prefix id (the part after pp_<env>_). Required with sha256.
	ID string `yaml:"id"`
	// SHA256 is the lowercase hex SHA-256 of the whole key.
	SHA256 string `yaml:"sha256"`
	// Key is the whole key, given as "${ENV_NAME}" (never written literally).
	Key string `yaml:"key"`
	// Environment of the key. Default: gateway.environment.
	Environment string `yaml:"environment"`
	// Scopes granted to the key.
	Scopes []string `yaml:"scopes"`
	// NotBefore and ExpiresAt bound the key's validity (RFC 3339).
	NotBefore string `yaml:"not_before"`
	ExpiresAt string `yaml:"expires_at"`
}

// BasicCredential is a user name with an argon2id or bcrypt password hash.
type BasicCredential struct {
	// Username. Required, unique across consumers.
	Username string `yaml:"username"`
	// PasswordHash in PHC form: "$argon2id$v=19$m=65536,t=3,p=2$…" or
	// bcrypt "$2b$12$…". Required.
	PasswordHash string `yaml:"password_hash"`
}

// HMACKey is a shared signing secret.
type HMACKey struct {
	// ID is the keyId clients name in their signature. Required, unique.
	ID string `yaml:"id"`
	// Secret given as "${ENV_NAME}". Required.
	Secret string `yaml:"secret"`
}

// CertIdentity matches a verified client certificate.
type CertIdentity struct {
	// Subject matches the certificate's subject common name.
	Subject string `yaml:"subject"`
	// SHA256 matches the hex SHA-256 fingerprint of the certificate (DER).
	SHA256 string `yaml:"sha256"`
}
