package config

// This file holds the operator's side of the schema: decision tokens and
// replay (explain), analytics roll-ups, alerts, telemetry (tracing) and the
// one redaction policy every output uses.

// Explain configures decision tokens and the decision inputs the call log
// keeps for replays (pinpoint apply --dry-run).
//
//	explain:
//	  decision_tokens:
//	    keys:
//	      - id: k2
//	        secret: "${PINPOINT_TOKEN_KEY_K2}"
type Explain struct {
	// DecisionTokens configures the sealed decision_token of every refusal.
	DecisionTokens DecisionTokens `yaml:"decision_tokens"`
	// KeepInputs keeps each request's decision inputs (method, URL, headers,
	// client address, credential id, and a small JSON body a stage read, all
	// redacted; see docs/simulate.md) in the call log so that explain can
	// show the request and apply --dry-run can replay recent traffic.
	// Default true.
	KeepInputs *bool `yaml:"keep_inputs"`
}

// DecisionTokens configures the decision tokens of refusals.
type DecisionTokens struct {
	// Enabled adds decision_token to every refusal the gateway writes.
	// Default true.
	Enabled *bool `yaml:"enabled"`
	// Keys seal and open tokens; the first seals, all open (rotation: put
	// the new key first, keep the old ones until their tokens no longer
	// matter). Empty: the gateway generates a key and keeps it in the store,
	// shared by every node.
	Keys []TokenKeyRef `yaml:"keys"`
}

// TokenKeyRef is one decision-token key, given by reference.
type TokenKeyRef struct {
	// ID is written into each token, in clear: 1-16 characters of
	// [A-Za-z0-9_-], e.g. "k2". Required, unique. Ids starting with
	// "store-" are reserved for the keys the gateway generates.
	ID string `yaml:"id"`
	// Secret is the 32-byte key, base64 (standard or URL alphabet) or 64 hex
	// digits. Give it only as a ${ENV} reference. Required.
	Secret string `yaml:"secret"`
}

// Analytics configures the per-minute roll-ups kept apart from the call log:
// requests counted by route, consumer, status class and refusal (code,
// stage, layer, rule), with latency sketches and upstream errors, and the
// would-be refusals of report_only rules apart. Each node counts in memory
// and adds its counts to the store every flush_interval; every node
// compacts closed hours into hour rows and closed days into day rows, and
// deletes rows older than their level's retention. Read them with
// `pinpoint stats` or GET /admin/stats/summary, /series and /top.
//
//	analytics:
//	  flush_interval: 10s
//	  retention: {minute: 48h, hour: 720h, day: 9600h}
type Analytics struct {
	// Enabled keeps roll-ups. Default true.
	Enabled *bool `yaml:"enabled"`
	// FlushInterval is how often a node writes its current roll-ups
	// (50ms to 5m; read at start). Default "10s".
	FlushInterval Duration `yaml:"flush_interval"`
	// MaxKeys caps the distinct rows (route, consumer, status class,
	// refusal) a node counts per minute, bounding its memory; requests
	// beyond it are counted under consumer "(other)", and
	// pinpoint_analytics_overflow_total says how many. 100 to 1000000;
	// read at start. Default 10000.
	MaxKeys int `yaml:"max_keys"`
	// Retention bounds each level.
	Retention AnalyticsRetention `yaml:"retention"`
}

// AnalyticsRetention is how long each roll-up level is kept. Each level
// must outlive the period the next one compacts: minute at least 2h, hour
// at least 48h, and day at least hour.
type AnalyticsRetention struct {
	// Minute rows. Default "48h".
	Minute Duration `yaml:"minute"`
	// Hour rows. Default "720h" (30 days).
	Hour Duration `yaml:"hour"`
	// Day rows. Default "9600h" (400 days).
	Day Duration `yaml:"day"`
}

// Alerts are rules evaluated on the analytics roll-ups, with webhook
// notifications that name the likely cause: the config revisions and the
// key, consumer and tenant events shortly before the alert's onset.
//
//	alerts:
//	  rules:
//	    - name: orders-forbidden
//	      route: orders
//	      match: {status: 403}
//	      share_above: 5%
//	      min_requests: 50
//	      window: 5m
//	  webhooks:
//	    - name: ops
//	      url: "https://hooks.example.com/pinpoint"
//	      headers: {Authorization: "Bearer ${OPS_HOOK_TOKEN}"}
type Alerts struct {
	// EvaluateEvery is how often every node evaluates the rules. Default "30s".
	EvaluateEvery Duration `yaml:"evaluate_every"`
	// CauseWindow is how far before an alert's onset config revisions and
	// key, consumer and tenant events are looked up as its likely cause.
	// Default "15m".
	CauseWindow Duration `yaml:"cause_window"`
	// Rules are the alert rules.
	Rules []AlertRule `yaml:"rules"`
	// Webhooks receive notifications.
	Webhooks []Webhook `yaml:"webhooks"`
}

// AlertRule is one alert rule: a measure of the requests the rule selects,
// over a sliding window of minute roll-ups summed over every node, and a
// threshold. Give exactly one of share_above and count_above.
//
//	# share of 403 on route orders over 5 min > 5 % and at least 50 requests
//	- {name: orders-forbidden, route: orders, match: {status: 403}, share_above: 5%, min_requests: 50}
//	# upstream failures or 5xx answers > 1 %
//	- {name: upstream-errors, match: {upstream_error: true}, share_above: 1%}
//	# any would-be refusal of the report_only policy new-geo
//	- {name: new-geo-would-deny, match: {would_deny: true, rule: new-geo}, count_above: 0}
type AlertRule struct {
	// Name identifies the rule in notifications and the audit log. Required, unique.
	Name string `yaml:"name"`
	// Description is a sentence for the person who receives the notification.
	Description string `yaml:"description"`
	// Route restricts the rule to the requests of one route (its name).
	// Empty: every route.
	Route string `yaml:"route"`
	// Consumer restricts the rule to the requests of one consumer (its id).
	// Empty: every consumer.
	Consumer string `yaml:"consumer"`
	// Match selects the requests the rule counts among the rule's requests.
	// Empty: all of them.
	Match AlertMatch `yaml:"match"`
	// ShareAbove fires when the matching requests are more than this share
	// of the rule's requests in the window: a fraction ("0.05") or a
	// percentage ("5%"), from 0 to 1.
	ShareAbove *Ratio `yaml:"share_above"`
	// CountAbove fires when more than this many requests match in the
	// window (0: any matching request fires).
	CountAbove *int `yaml:"count_above"`
	// MinRequests is how many requests (of the rule's route and consumer)
	// the window must hold before the rule can fire, so that a handful of
	// requests cannot make a share spike. Default 0.
	MinRequests int `yaml:"min_requests"`
	// Window is the sliding period the measure covers, rounded out to whole
	// minutes (the roll-ups' resolution). Default "5m"; at least "1m".
	Window Duration `yaml:"window"`
	// Cooldown is the least time between two firing notifications of the
	// rule: while it keeps firing, a reminder is sent once per cooldown.
	// Default "1h".
	Cooldown Duration `yaml:"cooldown"`
	// ClearFor is how long the condition must stay clear before the
	// resolved notification is sent (against flapping). Default "0s": at
	// the first evaluation that finds it clear.
	ClearFor Duration `yaml:"clear_for"`
	// Webhooks names the webhooks notified. Empty: every webhook.
	Webhooks []string `yaml:"webhooks"`
}

// AlertMatch selects requests from the roll-ups. Every field given must
// match.
type AlertMatch struct {
	// Status matches the answer's status: an exact status ("403") or a class
	// ("4xx"). Roll-ups keep exact statuses only through reason codes, so an
	// exact status matches the refusals whose reason code has that status
	// (the gateway's own and the labels of upstream answers); a class
	// matches every request answered in it.
	Status string `yaml:"status"`
	// Code matches a reason code exactly ("authz.scope_missing") or a whole
	// family with a trailing ".*" ("authz.*").
	Code string `yaml:"code"`
	// Stage matches the refusing stage ("authz", "limit", ...).
	Stage string `yaml:"stage"`
	// Rule matches the refusing rule or policy by name.
	Rule string `yaml:"rule"`
	// UpstreamError counts only requests whose upstream failed or answered 5xx.
	UpstreamError bool `yaml:"upstream_error"`
	// WouldDeny counts the refusals report_only rules would have made
	// (would_deny) instead of requests; combine with rule, code or stage.
	WouldDeny bool `yaml:"would_deny"`
}

// Webhook is one notification receiver: each notification is a JSON POST
// (see docs/alerts.md), retried with exponential backoff on network errors,
// 429 and 5xx answers. Notifications wait in a bounded queue per webhook;
// when it is full they are dropped and counted in
// pinpoint_alert_notifications_dropped_total.
type Webhook struct {
	// Name identifies the webhook in rules, logs and metrics. Required, unique.
	Name string `yaml:"name"`
	// URL receives a JSON POST per notification: http or https. Required.
	// Give it as a ${ENV} reference when it embeds a secret; it is never logged.
	URL string `yaml:"url"`
	// Headers are sent with every POST. Give secrets as ${ENV} references
	// ("Bearer ${OPS_HOOK_TOKEN}"): the stored revision keeps the reference.
	Headers map[string]string `yaml:"headers"`
	// Timeout bounds one delivery attempt. Default "5s".
	Timeout Duration `yaml:"timeout"`
	// Retries is how many times a failed delivery is retried: -1 for none.
	// Default 3.
	Retries int `yaml:"retries"`
	// Backoff is the wait before the first retry, doubled for each next
	// one (at most 1m). Default "1s".
	Backoff Duration `yaml:"backoff"`
	// QueueSize is how many notifications may wait for delivery. Default 100.
	QueueSize int `yaml:"queue_size"`
}

// Telemetry configures OpenTelemetry tracing (Prometheus metrics need no
// configuration: they are on the admin listener). See docs/telemetry.md.
type Telemetry struct {
	// Tracing exports spans over OTLP.
	Tracing *Tracing `yaml:"tracing"`
}

// Tracing exports OpenTelemetry spans over OTLP/HTTP. The gateway writes
// one server span per sampled request (with the request id, route, status
// and reason code) and a child span per stage; the upstream receives the
// span's W3C traceparent. A trusted proxy's sampling decision is followed;
// otherwise sample_ratio decides.
//
//	telemetry:
//	  tracing:
//	    endpoint: http://otel-collector:4318/v1/traces
//	    sample_ratio: 0.1
//	    headers: {Authorization: "Bearer ${OTLP_TOKEN}"}
type Tracing struct {
	// Endpoint is the OTLP/HTTP traces URL (http or https). Required.
	// Example: "http://otel-collector:4318/v1/traces".
	Endpoint string `yaml:"endpoint"`
	// SampleRatio is the share of requests traced when no trusted proxy
	// sent a sampling decision, from 0 to 1. Default 1 (every request).
	SampleRatio *float64 `yaml:"sample_ratio"`
	// Headers are sent with every export, e.g. a collector's credential
	// given as "${ENV_NAME}".
	Headers map[string]string `yaml:"headers"`
	// ServiceName is the service.name resource attribute. Default "pinpoint".
	ServiceName string `yaml:"service_name"`
	// Timeout bounds one export request. Default "10s".
	Timeout Duration `yaml:"timeout"`
}

// Ratio returns the sample ratio, default 1.
func (t *Tracing) Ratio() float64 {
	if t.SampleRatio == nil {
		return 1
	}
	return *t.SampleRatio
}

// Redact is the one redaction policy the call log, explain, simulate,
// traces and webhooks share. The built-in lists (Authorization, Cookie,
// API-key headers, token-like query parameters and JSON fields) always
// apply; these add to them.
//
//	redact:
//	  headers: [X-Partner-Secret]
//	  query_params: [sig]
//	  json_fields: [card_number]
type Redact struct {
	// Headers are request or response header names whose values are hidden
	// (compared ignoring case, '-', '_' and '.', like every name here).
	Headers []string `yaml:"headers"`
	// QueryParams are query parameter names whose values are hidden even
	// when gateway.call_log.redact_query is false.
	QueryParams []string `yaml:"query_params"`
	// JSONFields are JSON object member names whose values are hidden at any
	// depth (case-insensitive).
	JSONFields []string `yaml:"json_fields"`
}

// observe validates the operator's side of the schema.
func (v *validator) observe(c *Config) {
	v.explain("explain", &c.Explain)
	v.analytics("analytics", &c.Analytics)
	v.alerts("alerts", &c.Alerts, c)
	v.telemetry("telemetry", &c.Telemetry)
	v.redact("redact", &c.Redact)
}

// applyObserveDefaults fills the operator's side of the schema.
func (c *Config) applyObserveDefaults() {
	c.Explain.applyDefaults()
	c.Analytics.applyDefaults()
	c.Alerts.applyDefaults()
	c.Telemetry.applyDefaults()
}
