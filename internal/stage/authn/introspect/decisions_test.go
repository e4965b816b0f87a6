package introspect

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/stage/stagetest"
)

type decisionCase struct {
	Name          string  `yaml:"name"`
	Method        string  `yaml:"method"`
	Authorization *string `yaml:"authorization"`
	Status        int     `yaml:"status"`
	Answer        string  `yaml:"answer"`
	Expect        struct {
		Found        *bool             `yaml:"found"`
		Code         string            `yaml:"code"`
		Status       int               `yaml:"status"`
		Params       map[string]string `yaml:"params"`
		Consumer     *string           `yaml:"consumer"`
		CredentialID *string           `yaml:"credential_id"`
		Scopes       []string          `yaml:"scopes"`
	} `yaml:"expect"`
}

var relativeTime = regexp.MustCompile(`\{now([+-][0-9a-z]+)\}`)

// expandTimes replaces {now+1h} with the Unix time relative to testNow.
func expandTimes(t *testing.T, s string) string {
	return relativeTime.ReplaceAllStringFunc(s, func(m string) string {
		d, err := time.ParseDuration(relativeTime.FindStringSubmatch(m)[1])
		if err != nil {
			t.Fatal(err)
		}
		return strconv.FormatInt(testNow.Add(d).Unix(), 10)
	})
}

// TestDecisions runs the answer → decision corpus in testdata/cases.yaml.
func TestDecisions(t *testing.T) {
	t.Parallel()
	var cases []decisionCase
	stagetest.Corpus(t, "testdata/cases.yaml", &cases)
	if len(cases) < 20 {
		t.Fatalf("corpus has %d cases; expected the full file", len(cases))
	}
	srv := newIDPServer(t)
	clk := newClock()
	methods := map[string]*Method{
		"":       newMethod(t, srv, clk),
		"strict": newMethod(t, srv, clk, func(c *config.IntrospectionAuth) { c.RequireConsumer = true }),
	}
	t.Cleanup(func() {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		for _, v := range srv.violations {
			t.Errorf("protocol violation: %s", v)
		}
	})
	for i, c := range cases {
		tok := "opaque-" + strconv.Itoa(i) + "-2YotnFZFEjr1zCsicMWpAA"
		auth := "Bearer " + tok
		if c.Authorization != nil {
			auth = strings.ReplaceAll(*c.Authorization, "{token}", tok)
			tok = strings.TrimPrefix(auth, "Bearer ")
		}
		srv.answer(tok, c.Status, expandTimes(t, c.Answer))
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			m := methods[c.Method]
			x := exchange(auth)
			found, d := m.Authenticate(x, testDirectory)
			wantFound := c.Expect.Found == nil || *c.Expect.Found
			if found != wantFound {
				t.Fatalf("found %v, want %v (denial %+v)", found, wantFound, d)
			}
			if !found {
				if srv.callsFor(tok) != 0 {
					t.Error("a credential that is not ours was sent to the endpoint")
				}
				return
			}
			if c.Expect.Code == "" {
				if d != nil {
					t.Fatalf("refused with %s: %s", d.Code, d.Reason)
				}
				id := x.Identity
				if !id.Authenticated || id.Method != "introspection" || id.Authenticator != "idp" || !id.Bearer || id.Claims == nil {
					t.Errorf("identity %+v", id)
				}
				if c.Expect.Consumer != nil && id.ConsumerID != *c.Expect.Consumer {
					t.Errorf("consumer %q, want %q", id.ConsumerID, *c.Expect.Consumer)
				}
				if c.Expect.CredentialID != nil && id.CredentialID != *c.Expect.CredentialID {
					t.Errorf("credential id %q, want %q", id.CredentialID, *c.Expect.CredentialID)
				}
				if c.Expect.Scopes != nil && !slices.Equal(id.Scopes, c.Expect.Scopes) {
					t.Errorf("scopes %q, want %q", id.Scopes, c.Expect.Scopes)
				}
				return
			}
			checkDenial(t, d, c.Expect.Code, tok)
			if want := map[bool]int{true: 503, false: 401}[c.Expect.Code == codeIDPUnavailable]; c.Expect.Status != want {
				t.Errorf("corpus status %d, catalog %d", c.Expect.Status, want)
			}
			for k, v := range c.Expect.Params {
				if d.Params[k] != v {
					t.Errorf("param %s = %q, want %q", k, d.Params[k], v)
				}
			}
			if x.Identity.Authenticated {
				t.Error("a refused token left an authenticated identity")
			}
		})
	}
}
