package gateway

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
	"github.com/pinpointgw/pinpoint/internal/telemetry"
)

// accessBenchConfig has 100 consumers with one key each, and routes whose
// stages are the access decisions the benchmarks time.
func accessBenchConfig(b *testing.B) (doc string, keys []string) {
	var consumers strings.Builder
	for i := range 100 {
		key, sha := accessKey("live", fmt.Sprintf("bench%07d", i))
		keys = append(keys, key)
		fmt.Fprintf(&consumers, "  - id: app-%d\n    groups: [partners]\n    api_keys:\n      - {id: %q, sha256: %s, scopes: [\"orders:read\", \"orders:write\"]}\n",
			i, fmt.Sprintf("bench%07d", i), sha)
	}
	doc = `version: 1
authenticators:
  - name: keys
    type: api_key
policies:
  - name: partners-read
    expression: "'partners' in consumer.groups && request.method == 'GET'"
consumers:
` + consumers.String() + `routes:
  - name: scoped
    paths: ["/scoped"]
    upstream: u
    auth: {methods: [keys]}
    authorize: {scopes: ["orders:read"]}
  - name: policy
    paths: ["/policy"]
    upstream: u
    auth: {methods: [keys]}
    authorize: {policies: [partners-read]}
  - name: s2
    paths: ["/s2"]
    upstream: u
    ip: {allow: ["127.0.0.0/8", "::1"]}
    cors: {allow_origins: ["https://app.example.com"]}
    auth: {methods: [keys]}
    authorize: {scopes: ["orders:read"]}
upstreams:
  - name: u
    targets: [{url: "http://127.0.0.1:1"}]
`
	return doc, keys
}

// BenchmarkAccessDecision times the access stages of one route (what a
// request pays between routing and the upstream), on a pooled exchange as
// the gateway runs them: key auth + scope check, a CEL policy, and the S2
// chain of bench/run.sh (IP allow list, CORS, key auth, scope check).
func BenchmarkAccessDecision(b *testing.B) {
	doc, keys := accessBenchConfig(b)
	st, err := sqlite.Open(context.Background(), b.TempDir()+"/pinpoint.db")
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	g := New(Options{Store: st, Metrics: telemetry.New()})
	defer g.Close()
	if _, err := g.apply(context.Background(), admin.ApplyRequest{Filename: "bench.yaml", Document: []byte(doc)}); err != nil {
		b.Fatal(err)
	}
	snap := g.Current()
	for _, route := range []string{"scoped", "policy", "s2"} {
		b.Run(route, func(b *testing.B) {
			m, _, _ := snap.routes.Match("", "GET", "/"+route, nil)
			stages := m.Value.stages
			reqs := make([]*pipeline.Exchange, len(keys))
			vals := make([][]string, len(keys))
			for i, k := range keys {
				vals[i] = []string{k}
				r := httptest.NewRequest("GET", "/"+route, nil)
				r.Header.Set("X-API-Key", k)
				r.Header.Set("Origin", "https://app.example.com")
				reqs[i] = &pipeline.Exchange{Request: r, ClientIP: mustAddr("127.0.0.1"), Path: "/" + route,
					Trace: make([]pipeline.Step, 0, 16), ResponseHeader: map[string][]string{}}
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				x := reqs[i%len(reqs)]
				x.Identity, x.Trace = pipeline.Identity{}, x.Trace[:0]
				// The verified key is removed before the upstream; put it back.
				x.Request.Header["X-Api-Key"] = vals[i%len(vals)]
				for _, s := range stages {
					if d := s.Handle(x); d.Ends() {
						b.Fatalf("%s: %+v", s.Name(), d.Denial)
					}
				}
			}
		})
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
