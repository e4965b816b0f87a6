package gateway

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// testCA issues client certificates.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key}
}

func (ca *testCA) issue(t *testing.T, cn string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestMTLSListenerIdentifiesConsumers runs the mtls authenticator behind a
// real TLS listener with client_ca_file: a registered certificate is a
// consumer, a verified but unregistered one is authn.client_cert_unknown,
// none is authn.client_cert_missing, and one from another CA identifies
// no one.
func TestMTLSListenerIdentifiesConsumers(t *testing.T) {
	t.Parallel()
	be := backend(t, "app")
	ca, other := newTestCA(t, "partners CA"), newTestCA(t, "someone else")
	dir := t.TempDir()
	caFile := filepath.Join(dir, "clients-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, fmt.Sprintf(`version: 1
authenticators:
  - {name: certs, type: mtls}
consumers:
  - id: partner-app
    mtls: [{subject: partner.example.com}]
routes:
  - name: certs
    paths: ["/certs"]
    upstream: u
    auth: {methods: [certs]}
upstreams:
  - name: u
    targets: [{url: %q}]
`, be.URL))
	certFile, keyFile, pool := writeSelfSigned(t, dir)
	srv, err := Listen([]config.Listener{{Name: "tls", Kind: "proxy", Address: "127.0.0.1:0",
		TLS: &config.ListenerTLS{CertFile: certFile, KeyFile: keyFile, ClientCAFile: caFile}}}, h.g, http.NotFoundHandler(), h.g.log)
	if err != nil {
		t.Fatal(err)
	}
	srv.Serve()
	t.Cleanup(func() { _ = srv.Shutdown(t.Context()) })

	get := func(certs ...tls.Certificate) (*http.Response, string, error) {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: certs}}}
		resp, err := client.Get("https://" + srv.Addr("tls") + "/certs")
		if err != nil {
			return nil, "", err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b), nil
	}
	if resp, body, err := get(ca.issue(t, "partner.example.com")); err != nil || resp.StatusCode != 200 {
		t.Fatalf("registered certificate: %v %v %s", err, resp, body)
	}
	resp, body, err := get(ca.issue(t, "stranger.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	problemBody(t, resp, body, 401, "authn.client_cert_unknown")
	resp, body, err = get()
	if err != nil {
		t.Fatal(err)
	}
	problemBody(t, resp, body, 401, "authn.client_cert_missing")
	if resp.Header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	// A certificate of another CA is not offered by the client (it matches
	// none of the CAs the server names) or fails the handshake: either way
	// it never identifies anyone.
	if resp, body, err := get(other.issue(t, "partner.example.com")); err == nil && resp.StatusCode != 401 {
		t.Errorf("a certificate of another CA: %d %s", resp.StatusCode, body)
	}
}
