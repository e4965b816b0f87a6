package authz

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/problem"
	"github.com/pinpointgw/pinpoint/internal/stage/stagetest"
)

// testCase is one entry of testdata/cases.yaml.
type testCase struct {
	Name      string           `yaml:"name"`
	Authorize config.Authorize `yaml:"authorize"`
	Policies  []config.Policy  `yaml:"policies"`
	Route     struct {
		Params    []string `yaml:"params"`
		Challenge string   `yaml:"challenge"`
	} `yaml:"route"`
	Identity testIdentity `yaml:"identity"`
	Request  testRequest  `yaml:"request"`
	Expect   struct {
		Code          string            `yaml:"code"`
		Status        int               `yaml:"status"`
		Rule          string            `yaml:"rule"`
		Params        map[string]string `yaml:"params"`
		Headers       map[string]string `yaml:"headers"`
		AbsentHeaders []string          `yaml:"absent_headers"`
		Reason        string            `yaml:"reason"`
		ReasonLacks   []string          `yaml:"reason_lacks"`
		Secrets       []string          `yaml:"secrets"`
		WouldDeny     []string          `yaml:"would_deny"`
		PassRule      string            `yaml:"pass_rule"`
		NoPassStep    bool              `yaml:"no_pass_step"`
	} `yaml:"expect"`
}

// testIdentity overrides the default caller; nil fields keep the default.
type testIdentity struct {
	Anonymous    bool              `yaml:"anonymous"`
	Method       string            `yaml:"method"`
	Bearer       bool              `yaml:"bearer"`
	Tenant       *string           `yaml:"tenant"`
	Scopes       []string          `yaml:"scopes"`
	Groups       []string          `yaml:"groups"`
	Metadata     map[string]string `yaml:"metadata"`
	Claims       map[string]any    `yaml:"claims"`
	CredentialID string            `yaml:"credential_id"`
}

type testRequest struct {
	Method      string            `yaml:"method"`
	Path        string            `yaml:"path"`
	Params      map[string]string `yaml:"params"`
	Headers     map[string]string `yaml:"headers"`
	ContentType string            `yaml:"content_type"`
	Body        string            `yaml:"body"`
	BodyRepeat  int               `yaml:"body_repeat"`
	Time        string            `yaml:"time"`
}

// defaultIdentity is the caller of every case unless it says otherwise.
func (ti testIdentity) identity() pipeline.Identity {
	id := pipeline.Identity{
		Authenticated: !ti.Anonymous,
		Method:        "api_key",
		CredentialID:  "k7f3a9c2d1e0",
		ConsumerID:    "orders-app",
		ConsumerName:  "Orders App",
		TenantID:      "acme",
		Groups:        []string{"partners"},
		Metadata:      map[string]string{"user_id": "42"},
	}
	if ti.Anonymous {
		return pipeline.Identity{}
	}
	if ti.Method != "" {
		id.Method = ti.Method
	}
	if ti.CredentialID != "" {
		id.CredentialID = ti.CredentialID
	}
	id.Bearer = ti.Bearer
	if ti.Tenant != nil {
		id.TenantID = *ti.Tenant
	}
	id.Scopes = ti.Scopes
	if ti.Groups != nil {
		id.Groups = ti.Groups
	}
	if ti.Metadata != nil {
		id.Metadata = ti.Metadata
	}
	id.Claims = ti.Claims
	return id
}

// exchange builds the exchange as the earlier stages leave it.
func (tr testRequest) exchange(t *testing.T) *pipeline.Exchange {
	t.Helper()
	method, path := tr.Method, tr.Path
	if method == "" {
		method = http.MethodGet
	}
	if path == "" {
		path = "/orders/42"
	}
	body := tr.Body
	if tr.BodyRepeat > 0 {
		body = `{"owner_id": "` + strings.Repeat("x", tr.BodyRepeat) + `"}`
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, "https://api.example.com"+path, rd)
	if tr.ContentType != "" {
		r.Header.Set("Content-Type", tr.ContentType)
	}
	for k, v := range tr.Headers {
		r.Header.Set(k, v)
	}
	start := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	if tr.Time != "" {
		var err error
		if start, err = time.Parse(time.RFC3339, tr.Time); err != nil {
			t.Fatal(err)
		}
	}
	x := &pipeline.Exchange{
		Request: r, Start: start, Scheme: "https", Host: "api.example.com", Path: r.URL.Path,
		ClientIP: netip.MustParseAddr("203.0.113.7"), Route: "orders",
	}
	params := tr.Params
	if params == nil {
		params = map[string]string{"id": "42"}
	}
	for k, v := range params {
		x.Params[x.NParams] = pipeline.Param{Name: k, Value: v}
		x.NParams++
	}
	return x
}

func loadCases(t *testing.T) []testCase {
	t.Helper()
	var cases []testCase
	stagetest.Corpus(t, "testdata/cases.yaml", &cases)
	if len(cases) < 40 {
		t.Fatalf("corpus has %d cases; expected the full file", len(cases))
	}
	return cases
}

// TestCases runs the decision corpus in testdata/cases.yaml.
func TestCases(t *testing.T) {
	t.Parallel()
	for _, c := range loadCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			pols, err := CompilePolicies(c.Policies)
			if err != nil {
				t.Fatal(err)
			}
			params := c.Route.Params
			if params == nil {
				params = []string{"id"}
			}
			s, err := New(&c.Authorize, pols, Route{Name: "orders", Version: "v1", Params: params,
				Challenge: c.Route.Challenge, MaxBodyBytes: 256})
			if err != nil {
				t.Fatal(err)
			}
			x := c.Request.exchange(t)
			x.Identity = c.Identity.identity()
			d := s.Handle(x)

			e := c.Expect
			var secrets []string
			secrets = append(secrets, e.Secrets...)
			for _, p := range c.Policies {
				secrets = append(secrets, p.Expression)
			}
			checkDecision(t, d, e.Code, e.Status, e.Params, secrets)
			if d.Denied() {
				dn := d.Denial
				for k, v := range e.Headers {
					if got := dn.Header.Get(k); got != v {
						t.Errorf("header %s = %q, want %q", k, got, v)
					}
				}
				for _, k := range e.AbsentHeaders {
					if v, ok := dn.Header[http.CanonicalHeaderKey(k)]; ok {
						t.Errorf("header %s = %q, want none", k, v)
					}
				}
				if e.Rule != "" && dn.Rule != e.Rule {
					t.Errorf("rule %q, want %q", dn.Rule, e.Rule)
				}
				if !strings.Contains(dn.Reason, e.Reason) {
					t.Errorf("reason %q, want it to contain %q", dn.Reason, e.Reason)
				}
				for _, s := range e.ReasonLacks {
					if strings.Contains(dn.Reason, s) {
						t.Errorf("reason %q contains %q", dn.Reason, s)
					}
				}
			}
			checkTrace(t, x.Trace, d, e.WouldDeny, e.PassRule, e.NoPassStep)
		})
	}
}

// checkDecision compares a decision with the expected code ("": pass), the
// catalog status and the params; it checks that the params fill every
// placeholder and that no secret reaches anything the client sees.
func checkDecision(t *testing.T, d pipeline.Decision, code string, status int, params map[string]string, secrets []string) {
	t.Helper()
	if code == "" {
		if d.Denied() {
			t.Fatalf("denied with %s (%s), want pass", d.Denial.Code, d.Denial.Reason)
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
	cat, ok := problem.Lookup(code)
	if !ok {
		t.Fatalf("code %s is not in the catalog", code)
	}
	if status != 0 && cat.Status != status {
		t.Errorf("status %d, want %d", cat.Status, status)
	}
	for _, tpl := range []string{cat.Detail, cat.Hint} {
		for _, ph := range problem.Placeholders(tpl) {
			if _, ok := dn.Params[ph]; !ok {
				t.Errorf("placeholder {%s} of %s is not filled; params %v", ph, code, dn.Params)
			}
		}
	}
	for k, v := range params {
		if dn.Params[k] != v {
			t.Errorf("param %s = %q, want %q", k, dn.Params[k], v)
		}
	}
	if dn.Rule == "" || dn.Reason == "" {
		t.Errorf("rule %q reason %q: both are needed for the trace", dn.Rule, dn.Reason)
	}
	p := problem.New(dn.Code, dn.Params)
	client := []string{p.Detail, p.Hint}
	for k, v := range dn.Params {
		client = append(client, k, v)
	}
	for k, vs := range dn.Header {
		client = append(client, k)
		client = append(client, vs...)
	}
	for _, secret := range secrets {
		for _, s := range client {
			if secret != "" && strings.Contains(s, secret) {
				t.Errorf("client-facing %q contains secret %q", s, secret)
			}
		}
	}
}

// checkTrace checks the report_only steps and the pass step.
func checkTrace(t *testing.T, trace []pipeline.Step, d pipeline.Decision, wouldDeny []string, passRule string, noPass bool) {
	t.Helper()
	var got []string
	var pass *pipeline.Step
	for i, st := range trace {
		if st.Stage != stageName {
			t.Errorf("step %d: stage %q", i, st.Stage)
		}
		switch st.Outcome {
		case pipeline.OutcomeWouldDeny:
			got = append(got, st.Code)
			if st.Rule == "" || st.Note == "" {
				t.Errorf("would_deny step %+v: needs a rule and a note", st)
			}
		case pipeline.OutcomePass:
			pass = &trace[i]
		default:
			t.Errorf("unexpected step %+v", st)
		}
	}
	if strings.Join(got, ",") != strings.Join(wouldDeny, ",") {
		t.Errorf("would_deny steps %v, want %v", got, wouldDeny)
	}
	switch {
	case d.Denied() || noPass:
		if pass != nil {
			t.Errorf("pass step %+v, want none", *pass)
		}
	case pass == nil:
		t.Errorf("no pass step")
	case passRule != "" && pass.Rule != passRule:
		t.Errorf("pass rule %q, want %q", pass.Rule, passRule)
	}
}
