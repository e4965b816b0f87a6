package config

// This file holds the traffic-protection part of the schema: the Redis
// connection shared counters use, the WAF, and the per-route rate_limits,
// quotas, openapi and idempotency blocks.

// Redis is the connection for counters shared by several gateway nodes
// (rate limits, quotas and idempotency records with store: redis).
//
//	redis:
//	  url: "${REDIS_URL}"
//	  timeout: 50ms
type Redis struct {
	// URL is redis://[user:password@]host:port/db (or rediss:// for TLS).
	// Give a password only through a ${ENV} reference. Required when the
	// block is present.
	URL string `yaml:"url"`
	// DialTimeout bounds connecting. Default "200ms".
	DialTimeout Duration `yaml:"dial_timeout"`
	// Timeout bounds each command; a limit whose Redis call times out takes
	// its on_store_error choice. Default "100ms".
	Timeout Duration `yaml:"timeout"`
	// PoolSize is the number of connections. Default 10 per CPU.
	PoolSize int `yaml:"pool_size"`
	// KeyPrefix starts every key Pinpoint writes. Default "pinpoint:".
	KeyPrefix string `yaml:"key_prefix"`
}

// WAF is the web application firewall: Coraza with the OWASP Core Rule Set
// v4 built in. It runs on the routes that enable it (routes[].waf), after
// the ip stage and before cors and authentication.
//
//	waf:
//	  paranoia_level: 1
//	  inbound_anomaly_threshold: 5
//	  exclusions:
//	    - rule_ids: [942100]
//	      targets: ["ARGS:comment"]
type WAF struct {
	// Enabled runs the WAF on every route that does not say otherwise
	// (routes[].waf.enabled). Default false: only routes with waf.enabled.
	Enabled bool `yaml:"enabled"`
	// Mode is "enforce" (default: anomalous requests get 403 waf.blocked)
	// or "report_only" (detection only: matches are traced, logged and
	// counted as would_deny, and the request goes on).
	Mode string `yaml:"mode"`
	// ParanoiaLevel is the CRS paranoia level, 1 (default) to 4. Higher
	// levels catch more attacks and raise more false positives.
	ParanoiaLevel int `yaml:"paranoia_level"`
	// InboundAnomalyThreshold is the request anomaly score at which a
	// request is blocked (a critical match scores 5). Default 5.
	InboundAnomalyThreshold int `yaml:"inbound_anomaly_threshold"`
	// InspectBody inspects request bodies (form, JSON, XML, multipart).
	// Default true.
	InspectBody *bool `yaml:"inspect_body"`
	// BodyLimit is how much of a body is inspected. Default "128KiB".
	BodyLimit ByteSize `yaml:"body_limit"`
	// BodyLimitAction is what happens to a body over body_limit:
	// "process_partial" (default: the first body_limit bytes are inspected
	// and the request goes on) or "reject" (413 request.body_too_large).
	BodyLimitAction string `yaml:"body_limit_action"`
	// Exclusions turn rules off, or stop them from looking at some
	// variables, to remove false positives.
	Exclusions []WAFExclusion `yaml:"exclusions"`
	// ErrorLog is a file that receives one ModSecurity-style line per
	// matched rule ([id "…"] [msg "…"] …, matched values redacted), for a
	// SIEM or the CRS regression corpus. Default: none.
	ErrorLog string `yaml:"error_log"`
	// Directives are extra SecLang directives (custom SecRule and SecAction
	// lines), loaded after the CRS setup and before its rules, where
	// ModSecurity users put "before CRS" files. Example: ["SecRule REQUEST_HEADERS:X-Evil \"@rx .\" \"id:100001,phase:1,deny,status:403,msg:'evil header'\""].
	Directives []string `yaml:"directives"`
}

// WAFExclusion removes rules, or variables from rules. Select rules by id
// or by tag; with targets, the rules no longer inspect those variables,
// without targets they are turned off.
type WAFExclusion struct {
	// RuleIDs are CRS rule ids, or ranges "942100-942999".
	RuleIDs []string `yaml:"rule_ids"`
	// Tags select rules by tag. Example: ["attack-sqli"].
	Tags []string `yaml:"tags"`
	// Targets are the variables to stop inspecting, in SecLang form.
	// Example: ["ARGS:comment", "REQUEST_COOKIES:session"].
	Targets []string `yaml:"targets"`
}

// RouteWAF turns the WAF on or off for a route and overrides its settings.
type RouteWAF struct {
	// Enabled runs the WAF on this route. Default: waf.enabled.
	Enabled *bool `yaml:"enabled"`
	// Mode overrides waf.mode.
	Mode string `yaml:"mode"`
	// ParanoiaLevel overrides waf.paranoia_level.
	ParanoiaLevel int `yaml:"paranoia_level"`
	// InboundAnomalyThreshold overrides waf.inbound_anomaly_threshold.
	InboundAnomalyThreshold int `yaml:"inbound_anomaly_threshold"`
	// Exclusions are added to waf.exclusions for this route.
	Exclusions []WAFExclusion `yaml:"exclusions"`
}

// RateLimit is one GCRA rate limit. A route may have several (e.g. 10/s and
// 1000/h); a request must fit every one.
//
//	rate_limits:
//	  - name: per-key-second
//	    rate: 10/s
//	    burst: 20
//	    key: credential
type RateLimit struct {
	// Name identifies the limit in answers, traces and metrics. Required,
	// unique per route.
	Name string `yaml:"name"`
	// Rate is requests per period: "10/s", "600/m", "1000/h", "50000/d".
	// Required.
	Rate string `yaml:"rate"`
	// Burst is how many requests may arrive at once. Default: the rate's
	// count (10/s allows 10 at once, then one every 100ms).
	Burst int `yaml:"burst"`
	// Key says whose requests are counted together: "consumer",
	// "credential", "ip" (the client IP), "route" (everybody), "tenant" or
	// "header:NAME". Default "consumer", which needs the route's auth;
	// unauthenticated requests are then counted by client IP.
	Key string `yaml:"key"`
	// Store is "local" (default: this node's memory) or "redis" (shared by
	// every node; needs the redis block).
	Store string `yaml:"store"`
	// OnStoreError is what happens when Redis cannot be reached:
	// "fail_open" (default: this node counts locally meanwhile) or
	// "fail_closed" (503 ratelimit.unavailable).
	OnStoreError string `yaml:"on_store_error"`
	// Mode is "enforce" (default) or "report_only".
	Mode string `yaml:"mode"`
}

// Quota is a calendar quota: at most Limit requests per day or month,
// counted per consumer, tenant or credential and kept across restarts.
//
//	quotas:
//	  - name: monthly
//	    period: month
//	    limit: 100000
//	    plans: {free: 1000, pro: 1000000}
type Quota struct {
	// Name identifies the quota. Required, unique per route.
	Name string `yaml:"name"`
	// Period is "day" or "month". Required.
	Period string `yaml:"period"`
	// Limit is the number of requests per period. Required unless plans
	// cover every caller.
	Limit int64 `yaml:"limit"`
	// Plans gives limits by plan: the consumer's metadata field named by
	// plan_field. A consumer without a listed plan gets limit.
	Plans map[string]int64 `yaml:"plans"`
	// PlanField is the consumer metadata field that holds the plan.
	// Default "plan".
	PlanField string `yaml:"plan_field"`
	// TimeZone is the IANA zone whose midnight starts a period. Default "UTC".
	// Example: "Europe/Berlin".
	TimeZone string `yaml:"time_zone"`
	// Key is "consumer" (default), "tenant" or "credential". It needs the
	// route's auth; unauthenticated requests are counted by client IP.
	Key string `yaml:"key"`
	// Store is "local" (default: counted in memory and persisted in the
	// gateway's store every second and at shutdown) or "redis".
	Store string `yaml:"store"`
	// OnStoreError is "fail_open" (default) or "fail_closed"
	// (503 quota.unavailable) when Redis cannot be reached.
	OnStoreError string `yaml:"on_store_error"`
	// Mode is "enforce" (default) or "report_only".
	Mode string `yaml:"mode"`
}

// OpenAPI validates requests against an OpenAPI 3.0 or 3.1 document.
//
//	openapi:
//	  spec: specs/orders.yaml
type OpenAPI struct {
	// Spec is the path of the document (YAML or JSON), like every file in
	// the config relative to the gateway's working directory. It is read
	// when a revision is applied; a later edit takes effect at the next
	// apply or restart. Required.
	Spec string `yaml:"spec"`
	// Body validates request bodies: present when required, of an
	// accepted media type (415 otherwise) and, for JSON, matching the
	// schema. Default true.
	Body *bool `yaml:"body"`
	// Parameters validates path, query, header and cookie parameters.
	// Default true.
	Parameters *bool `yaml:"parameters"`
	// UnknownOperation is what happens to a request the document does not
	// describe: "deny" (default: 404 request.operation_unknown) or "allow".
	UnknownOperation string `yaml:"unknown_operation"`
	// Mode is "enforce" (default) or "report_only".
	Mode string `yaml:"mode"`
}

// Idempotency executes a POST (or another listed method) that carries an
// Idempotency-Key once per caller and key, and replays its response to
// repeats.
//
//	idempotency:
//	  ttl: 24h
type Idempotency struct {
	// Header names the key header. Default "Idempotency-Key".
	Header string `yaml:"header"`
	// Methods are the methods keys apply to. Default [POST].
	Methods []string `yaml:"methods"`
	// TTL is how long a response is kept for replay. Default "24h".
	TTL Duration `yaml:"ttl"`
	// Required refuses requests without a key (400 idempotency.key_missing).
	// Default false.
	Required bool `yaml:"required"`
	// MaxResponseBytes is the largest response kept; a larger one is
	// passed through and its key released. Default "1MiB".
	MaxResponseBytes ByteSize `yaml:"max_response_bytes"`
	// Store is "local" (default: the gateway's store) or "redis".
	Store string `yaml:"store"`
	// OnStoreError is "fail_open" (default: the request runs without
	// idempotency) or "fail_closed" (503 idempotency.unavailable) when the
	// store cannot be reached.
	OnStoreError string `yaml:"on_store_error"`
}
