package ip

import (
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/problem"
	"github.com/pinpointgw/pinpoint/internal/stage/stagetest"
)

type decisionCase struct {
	Name     string          `yaml:"name"`
	Global   config.IPFilter `yaml:"global"`
	Route    config.IPFilter `yaml:"route"`
	ClientIP string          `yaml:"client_ip"`
	Expect   struct {
		Code      string   `yaml:"code"`
		Status    int      `yaml:"status"`
		Rule      string   `yaml:"rule"`
		Reason    string   `yaml:"reason"`
		WouldDeny []string `yaml:"would_deny"`
		PassRule  string   `yaml:"pass_rule"`
	} `yaml:"expect"`
}

func mustCompile(t testing.TB, f config.IPFilter) *List {
	t.Helper()
	l, err := Compile(f)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// exchange builds an exchange as the accept stage leaves it: client IP
// resolved, the request as received.
func exchange(clientIP string) *pipeline.Exchange {
	x := &pipeline.Exchange{Request: httptest.NewRequest("GET", "/orders", nil)}
	if clientIP != "" {
		x.ClientIP = netip.MustParseAddr(clientIP)
	}
	return x
}

// TestCases runs the decision corpus in testdata/cases.yaml.
func TestCases(t *testing.T) {
	t.Parallel()
	var cases []decisionCase
	stagetest.Corpus(t, "testdata/cases.yaml", &cases)
	if len(cases) < 20 {
		t.Fatalf("corpus has %d cases; expected the full file", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			s := New(mustCompile(t, c.Global), mustCompile(t, c.Route))
			if s == nil {
				t.Fatal("New returned nil for filters with entries")
			}
			x := exchange(c.ClientIP)
			d := s.Handle(x)
			checkDenial(t, d, c.Expect.Code, c.Expect.Status)
			if d.Denied() {
				if c.Expect.Rule != "" && d.Denial.Rule != c.Expect.Rule {
					t.Errorf("rule %q, want %q", d.Denial.Rule, c.Expect.Rule)
				}
				if c.Expect.Reason != "" && d.Denial.Reason != c.Expect.Reason {
					t.Errorf("reason %q\nwant   %q", d.Denial.Reason, c.Expect.Reason)
				}
			}
			var would []string
			passRule := ""
			for _, st := range x.Trace {
				switch st.Outcome {
				case pipeline.OutcomeWouldDeny:
					would = append(would, st.Code)
					if st.Rule == "" || st.Note == "" || st.Stage != "ip" {
						t.Errorf("would_deny step %+v lacks stage, rule or note", st)
					}
				case pipeline.OutcomePass:
					passRule = st.Rule
				}
			}
			if !slices.Equal(would, c.Expect.WouldDeny) {
				t.Errorf("would_deny steps %v, want %v", would, c.Expect.WouldDeny)
			}
			if passRule != c.Expect.PassRule {
				t.Errorf("pass step rule %q, want %q", passRule, c.Expect.PassRule)
			}
		})
	}
}

// checkDenial compares d with the expected code ("" is a pass) and the
// catalog status, and checks what every ip denial must hold: stage, rule,
// reason, and no Params (nothing about the lists reaches the client).
func checkDenial(t *testing.T, d pipeline.Decision, code string, status int) {
	t.Helper()
	if code == "" {
		if d.Ends() {
			t.Fatalf("decision %+v, want pass", d)
		}
		return
	}
	if !d.Denied() {
		t.Fatalf("passed, want %s", code)
	}
	stagetest.Denial(t, d.Denial, code, status)
	if d.Denial.Stage != "ip" {
		t.Errorf("denial %+v: want stage ip", d.Denial)
	}
	if len(d.Denial.Params) != 0 || len(d.Denial.Header) != 0 {
		t.Errorf("params %v header %v: ip denials carry neither", d.Denial.Params, d.Denial.Header)
	}
}

// Regression: XFF spoof must not bypass ip allow-list. The stage reads only
// x.ClientIP (resolved by the accept stage through trusted proxies); a
// forwarding header naming an allowed address changes nothing.
func TestXFFSpoofMustNotBypassIPAllowList(t *testing.T) {
	t.Parallel()
	s := New(nil, mustCompile(t, config.IPFilter{Allow: []string{"10.0.0.0/8"}}))
	x := exchange("203.0.113.7")
	x.Request.Header.Set("X-Forwarded-For", "10.1.2.3")
	x.Request.Header.Set("X-Real-IP", "10.1.2.3")
	x.Request.Header.Set("Forwarded", "for=10.1.2.3")
	x.Request.RemoteAddr = "10.1.2.3:4711"
	d := s.Handle(x)
	checkDenial(t, d, "ip.not_allowed", 403)
	if !strings.Contains(d.Denial.Reason, "203.0.113.7") {
		t.Errorf("reason %q must name the resolved client IP", d.Denial.Reason)
	}
}

func TestNewLeavesOutEmptyFilters(t *testing.T) {
	t.Parallel()
	empty := mustCompile(t, config.IPFilter{Mode: "report_only"})
	some := mustCompile(t, config.IPFilter{Deny: []string{"10.6.6.6"}})
	for _, c := range []struct {
		name          string
		global, route *List
		want          bool
	}{
		{"both nil", nil, nil, false},
		{"both empty", empty, empty, false},
		{"global only", some, nil, true},
		{"route only", empty, some, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := New(c.global, c.route) != nil; got != c.want {
				t.Fatalf("New != nil is %v, want %v", got, c.want)
			}
		})
	}
	if New(some, nil).Name() != "ip" {
		t.Fatal("stage name must be ip")
	}
}

// TestDenialsHideTheLists: the client-facing problem of either code never
// holds an entry of a list or the client address.
func TestDenialsHideTheLists(t *testing.T) {
	t.Parallel()
	s := New(mustCompile(t, config.IPFilter{Deny: []string{"198.51.100.0/24"}}),
		mustCompile(t, config.IPFilter{Allow: []string{"10.0.0.0/8"}}))
	for _, ip := range []string{"198.51.100.9", "203.0.113.7"} {
		d := s.Handle(exchange(ip))
		if !d.Denied() {
			t.Fatalf("%s passed", ip)
		}
		p := problem.New(d.Denial.Code, d.Denial.Params)
		for _, secret := range []string{"198.51.100", "10.0.0.0/8", "203.0.113.7"} {
			if strings.Contains(p.Detail+p.Hint+p.Title, secret) {
				t.Errorf("%s: problem %+v reveals %q", d.Denial.Code, p, secret)
			}
		}
	}
}
