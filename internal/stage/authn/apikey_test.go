package authn

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/problem"
	"github.com/pinpointgw/pinpoint/internal/stage/stagetest"
)

// testKeys are whole keys by name; testDirectory declares them.
var testKeys = map[string]string{
	"good":    "pp_live_good0000good_Gq3nXo0r9bVv2ZkTt8pLw4sJm6yHc1dE",
	"expired": "pp_live_expd0000expd_Hq3nXo0r9bVv2ZkTt8pLw4sJm6yHc1dE",
	"revoked": "pp_live_revk0000revk_Iq3nXo0r9bVv2ZkTt8pLw4sJm6yHc1dE",
	"future":  "pp_live_futr0000futr_Jq3nXo0r9bVv2ZkTt8pLw4sJm6yHc1dE",
	"rotated": "pp_live_rotd0000rotd_Kq3nXo0r9bVv2ZkTt8pLw4sJm6yHc1dE",
	"orphan":  "pp_live_orph0000orph_Lq3nXo0r9bVv2ZkTt8pLw4sJm6yHc1dE",
	"testenv": "pp_test_tenv0000tenv_Mq3nXo0r9bVv2ZkTt8pLw4sJm6yHc1dE",
}

var testNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func testDirectory(t testing.TB) *identity.Directory {
	t.Helper()
	d := &identity.Declared{
		Consumers: map[string]*identity.Consumer{
			"orders-app": {ID: "orders-app", Name: "Orders", TenantID: "acme", Groups: []string{"partners"}, Status: identity.StatusActive},
		},
		Keys: map[string]*identity.Key{},
	}
	add := func(name, consumer string, edit func(k *identity.Key)) {
		p, err := identity.ParseKey(testKeys[name])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		k := identity.NewKeyRecord(p.Env, p.ID)
		k.ConsumerID, k.Hash = consumer, identity.HashKey(testKeys[name])
		if edit != nil {
			edit(k)
		}
		d.Keys[k.ID()] = k
	}
	add("good", "orders-app", nil)
	add("expired", "orders-app", func(k *identity.Key) { k.ExpiresAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano() })
	add("revoked", "orders-app", func(k *identity.Key) {
		k.Extra = &identity.KeyExtra{RevokedAt: testNow.Add(-time.Hour).UnixNano(), RevokedReason: "leaked in a gist"}
	})
	add("future", "orders-app", func(k *identity.Key) {
		k.Extra = &identity.KeyExtra{NotBefore: time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC).UnixNano()}
	})
	add("rotated", "orders-app", func(k *identity.Key) {
		k.ExpiresAt = testNow.Add(-time.Minute).UnixNano()
		k.Extra = &identity.KeyExtra{ReplacedBy: "newk0000newk"}
	})
	add("orphan", "deleted-app", nil)
	add("testenv", "orders-app", nil)
	return &identity.Directory{Declared: d}
}

type apiKeyCase struct {
	Name       string              `yaml:"name"`
	Headers    map[string]yamlList `yaml:"headers"`
	Query      string              `yaml:"query"`
	Code       string              `yaml:"code"`
	Consumer   string              `yaml:"consumer"`
	Credential string              `yaml:"credential"`
	Bearer     bool                `yaml:"bearer"`
	Challenge  string              `yaml:"challenge"`
	DetailHas  string              `yaml:"detail_has"`
	ReasonHas  string              `yaml:"reason_has"`
}

// yamlList reads a scalar or a list of strings.
type yamlList []string

func (l *yamlList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = []string{n.Value}
		return nil
	}
	var s []string
	err := n.Decode(&s)
	*l = s
	return err
}

func expandKeys(s string) string {
	for name, k := range testKeys {
		s = strings.ReplaceAll(s, "{"+name+"}", k)
	}
	return s
}

// TestAPIKeyCases runs testdata/apikey_cases.yaml through a stage with one
// api_key authenticator.
func TestAPIKeyCases(t *testing.T) {
	t.Parallel()
	var cases []apiKeyCase
	stagetest.Corpus(t, "testdata/apikey_cases.yaml", &cases)
	if len(cases) < 15 {
		t.Fatalf("only %d cases decoded", len(cases))
	}
	dir := testDirectory(t)
	s := New([]Method{NewAPIKey("keys", nil, "live")}, dir, false)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/orders?"+expandKeys(tc.Query), nil)
			for k, vs := range tc.Headers {
				for _, v := range vs {
					r.Header.Add(k, expandKeys(v))
				}
			}
			x := &pipeline.Exchange{Request: r, Start: testNow}
			d := s.Handle(x)
			if tc.Code == "" {
				if d.Denied() {
					t.Fatalf("refused with %s (%s)", d.Denial.Code, d.Denial.Reason)
				}
				id := x.Identity
				if !id.Authenticated || id.ConsumerID != tc.Consumer || id.Method != "api_key" || id.Bearer != tc.Bearer ||
					id.TenantID != "acme" || len(id.Groups) != 1 {
					t.Errorf("identity = %+v", id)
				}
				if tc.Credential != "" && id.CredentialID != tc.Credential {
					t.Errorf("credential id = %q, want %q", id.CredentialID, tc.Credential)
				}
				return
			}
			if !d.Denied() {
				t.Fatalf("allowed, want %s", tc.Code)
			}
			dn := d.Denial
			if dn.Code != tc.Code {
				t.Fatalf("code = %s (%s), want %s", dn.Code, dn.Reason, tc.Code)
			}
			c, ok := problem.Lookup(dn.Code)
			if !ok || c.Status != 401 {
				t.Errorf("catalog status of %s = %v, want 401", dn.Code, c)
			}
			if got := dn.Header.Get("WWW-Authenticate"); got == "" || (tc.Challenge != "" && got != tc.Challenge) {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tc.Challenge)
			}
			p := problem.New(dn.Code, dn.Params)
			if tc.DetailHas != "" && !strings.Contains(p.Detail, tc.DetailHas) {
				t.Errorf("detail %q lacks %q", p.Detail, tc.DetailHas)
			}
			if tc.ReasonHas != "" && !strings.Contains(dn.Reason, tc.ReasonHas) {
				t.Errorf("reason %q lacks %q", dn.Reason, tc.ReasonHas)
			}
			// No secret part of any key may reach the caller.
			client := p.Detail + p.Hint + p.Title + strings.Join(dn.Header.Values("WWW-Authenticate"), " ")
			for _, v := range dn.Params {
				client += v
			}
			for name, k := range testKeys {
				secret := k[strings.LastIndexByte(k, '_')+1:]
				if strings.Contains(client, secret) || strings.Contains(dn.Reason, secret) {
					t.Errorf("the secret of key %s leaked: %q / %q", name, client, dn.Reason)
				}
			}
		})
	}
}

func TestAPIKeyOptionalLocations(t *testing.T) {
	t.Parallel()
	dir := testDirectory(t)
	no := false
	m := NewAPIKey("keys", &config.APIKeyAuth{Header: "apikey", Bearer: &no, Query: "key"}, "live")
	s := New([]Method{m}, dir, false)
	run := func(r *http.Request) pipeline.Decision {
		return s.Handle(&pipeline.Exchange{Request: r, Start: testNow})
	}
	r := httptest.NewRequest("GET", "/x?key="+testKeys["good"], nil)
	if d := run(r); d.Denied() {
		t.Errorf("query key refused: %s", d.Denial.Code)
	}
	r = httptest.NewRequest("GET", "/x", nil)
	r.Header.Set("Apikey", testKeys["good"])
	if d := run(r); d.Denied() {
		t.Errorf("custom header refused: %s", d.Denial.Code)
	}
	r = httptest.NewRequest("GET", "/x", nil)
	r.Header.Set("Authorization", "Bearer "+testKeys["good"])
	if d := run(r); !d.Denied() || d.Denial.Code != "authn.credential_wrong_location" {
		t.Errorf("bearer with bearer: false = %+v", d.Denial)
	} else if p := problem.New(d.Denial.Code, d.Denial.Params); !strings.Contains(p.Hint, "Apikey header") || !strings.Contains(p.Hint, "key query parameter") {
		t.Errorf("hint %q does not say where keys go", p.Hint)
	}
}

func TestOptionalAuthLetsAnonymousThrough(t *testing.T) {
	t.Parallel()
	s := New([]Method{NewAPIKey("keys", nil, "live")}, testDirectory(t), true)
	x := &pipeline.Exchange{Request: httptest.NewRequest("GET", "/", nil), Start: testNow}
	if d := s.Handle(x); d.Denied() || x.Identity.Authenticated {
		t.Errorf("anonymous request: %+v %+v", d.Denial, x.Identity)
	}
	// A credential that is present must still be valid.
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-API-Key", testKeys["revoked"])
	if d := s.Handle(&pipeline.Exchange{Request: r, Start: testNow}); !d.Denied() || d.Denial.Code != "authn.key_revoked" {
		t.Errorf("revoked key with optional auth: %+v", d.Denial)
	}
}

// stubMethod is a second authenticator kind for the ordering test.
type stubMethod struct{ kind, challenge string }

func (m stubMethod) Name() string      { return m.kind }
func (m stubMethod) Kind() string      { return m.kind }
func (m stubMethod) Challenge() string { return m.challenge }
func (m stubMethod) Authenticate(x *pipeline.Exchange, _ *identity.Directory) (bool, *pipeline.Denial) {
	if x.Request.Header.Get("X-Stub") == "" {
		return false, nil
	}
	x.Identity = pipeline.Identity{Authenticated: true, Method: m.kind, CredentialID: "stub", ConsumerID: "orders-app", Groups: []string{"token-group"}}
	return true, nil
}

func TestMethodsTriedInOrderAndTraced(t *testing.T) {
	t.Parallel()
	s := New([]Method{NewAPIKey("keys", nil, "live"), stubMethod{"jwt", `Bearer realm="pinpoint"`}}, testDirectory(t), false)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Stub", "1")
	x := &pipeline.Exchange{Request: r, Start: testNow}
	if d := s.Handle(x); d.Denied() {
		t.Fatalf("refused: %+v", d.Denial)
	}
	if len(x.Trace) != 2 || x.Trace[0].Outcome != pipeline.OutcomeSkip || x.Trace[0].Rule != "authenticator:keys" ||
		x.Trace[1].Outcome != pipeline.OutcomePass || x.Trace[1].Rule != "authenticator:jwt" {
		t.Errorf("trace = %+v", x.Trace)
	}
	if got := x.Identity.Groups; len(got) != 2 || got[0] != "partners" || got[1] != "token-group" {
		t.Errorf("groups = %v, want consumer's and token's", got)
	}
	d := s.Handle(&pipeline.Exchange{Request: httptest.NewRequest("GET", "/", nil), Start: testNow})
	if !d.Denied() || d.Denial.Code != "authn.credential_missing" {
		t.Fatalf("no credential: %+v", d.Denial)
	}
	if ch := d.Denial.Header.Values("WWW-Authenticate"); len(ch) != 2 {
		t.Errorf("challenges = %q, want one per method", ch)
	}
	if p := problem.New(d.Denial.Code, d.Denial.Params); !strings.Contains(p.Detail, "X-Api-Key header, or a bearer token") {
		t.Errorf("detail = %q", p.Detail)
	}
}

func FuzzAPIKeyAuthenticate(f *testing.F) {
	for _, k := range testKeys {
		f.Add(k, "")
	}
	f.Add("pp_live__", "api_key=pp_x")
	f.Add("pp_", "=pp_&=pp_")
	dir := testDirectory(f)
	m := NewAPIKey("keys", &config.APIKeyAuth{Query: "api_key"}, "live")
	f.Fuzz(func(t *testing.T, header, query string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.RawQuery = query
		r.Header.Set("X-API-Key", header)
		x := &pipeline.Exchange{Request: r, Start: testNow}
		found, d := m.Authenticate(x, dir)
		if d == nil && found && !x.Identity.Authenticated {
			t.Fatal("found a credential but neither authenticated nor refused")
		}
		if d != nil {
			for _, v := range d.Params {
				if len(header) > 40 && strings.Contains(v, header) {
					t.Fatalf("the presented key was echoed: %q", v)
				}
			}
		}
	})
}

// Regression: the gateway's API key must not reach the upstream (or its
// logs) unless the authenticator sets forward.
func TestVerifiedKeyIsRemovedBeforeTheUpstream(t *testing.T) {
	t.Parallel()
	dir := testDirectory(t)
	run := func(m *APIKey, r *http.Request) *http.Request {
		s := New([]Method{m}, dir, false)
		if d := s.Handle(&pipeline.Exchange{Request: r, Start: testNow}); d.Denied() {
			t.Fatalf("refused: %s", d.Denial.Code)
		}
		return r
	}
	r := httptest.NewRequest("GET", "/x?a=1", nil)
	r.Header.Set("X-API-Key", testKeys["good"])
	if run(NewAPIKey("k", nil, "live"), r).Header.Get("X-API-Key") != "" {
		t.Error("header key forwarded")
	}
	r = httptest.NewRequest("GET", "/x", nil)
	r.Header.Set("Authorization", "Bearer "+testKeys["good"])
	if run(NewAPIKey("k", nil, "live"), r).Header.Get("Authorization") != "" {
		t.Error("bearer key forwarded")
	}
	r = httptest.NewRequest("GET", "/x?a=1&key="+testKeys["good"], nil)
	if q := run(NewAPIKey("k", &config.APIKeyAuth{Query: "key"}, "live"), r).URL.RawQuery; q != "a=1" {
		t.Errorf("query after stripping = %q", q)
	}
	r = httptest.NewRequest("GET", "/x", nil)
	r.Header.Set("X-API-Key", testKeys["good"])
	if run(NewAPIKey("k", &config.APIKeyAuth{Forward: true}, "live"), r).Header.Get("X-API-Key") == "" {
		t.Error("forward: true dropped the key")
	}
}
