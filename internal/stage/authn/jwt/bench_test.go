package jwt

import (
	"crypto"
	"testing"

	jwtlib "github.com/golang-jwt/jwt/v5"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

func benchmarkVerify(b *testing.B, c *config.JWTAuth, tok string) {
	clk := newClock()
	m, err := New("bench", c, Options{Logger: quietLogger, Now: clk.Now})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	x := exchange("Bearer " + tok)
	if _, d := m.Authenticate(x, testDirectory); d != nil { // warms the key cache
		b.Fatalf("%s: %s", d.Code, d.Reason)
	}
	b.ReportAllocs()
	for b.Loop() {
		x.Identity = pipeline.Identity{}
		if _, d := m.Authenticate(x, testDirectory); d != nil {
			b.Fatal(d.Code)
		}
	}
}

func benchClaims() jwtlib.MapClaims {
	return jwtlib.MapClaims{"sub": "orders-app", "iss": "https://idp.example/", "aud": "orders-api",
		"exp": testNow.Unix() + 3600, "scope": "orders:read orders:write"}
}

func BenchmarkVerifyES256JWKS(b *testing.B) {
	srv := newJWKSServer(b, map[string]crypto.PublicKey{"k1": ecKey().Public()})
	benchmarkVerify(b, &config.JWTAuth{JWKSURL: srv.URL, Issuer: "https://idp.example/", Audiences: []string{"orders-api"}},
		sign(b, "ES256", "ec", "k1", nil, benchClaims()))
}

func BenchmarkVerifyES256PEM(b *testing.B) {
	benchmarkVerify(b, &config.JWTAuth{PublicKeys: []config.JWTPublicKey{{Kid: "k1", File: writePEM(b, ecKey().Public())}},
		Issuer: "https://idp.example/", Audiences: []string{"orders-api"}},
		sign(b, "ES256", "ec", "k1", nil, benchClaims()))
}

func BenchmarkVerifyHS256(b *testing.B) {
	benchmarkVerify(b, &config.JWTAuth{Secret: string(hsSecret), Issuer: "https://idp.example/", Audiences: []string{"orders-api"}},
		sign(b, "HS256", "hs", "", nil, benchClaims()))
}

// BenchmarkNotMine is the cost for requests carrying another kind of bearer
// token (an API key or an opaque token).
func BenchmarkNotMine(b *testing.B) {
	m, err := New("bench", &config.JWTAuth{Secret: string(hsSecret)}, Options{Logger: quietLogger})
	if err != nil {
		b.Fatal(err)
	}
	x := exchange("Bearer 2YotnFZFEjr1zCsicMWpAA")
	b.ReportAllocs()
	for b.Loop() {
		if found, _ := m.Authenticate(x, testDirectory); found {
			b.Fatal("found")
		}
	}
}
