package mtls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// testPKI is a CA and client certificates issued by it, generated per
// test run.
type testPKI struct {
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	pool   *x509.CertPool
	leaves map[string]tls.Certificate // by case name
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func serial(t testing.TB) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// newCA creates a self-signed CA.
func newCA(t testing.TB, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key := newKey(t)
	tpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Pinpoint tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return ca, key
}

// issue creates a client certificate with common name cn signed by ca.
func issue(t testing.TB, ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string) tls.Certificate {
	t.Helper()
	key := newKey(t)
	tpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"Client"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func newPKI(t testing.TB) *testPKI {
	t.Helper()
	ca, caKey := newCA(t, "Pinpoint test client CA")
	p := &testPKI{ca: ca, caKey: caKey, pool: x509.NewCertPool(), leaves: map[string]tls.Certificate{}}
	p.pool.AddCert(ca)
	for name, cn := range map[string]string{
		"acme":       "acme-client",
		"pinned":     "shared-cn",
		"stranger":   "stranger",
		"nocn":       "",
		"evil-cn":    "evil\x1b[31mred",
		"unverified": "acme-client",
	} {
		p.leaves[name] = issue(t, ca, caKey, cn)
	}
	return p
}

// state is the TLS connection state a listener with p's CA as
// client_ca_file records for cert (verified chains included).
func (p *testPKI) state(t testing.TB, name string) *tls.ConnectionState {
	t.Helper()
	cs := &tls.ConnectionState{HandshakeComplete: true, Version: tls.VersionTLS13}
	if name == "none" {
		return cs
	}
	leaf := p.leaves[name].Leaf
	cs.PeerCertificates = []*x509.Certificate{leaf}
	if name == "unverified" {
		return cs // tls.RequestClientCert: presented, never verified
	}
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: p.pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		t.Fatal(err)
	}
	cs.VerifiedChains = chains
	return cs
}
