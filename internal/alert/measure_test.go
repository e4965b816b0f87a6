package alert_test

import (
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/alert"
	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// Rules are evaluated on real SQLite roll-ups, summed over nodes, over
// their window only.
func TestMeasure(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	now := base.Add(10*time.Minute + 30*time.Second) // 14:10:30
	m := func(min int) time.Time { return base.Add(time.Duration(min) * time.Minute) }
	addRows(t, st,
		// Long ago, outside every window: a flood of refusals.
		denied(m(0), "orders", "acme", "authz.scope_missing", "authz", 1000),
		// The 5-minute window 14:05..14:10 (rounded out to whole minutes).
		ok(m(6), "orders", "acme", 40),
		ok(m(6), "orders", "initech", 30),
		denied(m(7), "orders", "acme", "authz.scope_missing", "authz", 20),
		denied(m(8), "orders", "initech", "authn.credential_missing", "authn", 5),
		// The same bucket counted by a second node.
		store.Rollup{Node: "gw-2", Bucket: m(8), Route: "orders", Consumer: "acme", Code: "authz.scope_missing", Stage: "authz", Layer: "gateway", StatusClass: 4, Count: 10},
		ok(m(10), "users", "acme", 100),
		store.Rollup{Bucket: m(9), Route: "users", Consumer: "acme", StatusClass: 5, Count: 4, UpstreamErrors: 4},
		store.Rollup{Bucket: m(9), Route: "users", Consumer: "acme", Code: "upstream.timeout", Stage: "upstream", Layer: "gateway", StatusClass: 5, Count: 2, UpstreamErrors: 2},
		store.Rollup{Kind: store.RollupWouldDeny, Bucket: m(9), Route: "users", Consumer: "acme", Code: "policy.denied", Stage: "policy", Rule: "new-geo", Count: 3},
	)
	share := func(f float64) *config.Ratio { r := config.Ratio(f); return &r }
	count := func(n int) *int { return &n }
	tests := []struct {
		name     string
		rule     config.AlertRule
		requests int64
		matched  int64
		firing   bool
		topCode  string
	}{
		{
			name:     "share of 403 on a route",
			rule:     config.AlertRule{Route: "orders", Match: config.AlertMatch{Status: "403"}, ShareAbove: share(0.05), MinRequests: 50},
			requests: 105, matched: 30, firing: true, topCode: "authz.scope_missing",
		},
		{
			name:     "not enough requests",
			rule:     config.AlertRule{Route: "orders", Match: config.AlertMatch{Status: "403"}, ShareAbove: share(0.05), MinRequests: 106},
			requests: 105, matched: 30, firing: false, topCode: "authz.scope_missing",
		},
		{
			name:     "status class",
			rule:     config.AlertRule{Route: "orders", Match: config.AlertMatch{Status: "4xx"}, ShareAbove: share(0.3)},
			requests: 105, matched: 35, firing: true, topCode: "authz.scope_missing",
		},
		{
			name:     "code family and consumer",
			rule:     config.AlertRule{Consumer: "initech", Match: config.AlertMatch{Code: "authn.*"}, ShareAbove: share(0.2)},
			requests: 35, matched: 5, firing: false, topCode: "authn.credential_missing",
		},
		{
			name:     "upstream errors on every route",
			rule:     config.AlertRule{Match: config.AlertMatch{UpstreamError: true}, ShareAbove: share(0.01)},
			requests: 211, matched: 6, firing: true, topCode: "",
		},
		{
			name:     "would-deny of a policy",
			rule:     config.AlertRule{Match: config.AlertMatch{WouldDeny: true, Rule: "new-geo"}, CountAbove: count(0)},
			requests: 211, matched: 3, firing: true, topCode: "policy.denied",
		},
		{
			name:     "would-deny of another policy",
			rule:     config.AlertRule{Match: config.AlertMatch{WouldDeny: true, Rule: "old-geo"}, CountAbove: count(0)},
			requests: 211, matched: 0, firing: false,
		},
		{
			name:     "count at the threshold does not fire",
			rule:     config.AlertRule{Route: "orders", Match: config.AlertMatch{Stage: "authz"}, CountAbove: count(30)},
			requests: 105, matched: 30, firing: false, topCode: "authz.scope_missing",
		},
		{
			name:     "a longer window reaches the flood",
			rule:     config.AlertRule{Route: "orders", Match: config.AlertMatch{Code: "authz.scope_missing"}, CountAbove: count(1000), Window: config.Duration(15 * time.Minute)},
			requests: 1105, matched: 1030, firing: true, topCode: "authz.scope_missing",
		},
		{
			name:     "a route without traffic never fires a share",
			rule:     config.AlertRule{Route: "billing", ShareAbove: share(0)},
			requests: 0, matched: 0, firing: false,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.rule.Name = "r"
			if tc.rule.Window == 0 {
				tc.rule.Window = config.Duration(5 * time.Minute)
			}
			r, err := alert.Compile(tc.rule)
			if err != nil {
				t.Fatal(err)
			}
			o, err := alert.Measure(t.Context(), st, r, now)
			if err != nil {
				t.Fatal(err)
			}
			if o.Requests != tc.requests || o.Matched != tc.matched || o.Firing != tc.firing {
				t.Errorf("requests %d matched %d firing %v (value %v), want %d %d %v", o.Requests, o.Matched, o.Firing, o.Value, tc.requests, tc.matched, tc.firing)
			}
			if tc.matched > 0 && (len(o.TopCodes) == 0 || o.TopCodes[0].Name != tc.topCode) {
				t.Errorf("top codes %+v, want %q first", o.TopCodes, tc.topCode)
			}
		})
	}
	t.Run("breakdowns", func(t *testing.T) {
		t.Parallel()
		r, err := alert.Compile(config.AlertRule{Name: "r", Match: config.AlertMatch{Status: "4xx"}, ShareAbove: share(0.05), Window: config.Duration(5 * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		o, err := alert.Measure(t.Context(), st, r, now)
		if err != nil {
			t.Fatal(err)
		}
		want := []alert.Top{{Name: "acme", Count: 30, Share: 30.0 / 35}, {Name: "initech", Count: 5, Share: 5.0 / 35}}
		if len(o.TopConsumers) != 2 || o.TopConsumers[0] != want[0] || o.TopConsumers[1] != want[1] {
			t.Errorf("top consumers %+v, want %+v", o.TopConsumers, want)
		}
		if len(o.TopRoutes) != 1 || o.TopRoutes[0].Name != "orders" || o.TopRoutes[0].Count != 35 {
			t.Errorf("top routes %+v", o.TopRoutes)
		}
		if !o.Since.Equal(base.Add(5*time.Minute)) || !o.Until.Equal(base.Add(11*time.Minute)) {
			t.Errorf("window %s..%s", o.Since, o.Until)
		}
	})
}
