package gateway

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/problem"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// Secrets of the access test: none of them may ever appear in an answer.
const (
	accessJWTSecret   = "jwt-secret-0123456789-0123456789-abcdef"
	accessHMACSecret  = "hmac-secret-do-not-leak-0123456789"
	accessIntroSecret = "introspection-client-secret-42"
	accessPassword    = "correct horse battery staple"
	policyMarker      = "enterprise-only-literal"
	hiddenTenantName  = "Initech Hidden Name"
)

// accessKey is a declared key: the whole key and its SHA-256.
func accessKey(env, id string) (key, sha string) {
	key = "pp_" + env + "_" + id + "_" + strings.Repeat("S3cr3t", 6)[:32]
	sum := sha256.Sum256([]byte(key))
	return key, hex.EncodeToString(sum[:])
}

// accessFixture is a gateway with every access feature configured, a
// recording upstream and a fake RFC 7662 introspection endpoint.
type accessFixture struct {
	*harness
	keys     map[string]string // name -> whole key
	svc      *identity.Service
	upstream string // the upstream's address, which no answer may name
	rsa      *rsa.PrivateKey
}

func newAccessFixture(t *testing.T) *accessFixture {
	t.Helper()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "https://backend-says.example")
		fmt.Fprintf(w, "ok %s %s", r.Method, r.URL.Path)
	}))
	t.Cleanup(backend.Close)
	intro := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		if user != "gw" || pass != accessIntroSecret {
			w.WriteHeader(401)
			return
		}
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		switch r.Form.Get("token") {
		case "opaque-active":
			fmt.Fprintf(w, `{"active":true,"client_id":"orders-app","scope":"orders:read","exp":%d}`, time.Now().Add(time.Hour).Unix())
		default:
			fmt.Fprint(w, `{"active":false}`)
		}
	}))
	t.Cleanup(intro.Close)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := base64.RawURLEncoding.EncodeToString(rsaKey.N.Bytes())
		e := base64.RawURLEncoding.EncodeToString(big.NewInt(int64(rsaKey.E)).Bytes())
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"keys":[{"kty":"RSA","kid":"k1","use":"sig","alg":"RS256","n":%q,"e":%q}]}`, n, e)
	}))
	t.Cleanup(jwks.Close)

	f := &accessFixture{keys: map[string]string{}, upstream: strings.TrimPrefix(backend.URL, "http://"), rsa: rsaKey}
	shas := map[string]string{}
	for _, k := range []struct{ name, env, id string }{
		{"good", "live", "good0000good"}, {"expired", "live", "expd0000expd"}, {"future", "live", "futr0000futr"},
		{"testenv", "test", "tenv0000tenv"}, {"suspended", "live", "susp0000susp"}, {"initech", "live", "init0000init"},
	} {
		f.keys[k.name], shas[k.name] = accessKey(k.env, k.id)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(accessPassword), 4)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"JWT_SECRET": accessJWTSecret, "HMAC_SECRET": accessHMACSecret, "INTRO_SECRET": accessIntroSecret,
		"INTRO_URL": intro.URL, "BACKEND": backend.URL, "JWKS_URL": jwks.URL,
	}
	doc := fmt.Sprintf(accessConfig, shas["good"], shas["expired"], shas["future"], shas["testenv"],
		shas["suspended"], shas["initech"], string(hash))
	live := identity.NewRegistry()
	f.harness = newHarness(t, doc, func(o *Options) {
		o.Identities = live
		o.LookupEnv = func(n string) (string, bool) { v, ok := env[n]; return v, ok }
	})
	f.svc = &identity.Service{Store: f.st, Live: live, Env: func() string { return "live" },
		Declared: func() *identity.Declared { return f.g.Current().Directory().Declared }}
	ctx := context.Background()
	revoked, k, err := f.svc.CreateKey(ctx, identity.NewKey{ConsumerID: "orders-app", Scopes: []string{"orders:read"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RevokeKey(ctx, k.ID, "leaked in a gist"); err != nil {
		t.Fatal(err)
	}
	f.keys["revoked"] = revoked
	rotated, k, err := f.svc.CreateKey(ctx, identity.NewKey{ConsumerID: "orders-app", Scopes: []string{"orders:read"}})
	if err != nil {
		t.Fatal(err)
	}
	replacement, _, _, err := f.svc.RotateKey(ctx, k.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.keys["rotated"], f.keys["replacement"] = rotated, replacement
	return f
}

// accessConfig covers every stage of the identity-and-access issue.
const accessConfig = `version: 1
gateway:
  ip:
    deny: ["192.0.2.0/24"]
authenticators:
  - name: keys
    type: api_key
  - name: hs
    type: jwt
    jwt:
      secret: "${JWT_SECRET}"
      issuer: https://idp.test/
      audiences: [orders-api]
  - name: rsa
    type: jwt
    jwt:
      jwks_url: "${JWKS_URL}"
  - name: hs-strict
    type: jwt
    jwt:
      secret: "${JWT_SECRET}"
      require_consumer: true
  - name: oauth
    type: introspection
    introspection:
      url: "${INTRO_URL}"
      client_id: gw
      client_secret: "${INTRO_SECRET}"
  - name: oauth-down
    type: introspection
    introspection:
      url: http://127.0.0.1:9/introspect
  - name: staff
    type: basic
  - name: signed
    type: hmac
  - name: certs
    type: mtls
policies:
  - name: reads-only
    expression: request.method == "GET" || consumer.metadata.plan == "` + policyMarker + `"
    detail: This client may only read.
    hint: Ask for the enterprise plan to write.
tenants:
  - id: acme
    name: Acme Corp
  - id: initech
    name: ` + hiddenTenantName + `
    status: suspended
    suspension: {reason: invoice unpaid since March, category: billing}
consumers:
  - id: orders-app
    name: Orders App
    tenant: acme
    groups: [partners]
    metadata: {user_id: "42"}
    api_keys:
      - {id: good0000good, sha256: %s, scopes: ["orders:read"]}
      - {id: expd0000expd, sha256: %s, expires_at: "2026-01-01T00:00:00Z"}
      - {id: futr0000futr, sha256: %s, not_before: "2099-01-01T00:00:00Z"}
      - {id: tenv0000tenv, sha256: %s, environment: test}
  - id: suspended-app
    status: suspended
    suspension: {reason: scraping ticket 881, category: abuse}
    api_keys:
      - {id: susp0000susp, sha256: %s}
  - id: initech-app
    tenant: initech
    api_keys:
      - {id: init0000init, sha256: %s}
  - id: alice
    basic:
      - {username: alice, password_hash: "%s"}
    hmac_keys:
      - {id: k1, secret: "${HMAC_SECRET}"}
routes:
  - name: ip-allow
    paths: ["/ip/allow"]
    upstream: backend
    ip: {allow: ["10.0.0.0/8"]}
  - name: ip-deny
    paths: ["/ip/deny"]
    upstream: backend
    ip: {deny: ["127.0.0.0/8", "::1"]}
  - name: orders-read
    paths: ["/orders", "/orders/{id}"]
    methods: [GET]
    upstream: backend
    cors:
      allow_origins: ["https://app.example.com"]
      allow_methods: [GET, POST]
    auth: {methods: [keys, hs, oauth]}
    authorize: {scopes: ["orders:read"]}
  - name: orders-write
    paths: ["/orders"]
    methods: [POST]
    upstream: backend
    auth: {methods: [keys, hs]}
    authorize: {scopes: ["orders:write"]}
  - name: users
    paths: ["/users/{id}"]
    upstream: backend
    auth: {methods: [keys]}
    authorize:
      owner: [{param: id, equals: consumer.metadata.user_id}]
  - name: admins
    paths: ["/admins"]
    upstream: backend
    auth: {methods: [keys]}
    authorize: {groups: [admins]}
  - name: no-partners
    paths: ["/no-partners"]
    upstream: backend
    auth: {methods: [keys]}
    authorize: {deny_groups: [partners]}
  - name: initech-only
    paths: ["/initech-only"]
    upstream: backend
    auth: {methods: [keys]}
    authorize: {tenants: [initech]}
  - name: policy
    paths: ["/policy"]
    upstream: backend
    auth: {methods: [keys]}
    authorize: {policies: [reads-only]}
  - name: maybe
    paths: ["/maybe"]
    upstream: backend
    auth: {methods: [keys], optional: true}
    authorize: {scopes: [x]}
  - name: rsa
    paths: ["/rsa"]
    upstream: backend
    auth: {methods: [rsa]}
  - name: strict
    paths: ["/strict"]
    upstream: backend
    auth: {methods: [hs-strict]}
  - name: down
    paths: ["/down"]
    upstream: backend
    auth: {methods: [oauth-down]}
  - name: staff
    paths: ["/staff"]
    upstream: backend
    auth: {methods: [staff]}
  - name: signed
    paths: ["/signed"]
    upstream: backend
    auth: {methods: [signed]}
  - name: certs
    paths: ["/certs"]
    upstream: backend
    auth: {methods: [certs]}
  - name: session
    paths: ["/session"]
    upstream: backend
    csrf: {token: {}}
upstreams:
  - name: backend
    targets: [{url: "${BACKEND}"}]
`

func (f *accessFixture) jwt(t *testing.T, claims jwt.MapClaims, method jwt.SigningMethod, key any) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// signHMAC signs a request the draft-cavage way over (request-target) and date.
func signHMAC(method, path, date, keyID, secret string) string {
	return signHMACWith(method, path, keyID, secret, "date", date)
}

// signHMACWith signs (request-target) and the given header name/value pairs.
func signHMACWith(method, path, keyID, secret string, pairs ...string) string {
	lines := []string{"(request-target): " + strings.ToLower(method) + " " + path}
	names := []string{"(request-target)"}
	for i := 0; i+1 < len(pairs); i += 2 {
		lines = append(lines, pairs[i]+": "+pairs[i+1])
		names = append(names, pairs[i])
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strings.Join(lines, "\n")))
	return fmt.Sprintf(`Signature keyId="%s",algorithm="hmac-sha256",headers="%s",signature="%s"`,
		keyID, strings.Join(names, " "), base64.StdEncoding.EncodeToString(mac.Sum(nil)))
}

type accessCase struct {
	name    string
	method  string
	path    string
	headers map[string]string
	body    string
	status  int
	code    string // "" for an allowed request
	// header that must be present, with a substring of its value
	header, headerHas string
}

// TestAccessRefusalsAreExplainedAndSafe is the safety table of the
// identity-and-access issue: every refusal through the real gateway has
// the right status, code and headers, and its body holds no secret, key,
// token, internal address, other tenant's name or policy source.
func TestAccessRefusalsAreExplainedAndSafe(t *testing.T) {
	t.Parallel()
	f := newAccessFixture(t)
	k := f.keys
	key := func(name string) map[string]string { return map[string]string{"X-API-Key": k[name]} }
	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	now := time.Now()
	hs := jwt.SigningMethodHS256
	good := jwt.MapClaims{"iss": "https://idp.test/", "aud": "orders-api", "sub": "orders-app", "scope": "orders:read", "exp": now.Add(time.Hour).Unix()}
	with := func(edit func(c jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{}
		for k, v := range good {
			c[k] = v
		}
		edit(c)
		return c
	}
	tokGood := f.jwt(t, good, hs, []byte(accessJWTSecret))
	tokOtherKey := f.jwt(t, good, hs, []byte("another-secret-another-secret-0123456"))
	tokExpired := f.jwt(t, with(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Hour).Unix() }), hs, []byte(accessJWTSecret))
	tokFuture := f.jwt(t, with(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() }), hs, []byte(accessJWTSecret))
	tokIss := f.jwt(t, with(func(c jwt.MapClaims) { c["iss"] = "https://evil.test/" }), hs, []byte(accessJWTSecret))
	tokAud := f.jwt(t, with(func(c jwt.MapClaims) { c["aud"] = "billing-api" }), hs, []byte(accessJWTSecret))
	tokNoExp := f.jwt(t, with(func(c jwt.MapClaims) { delete(c, "exp") }), hs, []byte(accessJWTSecret))
	tokHS512 := f.jwt(t, good, jwt.SigningMethodHS512, []byte(accessJWTSecret+accessJWTSecret))
	tokNoScope := f.jwt(t, with(func(c jwt.MapClaims) { c["scope"] = "profile" }), hs, []byte(accessJWTSecret))
	tokStranger := f.jwt(t, with(func(c jwt.MapClaims) { c["sub"] = "nobody-known" }), hs, []byte(accessJWTSecret))
	rs := func(kid string) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, good)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(f.rsa)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	date := now.UTC().Format(http.TimeFormat)
	body := `{"amount":1}`
	sum := sha256.Sum256([]byte(body))
	digest := "SHA-256=" + base64.StdEncoding.EncodeToString(sum[:])
	oldDate := now.Add(-time.Hour).UTC().Format(http.TimeFormat)
	basicAuth := func(user, pass string) map[string]string {
		return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}
	}
	preflight := func(origin, method, headers string) map[string]string {
		h := map[string]string{"Origin": origin, "Access-Control-Request-Method": method}
		if headers != "" {
			h["Access-Control-Request-Headers"] = headers
		}
		return h
	}

	cases := []accessCase{
		{name: "ip not on the allow list", path: "/ip/allow", status: 403, code: "ip.not_allowed"},
		{name: "ip on a deny list", path: "/ip/deny", status: 403, code: "ip.denied"},
		{name: "XFF spoof must not bypass the ip allow list", path: "/ip/allow", headers: map[string]string{"X-Forwarded-For": "10.1.2.3"},
			status: 403, code: "ip.not_allowed"},
		{name: "preflight from a disallowed origin", method: "OPTIONS", path: "/orders", headers: preflight("https://evil.example", "GET", ""),
			status: 403, code: "cors.origin_not_allowed"},
		{name: "preflight for a disallowed method", method: "OPTIONS", path: "/orders", headers: preflight("https://app.example.com", "DELETE", ""),
			status: 403, code: "cors.method_not_allowed", header: "Access-Control-Allow-Origin", headerHas: "https://app.example.com"},
		{name: "preflight for a disallowed header", method: "OPTIONS", path: "/orders", headers: preflight("https://app.example.com", "GET", "X-Evil"),
			status: 403, code: "cors.header_not_allowed"},
		{name: "preflight answered although the route excludes OPTIONS", method: "OPTIONS", path: "/orders",
			headers: preflight("https://app.example.com", "GET", "X-API-Key"), status: 204,
			header: "Access-Control-Allow-Origin", headerHas: "https://app.example.com"},
		{name: "refusal to an allowed origin carries CORS headers", path: "/orders", headers: map[string]string{"Origin": "https://app.example.com"},
			status: 401, code: "authn.credential_missing", header: "Access-Control-Allow-Origin", headerHas: "https://app.example.com"},
		{name: "no credential", path: "/orders", status: 401, code: "authn.credential_missing", header: "WWW-Authenticate", headerHas: "APIKey"},
		{name: "malformed key", path: "/orders", headers: map[string]string{"X-API-Key": "pp_live_nonsense"}, status: 401, code: "authn.credential_malformed"},
		{name: "two keys", path: "/orders", headers: map[string]string{"X-API-Key": k["good"], "Authorization": "Bearer " + k["expired"]},
			status: 401, code: "authn.credential_ambiguous"},
		{name: "key in the query", path: "/orders?api_key=" + url.QueryEscape(k["good"]), status: 401, code: "authn.credential_wrong_location"},
		{name: "key of another environment", path: "/orders", headers: key("testenv"), status: 401, code: "authn.key_wrong_environment"},
		{name: "unknown key", path: "/orders", headers: map[string]string{"X-API-Key": "pp_live_unkn0000unkn_" + strings.Repeat("A", 32)},
			status: 401, code: "authn.key_unknown"},
		{name: "expired key", path: "/orders", headers: key("expired"), status: 401, code: "authn.key_expired"},
		{name: "revoked key", path: "/orders", headers: key("revoked"), status: 401, code: "authn.key_revoked"},
		{name: "key not yet valid", path: "/orders", headers: key("future"), status: 401, code: "authn.key_not_yet_valid"},
		{name: "rotated key", path: "/orders", headers: key("rotated"), status: 401, code: "authn.key_rotated"},
		{name: "rotation replacement works", path: "/orders", headers: key("replacement"), status: 200},
		{name: "good key", path: "/orders", headers: key("good"), status: 200},
		{name: "key as bearer refused with invalid_token", path: "/orders", headers: bearer(k["expired"]), status: 401,
			code: "authn.key_expired", header: "WWW-Authenticate", headerHas: `error="invalid_token"`},
		{name: "jwt good", path: "/orders", headers: bearer(tokGood), status: 200},
		{name: "jwt malformed", path: "/orders", headers: bearer("a.b.c"), status: 401, code: "authn.token_malformed"},
		{name: "jwt bad signature", path: "/orders", headers: bearer(tokOtherKey), status: 401, code: "authn.token_invalid",
			header: "WWW-Authenticate", headerHas: `error="invalid_token"`},
		{name: "jwt algorithm not allowed", path: "/orders", headers: bearer(tokHS512), status: 401, code: "authn.token_algorithm_not_allowed"},
		{name: "jwt expired", path: "/orders", headers: bearer(tokExpired), status: 401, code: "authn.token_expired"},
		{name: "jwt not yet valid", path: "/orders", headers: bearer(tokFuture), status: 401, code: "authn.token_not_yet_valid"},
		{name: "jwt wrong issuer", path: "/orders", headers: bearer(tokIss), status: 401, code: "authn.token_issuer_mismatch"},
		{name: "jwt wrong audience", path: "/orders", headers: bearer(tokAud), status: 401, code: "authn.token_audience_mismatch"},
		{name: "jwt without exp", path: "/orders", headers: bearer(tokNoExp), status: 401, code: "authn.token_claim_missing"},
		{name: "jwt from the JWKS", path: "/rsa", headers: bearer(rs("k1")), status: 200},
		{name: "jwt with an unknown kid", path: "/rsa", headers: bearer(rs("k2")), status: 401, code: "authn.token_unknown_kid"},
		{name: "jwt of an unknown consumer", path: "/strict", headers: bearer(tokStranger), status: 401, code: "authn.consumer_unknown"},
		{name: "bearer token lacks scope", path: "/orders", headers: bearer(tokNoScope), status: 403, code: "authz.scope_missing",
			header: "WWW-Authenticate", headerHas: `error="insufficient_scope", scope="orders:read"`},
		{name: "api key lacks scope", method: "POST", path: "/orders", headers: key("good"), status: 403, code: "authz.scope_missing"},
		{name: "introspection inactive", path: "/orders", headers: bearer("opaque-revoked"), status: 401, code: "authn.token_inactive"},
		{name: "introspection active", path: "/orders", headers: bearer("opaque-active"), status: 200},
		{name: "introspection endpoint down", path: "/down", headers: bearer("opaque-active"), status: 503, code: "authn.idp_unavailable",
			header: "Retry-After"},
		{name: "basic wrong password", path: "/staff", headers: basicAuth("alice", "wrong"), status: 401, code: "authn.basic_invalid",
			header: "WWW-Authenticate", headerHas: "Basic"},
		{name: "basic right password", path: "/staff", headers: basicAuth("alice", accessPassword), status: 200},
		{name: "basic malformed", path: "/staff", headers: map[string]string{"Authorization": "Basic !!!"}, status: 401, code: "authn.credential_malformed"},
		{name: "hmac good", path: "/signed", headers: map[string]string{"Date": date, "Authorization": signHMAC("GET", "/signed", date, "k1", accessHMACSecret)},
			status: 200},
		{name: "hmac unknown key", path: "/signed", headers: map[string]string{"Date": date, "Authorization": signHMAC("GET", "/signed", date, "k9", accessHMACSecret)},
			status: 401, code: "authn.signature_key_unknown"},
		{name: "hmac bad signature", path: "/signed", headers: map[string]string{"Date": date, "Authorization": signHMAC("GET", "/signed", date, "k1", "guess")},
			status: 401, code: "authn.signature_invalid"},
		{name: "hmac old date", path: "/signed", headers: map[string]string{"Date": oldDate, "Authorization": signHMAC("GET", "/signed", oldDate, "k1", accessHMACSecret)},
			status: 401, code: "authn.signature_expired"},
		{name: "hmac without date", path: "/signed", headers: map[string]string{"Authorization": `Signature keyId="k1",algorithm="hmac-sha256",headers="(request-target)",signature="AAAA"`},
			status: 401, code: "authn.signature_headers_missing"},
		{name: "hmac body digest mismatch", method: "POST", path: "/signed", body: `{"amount":1000}`,
			headers: map[string]string{"Date": date, "Digest": digest, "Content-Type": "application/json",
				"Authorization": signHMACWith("POST", "/signed", "k1", accessHMACSecret, "date", date, "digest", digest)},
			status: 401, code: "authn.digest_mismatch"},
		{name: "hmac body digest matches", method: "POST", path: "/signed", body: body,
			headers: map[string]string{"Date": date, "Digest": digest, "Content-Type": "application/json",
				"Authorization": signHMACWith("POST", "/signed", "k1", accessHMACSecret, "date", date, "digest", digest)},
			status: 200},
		{name: "client certificate missing", path: "/certs", status: 401, code: "authn.client_cert_missing", header: "WWW-Authenticate"},
		{name: "consumer suspended", path: "/orders", headers: key("suspended"), status: 403, code: "consumer.suspended"},
		{name: "tenant suspended", path: "/orders", headers: key("initech"), status: 403, code: "tenant.suspended"},
		{name: "not the owner", path: "/users/7", headers: key("good"), status: 403, code: "authz.not_owner"},
		{name: "the owner", path: "/users/42", headers: key("good"), status: 200},
		{name: "role missing", path: "/admins", headers: key("good"), status: 403, code: "authz.role_missing"},
		{name: "role denied", path: "/no-partners", headers: key("good"), status: 403, code: "authz.role_denied"},
		{name: "tenant not allowed", path: "/initech-only", headers: key("good"), status: 403, code: "authz.tenant_not_allowed"},
		{name: "policy denied", method: "POST", path: "/policy", headers: key("good"), status: 403, code: "authz.policy_denied"},
		{name: "policy allows", path: "/policy", headers: key("good"), status: 200},
		{name: "optional auth, authorize needs an identity", path: "/maybe", status: 401, code: "authz.authentication_required",
			header: "WWW-Authenticate", headerHas: "APIKey"},
		{name: "csrf cross-site", method: "POST", path: "/session", headers: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
			status: 403, code: "csrf.origin_mismatch"},
		{name: "csrf token missing", method: "POST", path: "/session", headers: map[string]string{"Sec-Fetch-Site": "same-origin"},
			status: 403, code: "csrf.token_missing"},
		{name: "csrf token mismatch", method: "POST", path: "/session", headers: map[string]string{"Sec-Fetch-Site": "same-origin",
			"Cookie": "csrf_token=tok-in-cookie-123", "X-CSRF-Token": "tok-in-header-456"}, status: 403, code: "csrf.token_mismatch"},
		{name: "csrf token matches", method: "POST", path: "/session", headers: map[string]string{"Sec-Fetch-Site": "same-origin",
			"Cookie": "csrf_token=tok-123456", "X-CSRF-Token": "tok-123456"}, status: 200},
	}

	secrets := []string{accessJWTSecret, accessHMACSecret, accessIntroSecret, accessPassword, policyMarker, hiddenTenantName,
		"scraping ticket 881", "invoice unpaid", "leaked in a gist", f.upstream, "10.0.0.0/8", "127.0.0.0/8", "tok-in-cookie", "tok-in-header",
		tokGood, tokNoScope, tokExpired}
	for _, whole := range k {
		secrets = append(secrets, whole[strings.LastIndexByte(whole, '_')+1:])
	}
	codes := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "GET"
			}
			resp, body := f.do(method, tc.path, tc.headers, tc.body)
			if tc.header != "" {
				if v := strings.Join(resp.Header.Values(tc.header), ", "); v == "" || !strings.Contains(v, tc.headerHas) {
					t.Errorf("%s = %q, want it to contain %q", tc.header, v, tc.headerHas)
				}
			}
			if tc.code == "" {
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
				}
				if tc.status == 200 && !strings.HasPrefix(body, "ok ") {
					t.Errorf("the upstream did not answer: %s", body)
				}
				return
			}
			codes[tc.code] = true
			p := problemBody(t, resp, body, tc.status, tc.code)
			if c, _ := problem.Lookup(tc.code); c.Status != tc.status {
				t.Errorf("catalog status of %s is %d", tc.code, c.Status)
			}
			if tc.status == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("a 401 without WWW-Authenticate")
			}
			if p["detail"] == "" || p["hint"] == "" || strings.Contains(body, "unknown") && strings.Contains(p["detail"].(string), "{") {
				t.Errorf("detail/hint not filled: %s", body)
			}
			all := body + fmt.Sprint(resp.Header)
			for _, s := range secrets {
				if strings.Contains(all, s) {
					t.Errorf("the answer reveals %q: %s", s, all)
				}
			}
			if strings.Contains(all, "https://backend-says.example") {
				t.Error("the backend's own CORS header survived")
			}
		})
	}
	// Every code of these families has a case here, except
	// authn.client_cert_unknown, which needs a TLS listener with client
	// certificates: TestMTLSListenerIdentifiesConsumers covers it.
	for _, c := range problem.All() {
		switch problem.Family(c.Code) {
		case "ip", "cors", "authn", "consumer", "tenant", "authz", "csrf":
			if !codes[c.Code] && c.Code != "authn.client_cert_unknown" {
				t.Errorf("no case for %s", c.Code)
			}
		}
	}
}

// TestAccessRefusalTraceNamesTheCause checks that the call log holds what
// `pinpoint explain` needs for a refused request: the rule, the
// credential's prefix id, the consumer and the revision.
func TestAccessRefusalTraceNamesTheCause(t *testing.T) {
	t.Parallel()
	f := newAccessFixture(t)
	resp, _ := f.do("POST", "/orders", map[string]string{"X-API-Key": f.keys["good"]}, "")
	if resp.StatusCode != 403 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	id := resp.Header.Get("X-Request-Id")
	call := f.waitCall(t, id)
	if call.Code != "authz.scope_missing" || call.ConsumerID != "orders-app" || call.CredentialID != "pp_live_good0000good" ||
		call.Revision != f.g.Revision() || call.Stage != "authz" {
		t.Errorf("call record = %+v", call)
	}
	trace := string(call.Trace)
	for _, want := range []string{`"stage":"authn"`, `"rule":"authenticator:keys"`, `"stage":"authz"`, "orders:write"} {
		if !strings.Contains(trace, want) {
			t.Errorf("trace lacks %s: %s", want, trace)
		}
	}
	if strings.Contains(trace, f.keys["good"]) {
		t.Error("the whole key is in the trace")
	}

	// A revoked key's trace holds the operator's revocation reason.
	resp, _ = f.do("GET", "/orders", map[string]string{"X-API-Key": f.keys["revoked"]}, "")
	call = f.waitCall(t, resp.Header.Get("X-Request-Id"))
	if !strings.Contains(string(call.Trace), "leaked in a gist") {
		t.Errorf("revocation reason missing from the trace: %s", call.Trace)
	}
}

func (f *accessFixture) waitCall(t *testing.T, requestID string) store.Call {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		calls, err := f.st.QueryCalls(context.Background(), store.CallQuery{RequestID: requestID})
		if err == nil && len(calls) == 1 {
			return calls[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no call record for %s: %v", requestID, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRevocationTakesEffectOnTheNextRequest: a key revoked through the
// identity service (what the admin API calls) is refused at once.
func TestRevocationTakesEffectOnTheNextRequest(t *testing.T) {
	t.Parallel()
	f := newAccessFixture(t)
	ctx := context.Background()
	whole, k, err := f.svc.CreateKey(ctx, identity.NewKey{ConsumerID: "orders-app", Scopes: []string{"orders:read"}})
	if err != nil {
		t.Fatal(err)
	}
	h := map[string]string{"X-API-Key": whole}
	if resp, body := f.do("GET", "/orders", h, ""); resp.StatusCode != 200 {
		t.Fatalf("new key refused: %s", body)
	}
	if _, err := f.svc.RevokeKey(ctx, k.ID, "test"); err != nil {
		t.Fatal(err)
	}
	resp, body := f.do("GET", "/orders", h, "")
	problemBody(t, resp, body, 401, "authn.key_revoked")
	var p map[string]any
	_ = json.Unmarshal([]byte(body), &p)
	if !strings.Contains(p["detail"].(string), "pp_live_"+k.ID) {
		t.Errorf("detail does not name the key's prefix: %v", p["detail"])
	}
}

// TestRevisionShadowingAStoredConsumerIsRejected: a revision may not
// declare an id a run-time consumer already uses.
func TestRevisionShadowingAStoredConsumerIsRejected(t *testing.T) {
	t.Parallel()
	f := newAccessFixture(t)
	if _, err := f.svc.PutConsumer(context.Background(), store.Consumer{ID: "runtime-app"}, true); err != nil {
		t.Fatal(err)
	}
	cur := f.g.Current().Config
	doc := "version: 1\nconsumers:\n  - id: runtime-app\nroutes:\n  - name: r\n    paths: [/r]\n    upstream: u\nupstreams:\n  - name: u\n    targets: [{url: \"http://127.0.0.1:1\"}]\n"
	_, err := f.g.apply(context.Background(), applyReq(doc))
	if err == nil || !strings.Contains(err.Error(), `test.yaml:3:9: consumers[0].id: consumer "runtime-app" already exists in the store`) {
		t.Fatalf("apply = %v", err)
	}
	if f.g.Current().Config != cur {
		t.Error("the running revision changed")
	}
}

func applyReq(doc string) admin.ApplyRequest {
	return admin.ApplyRequest{Filename: "test.yaml", Document: []byte(doc), Author: "test", Source: "test"}
}

// TestUnchangedAuthenticatorsSurviveReloads: an apply that leaves an
// authenticator's block alone keeps it (and its JWKS cache); a changed
// one is rebuilt and the old one stopped.
func TestUnchangedAuthenticatorsSurviveReloads(t *testing.T) {
	t.Parallel()
	f := newAccessFixture(t)
	before := f.g.Current().access.authenticators
	rev, err := f.st.Revision(context.Background(), f.g.Revision())
	if err != nil {
		t.Fatal(err)
	}
	next := strings.Replace(string(rev.Document), "audiences: [orders-api]", "audiences: [orders-api, billing-api]", 1)
	next = strings.Replace(next, `paths: ["/admins"]`, `paths: ["/admins", "/admins2"]`, 1)
	if _, err := f.g.apply(context.Background(), applyReq(next)); err != nil {
		t.Fatal(err)
	}
	after := f.g.Current().access.authenticators
	if after["rsa"] != before["rsa"] || after["oauth"] != before["oauth"] {
		t.Error("unchanged authenticators were rebuilt")
	}
	if after["hs"] == before["hs"] {
		t.Error("a changed authenticator was kept")
	}
	if resp, body := f.do("GET", "/orders", map[string]string{"X-API-Key": f.keys["good"]}, ""); resp.StatusCode != 200 {
		t.Fatalf("after reload: %d %s", resp.StatusCode, body)
	}
}

// TestReportOnlyRulesTraceAndCountButAllow: a report_only authorize block
// and IP list let the request through, and the call log and metrics show
// what they would have refused.
func TestReportOnlyRulesTraceAndCountButAllow(t *testing.T) {
	t.Parallel()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer backend.Close()
	key, sha := accessKey("live", "rprt0000rprt")
	h := newHarness(t, fmt.Sprintf(`version: 1
authenticators:
  - {name: keys, type: api_key}
consumers:
  - id: app
    api_keys: [{id: rprt0000rprt, sha256: %s, scopes: [read]}]
routes:
  - name: trial
    paths: ["/trial"]
    upstream: u
    ip: {allow: ["10.0.0.0/8"], mode: report_only}
    auth: {methods: [keys]}
    authorize: {scopes: [write], mode: report_only}
upstreams:
  - name: u
    targets: [{url: %q}]
`, sha, backend.URL))
	resp, body := h.do("GET", "/trial", map[string]string{"X-API-Key": key}, "")
	if resp.StatusCode != 200 || body != "ok" || resp.Header.Get("Pinpoint-Code") != "" {
		t.Fatalf("report_only refused: %d %s %v", resp.StatusCode, body, resp.Header)
	}
	f := &accessFixture{harness: h}
	call := f.waitCall(t, resp.Header.Get("X-Request-Id"))
	trace := string(call.Trace)
	for _, want := range []string{`"outcome":"would_deny","code":"ip.not_allowed"`, `"outcome":"would_deny","code":"authz.scope_missing"`} {
		if !strings.Contains(trace, want) {
			t.Errorf("trace lacks %s: %s", want, trace)
		}
	}
	mfs, err := h.g.o.Metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counted := 0
	for _, mf := range mfs {
		if mf.GetName() == "pinpoint_would_deny_total" {
			for _, m := range mf.GetMetric() {
				counted += int(m.GetCounter().GetValue())
			}
		}
	}
	if counted != 2 {
		t.Errorf("pinpoint_would_deny_total = %d, want 2", counted)
	}
}

// TestPolicyThatDoesNotCompileRejectsTheRevision: a CEL error is reported
// with the file, line and field of the expression, and nothing changes.
func TestPolicyThatDoesNotCompileRejectsTheRevision(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "")
	doc := `version: 1
authenticators:
  - {name: keys, type: api_key}
policies:
  - name: typo
    expression: consumer.grups.exists(g, g == "x")
  - name: not-bool
    expression: request.method
routes:
  - name: r
    paths: [/r]
    upstream: u
    auth: {methods: [keys]}
    authorize: {policies: [typo, not-bool]}
upstreams:
  - name: u
    targets: [{url: "http://127.0.0.1:1"}]
`
	_, err := h.g.apply(context.Background(), applyReq(doc))
	if err == nil {
		t.Fatal("a revision with broken policies was applied")
	}
	msg := err.Error()
	for _, want := range []string{"test.yaml:6:17: policies[0].expression:", "grups", "test.yaml:8:17: policies[1].expression:", "bool"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if h.g.Current() != nil {
		t.Error("a snapshot was published")
	}
}
