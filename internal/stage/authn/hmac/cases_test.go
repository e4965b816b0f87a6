package hmac

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/stagetest"
)

type hmacCase struct {
	Name            string            `yaml:"name"`
	Method          string            `yaml:"method"`
	Target          string            `yaml:"target"`
	Body            string            `yaml:"body"`
	Date            string            `yaml:"date"`
	DateHeader      string            `yaml:"date_header"`
	Digest          string            `yaml:"digest"`
	Headers         map[string]string `yaml:"headers"`
	Sign            *signSpec         `yaml:"sign"`
	Authorization   string            `yaml:"authorization"`
	SignatureHeader string            `yaml:"signature_header"`
	Tamper          struct {
		Headers                map[string]string `yaml:"headers"`
		Body                   *string           `yaml:"body"`
		Target                 string            `yaml:"target"`
		Host                   string            `yaml:"host"`
		AuthorizationAlgorithm string            `yaml:"authorization_algorithm"`
	} `yaml:"tamper"`
	Expect struct {
		Found        *bool             `yaml:"found"`
		Code         string            `yaml:"code"`
		Status       int               `yaml:"status"`
		Params       map[string]string `yaml:"params"`
		CredentialID string            `yaml:"credential_id"`
		ConsumerID   string            `yaml:"consumer_id"`
	} `yaml:"expect"`
}

func testDirectory() *identity.Directory {
	owners := map[string]string{"k1": "acme", "k2": "globex", "partner.key": "initech"}
	d := &identity.Declared{HMACKeys: map[string]*identity.HMACKey{}}
	for id, secret := range testKeys {
		d.HMACKeys[id] = &identity.HMACKey{ID: id, ConsumerID: owners[id], Secret: []byte(secret)}
	}
	return &identity.Directory{Declared: d}
}

func newTestMethod(t testing.TB) *Method {
	t.Helper()
	m, err := New("partner-hmac", nil, Options{Now: func() time.Time { return testClock }})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// build turns a case into the request the gateway receives.
func (tc *hmacCase) build(t *testing.T) *http.Request {
	method := tc.Method
	if method == "" {
		method = "GET"
	}
	target := tc.Target
	if target == "" {
		target = "/orders"
	}
	var body io.Reader
	if tc.Body != "" {
		body = strings.NewReader(tc.Body)
	}
	r, err := http.NewRequest(method, "http://api.example.com"+target, body)
	if err != nil {
		t.Fatal(err)
	}
	r.RequestURI = target // as the server sees it
	if tc.Date != "none" {
		var off time.Duration
		if tc.Date != "" {
			if off, err = time.ParseDuration(tc.Date); err != nil {
				t.Fatal(err)
			}
		}
		name := tc.DateHeader
		if name == "" {
			name = "Date"
		}
		r.Header.Set(name, testClock.Add(off).Format(http.TimeFormat))
	}
	if tc.Body != "" && tc.Digest != "none" {
		kind := tc.Digest
		if kind == "" {
			kind = "sha-256"
		}
		n, v := digestHeader(kind, tc.Body)
		r.Header.Set(n, v)
	}
	for k, v := range tc.Headers {
		r.Header.Set(k, v)
	}
	if tc.Sign != nil {
		sign(r, *tc.Sign)
	}
	if tc.Authorization != "" {
		r.Header.Set("Authorization", tc.Authorization)
	}
	if tc.SignatureHeader != "" {
		r.Header.Set("Signature", tc.SignatureHeader)
	}
	for k, v := range tc.Tamper.Headers {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	if b := tc.Tamper.Body; b != nil {
		r.Body = io.NopCloser(strings.NewReader(*b))
		r.ContentLength = int64(len(*b))
	}
	if tc.Tamper.Target != "" {
		r.RequestURI = tc.Tamper.Target
		r.URL, _ = url.Parse("http://api.example.com" + tc.Tamper.Target)
	}
	if tc.Tamper.Host != "" {
		r.Host = tc.Tamper.Host
	}
	if a := tc.Tamper.AuthorizationAlgorithm; a != "" {
		h := r.Header.Get("Authorization")
		i := strings.Index(h, `algorithm="`)
		j := strings.Index(h[i+11:], `"`)
		r.Header.Set("Authorization", h[:i+11]+a+h[i+11+j:])
	}
	return r
}

// TestCases runs the request → decision corpus in testdata/cases.yaml.
func TestCases(t *testing.T) {
	t.Parallel()
	var cases []hmacCase
	stagetest.Corpus(t, "testdata/cases.yaml", &cases)
	m := newTestMethod(t)
	dir := testDirectory()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			r := tc.build(t)
			x := &pipeline.Exchange{Request: r}
			found, d := m.Authenticate(x, dir)
			wantFound := tc.Expect.Found == nil || *tc.Expect.Found
			if found != wantFound {
				t.Fatalf("found = %v, want %v (denial %v)", found, wantFound, d)
			}
			if tc.Expect.Code == "" {
				if d != nil {
					t.Fatalf("denied %s: %s", d.Code, d.Reason)
				}
				if !wantFound {
					return
				}
				id := x.Identity
				if !id.Authenticated || id.Method != "hmac" || id.Authenticator != "partner-hmac" || len(id.Scopes) != 0 {
					t.Fatalf("identity = %+v", id)
				}
				if id.CredentialID != tc.Expect.CredentialID {
					t.Errorf("credential id = %q, want %q", id.CredentialID, tc.Expect.CredentialID)
				}
				if tc.Expect.ConsumerID != "" && id.ConsumerID != tc.Expect.ConsumerID {
					t.Errorf("consumer id = %q, want %q", id.ConsumerID, tc.Expect.ConsumerID)
				}
				return
			}
			if d == nil {
				t.Fatalf("allowed, want %s", tc.Expect.Code)
			}
			checkDenial(t, d, tc.Expect.Code, tc.Expect.Status, r)
			for k, want := range tc.Expect.Params {
				if d.Params[k] != want {
					t.Errorf("param %s = %q, want %q", k, d.Params[k], want)
				}
			}
			if x.Identity.Authenticated {
				t.Error("identity filled on a denial")
			}
		})
	}
}

// checkDenial asserts the code, its catalog status, the challenge, that
// every placeholder has a param, and that neither a secret nor the
// signature reaches Params, headers or the operator's Reason.
func checkDenial(t *testing.T, d *pipeline.Denial, code string, status int, r *http.Request) {
	t.Helper()
	secrets := []string{}
	for _, s := range testKeys {
		secrets = append(secrets, s)
	}
	if sig := signatureOf(r); len(sig) >= 8 {
		secrets = append(secrets, sig)
	}
	c := stagetest.Denial(t, d, code, status, secrets...)
	if c.Status == 401 && !strings.HasPrefix(d.Header.Get("WWW-Authenticate"), "Signature ") {
		t.Errorf("WWW-Authenticate = %q", d.Header.Get("WWW-Authenticate"))
	}
	if d.Rule != "partner-hmac" {
		t.Errorf("rule %q", d.Rule)
	}
}

func signatureOf(r *http.Request) string {
	h := r.Header.Get("Authorization") + r.Header.Get("Signature")
	if i := strings.Index(h, `signature="`); i >= 0 {
		rest := h[i+11:]
		if j := strings.IndexByte(rest, '"'); j >= 0 {
			return rest[:j]
		}
	}
	return ""
}
