package cors

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/problem"
	"github.com/pinpointgw/pinpoint/internal/stage/stagetest"
)

type corpus struct {
	Configs map[string]config.CORS `yaml:"configs"`
	Cases   []decisionCase         `yaml:"cases"`
}

type decisionCase struct {
	Name         string              `yaml:"name"`
	Config       string              `yaml:"config"`
	RouteMethods []string            `yaml:"route_methods"`
	APIKeyHeader string              `yaml:"api_key_header"`
	Method       string              `yaml:"method"`
	Host         string              `yaml:"host"`
	Scheme       string              `yaml:"scheme"`
	Headers      map[string]yamlList `yaml:"headers"`
	Expect       struct {
		Code    string            `yaml:"code"`
		Status  int               `yaml:"status"`
		Params  map[string]string `yaml:"params"`
		Answer  int               `yaml:"answer"`
		Headers map[string]string `yaml:"headers"`
		Absent  []string          `yaml:"absent"`
	} `yaml:"expect"`
}

// yamlList is a header value given as one string or a list of lines.
type yamlList []string

func (l *yamlList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = yamlList{n.Value}
		return nil
	}
	return n.Decode((*[]string)(l))
}

// newRequest builds a server-side request to host over scheme.
func newRequest(method, scheme, host string, headers map[string]yamlList) *pipeline.Exchange {
	r := httptest.NewRequest(method, "/orders", nil)
	r.Host = host
	for k, vs := range headers {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	if scheme == "https" {
		r.TLS = &tls.ConnectionState{}
	}
	return &pipeline.Exchange{Request: r, Scheme: scheme, ResponseHeader: http.Header{}}
}

// TestCases runs the decision corpus in testdata/cases.yaml.
func TestCases(t *testing.T) {
	t.Parallel()
	var c corpus
	stagetest.Corpus(t, "testdata/cases.yaml", &c)
	if len(c.Cases) < 30 {
		t.Fatalf("corpus has %d cases; expected the full file", len(c.Cases))
	}
	for _, tc := range c.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			cfg, ok := c.Configs[tc.Config]
			if !ok {
				t.Fatalf("unknown config %q", tc.Config)
			}
			s, err := New(&cfg, tc.RouteMethods, tc.APIKeyHeader)
			if err != nil {
				t.Fatal(err)
			}
			scheme, host := tc.Scheme, tc.Host
			if scheme == "" {
				scheme = "https"
			}
			if host == "" {
				host = "api.example.com"
			}
			x := newRequest(tc.Method, scheme, host, tc.Headers)
			d := s.Handle(x)
			h := checkDecision(t, x, d, tc.Expect.Code, tc.Expect.Status, tc.Expect.Params)
			switch {
			case tc.Expect.Answer != 0:
				if d.Answer == nil || d.Answer.Status != tc.Expect.Answer {
					t.Fatalf("decision %+v, want answer %d", d, tc.Expect.Answer)
				}
				h = d.Answer.Header
			case d.Answer != nil:
				t.Fatalf("answered %d, want no answer", d.Answer.Status)
			}
			for k, want := range tc.Expect.Headers {
				if got := strings.Join(h[k], "|"); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			for _, k := range tc.Expect.Absent {
				if v, ok := h[k]; ok {
					t.Errorf("header %s = %q, want none", k, v)
				}
			}
		})
	}
}

// checkDecision compares d with the expected refusal ("" code: none) and
// returns the header map the case's headers are checked on. Every cors
// refusal must carry the catalog status, fill all placeholders, name a rule
// and a reason; an origin refusal must carry no CORS header anywhere.
func checkDecision(t *testing.T, x *pipeline.Exchange, d pipeline.Decision, code string, status int, params map[string]string) http.Header {
	t.Helper()
	if code == "" {
		if d.Denied() {
			t.Fatalf("denied with %s (%s), want no refusal", d.Denial.Code, d.Denial.Reason)
		}
		return x.Header()
	}
	if !d.Denied() {
		t.Fatalf("decision %+v, want %s", d, code)
	}
	dn := d.Denial
	if dn.Code != code {
		t.Fatalf("code %s (%s), want %s", dn.Code, dn.Reason, code)
	}
	p := problem.New(dn.Code, dn.Params)
	if status != 0 && p.Status != status {
		t.Errorf("status %d, want %d", p.Status, status)
	}
	if strings.Contains(p.Detail+p.Hint, "unknown") {
		t.Errorf("problem %q has an unfilled placeholder; params %v", p.Detail, dn.Params)
	}
	for k, v := range params {
		if dn.Params[k] != v {
			t.Errorf("param %s = %q, want %q", k, dn.Params[k], v)
		}
	}
	if dn.Stage != "cors" || !strings.HasPrefix(dn.Rule, "cors.") || dn.Reason == "" {
		t.Errorf("denial stage %q rule %q reason %q", dn.Stage, dn.Rule, dn.Reason)
	}
	if code == "cors.origin_not_allowed" {
		for _, h := range []http.Header{dn.Header, x.Header()} {
			for k := range h {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Errorf("origin refusal carries %s", k)
				}
			}
		}
	}
	if dn.Header == nil {
		return http.Header{}
	}
	return dn.Header
}

func TestIsPreflight(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		method  string
		headers map[string]yamlList
		want    bool
	}{
		{"OPTIONS", map[string]yamlList{"Origin": {"https://a.test"}, "Access-Control-Request-Method": {"PUT"}}, true},
		{"OPTIONS", map[string]yamlList{"Origin": {"https://a.test"}}, false},
		{"OPTIONS", map[string]yamlList{"Access-Control-Request-Method": {"PUT"}}, false},
		{"POST", map[string]yamlList{"Origin": {"https://a.test"}, "Access-Control-Request-Method": {"PUT"}}, false},
	} {
		if got := IsPreflight(newRequest(c.method, "https", "api.test", c.headers).Request); got != c.want {
			t.Errorf("IsPreflight(%s %v) = %v, want %v", c.method, c.headers, got, c.want)
		}
	}
}

// TestVaryIsAppended: an existing Vary is kept and Origin added once.
func TestVaryIsAppended(t *testing.T) {
	t.Parallel()
	s, err := New(&config.CORS{AllowOrigins: []string{"https://app.test"}}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ old, want []string }{
		{nil, []string{"Origin"}},
		{[]string{"Accept-Encoding"}, []string{"Accept-Encoding", "Origin"}},
		{[]string{"Accept-Encoding, origin"}, []string{"Accept-Encoding, origin"}},
		{[]string{"*"}, []string{"*"}},
	} {
		x := newRequest("GET", "https", "api.test", map[string]yamlList{"Origin": {"https://app.test"}})
		if c.old != nil {
			x.ResponseHeader["Vary"] = c.old
		}
		s.Handle(x)
		if got := x.ResponseHeader["Vary"]; strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("Vary %q → %q, want %q", c.old, got, c.want)
		}
	}
}

// TestOriginParamIsSanitized: the origin echoed in the problem is cut and
// free of control characters; the reason names the origin and the list;
// nothing from the configured list reaches the client.
func TestOriginParamIsSanitized(t *testing.T) {
	t.Parallel()
	s, err := New(&config.CORS{AllowOrigins: []string{"https://secret-partner.example.com"}, Enforce: true}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	evil := "https://evil.test\x01\x7f" + strings.Repeat("a", 500)
	x := newRequest("POST", "https", "api.test", map[string]yamlList{"Origin": {evil}})
	d := s.Handle(x)
	if !d.Denied() {
		t.Fatal("passed")
	}
	o := d.Denial.Params["origin"]
	if strings.ContainsAny(o, "\x01\x7f") || len(o) > 210 || !strings.HasPrefix(o, "https://evil.test") {
		t.Errorf("origin param %q is not sanitized", o)
	}
	if !strings.Contains(d.Denial.Reason, `"https://evil.test`) || !strings.Contains(d.Denial.Reason, "cors.allow_origins") {
		t.Errorf("reason %q must name the origin and the list", d.Denial.Reason)
	}
	p := problem.New(d.Denial.Code, d.Denial.Params)
	if strings.Contains(p.Detail+p.Hint, "secret-partner") {
		t.Errorf("problem %+v reveals the allow list", p)
	}
}

// TestActualRequestTrace: a disallowed origin that is served leaves one
// pass step saying so; an allowed one leaves none.
func TestActualRequestTrace(t *testing.T) {
	t.Parallel()
	s, err := New(&config.CORS{AllowOrigins: []string{"https://app.test"}}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	x := newRequest("GET", "https", "api.test", map[string]yamlList{"Origin": {"https://other.test"}})
	s.Handle(x)
	if len(x.Trace) != 1 || x.Trace[0].Note != noteUnlisted {
		t.Errorf("trace %+v, want one step noting the unlisted origin", x.Trace)
	}
	x = newRequest("GET", "https", "api.test", map[string]yamlList{"Origin": {"https://app.test"}})
	s.Handle(x)
	if len(x.Trace) != 0 {
		t.Errorf("trace %+v, want none", x.Trace)
	}
}
