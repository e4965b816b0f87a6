package jwt

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	jwtlib "github.com/golang-jwt/jwt/v5"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// fuzzMethods are an HS and a PEM authenticator for the fuzz tests.
func fuzzMethods(f *testing.F) []*Method {
	hs, err := New("hs", &config.JWTAuth{Secret: string(hsSecret), GroupsClaim: "roles", RequireConsumer: true,
		Issuer: "https://idp.example/", Audiences: []string{"orders-api"}}, Options{Logger: quietLogger})
	if err != nil {
		f.Fatal(err)
	}
	pemM, err := New("pem", &config.JWTAuth{PublicKeys: []config.JWTPublicKey{{Kid: "ec1", File: writePEM(f, ecKey().Public())}}},
		Options{Logger: quietLogger})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(hs.Close)
	f.Cleanup(pemM.Close)
	return []*Method{hs, pemM}
}

// FuzzAuthenticate: Authenticate never panics on an arbitrary bearer
// token, and a refusal always carries a code and a challenge.
func FuzzAuthenticate(f *testing.F) {
	methods := fuzzMethods(f)
	claims := jwtlib.MapClaims{"sub": "orders-app", "exp": testNow.Unix() + 3600}
	for _, s := range []string{
		sign(f, "HS256", "hs", "", nil, claims),
		sign(f, "ES256", "ec", "ec1", nil, claims),
		"a.b.c", "..", "eyJhbGciOiJub25lIn0.e30.", "eyJhbGciOiJIUzI1NiJ9.bnVsbA.c2ln",
		"eyJhbGciOiJFUzI1NiIsImtpZCI6W119.e30.c2ln", "eyJhbGciOm51bGx9.e30.",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		for _, m := range methods {
			found, d := m.Authenticate(exchange("Bearer "+tok), testDirectory)
			if d != nil && (!found || d.Code == "" || len(d.Header) == 0) {
				t.Fatalf("bad denial %+v (found %v)", d, found)
			}
		}
	})
}

// FuzzClaims: arbitrary claims in a correctly signed token never panic the
// claim handling (scopes, groups, consumer, credential id).
func FuzzClaims(f *testing.F) {
	methods := fuzzMethods(f)
	for _, s := range []string{
		`{"sub":"orders-app","exp":1e12,"scope":"a b","roles":["x",1,null]}`,
		`{"exp":"x","aud":[1]}`, `{"sub":42,"exp":1e12,"iss":"https://idp.example/","aud":"orders-api"}`,
		`{"sub":1.5,"exp":-1e300,"nbf":1e300,"iat":null}`, `[]`, `null`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		if !json.Valid([]byte(payload)) {
			return
		}
		header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
		body := base64.RawURLEncoding.EncodeToString([]byte(payload))
		sig, err := jwtlib.SigningMethodHS256.Sign(header+"."+body, hsSecret)
		if err != nil {
			t.Fatal(err)
		}
		tok := header + "." + body + "." + base64.RawURLEncoding.EncodeToString(sig)
		x := exchange("Bearer " + tok)
		found, d := methods[0].Authenticate(x, testDirectory)
		if !found {
			t.Fatal("a JWS token was not found")
		}
		if d == nil && (x.Identity.Claims == nil || x.Identity.ConsumerID != "orders-app") {
			t.Fatalf("accepted with identity %+v", x.Identity)
		}
	})
}

// FuzzParsePublicKeyPEM: the PEM key parser never panics.
func FuzzParsePublicKeyPEM(f *testing.F) {
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n"))
	f.Add([]byte("-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		key, algs, err := parsePublicKeyPEM(data)
		if err == nil && (key == nil || len(algs) == 0) {
			t.Fatal("no key and no error")
		}
	})
}
