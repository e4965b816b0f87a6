package introspect

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
)

func TestBasicCredentialsAreFormEncoded(t *testing.T) {
	t.Parallel()
	srv := newIDPServer(t)
	m := newMethod(t, srv, newClock())
	srv.answer("opaque-Zq81", 200, `{"active":true}`)
	if _, d := authenticate(m, "opaque-Zq81"); d != nil {
		t.Fatal(d.Reason)
	}
	srv.mu.Lock()
	user, pass := srv.user, srv.pass
	srv.mu.Unlock()
	// RFC 6749 §2.3.1: the id and secret are form-encoded, then Basic.
	if user != url.QueryEscape(testClientID) || pass != url.QueryEscape(testClientSecret) {
		t.Fatalf("Basic credentials %q:%q are not the form-encoded client id and secret", user, pass)
	}
	if u, _ := url.QueryUnescape(user); u != testClientID {
		t.Fatalf("decoded client id %q", u)
	}
	if p, _ := url.QueryUnescape(pass); p != testClientSecret {
		t.Fatal("decoded client secret differs")
	}
}

func TestTokenIsFormEncoded(t *testing.T) {
	t.Parallel()
	srv := newIDPServer(t)
	m := newMethod(t, srv, newClock())
	tok := "a+b/c=d&token=evil%20"
	srv.answer(tok, 200, `{"active":true,"client_id":"orders-app"}`)
	if _, d := authenticate(m, tok); d != nil {
		t.Fatalf("%s: %s", d.Code, d.Reason)
	}
	if srv.callsFor(tok) != 1 {
		t.Fatal("the endpoint did not receive the token intact")
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	srv := newIDPServer(t)
	release := srv.holdRequests()
	t.Cleanup(release)
	m := newMethod(t, srv, newClock(), func(c *config.IntrospectionAuth) { c.Timeout = config.Duration(50 * time.Millisecond) })
	_, d := authenticate(m, "slow-token")
	checkDenial(t, d, codeIDPUnavailable, "slow-token")
	if !strings.Contains(d.Reason, "no answer within 50ms") || !strings.Contains(d.Reason, srv.URL) {
		t.Fatalf("reason %q should name the endpoint and the timeout", d.Reason)
	}
}

func TestCloseCancelsCalls(t *testing.T) {
	t.Parallel()
	srv := newIDPServer(t)
	release := srv.holdRequests()
	t.Cleanup(release)
	m := newMethod(t, srv, newClock())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, d := authenticate(m, "opaque-Zq81")
		checkDenial(t, d, codeIDPUnavailable, "opaque-Zq81")
	}()
	for m.flights.waiting(keyOf("opaque-Zq81")) == 0 {
		time.Sleep(time.Millisecond)
	}
	m.Close()
	m.Close()
	<-done
}

func TestIdentityIsShared(t *testing.T) {
	t.Parallel()
	srv := newIDPServer(t)
	m := newMethod(t, srv, newClock(), func(c *config.IntrospectionAuth) { c.ConsumerClaim = "azp"; c.ScopeClaim = "scp" })
	srv.answer("opaque-Zq81", 200, active(time.Hour, map[string]any{"azp": "orders-app", "scp": "a b", "sub": "u1"}))
	x1, d := authenticate(m, "opaque-Zq81")
	if d != nil {
		t.Fatal(d.Reason)
	}
	x2, _ := authenticate(m, "opaque-Zq81")
	id := x1.Identity
	if id.ConsumerID != "orders-app" || !id.HasScope("b") || id.CredentialID != "u1" || !id.ExpiresAt.Equal(testNow.Add(time.Hour)) {
		t.Fatalf("identity %+v", id)
	}
	if &x1.Identity.Scopes[0] != &x2.Identity.Scopes[0] {
		t.Error("scopes are rebuilt per request instead of once per answer")
	}
	if m.Kind() != "introspection" || m.Name() != "idp" || m.Challenge() != `Bearer realm="pinpoint"` {
		t.Fatalf("kind %q name %q challenge %q", m.Kind(), m.Name(), m.Challenge())
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		c    *config.IntrospectionAuth
		path string
		msg  string
	}{
		{"missing block", nil, "", "block is required"},
		{"missing url", &config.IntrospectionAuth{}, "url", "required"},
		{"url not http", &config.IntrospectionAuth{URL: "ftp://idp.example/introspect"}, "url", "not an absolute"},
		{"empty secret from the environment", &config.IntrospectionAuth{URL: "https://idp.example/i", ClientID: "gw"}, "client_secret", "set client_secret to ${ENV_NAME}"},
		{"secret without id", &config.IntrospectionAuth{URL: "https://idp.example/i", ClientSecret: testClientSecret}, "client_id", "required"},
		{"negative timeout", &config.IntrospectionAuth{URL: "https://idp.example/i", Timeout: -1}, "timeout", "negative"},
		{"negative ttl", &config.IntrospectionAuth{URL: "https://idp.example/i", CacheTTL: -1}, "cache_ttl", "negative"},
		{"negative size", &config.IntrospectionAuth{URL: "https://idp.example/i", CacheSize: -1}, "cache_size", "negative"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := New("idp", c.c, Options{Logger: quietLogger})
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), testClientSecret) {
				t.Error("the error reveals the secret")
			}
			var fe *config.FieldError
			if !errors.As(err, &fe) || fe.Path != c.path || !strings.Contains(fe.Message, c.msg) {
				t.Fatalf("error %v, want %q at %q", err, c.msg, c.path)
			}
		})
	}
}
