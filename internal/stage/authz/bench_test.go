package authz

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

func benchStage(b *testing.B, a *config.Authorize, pols []config.Policy) (*Stage, *pipeline.Exchange) {
	b.Helper()
	ps, err := CompilePolicies(pols)
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(a, ps, Route{Name: "orders", Version: "v1", Params: []string{"id"}})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/orders/42", nil)
	r.Header.Set("X-Tenant", "acme")
	x := &pipeline.Exchange{Request: r, Start: time.Now(), Trace: make([]pipeline.Step, 0, 8)}
	x.Identity = pipeline.Identity{
		Authenticated: true, Method: "api_key", CredentialID: "k7f3a9c2d1e0", ConsumerID: "orders-app",
		TenantID: "acme", Scopes: []string{"orders:read", "orders:write"}, Groups: []string{"staff", "partners"},
		Metadata: map[string]string{"user_id": "42"},
	}
	return s, x
}

func run(b *testing.B, s *Stage, x *pipeline.Exchange) {
	b.ReportAllocs()
	for b.Loop() {
		x.Trace = x.Trace[:0]
		if d := s.Handle(x); d.Denied() {
			b.Fatal(d.Denial.Reason)
		}
	}
}

// BenchmarkScopesPass is the common route: scopes, groups and tenants on
// the pass path. Target: 0 allocs.
func BenchmarkScopesPass(b *testing.B) {
	s, x := benchStage(b, &config.Authorize{
		Scopes: []string{"orders:read", "orders:write"}, Groups: []string{"partners"},
		DenyGroups: []string{"banned"}, Tenants: []string{"acme", "globex"},
	}, nil)
	run(b, s, x)
}

// BenchmarkPolicy is one policy decision.
func BenchmarkPolicy(b *testing.B) {
	s, x := benchStage(b, &config.Authorize{Policies: []string{"partners-get"}},
		[]config.Policy{{Name: "partners-get", Expression: `'partners' in consumer.groups && request.method == 'GET'`}})
	run(b, s, x)
}

// BenchmarkPolicyHeader reads one header.
func BenchmarkPolicyHeader(b *testing.B) {
	s, x := benchStage(b, &config.Authorize{Policies: []string{"tenant-header"}},
		[]config.Policy{{Name: "tenant-header", Expression: `request.headers['x-tenant'] == consumer.tenant`}})
	run(b, s, x)
}

// BenchmarkPolicyBusinessHours is the documented time zone example.
func BenchmarkPolicyBusinessHours(b *testing.B) {
	s, x := benchStage(b, &config.Authorize{Policies: []string{"business-hours"}, Mode: "report_only"},
		[]config.Policy{{Name: "business-hours", Expression: `request.time.getHours("Europe/Berlin") >= 0`}})
	run(b, s, x)
}

// BenchmarkOwnerParam compares a path parameter with consumer metadata.
func BenchmarkOwnerParam(b *testing.B) {
	s, x := benchStage(b, &config.Authorize{Owner: []config.OwnerRule{{Param: "id", Equals: "consumer.metadata.user_id"}}}, nil)
	x.Params[0] = pipeline.Param{Name: "id", Value: "42"}
	x.NParams = 1
	run(b, s, x)
}
