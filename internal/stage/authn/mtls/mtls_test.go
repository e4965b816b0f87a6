package mtls

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/stagetest"
)

// testDirectory declares the identities of cases.yaml for p's certificates.
func testDirectory(p *testPKI) *identity.Directory {
	pinned := &identity.CertIdentity{SHA256: Fingerprint(p.leaves["pinned"].Leaf), ConsumerID: "globex"}
	d := &identity.Declared{
		CertsBySubject: map[string]*identity.CertIdentity{
			"acme-client": {Subject: "acme-client", ConsumerID: "acme"},
			"shared-cn":   {Subject: "shared-cn", ConsumerID: "initech"},
		},
		CertsBySHA256: map[string]*identity.CertIdentity{pinned.SHA256: pinned},
	}
	return &identity.Directory{Declared: d}
}

type mtlsCase struct {
	Name   string `yaml:"name"`
	Cert   string `yaml:"cert"`
	TLS    *bool  `yaml:"tls"`
	Expect struct {
		Found        *bool             `yaml:"found"`
		Code         string            `yaml:"code"`
		Status       int               `yaml:"status"`
		Params       map[string]string `yaml:"params"`
		CredentialID string            `yaml:"credential_id"`
		ConsumerID   string            `yaml:"consumer_id"`
	} `yaml:"expect"`
}

// TestCases runs the connection → decision corpus in testdata/cases.yaml.
func TestCases(t *testing.T) {
	t.Parallel()
	var cases []mtlsCase
	stagetest.Corpus(t, "testdata/cases.yaml", &cases)
	p := newPKI(t)
	dir := testDirectory(p)
	m := New("partner-certs")
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "https://api.example.com/orders", nil)
			if tc.TLS != nil && !*tc.TLS {
				r.TLS = nil
			} else {
				r.TLS = p.state(t, tc.Cert)
			}
			fp16 := ""
			if c, ok := p.leaves[tc.Cert]; ok {
				fp16 = Fingerprint(c.Leaf)[:16]
			}
			expand := func(s string) string { return strings.ReplaceAll(s, "{fp16}", fp16) }
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
					if x.Identity.Authenticated {
						t.Fatal("identity filled without a certificate")
					}
					return
				}
				id := x.Identity
				if !id.Authenticated || id.Method != "mtls" || id.Authenticator != "partner-certs" || len(id.Scopes) != 0 {
					t.Fatalf("identity = %+v", id)
				}
				if want := expand(tc.Expect.CredentialID); id.CredentialID != want {
					t.Errorf("credential id = %q, want %q", id.CredentialID, want)
				}
				if id.ConsumerID != tc.Expect.ConsumerID {
					t.Errorf("consumer id = %q, want %q", id.ConsumerID, tc.Expect.ConsumerID)
				}
				return
			}
			if d == nil {
				t.Fatalf("allowed, want %s", tc.Expect.Code)
			}
			checkDenial(t, d, tc.Expect.Code, tc.Expect.Status)
			for k, want := range tc.Expect.Params {
				if got := d.Params[k]; got != expand(want) {
					t.Errorf("param %s = %q, want %q", k, got, expand(want))
				}
			}
			if !strings.Contains(d.Reason, Fingerprint(p.leaves[tc.Cert].Leaf)) {
				t.Errorf("reason %q does not name the fingerprint", d.Reason)
			}
		})
	}
}

// checkDenial asserts the code, its catalog status, the placeholders, and
// that nothing operator-only (issuer, serial, the full fingerprint) is
// client-facing.
func checkDenial(t *testing.T, d *pipeline.Denial, code string, status int) {
	t.Helper()
	stagetest.Denial(t, d, code, status)
	if d.Rule != "partner-certs" {
		t.Errorf("rule %q", d.Rule)
	}
	if len(d.Header) != 0 {
		t.Errorf("header %v: mtls has no challenge of its own", d.Header)
	}
	for k, v := range d.Params {
		if strings.Contains(v, "Pinpoint test client CA") || len(v) > 70 {
			t.Errorf("param %s = %q says more than the subject", k, v)
		}
		for i := 0; i < len(v); i++ {
			if v[i] < 0x20 || v[i] == 0x7f {
				t.Errorf("param %s = %q has a control character", k, v)
			}
		}
	}
}

func TestMissing(t *testing.T) {
	t.Parallel()
	m := New("partner-certs")
	d := m.Missing()
	checkDenial(t, d, "authn.client_cert_missing", 401)
	if !strings.Contains(d.Reason, "client_ca_file") {
		t.Errorf("reason = %q", d.Reason)
	}
	if m.Missing() == d {
		t.Error("Missing shares one denial between requests")
	}
	if m.Challenge() != "" || m.Kind() != "mtls" || m.Name() != "partner-certs" {
		t.Errorf("challenge %q kind %q name %q", m.Challenge(), m.Kind(), m.Name())
	}
}

// Regression: PeerCertificates alone are whatever the client sent; only a
// verified chain identifies anyone.
func TestUnverifiedPeerCertificatesAreIgnored(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	r := httptest.NewRequest("GET", "/", nil)
	r.TLS = p.state(t, "unverified") // CN acme-client, which the directory lists
	x := &pipeline.Exchange{Request: r}
	if found, d := New("c").Authenticate(x, testDirectory(p)); found || d != nil || x.Identity.Authenticated {
		t.Fatalf("found %v denial %v identity %+v", found, d, x.Identity)
	}
}

// result is what the test server's handler reports.
func authHandler(m *Method, dir *identity.Directory) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := &pipeline.Exchange{Request: r}
		found, d := m.Authenticate(x, dir)
		code := ""
		if d != nil {
			code = d.Code
		}
		fmt.Fprintf(w, "found=%v code=%s consumer=%s credential=%s", found, code, x.Identity.ConsumerID, x.Identity.CredentialID)
	})
}

func get(t *testing.T, srv *httptest.Server, cert *tls.Certificate) (string, error) {
	t.Helper()
	tr := srv.Client().Transport.(*http.Transport).Clone()
	if cert != nil {
		// Always send it, even when the server's acceptable CAs do not
		// name its issuer (the client would otherwise send none).
		tr.TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr}).Get(srv.URL + "/orders")
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return string(b), err
}

// TestOverRealTLS runs the method behind a real TLS listener configured
// like a gateway listener with tls.client_ca_file.
func TestOverRealTLS(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	srv := httptest.NewUnstartedServer(authHandler(New("partner-certs"), testDirectory(p)))
	srv.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: p.pool}
	srv.StartTLS()
	defer srv.Close()

	acme, stranger, pinned := p.leaves["acme"], p.leaves["stranger"], p.leaves["pinned"]
	for _, tc := range []struct {
		name string
		cert *tls.Certificate
		want string
	}{
		{"no certificate", nil, "found=false code= consumer= credential="},
		{"registered subject", &acme, "found=true code= consumer=acme credential=acme-client"},
		{"pinned fingerprint", &pinned, "found=true code= consumer=globex credential=sha256:" + Fingerprint(pinned.Leaf)[:16]},
		{"unregistered", &stranger, "found=true code=authn.client_cert_unknown consumer= credential="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := get(t, srv, tc.cert)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}

	t.Run("certificate of another CA fails the handshake", func(t *testing.T) {
		otherCA, otherKey := newCA(t, "Someone else's CA")
		forged := issue(t, otherCA, otherKey, "acme-client")
		if got, err := get(t, srv, &forged); err == nil {
			t.Fatalf("request with a foreign certificate answered %q", got)
		}
	})
}

// Regression: a listener that requests but does not verify certificates
// (no client_ca_file) must not let a self-chosen certificate in.
func TestOverRealTLSWithoutVerification(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	srv := httptest.NewUnstartedServer(authHandler(New("partner-certs"), testDirectory(p)))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	srv.StartTLS()
	defer srv.Close()
	otherCA, otherKey := newCA(t, "Self-made CA")
	forged := issue(t, otherCA, otherKey, "acme-client")
	got, err := get(t, srv, &forged)
	if err != nil {
		t.Fatal(err)
	}
	if got != "found=false code= consumer= credential=" {
		t.Errorf("unverified certificate: %q", got)
	}
}

var sinkDenial *pipeline.Denial

// BenchmarkAuthenticate is the pass path of a certificate matched by subject.
func BenchmarkAuthenticate(b *testing.B) {
	p := newPKI(b)
	dir := testDirectory(p)
	m := New("bench")
	r := httptest.NewRequest("GET", "/", nil)
	r.TLS = p.state(b, "acme")
	x := &pipeline.Exchange{Request: r}
	b.ReportAllocs()
	for b.Loop() {
		x.Identity = pipeline.Identity{}
		_, sinkDenial = m.Authenticate(x, dir)
	}
	if sinkDenial != nil || x.Identity.ConsumerID != "acme" {
		b.Fatal("not authenticated")
	}
}
