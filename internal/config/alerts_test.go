package config

import (
	"testing"
	"time"
)

func TestRatio(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"0.05", 0.05, true}, {"5%", 0.05, true}, {" 12.5 % ", 0.125, true}, {"0", 0, true}, {"100%", 1, true},
		{"1.5", 0, false}, {"-1%", 0, false}, {"five", 0, false}, {"%", 0, false}, {"NaN", 0, false},
	} {
		var r Ratio
		err := r.UnmarshalText([]byte(tc.in))
		if (err == nil) != tc.ok || tc.ok && r.F() != tc.want {
			t.Errorf("Ratio(%q) = %v, %v; want %v, ok %v", tc.in, r.F(), err, tc.want, tc.ok)
		}
	}
	if s := Ratio(0.05).String(); s != "5%" {
		t.Errorf("String = %q, want 5%%", s)
	}
}

func TestAlertsDefaultsAndSecrets(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, `version: 1
routes:
  - {name: orders, paths: ["/orders"], upstream: u}
upstreams:
  - {name: u, targets: [{url: "http://10.0.0.5:8080"}]}
alerts:
  rules:
    - {name: forbidden, route: orders, match: {status: 403}, share_above: 5%, min_requests: 50}
    - {name: new-geo, match: {would_deny: true, rule: new-geo}, count_above: 0, window: 10m, clear_for: 2m}
  webhooks:
    - {name: ops, url: "https://hooks.example.com/p", headers: {Authorization: "Bearer ${SECRET_TOKEN}"}}
`)
	a := c.Alerts
	if a.EvaluateEvery.D() != 30*time.Second || a.CauseWindow.D() != 15*time.Minute {
		t.Errorf("alerts defaults: %+v", a)
	}
	r := a.Rules[0]
	if r.Window.D() != 5*time.Minute || r.Cooldown.D() != time.Hour || r.ShareAbove.F() != 0.05 || r.MinRequests != 50 {
		t.Errorf("rule defaults: %+v", r)
	}
	if r := a.Rules[1]; *r.CountAbove != 0 || r.Window.D() != 10*time.Minute || r.ClearFor.D() != 2*time.Minute {
		t.Errorf("rule: %+v", r)
	}
	w := a.Webhooks[0]
	if w.Timeout.D() != 5*time.Second || w.Retries != 3 || w.Backoff.D() != time.Second || w.QueueSize != 100 {
		t.Errorf("webhook defaults: %+v", w)
	}
	if w.Headers["Authorization"] != "Bearer "+testSecret {
		t.Errorf("header not expanded: %q", w.Headers["Authorization"])
	}
}

func TestParseStatusMatch(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][3]int{"403": {403, 0, 1}, "4xx": {0, 4, 1}, "5XX": {0, 5, 1}, "6xx": {0, 0, 0}, "99": {0, 0, 0}, "abc": {0, 0, 0}} {
		s, c, ok := ParseStatusMatch(in)
		if got := [3]int{s, c, map[bool]int{true: 1}[ok]}; got != want {
			t.Errorf("ParseStatusMatch(%q) = %v, want %v", in, got, want)
		}
	}
}

// fullAlerts sets the alerts block of testdata/full.yaml on want.
func fullAlerts(want *Config) {
	share, zero := Ratio(0.05), 0
	want.Alerts = Alerts{
		EvaluateEvery: Duration(15 * time.Second), CauseWindow: Duration(10 * time.Minute),
		Rules: []AlertRule{
			{
				Name: "orders-forbidden", Description: "Partners are refused on /orders.", Route: "orders", Consumer: "orders-app",
				Match:      AlertMatch{Status: "403", Code: "authz.*", Stage: "authz", Rule: "business-hours"},
				ShareAbove: &share, MinRequests: 50, Window: Duration(10 * time.Minute), Cooldown: Duration(30 * time.Minute),
				ClearFor: Duration(2 * time.Minute), Webhooks: []string{"ops"},
			},
			{
				Name: "business-hours-would-deny", Match: AlertMatch{WouldDeny: true, Rule: "business-hours"}, CountAbove: &zero,
				Window: Duration(5 * time.Minute), Cooldown: Duration(time.Hour),
			},
		},
		Webhooks: []Webhook{{
			Name: "ops", URL: "https://hooks.example.com/pinpoint", Headers: map[string]string{"Authorization": "Bearer " + testSecret},
			Timeout: Duration(3 * time.Second), Retries: 5, Backoff: Duration(500 * time.Millisecond), QueueSize: 50,
		}},
	}
}

func FuzzRatio(f *testing.F) {
	for _, s := range []string{"0.05", "5%", "100%", "1", "0", "-0", "1e-3", "%", "5 %", "NaN%", "inf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var r Ratio
		if err := r.UnmarshalText([]byte(s)); err != nil {
			return
		}
		if r.F() < 0 || r.F() > 1 {
			t.Fatalf("%q parsed to %v, outside 0..1", s, r.F())
		}
		var back Ratio
		if err := back.UnmarshalText([]byte(r.String())); err != nil {
			t.Fatalf("%q → %q does not parse back: %v", s, r.String(), err)
		}
	})
}
