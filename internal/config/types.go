// Package config defines Pinpoint's declarative configuration: its schema
// (these structs; their doc comments are the user documentation), a strict
// decoder that reports every error with file, line, column and field path,
// ${ENV} interpolation, defaults, validation and revision diffs.
package config

// Config is one configuration document (one revision).
//
//	version: 1
//	gateway: {...}
//	listeners: [...]
//	routes: [...]
//	upstreams: [...]
type Config struct {
	// Version of the schema. Required; the only version is 1.
	Version int `yaml:"version"`
	// Gateway holds settings that apply to every route.
	Gateway Gateway `yaml:"gateway"`
	// Listeners are the sockets the gateway serves. Default: one proxy
	// listener on ":8080" and one admin listener on "127.0.0.1:9901".
	Listeners []Listener `yaml:"listeners"`
	// Routes map requests to upstreams. Order does not matter: the most
	// specific host, then the most specific path wins.
	Routes []Route `yaml:"routes"`
	// Upstreams are the backend services routes send traffic to.
	Upstreams []Upstream `yaml:"upstreams"`
	// Authenticators are the named authentication methods routes use.
	Authenticators []Authenticator `yaml:"authenticators"`
	// Policies are named CEL expressions routes require in authorize.policies.
	Policies []Policy `yaml:"policies"`
	// Tenants are the organizations consumers belong to. More can be
	// created at run time (`pinpoint tenants create`).
	Tenants []Tenant `yaml:"tenants"`
	// Consumers are the clients of the APIs, with their credentials. More
	// can be created at run time (`pinpoint consumers create`).
	Consumers []Consumer `yaml:"consumers"`
	// WAF configures the web application firewall routes enable.
	WAF WAF `yaml:"waf"`
	// Redis connects counters shared by several nodes (store: redis).
	Redis *Redis `yaml:"redis"`
	// Explain configures decision tokens and replay inputs.
	Explain Explain `yaml:"explain"`
	// Analytics configures the per-minute roll-ups.
	Analytics Analytics `yaml:"analytics"`
	// Alerts are rules on the roll-ups, notified by webhook.
	Alerts Alerts `yaml:"alerts"`
	// Telemetry configures OpenTelemetry tracing.
	Telemetry Telemetry `yaml:"telemetry"`
	// Redact adds to the built-in redaction policy.
	Redact Redact `yaml:"redact"`
	// AI configures the AI gateway: model providers, models, access rules,
	// prices and prompt APIs. Routes serve it with an ai block.
	AI AI `yaml:"ai"`

	// positions maps field paths to where Load found them, so that errors
	// found later (when a snapshot is compiled) still name line and column.
	positions map[string]pos
}

// Gateway holds gateway-wide settings.
type Gateway struct {
	// Environment the gateway runs as; API keys carry theirs in the prefix.
	// Default "live". Example: "test".
	Environment string `yaml:"environment"`
	// RequestIDHeader names the request id header on requests and responses.
	// Default "X-Request-Id".
	RequestIDHeader string `yaml:"request_id_header"`
	// Disclosure is how much a refusal tells the caller: "minimal", "standard"
	// (default) or "debug".
	Disclosure string `yaml:"disclosure"`
	// TrustedProxies lists the CIDRs (or single addresses) of proxies whose
	// X-Forwarded-For, Forwarded, X-Request-Id and traceparent headers are
	// believed. Default: none, so client-supplied forwarding headers are ignored.
	// Example: ["10.0.0.0/8", "192.168.1.7"].
	TrustedProxies []string `yaml:"trusted_proxies"`
	// ForwardedHeader names the header a trusted proxy records the client
	// address in: "X-Forwarded-For" (default), "Forwarded" (RFC 7239) or
	// "auto" (Forwarded when present, else X-Forwarded-For). Pick the one your
	// proxies actually write: most proxies only append X-Forwarded-For and pass
	// a client's own Forwarded header through, so believing Forwarded from
	// them would let the client choose its address.
	ForwardedHeader string `yaml:"forwarded_header"`
	// Limits bound every request; routes may override them.
	Limits Limits `yaml:"limits"`
	// IP filters client addresses on every route, before the route's own list.
	IP IPFilter `yaml:"ip"`
	// CallLog configures the per-request call log.
	CallLog CallLog `yaml:"call_log"`
	// ShutdownTimeout is how long a graceful shutdown waits for in-flight
	// requests. Default "15s".
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
}

// Limits bound request sizes. Zero means "use the default"; routes inherit
// the gateway's limits and may override each field.
type Limits struct {
	// MaxBodyBytes caps the request body. Default "10MiB". Example: "512KiB".
	MaxBodyBytes ByteSize `yaml:"max_body_bytes"`
	// MaxHeaderBytes caps the total size of request header names and values.
	// Default "64KiB".
	MaxHeaderBytes ByteSize `yaml:"max_header_bytes"`
	// MaxHeaderCount caps the number of request header fields. Default 100.
	MaxHeaderCount int `yaml:"max_header_count"`
	// MaxURIBytes caps the request URI (path and query). Default "8KiB".
	MaxURIBytes ByteSize `yaml:"max_uri_bytes"`
	// MaxJSONDepth caps the nesting of JSON request bodies (objects and
	// arrays): 400 request.json_too_deep. Default 64. Checked on routes with
	// openapi validation, and on every JSON body of a route whose own
	// limits set it or max_json_field_bytes.
	MaxJSONDepth int `yaml:"max_json_depth"`
	// MaxJSONFieldBytes caps each string and object key in a JSON request
	// body: 400 request.json_field_too_long. Default "64KiB"; checked like
	// max_json_depth.
	MaxJSONFieldBytes ByteSize `yaml:"max_json_field_bytes"`
}

// CallLog configures the call log.
type CallLog struct {
	// Enabled turns the call log on. Default true.
	Enabled *bool `yaml:"enabled"`
	// Retention deletes records older than this. Default "168h" (7 days).
	Retention Duration `yaml:"retention"`
	// MaxRows deletes the oldest records beyond this many. Default 1000000.
	MaxRows int `yaml:"max_rows"`
	// BufferSize is how many records may wait for the writer before new ones
	// are dropped (and counted). Default 10000.
	BufferSize int `yaml:"buffer_size"`
	// RedactQuery replaces query parameter values with "redacted" in logged
	// paths. Default true.
	RedactQuery *bool `yaml:"redact_query"`
}

// Listener is one socket the gateway serves.
type Listener struct {
	// Name identifies the listener. Required, unique.
	Name string `yaml:"name"`
	// Kind is "proxy" (routes traffic) or "admin" (the admin API and /metrics).
	// Required.
	Kind string `yaml:"kind"`
	// Address is host:port. The admin listener must be on loopback unless
	// allow_remote_admin is set. Example: "127.0.0.1:9901", ":8080".
	Address string `yaml:"address"`
	// TLS serves HTTPS (and HTTP/2) when set.
	TLS *ListenerTLS `yaml:"tls"`
	// AllowRemoteAdmin lets an admin listener bind a non-loopback address.
	// Default false.
	AllowRemoteAdmin bool `yaml:"allow_remote_admin"`
	// ReadHeaderTimeout bounds reading request headers. Default "10s".
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"`
	// IdleTimeout closes idle client keep-alive connections. Default "120s".
	IdleTimeout Duration `yaml:"idle_timeout"`
}

// ListenerTLS is a listener's certificate.
type ListenerTLS struct {
	// CertFile is the PEM certificate chain. Required.
	CertFile string `yaml:"cert_file"`
	// KeyFile is the PEM private key. Required.
	KeyFile string `yaml:"key_file"`
	// ClientCAFile is a PEM bundle of CAs for client certificates. When set,
	// clients may present a certificate, it is verified against these CAs,
	// and mtls authenticators can identify callers by it. Optional.
	ClientCAFile string `yaml:"client_ca_file"`
}

// Route maps matching requests to an upstream.
type Route struct {
	// Name identifies the route in logs, metrics and problem details. Required, unique.
	Name string `yaml:"name"`
	// Hosts the route answers for: exact ("api.example.com") or a leading
	// wildcard ("*.example.com", one or more labels). Empty: any host.
	Hosts []string `yaml:"hosts"`
	// Paths the route answers for. Required. "/orders" matches exactly;
	// "/orders/{id}" captures a segment; "/files/{path...}" captures the rest;
	// "/api/*" matches "/api" and everything below it.
	Paths []string `yaml:"paths"`
	// Methods allowed. Empty: all methods.
	Methods []string `yaml:"methods"`
	// Upstream names the upstream that serves the route. Required unless
	// the route has an ai block.
	Upstream string `yaml:"upstream"`
	// StripPrefix removes the literal part of the matched path before the
	// first wildcard or parameter ("/api/*" + "/api/x" sends "/x"). Default false.
	StripPrefix bool `yaml:"strip_prefix"`
	// Rewrite replaces the upstream path; {name} inserts a captured parameter.
	// Example: "/v2/orders/{id}". Default: the (possibly stripped) request path.
	Rewrite string `yaml:"rewrite"`
	// Headers adds, sets and removes request and response headers.
	Headers HeaderRules `yaml:"headers"`
	// Timeout bounds the whole upstream exchange up to the response headers.
	// Default "30s".
	Timeout Duration `yaml:"timeout"`
	// Version is a free label (e.g. "v2") shown in logs and metrics.
	Version string `yaml:"version"`
	// Sunset retires the route: before this time responses carry a Sunset
	// header (RFC 8594), after it requests get 410 route.deprecated_sunset.
	// RFC 3339. Example: "2027-01-31T00:00:00Z".
	Sunset string `yaml:"sunset"`
	// Idempotent declares that every method of this route may be retried,
	// POST included. Default false: only GET, HEAD, OPTIONS, PUT, DELETE and
	// requests with an Idempotency-Key header are retried.
	Idempotent bool `yaml:"idempotent"`
	// Limits override the gateway's request limits for this route.
	Limits Limits `yaml:"limits"`
	// PreserveHost sends the client's Host header upstream instead of the
	// target's. Default false.
	PreserveHost bool `yaml:"preserve_host"`
	// IP filters client addresses for this route (after gateway.ip).
	IP IPFilter `yaml:"ip"`
	// CORS answers preflights and adds CORS headers for browser callers.
	CORS *CORS `yaml:"cors"`
	// Auth requires callers to authenticate.
	Auth *RouteAuth `yaml:"auth"`
	// Authorize lists what authenticated callers must satisfy.
	Authorize *Authorize `yaml:"authorize"`
	// CSRF protects cookie-authenticated routes from cross-site requests.
	CSRF *CSRF `yaml:"csrf"`
	// WAF turns the web application firewall on or off for this route.
	WAF *RouteWAF `yaml:"waf"`
	// RateLimits the route enforces, each counted separately.
	RateLimits []RateLimit `yaml:"rate_limits"`
	// Quotas the route enforces, by day or month.
	Quotas []Quota `yaml:"quotas"`
	// OpenAPI validates requests against an OpenAPI document.
	OpenAPI *OpenAPI `yaml:"openapi"`
	// Idempotency replays responses to repeated requests with the same
	// Idempotency-Key.
	Idempotency *Idempotency `yaml:"idempotency"`
	// AI serves the AI gateway on this route instead of an upstream: the
	// OpenAI-compatible API or the prompt APIs.
	AI *RouteAI `yaml:"ai"`
}

// HeaderRules edits request and response headers.
type HeaderRules struct {
	// Request edits headers sent upstream.
	Request HeaderOps `yaml:"request"`
	// Response edits headers sent to the client.
	Response HeaderOps `yaml:"response"`
}

// HeaderOps are applied in the order remove, set, add.
type HeaderOps struct {
	// Add appends values. Example: {"X-Env": "prod"}.
	Add map[string]string `yaml:"add"`
	// Set replaces values.
	Set map[string]string `yaml:"set"`
	// Remove deletes headers by name.
	Remove []string `yaml:"remove"`
}

// Upstream is a backend service: a set of targets and how to use them.
type Upstream struct {
	// Name identifies the upstream. Required, unique.
	Name string `yaml:"name"`
	// Targets are the service's instances. Required, at least one.
	Targets []Target `yaml:"targets"`
	// Balance picks a target: "round_robin" (default, weighted),
	// "least_connections", "consistent_hash" or "random".
	Balance string `yaml:"balance"`
	// HashOn is the consistent_hash key: "ip" (client IP, default),
	// "header:NAME" or "path".
	HashOn string `yaml:"hash_on"`
	// HealthCheck configures active probes and passive ejection.
	HealthCheck HealthCheck `yaml:"health_check"`
	// Timeouts of the connections to targets.
	Timeouts UpstreamTimeouts `yaml:"timeouts"`
	// Pool sizes the keep-alive connection pool.
	Pool Pool `yaml:"pool"`
	// TLS configures connections to https:// targets. Verification is on by default.
	TLS UpstreamTLS `yaml:"tls"`
	// CircuitBreaker stops sending traffic to a failing upstream for a while.
	CircuitBreaker CircuitBreaker `yaml:"circuit_breaker"`
	// Retry retries failed attempts on another target.
	Retry Retry `yaml:"retry"`
}

// Target is one instance of an upstream.
type Target struct {
	// URL is scheme://host:port, optionally with a base path. Example: "http://10.0.0.5:8080".
	URL string `yaml:"url"`
	// Weight for balancing. Default 1 when omitted; an explicit 0 takes the
	// target out of rotation (at least one target must have a weight).
	Weight int `yaml:"weight"`
}

// HealthCheck configures active and passive health checking.
type HealthCheck struct {
	// Active probes each target periodically. Off unless path is set.
	Active ActiveHealthCheck `yaml:"active"`
	// Passive ejects a target after consecutive failures of real traffic.
	Passive PassiveHealthCheck `yaml:"passive"`
}

// ActiveHealthCheck probes targets with HTTP GET.
type ActiveHealthCheck struct {
	// Path to probe, e.g. "/healthz". Empty disables active checks.
	Path string `yaml:"path"`
	// Interval between probes. Default "10s".
	Interval Duration `yaml:"interval"`
	// Timeout of one probe. Default "2s".
	Timeout Duration `yaml:"timeout"`
	// HealthyThreshold successes in a row mark a target up. Default 2.
	HealthyThreshold int `yaml:"healthy_threshold"`
	// UnhealthyThreshold failures in a row mark a target down. Default 3.
	UnhealthyThreshold int `yaml:"unhealthy_threshold"`
	// ExpectedStatus lists healthy statuses. Default: any 2xx or 3xx.
	ExpectedStatus []int `yaml:"expected_status"`
}

// PassiveHealthCheck ejects targets that fail real requests.
type PassiveHealthCheck struct {
	// ConsecutiveFailures (connect failures, resets, timeouts, and 502, 503
	// or 504 answers) eject a target. Default 5; 0 uses the default, -1 disables.
	ConsecutiveFailures int `yaml:"consecutive_failures"`
	// EjectFor is how long an ejected target stays out. Default "30s".
	EjectFor Duration `yaml:"eject_for"`
}

// UpstreamTimeouts bound connections to targets.
type UpstreamTimeouts struct {
	// Connect bounds dialing (and the TLS handshake). Default "5s".
	Connect Duration `yaml:"connect"`
	// ResponseHeader bounds waiting for response headers after the request is
	// sent. Default: the route's timeout.
	ResponseHeader Duration `yaml:"response_header"`
	// Idle closes pooled connections idle this long. Default "90s".
	Idle Duration `yaml:"idle"`
}

// Pool sizes the keep-alive pool.
type Pool struct {
	// MaxIdlePerTarget idle connections kept per target. Default 64.
	MaxIdlePerTarget int `yaml:"max_idle_per_target"`
	// MaxConnsPerTarget caps connections per target; 0 (default) is unlimited.
	MaxConnsPerTarget int `yaml:"max_conns_per_target"`
}

// UpstreamTLS configures TLS to targets.
type UpstreamTLS struct {
	// CAFile is a PEM bundle of CAs to trust instead of the system pool.
	CAFile string `yaml:"ca_file"`
	// ServerName overrides the name verified in the target's certificate.
	ServerName string `yaml:"server_name"`
	// InsecureSkipVerify turns certificate verification off. Default false;
	// never use it in production.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// CircuitBreaker opens when the failure ratio over a window crosses a threshold.
type CircuitBreaker struct {
	// Enabled turns the breaker on. Default false.
	Enabled bool `yaml:"enabled"`
	// FailureRatio (0 < r <= 1) of failed requests in Window that opens the
	// circuit. Default 0.5.
	FailureRatio float64 `yaml:"failure_ratio"`
	// MinRequests in Window before the ratio is judged. Default 20.
	MinRequests int `yaml:"min_requests"`
	// Window is the sliding window the ratio is measured over. Default "10s".
	Window Duration `yaml:"window"`
	// OpenFor is how long the circuit stays open before half-opening. Default "30s".
	OpenFor Duration `yaml:"open_for"`
	// HalfOpenRequests are let through to probe while half-open. Default 3.
	HalfOpenRequests int `yaml:"half_open_requests"`
}

// Retry retries failed attempts on another target. Only idempotent requests
// (see Route.Idempotent) are retried, and never after any response byte
// reached the client.
type Retry struct {
	// Attempts is the number of retries after the first try. Default 1; 0 uses
	// the default, -1 disables retries.
	Attempts int `yaml:"attempts"`
	// BudgetRatio caps retries to this fraction of requests over the last
	// 10 seconds, so retries cannot multiply an outage. Default 0.2 (0 means
	// the default; set attempts: -1 to turn retries off).
	BudgetRatio float64 `yaml:"budget_ratio"`
	// MinPerSecond retries are always allowed regardless of the ratio. Default 3.
	MinPerSecond int `yaml:"min_per_second"`
}
