package introspect

import (
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/stagetest"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is the test clock of stagetest.
type clock = stagetest.Clock

func newClock() *clock { return stagetest.NewClock(testNow) }

// Credentials of the gateway at the test endpoint; both need encoding.
const (
	testClientID     = "gw:client/1 é"
	testClientSecret = "s3cr3t+&=:%/x"
)

// reply is what the endpoint answers for one token.
type reply struct {
	status int
	body   string
}

// idpServer is an httptest introspection endpoint that checks the
// protocol of every request it gets.
type idpServer struct {
	*httptest.Server
	mu         sync.Mutex
	replies    map[string]reply
	calls      map[string]int
	violations []string
	user, pass string // last Basic credentials, as sent
	total      atomic.Int64
	hold       chan struct{} // when set, requests wait for it to close
	cancelled  atomic.Int64  // requests whose context ended while held
}

func newIDPServer(t testing.TB) *idpServer {
	t.Helper()
	s := &idpServer{replies: map[string]reply{}, calls: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *idpServer) serve(w http.ResponseWriter, r *http.Request) {
	s.total.Add(1)
	var bad []string
	if r.Method != http.MethodPost {
		bad = append(bad, "method "+r.Method)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		bad = append(bad, "content type "+ct)
	}
	if a := r.Header.Get("Accept"); a != "application/json" {
		bad = append(bad, "accept "+a)
	}
	if err := r.ParseForm(); err != nil {
		bad = append(bad, "form: "+err.Error())
	}
	if h := r.PostForm.Get("token_type_hint"); h != "access_token" {
		bad = append(bad, "token_type_hint "+h)
	}
	user, pass, _ := r.BasicAuth()
	tok := r.PostForm.Get("token")
	s.mu.Lock()
	s.violations = append(s.violations, bad...)
	s.user, s.pass = user, pass
	s.calls[tok]++
	rep, ok := s.replies[tok]
	hold := s.hold
	s.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			s.cancelled.Add(1)
			return
		}
	}
	if !ok {
		rep = reply{body: `{"active":false}`}
	}
	if rep.status == 0 {
		rep.status = http.StatusOK
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

// answer sets the reply for tok.
func (s *idpServer) answer(tok string, status int, body string) {
	s.mu.Lock()
	s.replies[tok] = reply{status, body}
	s.mu.Unlock()
}

// callsFor is how many times tok was introspected.
func (s *idpServer) callsFor(tok string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[tok]
}

// holdRequests makes requests wait until the returned func is called.
func (s *idpServer) holdRequests() (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.hold = ch
	s.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { close(ch) }) }
}

// active is an active answer with the given members; exp is relative to
// testNow (0: none).
func active(exp time.Duration, members map[string]any) string {
	m := map[string]any{"active": true}
	for k, v := range members {
		m[k] = v
	}
	if exp != 0 {
		m["exp"] = testNow.Add(exp).Unix()
	}
	b, _ := json.Marshal(m)
	return string(b)
}

var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// newMethod builds an introspection authenticator on srv.
func newMethod(t testing.TB, srv *idpServer, clk *clock, mutate ...func(*config.IntrospectionAuth)) *Method {
	t.Helper()
	c := &config.IntrospectionAuth{URL: srv.URL, ClientID: testClientID, ClientSecret: testClientSecret}
	for _, f := range mutate {
		f(c)
	}
	m, err := New("idp", c, Options{Logger: quietLogger, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

func exchange(authorization string) *pipeline.Exchange {
	r := httptest.NewRequest(http.MethodGet, "/orders", nil)
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	return &pipeline.Exchange{Request: r}
}

var testDirectory = &identity.Directory{Declared: &identity.Declared{
	Consumers: map[string]*identity.Consumer{"orders-app": {ID: "orders-app", Name: "Orders App"}},
}}

// authenticate runs m on a bearer token.
func authenticate(m *Method, tok string) (*pipeline.Exchange, *pipeline.Denial) {
	x := exchange("Bearer " + tok)
	_, d := m.Authenticate(x, testDirectory)
	return x, d
}

// checkDenial asserts the code, its catalog status, the headers, filled
// placeholders, and that no secret reaches the params, headers or reason.
func checkDenial(t testing.TB, d *pipeline.Denial, code string, secrets ...string) {
	t.Helper()
	c := stagetest.Denial(t, d, code, 0, append(secrets, testClientSecret)...)
	if d.Rule != "authenticator:idp" {
		t.Errorf("rule %q", d.Rule)
	}
	switch c.Status {
	case http.StatusUnauthorized:
		want := `Bearer realm="pinpoint", error="invalid_token", error_description="` + c.Title + `"`
		if got := d.Header.Get("WWW-Authenticate"); got != want {
			t.Errorf("WWW-Authenticate %q, want %q", got, want)
		}
	case http.StatusServiceUnavailable:
		if d.Header.Get("Retry-After") == "" || d.Header.Get("WWW-Authenticate") != "" {
			t.Errorf("503 headers %v", d.Header)
		}
	default:
		t.Errorf("unexpected catalog status %d", c.Status)
	}
}

func sha256Sum(s string) [32]byte { return sha256.Sum256([]byte(s)) }
