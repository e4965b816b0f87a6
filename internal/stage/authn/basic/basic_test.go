package basic

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/stagetest"
)

// argonPHC hashes password as an argon2id PHC string, independently of
// the verifier's parser. Tests use small parameters to stay fast.
func argonPHC(t testing.TB, password string, m uint32, passes uint32, p uint8) string {
	t.Helper()
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, passes, m, p, 32)
	e := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", m, passes, p, e.EncodeToString(salt), e.EncodeToString(key))
}

func bcryptHash(t testing.TB, password, minor string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return "$2" + minor + string(h[3:]) // GenerateFromPassword writes $2a$
}

// testUser is one declared basic credential with its plaintext password.
type testUser struct{ user, password, hash, consumer string }

func testUsers(t testing.TB) []testUser {
	return []testUser{
		{"alice", "correct horse battery", argonPHC(t, "correct horse battery", 1024, 1, 1), "acme"},
		{"bob", "s3cret", bcryptHash(t, "s3cret", "b"), "globex"},
		{"carol", "s3cret", bcryptHash(t, "s3cret", "y"), "globex"},
		{"zoë", "pässwörd ✓ 密码", argonPHC(t, "pässwörd ✓ 密码", 1024, 2, 2), "initech"},
		{"dave", "a:b:c", argonPHC(t, "a:b:c", 1024, 1, 1), "acme"},
	}
}

func testDirectory(users []testUser) *identity.Directory {
	d := &identity.Declared{Basic: map[string]*identity.BasicCredential{}, Consumers: map[string]*identity.Consumer{}}
	for _, u := range users {
		d.Basic[u.user] = &identity.BasicCredential{Username: u.user, ConsumerID: u.consumer, Hash: u.hash}
		d.Consumers[u.consumer] = &identity.Consumer{ID: u.consumer, Name: u.consumer}
	}
	return &identity.Directory{Declared: d}
}

// newTestMethod builds a method whose dummy hash is cheap, so that unknown
// users do not cost 64 MiB of argon2 under the race detector.
func newTestMethod(t testing.TB, c *config.BasicAuth) *Method {
	t.Helper()
	m, err := New("partners", c)
	if err != nil {
		t.Fatal(err)
	}
	m.dummy = argonPHC(t, "nobody knows this", 1024, 1, 1)
	return m
}

func basicHeader(userPass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(userPass))
}

func run(m *Method, dir *identity.Directory, authorization string) (*pipeline.Exchange, bool, *pipeline.Denial) {
	r := httptest.NewRequest("GET", "/orders", nil)
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	x := &pipeline.Exchange{Request: r}
	found, d := m.Authenticate(x, dir)
	return x, found, d
}

type basicCase struct {
	Name          string `yaml:"name"`
	Basic         string `yaml:"basic"`
	Authorization string `yaml:"authorization"`
	Expect        struct {
		Found           *bool  `yaml:"found"`
		Code            string `yaml:"code"`
		Status          int    `yaml:"status"`
		Kind            string `yaml:"kind"`
		Reason          string `yaml:"reason"`
		WWWAuthenticate string `yaml:"www_authenticate"`
		CredentialID    string `yaml:"credential_id"`
		ConsumerID      string `yaml:"consumer_id"`
	} `yaml:"expect"`
}

// TestCases runs the request → decision corpus in testdata/cases.yaml.
func TestCases(t *testing.T) {
	t.Parallel()
	var cases []basicCase
	stagetest.Corpus(t, "testdata/cases.yaml", &cases)
	users := testUsers(t)
	dir := testDirectory(users)
	m := newTestMethod(t, nil)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			h := tc.Authorization
			if tc.Basic != "" {
				h = basicHeader(tc.Basic)
			}
			x, found, d := run(m, dir, h)
			wantFound := tc.Expect.Found == nil || *tc.Expect.Found
			if found != wantFound {
				t.Fatalf("found = %v, want %v", found, wantFound)
			}
			if tc.Expect.Code == "" {
				if d != nil {
					t.Fatalf("denied %s: %s", d.Code, d.Reason)
				}
				if !wantFound {
					if x.Identity.Authenticated {
						t.Fatal("identity filled without a credential")
					}
					return
				}
				id := x.Identity
				if !id.Authenticated || id.Method != "basic" || id.Authenticator != "partners" || len(id.Scopes) != 0 {
					t.Fatalf("identity = %+v", id)
				}
				if id.CredentialID != tc.Expect.CredentialID {
					t.Errorf("credential id = %q, want %q", id.CredentialID, tc.Expect.CredentialID)
				}
				if tc.Expect.ConsumerID != "" && id.ConsumerID != tc.Expect.ConsumerID {
					t.Errorf("consumer id = %q, want %q", id.ConsumerID, tc.Expect.ConsumerID)
				}
				return
			}
			if d == nil {
				t.Fatalf("allowed, want %s", tc.Expect.Code)
			}
			checkDenial(t, d, tc.Expect.Code, tc.Expect.Status, tc.Basic, tc.Authorization)
			if x.Identity.Authenticated {
				t.Error("identity filled on a denial")
			}
			if tc.Expect.Kind != "" && d.Params["kind"] != tc.Expect.Kind {
				t.Errorf("kind = %q, want %q", d.Params["kind"], tc.Expect.Kind)
			}
			if tc.Expect.Reason != "" && d.Params["reason"] != tc.Expect.Reason {
				t.Errorf("reason = %q, want %q", d.Params["reason"], tc.Expect.Reason)
			}
			if w := tc.Expect.WWWAuthenticate; w != "" && d.Header.Get("WWW-Authenticate") != w {
				t.Errorf("WWW-Authenticate = %q, want %q", d.Header.Get("WWW-Authenticate"), w)
			}
		})
	}
}

// secretsOf lists the strings a denial must not echo: the password, the
// user name and the raw header.
// secretsOf splits what a request presented into what no denial may hold
// (the password, the raw credential) and what only the caller must not be
// told (the user name, which the operator's reason may name).
func secretsOf(userPass, authorization string) (secrets, user []string) {
	if u, pass, ok := strings.Cut(userPass, ":"); ok {
		if len(u) >= 3 {
			user = append(user, u)
		}
		if len(pass) >= 3 {
			secrets = append(secrets, pass)
		}
	}
	if _, cred, ok := strings.Cut(authorization, " "); ok && len(strings.TrimSpace(cred)) >= 3 {
		secrets = append(secrets, strings.TrimSpace(cred))
	}
	return secrets, user
}

// checkDenial asserts the code, its catalog status, a WWW-Authenticate
// challenge, and that no secret reaches anything client-facing (Params and
// headers).
func checkDenial(t *testing.T, d *pipeline.Denial, code string, status int, userPass, authorization string) {
	t.Helper()
	secrets, user := secretsOf(userPass, authorization)
	stagetest.Denial(t, d, code, status, secrets...)
	for _, u := range user {
		for k, v := range d.Params {
			if strings.Contains(v, u) {
				t.Errorf("param %s = %q tells the caller the user name", k, v)
			}
		}
		if strings.Contains(d.Header.Get("WWW-Authenticate"), u) {
			t.Error("the challenge names the user")
		}
	}
	if d.Status != 0 {
		t.Errorf("status override %d", d.Status)
	}
	if d.Header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	if d.Rule != "partners" {
		t.Errorf("rule %q", d.Rule)
	}
}

func TestDenialReasonNamesTheCause(t *testing.T) {
	t.Parallel()
	users := testUsers(t)
	dir := testDirectory(users)
	m := newTestMethod(t, nil)
	for _, tc := range []struct{ name, userPass, want string }{
		{"unknown user", "mallory:x", `unknown user "mallory"`},
		{"wrong password", "alice:x", `wrong password for user "alice"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, d := run(m, dir, basicHeader(tc.userPass))
			if d == nil || !strings.Contains(d.Reason, tc.want) {
				t.Fatalf("reason = %v, want it to contain %q", d, tc.want)
			}
			if strings.Contains(d.Reason, ":x") || strings.Contains(d.Reason, `"x"`) {
				t.Errorf("reason %q reveals the password", d.Reason)
			}
		})
	}
}

func TestRealm(t *testing.T) {
	t.Parallel()
	m, err := New("partners", &config.BasicAuth{Realm: `partner "zone"`})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Challenge(), `Basic realm="partner \"zone\"", charset="UTF-8"`; got != want {
		t.Errorf("challenge = %q, want %q", got, want)
	}
	if m.Name() != "partners" || m.Kind() != "basic" {
		t.Errorf("name %q kind %q", m.Name(), m.Kind())
	}
	if _, err := New("partners", &config.BasicAuth{Realm: "a\nb"}); err == nil || !strings.HasPrefix(err.Error(), "realm: ") {
		t.Errorf("control character in realm: err = %v", err)
	}
}

// Regression: an unknown user must cost a hash computation, or timing
// tells which user names exist.
func TestUnknownUserSpendsAHashComputation(t *testing.T) {
	t.Parallel()
	m := newTestMethod(t, nil)
	dir := testDirectory(testUsers(t))
	_, _, d := run(m, dir, basicHeader("mallory:guess"))
	if d == nil || d.Code != "authn.basic_invalid" {
		t.Fatalf("denial = %v", d)
	}
	if n := m.verifies.Load(); n != 1 {
		t.Errorf("hash computations = %d, want 1", n)
	}
}

func TestDefaultDummyHashIsValid(t *testing.T) {
	t.Parallel()
	if err := ValidateHash(dummyHash); err != nil {
		t.Fatal(err)
	}
	m, _ := New("x", nil)
	if m.dummy != dummyHash {
		t.Error("New does not use the default dummy hash")
	}
}

// Regression: bcrypt ignores bytes after the 72nd, so a longer password
// would match on its prefix alone.
func TestBcryptPasswordOver72BytesIsRefused(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("p", 72)
	dir := testDirectory([]testUser{{"eve", long, bcryptHash(t, long, "b"), "acme"}})
	m := newTestMethod(t, nil)
	if _, _, d := run(m, dir, basicHeader("eve:"+long)); d != nil {
		t.Fatalf("72-byte password refused: %s", d.Reason)
	}
	_, _, d := run(m, dir, basicHeader("eve:"+long+"-anything"))
	if d == nil || d.Code != "authn.basic_invalid" {
		t.Fatalf("73+ byte password: denial = %v", d)
	}
}

func TestUnusableStoredHash(t *testing.T) {
	t.Parallel()
	dir := testDirectory([]testUser{{"frank", "pw", "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA", "acme"}})
	m := newTestMethod(t, nil)
	_, _, d := run(m, dir, basicHeader("frank:pw"))
	if d == nil || d.Code != "authn.basic_invalid" || !strings.Contains(d.Reason, "unusable") {
		t.Fatalf("denial = %v", d)
	}
}

func TestClientGoneWhileWaitingForASlot(t *testing.T) {
	t.Parallel()
	m := newTestMethod(t, nil)
	for range cap(m.slots) {
		m.slots <- struct{}{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequestWithContext(ctx, "GET", "/", nil)
	r.Header.Set("Authorization", basicHeader("alice:correct horse battery"))
	x := &pipeline.Exchange{Request: r}
	found, d := m.Authenticate(x, testDirectory(testUsers(t)))
	if !found || d == nil || d.Code != "authn.basic_invalid" || !strings.Contains(d.Reason, "went away") {
		t.Fatalf("found %v denial %v", found, d)
	}
	if m.verifies.Load() != 0 {
		t.Error("hash computed without a slot")
	}
}

var sinkDenial *pipeline.Denial

// BenchmarkAuthenticateCached is the pass path of a returning caller: the
// verification is in the cache.
func BenchmarkAuthenticateCached(b *testing.B) {
	users := testUsers(b)
	dir := testDirectory(users)
	m := newTestMethod(b, nil)
	r := httptest.NewRequest("GET", "/orders", nil)
	r.Header.Set("Authorization", basicHeader("alice:correct horse battery"))
	x := &pipeline.Exchange{Request: r}
	if _, d := m.Authenticate(x, dir); d != nil {
		b.Fatal(d.Reason)
	}
	b.ReportAllocs()
	for b.Loop() {
		x.Identity = pipeline.Identity{}
		_, sinkDenial = m.Authenticate(x, dir)
	}
	if m.verifies.Load() != 1 {
		b.Fatalf("verifies = %d", m.verifies.Load())
	}
}

// BenchmarkVerifyArgon2idDefault is one uncached verification with the
// recommended parameters (m=64 MiB, t=3, p=2).
func BenchmarkVerifyArgon2idDefault(b *testing.B) {
	for b.Loop() {
		_, _ = verifyPassword(dummyHash, []byte("guess"))
	}
}
