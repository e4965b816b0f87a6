package jwt

import (
	"crypto"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// newJWKSMethod builds a jwt authenticator on the JWKS at url.
func newJWKSMethod(t *testing.T, url string, clk *clock, mutate ...func(*config.JWTAuth, *Options)) *Method {
	t.Helper()
	c := &config.JWTAuth{JWKSURL: url}
	o := Options{Logger: quietLogger, Now: clk.Now, firstFetchWait: 10 * time.Second}
	for _, f := range mutate {
		f(c, &o)
	}
	m, err := New("idp", c, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// tokenFor signs a valid ES256 token with key under kid.
func tokenFor(t testing.TB, key, kid string) string {
	return sign(t, "ES256", key, kid, nil, jwtlib.MapClaims{"sub": "orders-app", "exp": testNow.Add(time.Hour).Unix()})
}

// authenticate runs m on a bearer token.
func authenticate(m *Method, tok string) *pipeline.Denial {
	_, d := m.Authenticate(exchange("Bearer "+tok), testDirectory)
	return d
}

func wantPass(t *testing.T, m *Method, tok, what string) {
	t.Helper()
	if d := authenticate(m, tok); d != nil {
		t.Fatalf("%s: refused with %s: %s", what, d.Code, d.Reason)
	}
}

func wantCode(t *testing.T, m *Method, tok, code, what string) *pipeline.Denial {
	t.Helper()
	d := authenticate(m, tok)
	if d == nil {
		t.Fatalf("%s: passed, want %s", what, code)
	}
	checkDenial(t, d, code, m.Name(), tok)
	return d
}

func TestJWKSRotation(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv := newJWKSServer(t, map[string]crypto.PublicKey{"k1": ecKey().Public()})
	m := newJWKSMethod(t, srv.URL, clk)
	old, next := tokenFor(t, "ec", "k1"), tokenFor(t, "ec3", "k2")

	wantPass(t, m, old, "token of the first key")
	srv.serve(t, map[string]crypto.PublicKey{"k1": ecKey().Public(), "k2": ecKey3().Public()})
	wantCode(t, m, next, codeUnknownKID, "new kid within the rate limit of the last fetch")
	if n := srv.calls.Load(); n != 1 {
		t.Fatalf("%d JWKS fetches; an unknown kid within the rate limit must not fetch", n)
	}

	clk.Advance(unknownKIDInterval + time.Second)
	wantPass(t, m, next, "new kid after the unknown-kid refresh")
	wantPass(t, m, old, "old kid while the server still serves it")
	if n := srv.calls.Load(); n != 2 {
		t.Fatalf("%d JWKS fetches, want 2", n)
	}

	srv.serve(t, map[string]crypto.PublicKey{"k2": ecKey3().Public()})
	clk.Advance(unknownKIDInterval + time.Second)
	wantCode(t, m, tokenFor(t, "ec", "probe"), codeUnknownKID, "unknown kid that triggers a refresh")
	wantCode(t, m, old, codeUnknownKID, "old kid after the server dropped it")
	wantPass(t, m, next, "new kid after the server dropped the old one")
}

func TestJWKSDownFromStart(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv := newJWKSServer(t, map[string]crypto.PublicKey{"k1": ecKey().Public()})
	srv.down.Store(true)
	m := newJWKSMethod(t, srv.URL, clk)
	tok := tokenFor(t, "ec", "k1")

	d := wantCode(t, m, tok, codeIDPUnavailable, "JWKS down at start")
	if !strings.Contains(d.Reason, srv.URL) || !strings.Contains(d.Reason, "status 503") {
		t.Errorf("reason %q should name the JWKS URL and the fetch error", d.Reason)
	}
	wantCode(t, m, tokenFor(t, "ec", ""), codeIDPUnavailable, "token without kid while JWKS down")

	srv.down.Store(false)
	clk.Advance(unknownKIDInterval + time.Second)
	wantPass(t, m, tok, "after the JWKS came back")
}

func TestJWKSUnreachableDoesNotFailNew(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // connection refused from now on
	m := newJWKSMethod(t, url, newClock())
	wantCode(t, m, tokenFor(t, "ec", "k1"), codeIDPUnavailable, "JWKS unreachable")
}

// Regression: an IdP that accepts connections and never answers must not
// hold up New (and with it a config apply).
func TestJWKSHangingDoesNotHoldUpNew(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	m := newJWKSMethod(t, srv.URL, newClock(), func(_ *config.JWTAuth, o *Options) { o.firstFetchWait = time.Millisecond })
	d := wantCode(t, m, tokenFor(t, "ec", "k1"), codeIDPUnavailable, "JWKS hanging")
	if !strings.Contains(d.Reason, "has not finished") {
		t.Errorf("reason %q", d.Reason)
	}
}

func TestJWKSDownAfterFirstFetchUsesCache(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv := newJWKSServer(t, map[string]crypto.PublicKey{"k1": ecKey().Public()})
	m := newJWKSMethod(t, srv.URL, clk)
	tok := tokenFor(t, "ec", "k1")
	wantPass(t, m, tok, "before the outage")

	srv.Close()
	clk.Advance(unknownKIDInterval + time.Second)
	d := wantCode(t, m, tokenFor(t, "ec", "k9"), codeUnknownKID, "unknown kid during the outage")
	if !strings.Contains(d.Reason, "last refresh failed") {
		t.Errorf("reason %q should say the refresh failed", d.Reason)
	}
	wantPass(t, m, tok, "known kid from the cache during the outage")
}

func TestJWKSConcurrentUnknownKIDFetchesOnce(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv := newJWKSServer(t, map[string]crypto.PublicKey{"k1": ecKey().Public()})
	m := newJWKSMethod(t, srv.URL, clk)
	srv.serve(t, map[string]crypto.PublicKey{"k1": ecKey().Public(), "k2": ecKey3().Public()})
	clk.Advance(unknownKIDInterval + time.Second)
	tok := tokenFor(t, "ec3", "k2")
	var wg sync.WaitGroup
	errs := make(chan string, 50)
	for range 50 {
		wg.Go(func() {
			if d := authenticate(m, tok); d != nil {
				errs <- d.Code
			}
		})
	}
	wg.Wait()
	close(errs)
	for code := range errs {
		t.Errorf("refused with %s", code)
	}
	if n := srv.calls.Load(); n != 2 {
		t.Fatalf("%d JWKS fetches, want 2 (start and one collapsed refresh)", n)
	}
}

// Regression: a symmetric key published in a JWKS must never become a
// verification key (anyone who reads the JWKS could sign with it).
func TestJWKSSymmetricKeyIsIgnored(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, nil)
	srv.serveRaw(`{"keys":[{"kty":"oct","kid":"s1","k":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"}]}`)
	m := newJWKSMethod(t, srv.URL, newClock())
	tok := sign(t, "HS256", "hs", "s1", nil, jwtlib.MapClaims{"exp": testNow.Add(time.Hour).Unix()})
	wantCode(t, m, tok, codeAlgorithm, "HS256 token against a JWKS")
	wantCode(t, m, tokenFor(t, "ec", "s1"), codeIDPUnavailable, "JWKS without a usable key")
}

func TestJWKSBackgroundRefresh(t *testing.T) {
	t.Parallel()
	clk := newClock() // never advanced: only the background refresh can fetch
	srv := newJWKSServer(t, map[string]crypto.PublicKey{"k1": ecKey().Public()})
	m := newJWKSMethod(t, srv.URL, clk, func(c *config.JWTAuth, _ *Options) { c.JWKSRefresh = config.Duration(time.Second) })
	srv.serve(t, map[string]crypto.PublicKey{"k2": ecKey3().Public()})
	tok := tokenFor(t, "ec3", "k2")
	deadline := time.Now().Add(20 * time.Second)
	for authenticate(m, tok) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the background refresh never picked up the new key")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCloseStopsRefreshing(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, map[string]crypto.PublicKey{"k1": ecKey().Public()})
	srv.down.Store(true) // retries with backoff while down
	m := newJWKSMethod(t, srv.URL, newClock())
	m.Close()
	m.Close() // idempotent
	n := srv.calls.Load()
	select {
	case <-m.remote.done:
	default:
		t.Fatal("the refresh goroutine is still running after Close")
	}
	time.Sleep(1500 * time.Millisecond) // longer than the first retry
	if got := srv.calls.Load(); got != n {
		t.Fatalf("%d fetches after Close", got-n)
	}
}

func TestIdentity(t *testing.T) {
	t.Parallel()
	m, err := New("corp", &config.JWTAuth{Secret: string(hsSecret), ScopeClaim: "scp", GroupsClaim: "roles", ConsumerClaim: "azp"},
		Options{Logger: quietLogger, Now: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	exp := testNow.Add(time.Hour).Truncate(time.Second)
	tok := sign(t, "HS256", "hs", "", nil, jwtlib.MapClaims{"sub": "user-1", "azp": "orders-app", "exp": exp.Unix(),
		"scp": []any{"orders:read"}, "roles": "admin ops"})
	x := exchange("Bearer " + tok)
	found, d := m.Authenticate(x, testDirectory)
	if !found || d != nil {
		t.Fatalf("found %v, denial %+v", found, d)
	}
	id := x.Identity
	if !id.Authenticated || id.Method != "jwt" || id.Authenticator != "corp" || !id.Bearer ||
		id.CredentialID != "user-1" || id.ConsumerID != "orders-app" || !id.ExpiresAt.Equal(exp) ||
		!id.HasScope("orders:read") || !id.InGroup("ops") || id.Claims["sub"] != "user-1" {
		t.Fatalf("identity %+v", id)
	}
	if m.Kind() != "jwt" || m.Name() != "corp" || m.Challenge() != `Bearer realm="pinpoint"` {
		t.Fatalf("kind %q name %q challenge %q", m.Kind(), m.Name(), m.Challenge())
	}
}
