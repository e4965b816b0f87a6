package jwt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
)

func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f.pem")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	ecPEM := writePEM(t, ecKey().Public())
	rsaPriv := writeFile(t, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey())}))
	small := must(rsa.GenerateKey(rand.Reader, 1024))
	smallPEM := writePEM(t, small.Public())
	p224 := must(ecdsa.GenerateKey(elliptic.P224(), rand.Reader))
	p224PEM := writePEM(t, p224.Public())
	notPEM := writeFile(t, []byte("not a key"))
	secret := string(hsSecret)
	for _, c := range []struct {
		name string
		c    *config.JWTAuth
		path string // FieldError path
		msg  string // substring of the message
	}{
		{"missing block", nil, "", "jwt block is required"},
		{"no key source", &config.JWTAuth{Issuer: "x"}, "", "no key source"},
		{"empty secret from the environment", &config.JWTAuth{Algorithms: []string{"HS256"}}, "secret", "set secret to ${ENV_NAME}"},
		{"short secret", &config.JWTAuth{Secret: "0123456789"}, "secret", "10 bytes"},
		{"secret with a JWKS", &config.JWTAuth{Secret: secret, JWKSURL: "https://idp.example/jwks"}, "secret", "cannot be combined"},
		{"secret with public keys", &config.JWTAuth{Secret: secret, PublicKeys: []config.JWTPublicKey{{File: ecPEM}}}, "secret", "cannot be combined"},
		{"unknown algorithm", &config.JWTAuth{Secret: secret, Algorithms: []string{"HS256", "XS999"}}, "algorithms[1]", "unknown algorithm"},
		{"algorithm in the wrong case", &config.JWTAuth{JWKSURL: "https://idp.example/jwks", Algorithms: []string{"rs256"}}, "algorithms[0]", `did you mean "RS256"`},
		{"none", &config.JWTAuth{JWKSURL: "https://idp.example/jwks", Algorithms: []string{"RS256", "none"}}, "algorithms[1]", "never accepted"},
		{"HS256 with a JWKS", &config.JWTAuth{JWKSURL: "https://idp.example/jwks", Algorithms: []string{"HS256"}}, "algorithms[0]", "algorithm confusion"},
		{"HS256 with public keys", &config.JWTAuth{PublicKeys: []config.JWTPublicKey{{File: ecPEM}}, Algorithms: []string{"HS256"}}, "algorithms[0]", "algorithm confusion"},
		{"RS256 with a secret", &config.JWTAuth{Secret: secret, Algorithms: []string{"RS256"}}, "algorithms[0]", "needs jwks_url or public_keys"},
		{"HS512 with a 32-byte secret", &config.JWTAuth{Secret: secret, Algorithms: []string{"HS512"}}, "algorithms[0]", "at least 64 bytes"},
		{"algorithm no PEM key verifies", &config.JWTAuth{PublicKeys: []config.JWTPublicKey{{File: ecPEM}}, Algorithms: []string{"RS256"}}, "algorithms[0]", "no key in public_keys can verify RS256"},
		{"public key without file", &config.JWTAuth{PublicKeys: []config.JWTPublicKey{{Kid: "a"}}}, "public_keys[0].file", "required"},
		{"unreadable public key", &config.JWTAuth{PublicKeys: []config.JWTPublicKey{{File: "/nonexistent/key.pem"}}}, "public_keys[0].file", "cannot read"},
		{"private key instead of a public key", &config.JWTAuth{PublicKeys: []config.JWTPublicKey{{File: rsaPriv}}}, "public_keys[0].file", "private key"},
		{"file that is not PEM", &config.JWTAuth{PublicKeys: []config.JWTPublicKey{{File: notPEM}}}, "public_keys[0].file", "no PEM block"},
		{"RSA key too small", &config.JWTAuth{PublicKeys: []config.JWTPublicKey{{File: smallPEM}}}, "public_keys[0].file", "1024 bits"},
		{"unsupported curve", &config.JWTAuth{PublicKeys: []config.JWTPublicKey{{File: p224PEM}}}, "public_keys[0].file", "unsupported"},
		{"duplicate kid", &config.JWTAuth{PublicKeys: []config.JWTPublicKey{{Kid: "a", File: ecPEM}, {Kid: "a", File: ecPEM}}}, "public_keys[1].kid", "duplicate kid"},
		{"JWKS URL not http", &config.JWTAuth{JWKSURL: "ftp://idp.example/jwks"}, "jwks_url", "not an absolute http(s) URL"},
		{"JWKS URL relative", &config.JWTAuth{JWKSURL: "/jwks"}, "jwks_url", "not an absolute"},
		{"JWKS refresh too short", &config.JWTAuth{JWKSURL: "https://idp.example/jwks", JWKSRefresh: config.Duration(time.Millisecond)}, "jwks_refresh", "at least 1s"},
		{"negative leeway", &config.JWTAuth{Secret: secret, Leeway: config.Duration(-time.Second)}, "leeway", "negative"},
		{"empty required claim", &config.JWTAuth{Secret: secret, RequiredClaims: []string{"exp", " "}}, "required_claims[1]", "empty"},
		{"empty audience", &config.JWTAuth{Secret: secret, Audiences: []string{""}}, "audiences[0]", "empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m, err := New("idp", c.c, Options{Logger: quietLogger})
			if err == nil {
				m.Close()
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), secret) {
				t.Error("the error reveals the secret")
			}
			var fe *config.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("%v is not a FieldError", err)
			}
			found := false
			for _, e := range flatten(err) {
				if errors.As(e, &fe) && fe.Path == c.path && strings.Contains(fe.Message, c.msg) {
					found = true
				}
			}
			if !found {
				t.Fatalf("error %q has no %q at path %q", err, c.msg, c.path)
			}
		})
	}
}

// flatten lists the leaves of a joined error.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

func TestConfigReportsEveryError(t *testing.T) {
	t.Parallel()
	_, err := New("idp", &config.JWTAuth{
		JWKSURL:        "https://idp.example/jwks",
		Algorithms:     []string{"none", "HS256"},
		Leeway:         config.Duration(-time.Second),
		RequiredClaims: []string{""},
	}, Options{Logger: quietLogger})
	var paths []string
	for _, e := range flatten(err) {
		var fe *config.FieldError
		if errors.As(e, &fe) {
			paths = append(paths, fe.Path)
		}
	}
	slices.Sort(paths)
	want := []string{"algorithms[0]", "algorithms[1]", "leeway", "required_claims[0]"}
	if !slices.Equal(paths, want) {
		t.Fatalf("paths %q, want %q", paths, want)
	}
}

func TestDefaultAlgorithms(t *testing.T) {
	t.Parallel()
	ecPEM := writePEM(t, ecKey().Public())
	edPEM := writePEM(t, edKey().Public())
	for _, c := range []struct {
		name string
		c    *config.JWTAuth
		want string
	}{
		{"32-byte secret", &config.JWTAuth{Secret: string(hsSecret)}, "HS256"},
		{"48-byte secret", &config.JWTAuth{Secret: strings.Repeat("s", 48)}, "HS256, HS384"},
		{"64-byte secret", &config.JWTAuth{Secret: strings.Repeat("s", 64)}, "HS256, HS384, HS512"},
		{"P-256 and Ed25519 keys", &config.JWTAuth{PublicKeys: []config.JWTPublicKey{{Kid: "a", File: ecPEM}, {Kid: "b", File: edPEM}}}, "ES256, EdDSA"},
		{"explicit list", &config.JWTAuth{PublicKeys: []config.JWTPublicKey{{File: ecPEM}}, Algorithms: []string{"ES256", "ES256"}}, "ES256"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m, err := New("idp", c.c, Options{Logger: quietLogger})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if m.allowed != c.want {
				t.Fatalf("algorithms %q, want %q", m.allowed, c.want)
			}
		})
	}
}

func TestParsePublicKeyPEMForms(t *testing.T) {
	t.Parallel()
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsaKey().PublicKey)})
	if _, algs, err := parsePublicKeyPEM(pkcs1); err != nil || !slices.Contains(algs, "PS256") {
		t.Fatalf("PKCS #1: %v %v", algs, err)
	}
	ecPriv := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: must(x509.MarshalECPrivateKey(ecKey()))})
	if _, _, err := parsePublicKeyPEM(ecPriv); err == nil || !strings.Contains(err.Error(), "private key") {
		t.Fatalf("EC private key: %v", err)
	}
	if _, _, err := parsePublicKeyPEM([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")); err == nil {
		t.Fatal("broken certificate accepted")
	}
}
