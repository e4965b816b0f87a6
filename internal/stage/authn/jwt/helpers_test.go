package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	jwtlib "github.com/golang-jwt/jwt/v5"

	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/stagetest"
)

// testNow is the fixed start of every test clock.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is the test clock of stagetest.
type clock = stagetest.Clock

func newClock() *clock { return stagetest.NewClock(testNow) }

// Keys generated once per test binary (RSA generation is slow).
var (
	rsaKey   = sync.OnceValue(func() *rsa.PrivateKey { return must(rsa.GenerateKey(rand.Reader, 2048)) })
	ecKey    = sync.OnceValue(func() *ecdsa.PrivateKey { return must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)) })
	ecKey2   = sync.OnceValue(func() *ecdsa.PrivateKey { return must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)) })
	ecKey3   = sync.OnceValue(func() *ecdsa.PrivateKey { return must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)) })
	edKey    = sync.OnceValue(func() ed25519.PrivateKey { _, k := must2(ed25519.GenerateKey(rand.Reader)); return k })
	hsSecret = []byte("0123456789abcdef0123456789abcdef") // 32 bytes
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

// signingKey returns the private key and signing method for a key name of
// the test corpus.
func signingKey(name string) (any, bool) {
	switch name {
	case "hs":
		return hsSecret, true
	case "hs-other":
		return []byte("ffffffffffffffffffffffffffffffff"), true
	case "rsa":
		return rsaKey(), true
	case "ec":
		return ecKey(), true
	case "ec-other":
		return ecKey2(), true
	case "ec3":
		return ecKey3(), true
	case "ed":
		return edKey(), true
	}
	return nil, false
}

// sign makes a real signed token.
func sign(t testing.TB, alg, keyName, kid string, header map[string]any, claims jwtlib.MapClaims) string {
	t.Helper()
	key, ok := signingKey(keyName)
	if !ok {
		t.Fatalf("unknown key %q", keyName)
	}
	method := jwtlib.GetSigningMethod(alg)
	if method == nil {
		t.Fatalf("unknown alg %q", alg)
	}
	tok := jwtlib.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign %s with %s: %v", alg, keyName, err)
	}
	return s
}

// writePEM writes pub as a PKIX PEM file and returns its path.
func writePEM(t testing.TB, pub crypto.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// jwksServer is an httptest JWKS endpoint whose key set and health the
// test changes.
type jwksServer struct {
	*httptest.Server
	doc   atomic.Pointer[[]byte]
	down  atomic.Bool
	calls atomic.Int64
}

func newJWKSServer(t testing.TB, keys map[string]crypto.PublicKey) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.serve(t, keys)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		if s.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(*s.doc.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

// serve replaces the served key set.
func (s *jwksServer) serve(t testing.TB, keys map[string]crypto.PublicKey) {
	t.Helper()
	var doc jwkset.JWKSMarshal
	for kid, pub := range keys {
		j, err := jwkset.NewJWKFromKey(pub, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: kid, USE: jwkset.UseSig}})
		if err != nil {
			t.Fatal(err)
		}
		doc.Keys = append(doc.Keys, j.Marshal())
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	s.doc.Store(&b)
}

// serveRaw replaces the served document.
func (s *jwksServer) serveRaw(doc string) {
	b := []byte(doc)
	s.doc.Store(&b)
}

// quietLogger drops log output.
var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// exchange returns an exchange whose request carries authorization.
func exchange(authorization string) *pipeline.Exchange {
	r := httptest.NewRequest(http.MethodGet, "/orders", nil)
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	return &pipeline.Exchange{Request: r}
}

// testDirectory knows the consumer orders-app.
var testDirectory = &identity.Directory{Declared: &identity.Declared{
	Consumers: map[string]*identity.Consumer{"orders-app": {ID: "orders-app", Name: "Orders App"}},
}}

// checkDenial asserts what every denial must satisfy: the code, its
// catalog status, the headers, filled placeholders, and no secret in
// anything client-facing or in the reason.
func checkDenial(t testing.TB, d *pipeline.Denial, code, name string, secrets ...string) {
	t.Helper()
	c := stagetest.Denial(t, d, code, 0, secrets...)
	if d.Rule != "authenticator:"+name {
		t.Errorf("rule %q, want authenticator:%s", d.Rule, name)
	}
	switch c.Status {
	case http.StatusUnauthorized:
		want := `Bearer realm="pinpoint", error="invalid_token", error_description="` + c.Title + `"`
		if got := d.Header.Get("WWW-Authenticate"); got != want {
			t.Errorf("WWW-Authenticate %q, want %q", got, want)
		}
	case http.StatusServiceUnavailable:
		if d.Header.Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
		if v := d.Header.Get("WWW-Authenticate"); strings.Contains(v, "invalid_token") {
			t.Errorf("idp_unavailable must not blame the token: %q", v)
		}
	default:
		t.Errorf("unexpected catalog status %d", c.Status)
	}
}
