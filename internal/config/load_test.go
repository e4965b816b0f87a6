package config

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func mustLoad(t *testing.T, doc string) *Config {
	t.Helper()
	c, err := Load("test.yaml", []byte(doc), testEnv)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

// defaultUpstream is an upstream named name with one target and every
// default applied.
func defaultUpstream(name, url string) Upstream {
	return Upstream{
		Name:    name,
		Targets: []Target{{URL: url, Weight: 1}},
		Balance: "round_robin",
		HealthCheck: HealthCheck{
			Active:  ActiveHealthCheck{Interval: Duration(10 * time.Second), Timeout: Duration(2 * time.Second), HealthyThreshold: 2, UnhealthyThreshold: 3},
			Passive: PassiveHealthCheck{ConsecutiveFailures: 5, EjectFor: Duration(30 * time.Second)},
		},
		Timeouts:       UpstreamTimeouts{Connect: Duration(5 * time.Second), Idle: Duration(90 * time.Second)},
		Pool:           Pool{MaxIdlePerTarget: 64},
		CircuitBreaker: CircuitBreaker{FailureRatio: 0.5, MinRequests: 20, Window: Duration(10 * time.Second), OpenFor: Duration(30 * time.Second), HalfOpenRequests: 3},
		Retry:          Retry{Attempts: 1, BudgetRatio: 0.2, MinPerSecond: 3},
	}
}

func defaultGateway() Gateway {
	return Gateway{
		Environment:     "live",
		RequestIDHeader: "X-Request-Id",
		Disclosure:      "standard",
		ForwardedHeader: "X-Forwarded-For",
		Limits: Limits{MaxBodyBytes: 10 << 20, MaxHeaderBytes: 64 << 10, MaxHeaderCount: 100, MaxURIBytes: 8 << 10,
			MaxJSONDepth: 64, MaxJSONFieldBytes: 64 << 10},
		CallLog: CallLog{
			Enabled: ptr(true), Retention: Duration(168 * time.Hour), MaxRows: 1_000_000, BufferSize: 10_000, RedactQuery: ptr(true),
		},
		ShutdownTimeout: Duration(15 * time.Second),
	}
}

func defaultListeners() []Listener {
	return []Listener{
		{Name: "public", Kind: "proxy", Address: ":8080", ReadHeaderTimeout: Duration(10 * time.Second), IdleTimeout: Duration(120 * time.Second)},
		{Name: "admin", Kind: "admin", Address: "127.0.0.1:9901", ReadHeaderTimeout: Duration(10 * time.Second), IdleTimeout: Duration(120 * time.Second)},
	}
}

func TestLoadMinimalGetsEveryDefault(t *testing.T) {
	t.Parallel()
	got := mustLoad(t, `
version: 1
routes:
  - name: orders
    paths: ["/orders"]
    upstream: orders
upstreams:
  - name: orders
    targets: [{url: "http://10.0.0.5:8080"}]
`)
	want := &Config{
		Version:   1,
		Gateway:   defaultGateway(),
		Listeners: defaultListeners(),
		Routes:    []Route{{Name: "orders", Paths: []string{"/orders"}, Upstream: "orders", Timeout: Duration(30 * time.Second)}},
		Upstreams: []Upstream{defaultUpstream("orders", "http://10.0.0.5:8080")},
		WAF: WAF{Mode: "enforce", ParanoiaLevel: 1, InboundAnomalyThreshold: 5, InspectBody: ptr(true),
			BodyLimit: 128 << 10, BodyLimitAction: "process_partial"},
		Explain:   Explain{DecisionTokens: DecisionTokens{Enabled: ptr(true)}, KeepInputs: ptr(true)},
		Analytics: defaultAnalytics(),
		Alerts:    Alerts{EvaluateEvery: Duration(30 * time.Second), CauseWindow: Duration(15 * time.Minute)},
	}
	got.positions = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestLoadFullExample(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Load("full.yaml", doc, testEnv)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	files := defaultUpstream("files", "http://files.internal:9000")
	want := &Config{
		Version: 1,
		Gateway: Gateway{
			Environment:     "test",
			RequestIDHeader: "X-Correlation-Id",
			Disclosure:      "minimal",
			TrustedProxies:  []string{"10.0.0.0/8", "192.168.1.7", "fd00::/8"},
			ForwardedHeader: "Forwarded",
			Limits:          Limits{MaxBodyBytes: 5 << 20, MaxHeaderBytes: 32 << 10, MaxHeaderCount: 80, MaxURIBytes: 4 << 10},
			CallLog: CallLog{
				Enabled: ptr(true), Retention: Duration(72 * time.Hour), MaxRows: 500_000, BufferSize: 2048, RedactQuery: ptr(false),
			},
			ShutdownTimeout: Duration(20 * time.Second),
		},
		Listeners: []Listener{
			{
				Name: "public", Kind: "proxy", Address: ":8443",
				TLS:               &ListenerTLS{CertFile: "/etc/pinpoint/tls/cert.pem", KeyFile: "/etc/pinpoint/tls/key.pem"},
				ReadHeaderTimeout: Duration(5 * time.Second), IdleTimeout: Duration(60 * time.Second),
			},
			{Name: "admin", Kind: "admin", Address: "127.0.0.1:9901", ReadHeaderTimeout: Duration(10 * time.Second), IdleTimeout: Duration(120 * time.Second)},
		},
		Routes: []Route{
			{
				Name:     "orders",
				Hosts:    []string{"api.example.com", "*.example.net"},
				Paths:    []string{"/orders/{id}", "/v1/orders/{id}"},
				Methods:  []string{"GET", "PUT", "DELETE"},
				Upstream: "orders",
				Rewrite:  "/internal/orders/{id}",
				Headers: HeaderRules{
					Request: HeaderOps{
						Add: map[string]string{"X-Env": "test"}, Set: map[string]string{"X-Gateway": "pinpoint"}, Remove: []string{"X-Debug"},
					},
					Response: HeaderOps{
						Add: map[string]string{"X-Served-By": "pinpoint"}, Set: map[string]string{"Cache-Control": "no-store"}, Remove: []string{"Server"},
					},
				},
				Timeout:      Duration(10 * time.Second),
				Version:      "v2",
				Sunset:       "2027-01-31T00:00:00Z",
				Idempotent:   true,
				Limits:       Limits{MaxBodyBytes: 512 << 10},
				PreserveHost: true,
			},
			{
				Name: "files", Paths: []string{"/files/{path...}", "/static/*"}, Upstream: "files",
				StripPrefix: true, Version: "v1", Timeout: Duration(30 * time.Second),
			},
		},
		Upstreams: []Upstream{
			{
				Name: "orders",
				Targets: []Target{
					{URL: "http://10.0.0.5:8080", Weight: 3},
					{URL: "http://10.0.0.6:8080/base", Weight: 0},
					{URL: "https://orders.internal:8443", Weight: 1},
				},
				Balance: "consistent_hash",
				HashOn:  "header:X-Tenant",
				HealthCheck: HealthCheck{
					Active: ActiveHealthCheck{
						Path: "/healthz", Interval: Duration(5 * time.Second), Timeout: Duration(time.Second),
						HealthyThreshold: 1, UnhealthyThreshold: 2, ExpectedStatus: []int{200, 204},
					},
					Passive: PassiveHealthCheck{ConsecutiveFailures: -1, EjectFor: Duration(time.Minute)},
				},
				Timeouts: UpstreamTimeouts{Connect: Duration(2 * time.Second), ResponseHeader: Duration(8 * time.Second), Idle: Duration(30 * time.Second)},
				Pool:     Pool{MaxIdlePerTarget: 16, MaxConnsPerTarget: 100},
				TLS:      UpstreamTLS{CAFile: "/etc/pinpoint/ca.pem", ServerName: "orders.internal"},
				CircuitBreaker: CircuitBreaker{
					Enabled: true, FailureRatio: 0.25, MinRequests: 10, Window: Duration(30 * time.Second),
					OpenFor: Duration(15 * time.Second), HalfOpenRequests: 1,
				},
				Retry: Retry{Attempts: 2, BudgetRatio: 0.1, MinPerSecond: 5},
			},
			files,
		},
	}
	fullAccess(want)
	fullProtect(want)
	fullExplain(want)
	fullAnalytics(want)
	fullAlerts(want)
	fullTelemetry(want)
	fullAI(want)
	got.positions = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("full.yaml decoded differently:\ngot  %+v\nwant %+v", got, want)
	}
}

// TestFullExampleCoversEveryField keeps testdata/full.yaml a complete
// reference: every field of the schema must appear in it.
func TestFullExampleCoversEveryField(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(rt reflect.Type) {
		for rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Slice {
			rt = rt.Elem()
		}
		if rt.Kind() != reflect.Struct || seen[rt] {
			return
		}
		seen[rt] = true
		for _, f := range fieldsOf(rt) {
			if !strings.Contains(string(doc), f.key+":") {
				missing = append(missing, rt.Name()+"."+f.key)
			}
			walk(rt.Field(f.index).Type)
		}
	}
	walk(reflect.TypeFor[Config]())
	if len(missing) > 0 {
		t.Errorf("testdata/full.yaml does not show these fields: %v", missing)
	}
}

func TestLoadValidVariants(t *testing.T) {
	t.Parallel()
	const upstream = "\nupstreams:\n  - name: svc\n    targets: [{url: \"http://10.0.0.5:8080\"}]\n"
	tests := []struct {
		name  string
		doc   string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "remote admin allowed explicitly",
			doc:  "version: 1\nlisteners:\n  - {name: p, kind: proxy, address: \":80\"}\n  - {name: a, kind: admin, address: \"0.0.0.0:9901\", allow_remote_admin: true}\n",
			check: func(t *testing.T, c *Config) {
				if len(c.Listeners) != 2 || !c.Listeners[1].AllowRemoteAdmin {
					t.Errorf("listeners = %+v", c.Listeners)
				}
			},
		},
		{
			name: "loopback admin addresses",
			doc:  "version: 1\nlisteners:\n  - {name: p, kind: proxy, address: \":80\"}\n  - {name: a, kind: admin, address: \"[::1]:9901\"}\n",
			check: func(t *testing.T, c *Config) {
				if c.Listeners[1].Address != "[::1]:9901" {
					t.Errorf("admin address = %q", c.Listeners[1].Address)
				}
			},
		},
		{
			name: "proxy only, no admin listener added",
			doc:  "version: 1\nlisteners:\n  - {name: p, kind: proxy, address: \"localhost:8080\"}\n",
			check: func(t *testing.T, c *Config) {
				if len(c.Listeners) != 1 {
					t.Errorf("listeners = %+v, want only the declared one", c.Listeners)
				}
			},
		},
		{
			name: "null sections and values are empty",
			doc:  "version: 1\ngateway:\nroutes: ~\nupstreams: []\n",
			check: func(t *testing.T, c *Config) {
				if c.Gateway.Environment != "live" || c.Routes != nil || len(c.Upstreams) != 0 {
					t.Errorf("config = %+v", c)
				}
			},
		},
		{
			name: "explicit false call log, integers with underscores",
			doc:  "version: 1\ngateway:\n  call_log: {enabled: false, max_rows: 2_000}\n",
			check: func(t *testing.T, c *Config) {
				if c.Gateway.CallLog.IsEnabled() || c.Gateway.CallLog.MaxRows != 2000 {
					t.Errorf("call log = %+v", c.Gateway.CallLog)
				}
			},
		},
		{
			name: "consistent hash defaults to ip",
			doc:  "version: 1\nupstreams:\n  - name: svc\n    balance: consistent_hash\n    targets: [{url: \"http://a:1\"}, {url: \"http://b:2\", weight: 0}]\n",
			check: func(t *testing.T, c *Config) {
				u := c.Upstreams[0]
				if u.HashOn != "ip" || u.Targets[0].Weight != 1 || u.Targets[1].Weight != 0 {
					t.Errorf("upstream = %+v", u)
				}
			},
		},
		{
			name: "same path on different methods and hosts is no conflict",
			doc: "version: 1\nroutes:\n" +
				"  - {name: a, paths: [\"/x/{id}\"], methods: [GET], upstream: svc}\n" +
				"  - {name: b, paths: [\"/x/{id}\"], methods: [POST], upstream: svc}\n" +
				"  - {name: c, paths: [\"/x/{id}\"], hosts: [a.example.com], upstream: svc}\n" +
				"  - {name: d, paths: [\"/x/{id}\"], upstream: svc}\n" + upstream,
			check: func(t *testing.T, c *Config) {
				if len(c.Routes) != 4 {
					t.Errorf("routes = %+v", c.Routes)
				}
			},
		},
		{
			name: "rewrite with catch-all parameter and escape",
			doc:  "version: 1\nroutes:\n  - {name: f, paths: [\"/f/{rest...}\", \"/g/{rest...}\"], rewrite: \"/store/{rest}\", upstream: svc, version: \"$${literal}\"}\n" + upstream,
			check: func(t *testing.T, c *Config) {
				if c.Routes[0].Rewrite != "/store/{rest}" || c.Routes[0].Version != "${literal}" {
					t.Errorf("route = %+v", c.Routes[0])
				}
			},
		},
		{
			name: "empty environment variable leaves a number at its default",
			doc:  "version: 1\ngateway:\n  limits: {max_header_count: \"${EMPTY}\"}\n  shutdown_timeout: ${EMPTY}\n",
			check: func(t *testing.T, c *Config) {
				if c.Gateway.Limits.MaxHeaderCount != 100 || c.Gateway.ShutdownTimeout.D() != 15*time.Second {
					t.Errorf("gateway = %+v", c.Gateway)
				}
			},
		},
		{
			name: "anchors without aliases are harmless",
			doc:  "version: 1\ngateway: &g\n  environment: live\n",
			check: func(t *testing.T, c *Config) {
				if c.Gateway.Environment != "live" {
					t.Errorf("gateway = %+v", c.Gateway)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.check(t, mustLoad(t, tt.doc))
		})
	}
}

func TestLoadErrorIsErrors(t *testing.T) {
	t.Parallel()
	_, err := Load("", []byte("version: 1\nbogus: true\n"), nil)
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Path != "bogus" || errs[0].Line != 2 || errs[0].Column != 1 {
		t.Fatalf("err = %#v", err)
	}
	if got, want := err.Error(), `2:1: bogus: unknown field "bogus"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestApplyDefaults(t *testing.T) {
	t.Parallel()
	t.Run("explicit values are kept", func(t *testing.T) {
		t.Parallel()
		c := &Config{
			Gateway:   Gateway{Disclosure: "debug", CallLog: CallLog{Enabled: ptr(false)}},
			Upstreams: []Upstream{{Name: "u", Targets: []Target{{URL: "http://a:1", Weight: 7}, {URL: "http://b:1"}}, Retry: Retry{Attempts: -1}}},
			Routes:    []Route{{Name: "r", Timeout: Duration(time.Second)}},
		}
		c.ApplyDefaults()
		if c.Gateway.Disclosure != "debug" || c.Gateway.CallLog.IsEnabled() || !c.Gateway.CallLog.RedactsQuery() {
			t.Errorf("gateway = %+v", c.Gateway)
		}
		u := c.Upstreams[0]
		if u.Targets[0].Weight != 7 || u.Targets[1].Weight != 1 || u.Retry.Attempts != -1 {
			t.Errorf("upstream = %+v", u)
		}
		if c.Routes[0].Timeout.D() != time.Second {
			t.Errorf("route timeout = %v", c.Routes[0].Timeout.D())
		}
	})
	t.Run("idempotent", func(t *testing.T) {
		t.Parallel()
		c := &Config{Upstreams: []Upstream{{Name: "u", Targets: []Target{{URL: "http://a:1"}}}}}
		c.ApplyDefaults()
		once := *c
		once.Upstreams = append([]Upstream(nil), c.Upstreams...)
		c.ApplyDefaults()
		if !reflect.DeepEqual(&once, c) {
			t.Errorf("second ApplyDefaults changed the config:\n%+v\n%+v", once, *c)
		}
		if !reflect.DeepEqual(c.Listeners, defaultListeners()) || !reflect.DeepEqual(c.Gateway, defaultGateway()) {
			t.Errorf("defaults = %+v %+v", c.Listeners, c.Gateway)
		}
	})
}

func TestLimitsMerge(t *testing.T) {
	t.Parallel()
	gw := Limits{MaxBodyBytes: 100, MaxHeaderBytes: 200, MaxHeaderCount: 10, MaxURIBytes: 300}
	tests := []struct {
		name string
		over Limits
		want Limits
	}{
		{"nothing overridden", Limits{}, gw},
		{"one field", Limits{MaxBodyBytes: 5}, Limits{MaxBodyBytes: 5, MaxHeaderBytes: 200, MaxHeaderCount: 10, MaxURIBytes: 300}},
		{"every field", Limits{1, 2, 3, 4, 5, 6}, Limits{1, 2, 3, 4, 5, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := gw.Merge(tt.over); got != tt.want {
				t.Errorf("Merge = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCallLogHelpers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		log             CallLog
		enabled, redact bool
	}{
		{"unset means on", CallLog{}, true, true},
		{"explicit true", CallLog{Enabled: ptr(true), RedactQuery: ptr(true)}, true, true},
		{"explicit false", CallLog{Enabled: ptr(false), RedactQuery: ptr(false)}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.log.IsEnabled() != tt.enabled || tt.log.RedactsQuery() != tt.redact {
				t.Errorf("IsEnabled=%v RedactsQuery=%v, want %v %v", tt.log.IsEnabled(), tt.log.RedactsQuery(), tt.enabled, tt.redact)
			}
		})
	}
}

func BenchmarkLoadFull(b *testing.B) {
	doc, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := Load("full.yaml", doc, testEnv); err != nil {
			b.Fatal(err)
		}
	}
}

// fullProtect adds the traffic-protection sections of testdata/full.yaml
// to its expected decoding.
func fullProtect(want *Config) {
	want.Gateway.Limits.MaxJSONDepth, want.Gateway.Limits.MaxJSONFieldBytes = 32, 16<<10
	r := &want.Routes[0]
	r.WAF = &RouteWAF{Enabled: ptr(true), Mode: "report_only", ParanoiaLevel: 2, InboundAnomalyThreshold: 10,
		Exclusions: []WAFExclusion{{Tags: []string{"attack-sqli"}, Targets: []string{"ARGS:query"}}}}
	r.RateLimits = []RateLimit{{Name: "per-key", Rate: "10/s", Burst: 20, Key: "credential", Store: "redis", OnStoreError: "fail_closed", Mode: "enforce"}}
	r.Quotas = []Quota{{Name: "monthly", Period: "month", Limit: 100000, Plans: map[string]int64{"free": 1000, "pro": 1000000},
		PlanField: "tier", TimeZone: "Europe/Berlin", Key: "tenant", Store: "local", OnStoreError: "fail_open", Mode: "report_only"}}
	r.OpenAPI = &OpenAPI{Spec: "specs/orders.yaml", Body: ptr(true), Parameters: ptr(false), UnknownOperation: "allow", Mode: "enforce"}
	r.Idempotency = &Idempotency{Header: "X-Idempotency-Key", Methods: []string{"PUT", "DELETE"}, TTL: Duration(time.Hour),
		Required: true, MaxResponseBytes: 256 << 10, Store: "redis", OnStoreError: "fail_closed"}
	want.WAF = WAF{Mode: "enforce", ParanoiaLevel: 1, InboundAnomalyThreshold: 5, InspectBody: ptr(true), BodyLimit: 64 << 10,
		BodyLimitAction: "reject", Exclusions: []WAFExclusion{{RuleIDs: []string{"942100", "920300-920350"}}},
		Directives: []string{`SecAction "id:900100,phase:1,nolog,pass,t:none,setvar:tx.crs_exclusions_wordpress=1"`},
		ErrorLog:   "/var/log/pinpoint/waf.log"}
	want.Redis = &Redis{URL: "redis://redis.internal:6379/0", DialTimeout: Duration(500 * time.Millisecond),
		Timeout: Duration(50 * time.Millisecond), PoolSize: 20, KeyPrefix: "pp:"}
}

// fullAccess adds the identity and access sections of testdata/full.yaml
// to its expected decoding.
func fullAccess(want *Config) {
	want.Gateway.IP = IPFilter{Allow: []string{"10.0.0.0/8", "2001:db8::/32"}, Deny: []string{"10.6.6.6"}, Mode: "enforce"}
	want.Listeners[0].TLS.ClientCAFile = "/etc/pinpoint/tls/clients-ca.pem"
	r := &want.Routes[0]
	r.IP = IPFilter{Allow: []string{"10.1.0.0/16"}}
	r.CORS = &CORS{
		AllowOrigins: []string{"https://app.example.com", "https://*.example.net"}, AllowMethods: []string{"GET", "PUT"},
		AllowHeaders: []string{"Authorization", "Content-Type"}, ExposeHeaders: []string{"X-Request-Id"},
		AllowCredentials: true, MaxAge: Duration(5 * time.Minute), Enforce: true,
	}
	r.Auth = &RouteAuth{Methods: []string{"partner-keys", "corp-jwt"}}
	r.Authorize = &Authorize{
		Scopes: []string{"orders:read"}, ScopesMode: "all", Groups: []string{"partners"}, DenyGroups: []string{"blocked"},
		Tenants: []string{"acme"},
		Owner: []OwnerRule{
			{Param: "id", Equals: "consumer.metadata.order_owner"},
			{BodyField: "/customer/id", Equals: "claims.sub"},
		},
		Policies: []string{"business-hours"}, Mode: "report_only",
	}
	r.CSRF = &CSRF{TrustedOrigins: []string{"https://admin.example.com"},
		Token: &CSRFToken{Cookie: "csrf_token", Header: "X-CSRF-Token"}, Mode: "enforce"}
	want.Authenticators = []Authenticator{
		{Name: "partner-keys", Type: "api_key", APIKey: &APIKeyAuth{Header: "X-API-Key", Bearer: ptr(true), Query: "api_key"}},
		{Name: "corp-jwt", Type: "jwt", JWT: &JWTAuth{
			JWKSURL: "https://login.example.com/.well-known/jwks.json", JWKSRefresh: Duration(10 * time.Minute),
			PublicKeys: []JWTPublicKey{{Kid: "2026-01", File: "/etc/pinpoint/idp-2026-01.pem"}},
			Algorithms: []string{"RS256", "ES256"}, Issuer: "https://login.example.com/", Audiences: []string{"orders-api"},
			Leeway: Duration(time.Minute), RequiredClaims: []string{"exp", "sub"}, ConsumerClaim: "azp", RequireConsumer: true,
			ScopeClaim: "scp", GroupsClaim: "roles",
		}},
		{Name: "legacy-jwt", Type: "jwt", JWT: &JWTAuth{Secret: "a-32-byte-secret-for-hs256-test!"}},
		{Name: "oauth", Type: "introspection", Introspection: &IntrospectionAuth{
			URL: "https://auth.example.com/oauth2/introspect", ClientID: "gateway", ClientSecret: testSecret,
			Timeout: Duration(time.Second), CacheTTL: Duration(30 * time.Second), CacheSize: 5000,
			ConsumerClaim: "client_id", ScopeClaim: "scope",
		}},
		{Name: "staff", Type: "basic", Basic: &BasicAuth{Realm: "staff"}},
		{Name: "signed", Type: "hmac", HMAC: &HMACAuth{ClockSkew: Duration(2 * time.Minute),
			RequiredHeaders: []string{"(request-target)", "date", "host"}}},
		{Name: "partner-certs", Type: "mtls"},
	}
	want.Policies = []Policy{{Name: "business-hours", Expression: `request.time.getHours("Europe/Berlin") >= 8`,
		Detail: "This operation is only available during business hours.", Hint: "Retry after 08:00 Berlin time.", Mode: "enforce"}}
	want.Tenants = []Tenant{
		{ID: "acme", Name: "Acme Corp", Status: "active"},
		{ID: "initech", Name: "Initech", Status: "suspended", Suspension: Suspension{Reason: "invoice 2026-11 unpaid", Category: "billing"}},
	}
	want.Consumers = []Consumer{
		{
			ID: "orders-app", Name: "Orders App", Tenant: "acme", Groups: []string{"partners"},
			Metadata: map[string]string{"order_owner": "42"}, Status: "active",
			APIKeys: []ConsumerKey{
				{ID: "orde0000orde", SHA256: "cb25e86193394f7d5ee3eae9000d566fe846ab981f285fa737e33edfe69d78cd", Environment: "test",
					Scopes: []string{"orders:read"}, NotBefore: "2026-01-01T00:00:00Z", ExpiresAt: "2027-01-01T00:00:00Z"},
				{Key: "pp_test_orde1111orde_Gq3nXo0r9bVv2ZkTt8pLw4sJm6yHc1dE"},
			},
			Basic:    []BasicCredential{{Username: "orders", PasswordHash: "$2b$12$KIXQJ3k2bK8l0hWmD1aZ6u3fQe9l9v0o0S3kz2m0m3sQp0rZ6H3y6"}},
			HMACKeys: []HMACKey{{ID: "orders-2026", Secret: testSecret}},
			MTLS: []CertIdentity{
				{Subject: "orders-app.partners.example.com"},
				{SHA256: "3f1c6a0b9e2d4c5f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f"},
			},
		},
		{ID: "initech-batch", Tenant: "initech", Status: "suspended", Suspension: Suspension{Reason: "scraping, ticket 881", Category: "abuse"}},
	}
}
