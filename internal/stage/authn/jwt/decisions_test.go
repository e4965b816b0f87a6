package jwt

import (
	"crypto"
	"slices"
	"strings"
	"testing"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/stage/stagetest"
)

// decisionCase is one entry of testdata/cases.yaml.
type decisionCase struct {
	Name          string  `yaml:"name"`
	Method        string  `yaml:"method"`
	Authorization *string `yaml:"authorization"`
	Token         struct {
		Raw    string         `yaml:"raw"`
		Alg    string         `yaml:"alg"`
		Key    string         `yaml:"key"`
		Kid    string         `yaml:"kid"`
		Header map[string]any `yaml:"header"`
		Claims map[string]any `yaml:"claims"`
		Exp    string         `yaml:"exp"`
		Nbf    string         `yaml:"nbf"`
		Iat    string         `yaml:"iat"`
		Tamper bool           `yaml:"tamper"`
	} `yaml:"token"`
	Expect struct {
		Found        *bool             `yaml:"found"`
		Code         string            `yaml:"code"`
		Status       int               `yaml:"status"`
		Params       map[string]string `yaml:"params"`
		Consumer     *string           `yaml:"consumer"`
		CredentialID *string           `yaml:"credential_id"`
		Scopes       []string          `yaml:"scopes"`
		Groups       []string          `yaml:"groups"`
	} `yaml:"expect"`
}

// corpusMethods builds the authenticators the corpus names.
func corpusMethods(t *testing.T) map[string]*Method {
	t.Helper()
	clk := newClock()
	o := Options{Logger: quietLogger, Now: clk.Now, firstFetchWait: 10 * time.Second}
	common := func(c config.JWTAuth) *config.JWTAuth {
		c.Issuer = "https://idp.example/"
		c.Audiences = []string{"orders-api"}
		return &c
	}
	ecPEM := writePEM(t, ecKey().Public())
	jwks := newJWKSServer(t, map[string]crypto.PublicKey{"jwks-ec1": ecKey().Public()})
	down := newJWKSServer(t, nil)
	down.down.Store(true)
	blocks := map[string]*config.JWTAuth{
		"hs": common(config.JWTAuth{Secret: string(hsSecret), GroupsClaim: "roles"}),
		"pem": common(config.JWTAuth{PublicKeys: []config.JWTPublicKey{
			{Kid: "ec1", File: ecPEM},
			{Kid: "rsa1", File: writePEM(t, rsaKey().Public())},
			{Kid: "ed1", File: writePEM(t, edKey().Public())},
		}}),
		"strict": common(config.JWTAuth{PublicKeys: []config.JWTPublicKey{{Kid: "ec1", File: ecPEM}},
			RequiredClaims: []string{"exp", "tenant"}, RequireConsumer: true}),
		"jwks": common(config.JWTAuth{JWKSURL: jwks.URL}),
		"down": common(config.JWTAuth{JWKSURL: down.URL}),
	}
	out := map[string]*Method{}
	for name, b := range blocks {
		m, err := New(name, b, o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Cleanup(m.Close)
		out[name] = m
	}
	return out
}

// TestDecisions runs the bearer token → decision corpus in testdata/cases.yaml.
func TestDecisions(t *testing.T) {
	t.Parallel()
	var cases []decisionCase
	stagetest.Corpus(t, "testdata/cases.yaml", &cases)
	if len(cases) < 40 {
		t.Fatalf("corpus has %d cases; expected the full file", len(cases))
	}
	methods := corpusMethods(t)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			m := methods[c.Method]
			if m == nil {
				t.Fatalf("unknown method %q", c.Method)
			}
			tok := corpusToken(t, c)
			auth := "Bearer " + tok
			if c.Authorization != nil {
				auth = strings.ReplaceAll(*c.Authorization, "{token}", tok)
			}
			x := exchange(auth)
			found, d := m.Authenticate(x, testDirectory)
			wantFound := c.Expect.Found == nil || *c.Expect.Found
			if found != wantFound {
				t.Fatalf("found %v, want %v (denial %+v)", found, wantFound, d)
			}
			if c.Expect.Code == "" {
				if d != nil {
					t.Fatalf("refused with %s: %s", d.Code, d.Reason)
				}
				if found {
					checkIdentity(t, c, x.Identity.ConsumerID, x.Identity.CredentialID, x.Identity.Scopes, x.Identity.Groups)
					if !x.Identity.Authenticated || x.Identity.Method != "jwt" || x.Identity.Authenticator != c.Method || !x.Identity.Bearer {
						t.Errorf("identity %+v", x.Identity)
					}
				}
				return
			}
			checkDenial(t, d, c.Expect.Code, c.Method, tok, string(hsSecret))
			if c.Expect.Status != 0 {
				if want := map[string]int{"authn.idp_unavailable": 503}[d.Code]; want == 0 && c.Expect.Status != 401 || want != 0 && want != c.Expect.Status {
					t.Errorf("status %d does not match the catalog", c.Expect.Status)
				}
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

func checkIdentity(t *testing.T, c decisionCase, consumer, credID string, scopes, groups []string) {
	t.Helper()
	if c.Expect.Consumer != nil && consumer != *c.Expect.Consumer {
		t.Errorf("consumer %q, want %q", consumer, *c.Expect.Consumer)
	}
	if c.Expect.CredentialID != nil && credID != *c.Expect.CredentialID {
		t.Errorf("credential id %q, want %q", credID, *c.Expect.CredentialID)
	}
	if c.Expect.Scopes != nil && !slices.Equal(scopes, c.Expect.Scopes) {
		t.Errorf("scopes %q, want %q", scopes, c.Expect.Scopes)
	}
	if c.Expect.Groups != nil && !slices.Equal(groups, c.Expect.Groups) {
		t.Errorf("groups %q, want %q", groups, c.Expect.Groups)
	}
}

// corpusToken builds the case's token.
func corpusToken(t *testing.T, c decisionCase) string {
	t.Helper()
	tk := c.Token
	if tk.Raw != "" || tk.Alg == "" {
		return tk.Raw
	}
	claims := jwtlib.MapClaims{"iss": "https://idp.example/", "aud": "orders-api", "sub": "orders-app"}
	for name, rel := range map[string]string{"exp": cmpOrString(tk.Exp, "1h"), "nbf": cmpOrString(tk.Nbf, "none"), "iat": cmpOrString(tk.Iat, "none")} {
		if rel == "none" {
			continue
		}
		d, err := time.ParseDuration(rel)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		claims[name] = testNow.Add(d).Unix()
	}
	for k, v := range tk.Claims {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	var s string
	if tk.Key == "none" {
		tok := jwtlib.NewWithClaims(jwtlib.SigningMethodNone, claims)
		s = must(tok.SignedString(jwtlib.UnsafeAllowNoneSignatureType))
	} else {
		s = sign(t, tk.Alg, tk.Key, tk.Kid, tk.Header, claims)
	}
	if tk.Tamper {
		i := strings.LastIndexByte(s, '.') + 10
		b := []byte(s)
		b[i] = map[bool]byte{true: 'B', false: 'A'}[b[i] == 'A']
		s = string(b)
	}
	return s
}

func cmpOrString(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
