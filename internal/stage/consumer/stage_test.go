package consumer

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/problem"
)

func TestSuspensions(t *testing.T) {
	t.Parallel()
	live := identity.NewRegistry()
	live.PutTenant(&identity.Tenant{ID: "acme", Name: "Acme Secret Project", Status: identity.StatusSuspended,
		Suspension: identity.Suspension{Reason: "invoice 2026-11 unpaid", Category: "billing"}})
	live.PutTenant(&identity.Tenant{ID: "beta", Status: identity.StatusActive})
	dir := &identity.Directory{Live: live, Declared: &identity.Declared{Consumers: map[string]*identity.Consumer{
		"bad":   {ID: "bad", TenantID: "beta", Status: identity.StatusSuspended, Suspension: identity.Suspension{Reason: "scraping, ticket 881", Category: "abuse"}},
		"good":  {ID: "good", TenantID: "beta", Status: identity.StatusActive},
		"inorg": {ID: "inorg", TenantID: "acme", Status: identity.StatusActive},
	}}}
	s := New(dir)
	for _, tc := range []struct {
		consumer, tenant, code, category, secret string
	}{
		{"", "", "", "", ""},
		{"good", "beta", "", "", ""},
		{"bad", "beta", "consumer.suspended", "abuse", "ticket 881"},
		{"inorg", "acme", "tenant.suspended", "billing", "invoice"},
		{"gone", "", "", "", ""},
	} {
		t.Run(tc.consumer+"/"+tc.code, func(t *testing.T) {
			t.Parallel()
			x := &pipeline.Exchange{Request: httptest.NewRequest("GET", "/", nil),
				Identity: pipeline.Identity{Authenticated: tc.consumer != "", ConsumerID: tc.consumer, TenantID: tc.tenant}}
			d := s.Handle(x)
			if tc.code == "" {
				if d.Denied() {
					t.Fatalf("refused: %+v", d.Denial)
				}
				return
			}
			if !d.Denied() || d.Denial.Code != tc.code {
				t.Fatalf("decision = %+v, want %s", d.Denial, tc.code)
			}
			c, _ := problem.Lookup(tc.code)
			if c.Status != 403 {
				t.Errorf("status = %d", c.Status)
			}
			p := problem.New(d.Denial.Code, d.Denial.Params)
			if !strings.Contains(p.Detail, tc.category) {
				t.Errorf("detail %q lacks the category %q", p.Detail, tc.category)
			}
			if strings.Contains(p.Detail+p.Hint, tc.secret) || strings.Contains(p.Detail, "Acme Secret Project") {
				t.Errorf("operator reason or tenant name reached the caller: %q", p.Detail)
			}
			if !strings.Contains(d.Denial.Reason, tc.secret) {
				t.Errorf("trace reason %q lacks the operator's reason", d.Denial.Reason)
			}
		})
	}
}
