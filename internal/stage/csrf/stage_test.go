package csrf

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/problem"
	"github.com/pinpointgw/pinpoint/internal/stage/stagetest"
)

type corpus struct {
	Configs map[string]config.CSRF `yaml:"configs"`
	Cases   []decisionCase         `yaml:"cases"`
}

type decisionCase struct {
	Name    string            `yaml:"name"`
	Config  string            `yaml:"config"`
	Method  string            `yaml:"method"`
	Host    string            `yaml:"host"`
	Headers map[string]string `yaml:"headers"`
	Expect  struct {
		Code      string            `yaml:"code"`
		Status    int               `yaml:"status"`
		Params    map[string]string `yaml:"params"`
		Reason    string            `yaml:"reason"`
		WouldDeny []string          `yaml:"would_deny"`
	} `yaml:"expect"`
}

func exchange(method, host string, headers map[string]string) *pipeline.Exchange {
	r := httptest.NewRequest(method, "https://api.example.com/orders", nil)
	if host != "" {
		r.Host = host
	}
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	return &pipeline.Exchange{Request: r, Scheme: "https"}
}

// TestCases runs the decision corpus in testdata/cases.yaml.
func TestCases(t *testing.T) {
	t.Parallel()
	var c corpus
	stagetest.Corpus(t, "testdata/cases.yaml", &c)
	if len(c.Cases) < 25 {
		t.Fatalf("corpus has %d cases; expected the full file", len(c.Cases))
	}
	for _, tc := range c.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			cfg, ok := c.Configs[tc.Config]
			if !ok {
				t.Fatalf("unknown config %q", tc.Config)
			}
			s, err := New(&cfg)
			if err != nil {
				t.Fatal(err)
			}
			x := exchange(tc.Method, tc.Host, tc.Headers)
			d := s.Handle(x)
			checkDecision(t, d, tc.Expect.Code, tc.Expect.Status, tc.Expect.Params)
			if d.Denied() && !strings.Contains(d.Denial.Reason, tc.Expect.Reason) {
				t.Errorf("reason %q lacks %q", d.Denial.Reason, tc.Expect.Reason)
			}
			var would []string
			for _, st := range x.Trace {
				if st.Outcome == pipeline.OutcomeWouldDeny {
					would = append(would, st.Code)
				}
			}
			if !slices.Equal(would, tc.Expect.WouldDeny) {
				t.Errorf("would_deny steps %v, want %v", would, tc.Expect.WouldDeny)
			}
			// No token value of the corpus ever reaches a denial or the trace.
			secrets := []string{tc.Headers["X-CSRF-Token"], tc.Headers["X-XSRF-Token"]}
			if v, ok := cookieValue(x.Request.Header, tokenCookie(cfg)); ok {
				secrets = append(secrets, v)
			}
			for _, sec := range secrets {
				if len(sec) >= 6 { // short corpus tokens ("t") are in every sentence
					assertNoSecret(t, d, x.Trace, sec)
				}
			}
		})
	}
}

// tokenCookie is the token cookie name of a config.
func tokenCookie(c config.CSRF) string {
	if c.Token != nil && c.Token.Cookie != "" {
		return c.Token.Cookie
	}
	return defaultCookie
}

// assertNoSecret fails when secret appears in anything the decision
// carries: params, the problem the client gets, the reason, the trace.
func assertNoSecret(t *testing.T, d pipeline.Decision, trace []pipeline.Step, secret string) {
	t.Helper()
	var b strings.Builder
	if d.Denial != nil {
		p := problem.New(d.Denial.Code, d.Denial.Params)
		b.WriteString(p.Title + p.Detail + p.Hint + d.Denial.Reason + d.Denial.Rule)
		for k, v := range d.Denial.Params {
			b.WriteString(k + v)
		}
	}
	for _, st := range trace {
		b.WriteString(st.Rule + st.Note)
	}
	if strings.Contains(b.String(), secret) {
		t.Errorf("token value %q leaks into the decision: %s", secret, b.String())
	}
}

func checkDecision(t *testing.T, d pipeline.Decision, code string, status int, params map[string]string) {
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
	dn := d.Denial
	if dn.Code != code {
		t.Fatalf("code %s (%s), want %s", dn.Code, dn.Reason, code)
	}
	p := problem.New(dn.Code, dn.Params)
	if status != 0 && p.Status != status {
		t.Errorf("status %d, want %d", p.Status, status)
	}
	if strings.Contains(p.Detail+p.Hint, "unknown") && dn.Params["origin"] != "unknown" {
		t.Errorf("problem %q has an unfilled placeholder; params %v", p.Detail, dn.Params)
	}
	for k, v := range params {
		if dn.Params[k] != v {
			t.Errorf("param %s = %q, want %q", k, dn.Params[k], v)
		}
	}
	if dn.Stage != "csrf" || dn.Rule == "" || dn.Reason == "" || len(dn.Header) != 0 {
		t.Errorf("denial %+v: want stage csrf, a rule, a reason and no headers", dn)
	}
}
