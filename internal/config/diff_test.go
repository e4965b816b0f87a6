package config

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

const diffBase = `
version: 1
gateway:
  trusted_proxies: ["10.0.0.0/8"]
routes:
  - name: users
    paths: ["/users"]
    upstream: users
  - name: legacy
    paths: ["/old"]
    upstream: legacy
upstreams:
  - name: users
    targets: [{url: "http://10.0.0.5:8080"}, {url: "http://10.0.0.6:8080"}]
  - name: legacy
    targets: [{url: "http://10.0.0.9:8080"}]
`

func TestDiff(t *testing.T) {
	t.Parallel()
	base := mustLoad(t, diffBase)
	tests := []struct {
		name    string
		old     *Config
		new     string
		want    []Change
		summary string
	}{
		{name: "identical", old: base, new: diffBase, summary: "no changes"},
		{
			name: "from nothing",
			old:  nil,
			new:  diffBase,
			want: []Change{
				{Kind: Added, Object: "gateway"},
				{Kind: Added, Object: "listener", Name: "admin"},
				{Kind: Added, Object: "listener", Name: "public"},
				{Kind: Added, Object: "upstream", Name: "legacy"},
				{Kind: Added, Object: "upstream", Name: "users"},
				{Kind: Added, Object: "route", Name: "legacy"},
				{Kind: Added, Object: "route", Name: "users"},
			},
			summary: "+ gateway\n+ listener admin\n+ listener public\n+ upstream legacy\n+ upstream users\n+ route legacy\n+ route users",
		},
		{
			name: "every kind of change",
			old:  base,
			new: `
version: 1
gateway:
  trusted_proxies: ["10.0.0.0/8", "192.168.0.0/16"]
routes:
  - name: users
    paths: ["/users", "/users/{id}"]
    upstream: users
    timeout: 5s
  - name: orders
    paths: ["/orders"]
    upstream: users
upstreams:
  - name: users
    targets: [{url: "http://10.0.0.5:8080", weight: 3}, {url: "http://10.0.0.6:8080"}]
    health_check: {active: {path: /healthz}}
`,
			want: []Change{
				{Kind: Changed, Object: "gateway", Fields: []string{"trusted_proxies (+192.168.0.0/16)"}},
				{Kind: Removed, Object: "upstream", Name: "legacy"},
				{Kind: Changed, Object: "upstream", Name: "users", Fields: []string{"targets[0].weight", "health_check.active.path"}},
				{Kind: Removed, Object: "route", Name: "legacy"},
				{Kind: Added, Object: "route", Name: "orders"},
				{Kind: Changed, Object: "route", Name: "users", Fields: []string{"paths (+/users/{id})", "timeout"}},
			},
			summary: "~ gateway: trusted_proxies (+192.168.0.0/16)\n- upstream legacy\n~ upstream users: targets[0].weight, health_check.active.path\n" +
				"- route legacy\n+ route orders\n~ route users: paths (+/users/{id}), timeout",
		},
		{
			name: "list of objects changing length and pointer fields",
			old:  base,
			new: `
version: 1
gateway:
  trusted_proxies: ["10.0.0.0/8"]
  call_log: {enabled: false}
listeners:
  - {name: public, kind: proxy, address: ":8080", tls: {cert_file: c.pem, key_file: k.pem}}
  - {name: admin, kind: admin, address: "127.0.0.1:9901"}
routes:
  - name: users
    paths: ["/users"]
    upstream: users
    headers: {request: {set: {X-A: b}}}
  - name: legacy
    paths: ["/old"]
    upstream: legacy
upstreams:
  - name: users
    targets: [{url: "http://10.0.0.5:8080"}]
  - name: legacy
    targets: [{url: "http://10.0.0.9:8080"}]
`,
			want: []Change{
				{Kind: Changed, Object: "gateway", Fields: []string{"call_log.enabled"}},
				{Kind: Changed, Object: "listener", Name: "public", Fields: []string{"tls"}},
				{Kind: Changed, Object: "upstream", Name: "users", Fields: []string{"targets"}},
				{Kind: Changed, Object: "route", Name: "users", Fields: []string{"headers.request.set"}},
			},
			summary: "~ gateway: call_log.enabled\n~ listener public: tls\n~ upstream users: targets\n~ route users: headers.request.set",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Diff(tt.old, mustLoad(t, tt.new))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Diff =\n%+v\nwant\n%+v", got, tt.want)
			}
			if s := Summary(got); s != tt.summary {
				t.Errorf("Summary =\n%s\nwant\n%s", s, tt.summary)
			}
		})
	}
}

func TestDiffIsDeterministic(t *testing.T) {
	t.Parallel()
	a := mustLoad(t, diffBase)
	first := Summary(Diff(nil, a))
	for range 20 {
		if got := Summary(Diff(nil, a)); got != first {
			t.Fatalf("Diff order changed:\n%s\nvs\n%s", got, first)
		}
	}
}

func TestHash(t *testing.T) {
	t.Parallel()
	tests := []struct{ doc, want string }{
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"version: 1\n", "09bfcc6a14b83e2192b8673677725c84883ee9cd0c70e45c9ec09daa8f2b2847"},
	}
	for _, tt := range tests {
		t.Run(tt.doc, func(t *testing.T) {
			t.Parallel()
			if got := Hash([]byte(tt.doc)); got != tt.want || len(got) != 64 {
				t.Errorf("Hash(%q) = %s, want %s", tt.doc, got, tt.want)
			}
		})
	}
	if Hash([]byte("version: 1\n")) == Hash([]byte("version: 1 \n")) {
		t.Error("different documents hash the same")
	}
}

// Identity, policy and section changes are part of the summary, with the
// scopes a key gained or lost, so an alert can name the revision that took
// a scope away; secrets are only named, never shown.
func TestDiffCoversIdentitiesPoliciesAndSections(t *testing.T) {
	t.Parallel()
	const doc = `
version: 1
authenticators:
  - {name: keys, type: api_key}
policies:
  - {name: hours, expression: "true"}
tenants:
  - {id: acme}
consumers:
  - id: app
    tenant: acme
    api_keys:
      - {id: appk0000appk, sha256: cb25e86193394f7d5ee3eae9000d566fe846ab981f285fa737e33edfe69d78cd, scopes: [%s]}
    hmac_keys:
      - {id: h1, secret: "${%s}"}
waf:
  paranoia_level: %d
`
	old := mustLoad(t, fmt.Sprintf(doc, "orders:read, orders:write", "SECRET_TOKEN", 1))
	next := mustLoad(t, fmt.Sprintf(doc, "orders:read", "JWT_SECRET", 2))
	got := Summary(Diff(old, next))
	want := "~ waf: paranoia_level\n~ consumer app: api_keys[0].scopes (-orders:write), hmac_keys[0].secret"
	if got != want {
		t.Errorf("Summary =\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(got, testSecret) || strings.Contains(got, "hs256") {
		t.Errorf("summary shows a secret: %s", got)
	}
}
