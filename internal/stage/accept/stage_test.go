package accept

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/netip"
	"net/textproto"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/problem"
	"github.com/pinpointgw/pinpoint/internal/stage/stagetest"
)

// testLimits are small enough that the corpus can cross them.
var testLimits = Limits{MaxBodyBytes: 1000, MaxHeaderBytes: 1024, MaxURIBytes: 256, MaxHeaderCount: 20}

func newTestStage(t testing.TB, forwarded string, trusted ...string) *Stage {
	t.Helper()
	cfg := Config{Limits: testLimits, ForwardedHeader: forwarded, RequestIDHeader: "X-Request-Id"}
	for _, p := range trusted {
		cfg.TrustedProxies = append(cfg.TrustedProxies, netip.MustParsePrefix(p))
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newTestRequest builds a server-side request as net/http would hand it over.
func newTestRequest(method, uri, remote string, headers map[string][]string) *http.Request {
	r := httptest.NewRequest(method, uri, nil)
	r.RemoteAddr = remote
	for k, vs := range headers {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	return r
}

func handle(s *Stage, r *http.Request) (*pipeline.Exchange, pipeline.Decision) {
	x := &pipeline.Exchange{Request: r, Start: time.Now()}
	return x, s.Handle(x)
}

type decisionCase struct {
	Name            string              `yaml:"name"`
	ForwardedHeader string              `yaml:"forwarded_header"`
	Method          string              `yaml:"method"`
	URI             string              `yaml:"uri"`
	Host            string              `yaml:"host"`
	Remote          string              `yaml:"remote"`
	TLS             bool                `yaml:"tls"`
	Headers         map[string][]string `yaml:"headers"`
	ContentLength   int64               `yaml:"content_length"`
	Expect          struct {
		Code     string            `yaml:"code"`
		Status   int               `yaml:"status"`
		Params   map[string]string `yaml:"params"`
		ClientIP string            `yaml:"client_ip"`
		Host     string            `yaml:"host"`
		Path     string            `yaml:"path"`
		Scheme   string            `yaml:"scheme"`
	} `yaml:"expect"`
}

// TestDecisions runs the request → decision corpus in testdata/decisions.yaml.
func TestDecisions(t *testing.T) {
	t.Parallel()
	var cases []decisionCase
	stagetest.Corpus(t, "testdata/decisions.yaml", &cases)
	if len(cases) < 20 {
		t.Fatalf("corpus has %d cases; expected the full file", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			s := newTestStage(t, c.ForwardedHeader, "10.0.0.0/8", "2001:db8:ffff::/48")
			method := c.Method
			if method == "" {
				method = http.MethodGet
			}
			r := newTestRequest(method, c.URI, c.Remote, c.Headers)
			if c.Host != "" {
				r.Host = c.Host
			}
			if c.TLS {
				r.TLS = &tls.ConnectionState{}
			}
			if c.ContentLength > 0 {
				r.ContentLength = c.ContentLength
				r.Body = io.NopCloser(strings.NewReader(strings.Repeat("b", int(c.ContentLength))))
			}
			x, d := handle(s, r)
			checkDecision(t, d, c.Expect.Code, c.Expect.Status, c.Expect.Params)
			if x.ID == "" || x.TraceParent == "" {
				t.Errorf("ID %q, TraceParent %q: both must be set, even on a refusal", x.ID, x.TraceParent)
			}
			for _, f := range []struct{ name, got, want string }{
				{"client IP", x.ClientIP.String(), c.Expect.ClientIP},
				{"host", x.Host, c.Expect.Host},
				{"path", x.Path, c.Expect.Path},
				{"scheme", x.Scheme, c.Expect.Scheme},
			} {
				if f.want != "" && f.got != f.want {
					t.Errorf("%s = %q, want %q", f.name, f.got, f.want)
				}
			}
		})
	}
}

// checkDecision compares a decision with the expected code (""; pass), the
// catalog status and the denial params, and checks that the params fill
// every placeholder of the code's detail.
func checkDecision(t *testing.T, d pipeline.Decision, code string, status int, params map[string]string) {
	t.Helper()
	if code == "" {
		if d.Denied() {
			t.Fatalf("denied with %s (%s), want pass", d.Denial.Code, d.Denial.Reason)
		}
		return
	}
	if !d.Denied() {
		t.Fatalf("passed, want %s", code)
	}
	if d.Denial.Code != code {
		t.Fatalf("code %s (%s), want %s", d.Denial.Code, d.Denial.Reason, code)
	}
	p := problem.New(d.Denial.Code, d.Denial.Params)
	if status != 0 && p.Status != status {
		t.Errorf("status %d, want %d", p.Status, status)
	}
	if strings.Contains(p.Detail, "unknown") {
		t.Errorf("detail %q has an unfilled placeholder; params %v", p.Detail, d.Denial.Params)
	}
	for k, v := range params {
		if d.Denial.Params[k] != v {
			t.Errorf("param %s = %q, want %q", k, d.Denial.Params[k], v)
		}
	}
	if d.Denial.Stage != "accept" || d.Denial.Reason == "" {
		t.Errorf("denial stage %q reason %q: want stage accept and an operator reason", d.Denial.Stage, d.Denial.Reason)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"valid", func(*Config) {}, ""},
		{"default request id header", func(c *Config) { c.RequestIDHeader = "" }, ""},
		{"bad request id header", func(c *Config) { c.RequestIDHeader = "X Request" }, "not a valid header name"},
		{"forwarded mode any case", func(c *Config) { c.ForwardedHeader = "forwarded" }, ""},
		{"auto mode", func(c *Config) { c.ForwardedHeader = "AUTO" }, ""},
		{"unknown forwarded mode", func(c *Config) { c.ForwardedHeader = "X-Real-IP" }, "want"},
		{"zero limit", func(c *Config) { c.Limits.MaxHeaderCount = 0 }, "greater than zero"},
		{"invalid prefix", func(c *Config) { c.TrustedProxies = []netip.Prefix{{}} }, "not a valid network"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := Config{Limits: testLimits, RequestIDHeader: "x-request-id"}
			c.mutate(&cfg)
			_, err := New(cfg)
			if c.wantErr == "" && err != nil || c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Fatalf("New: %v, want error containing %q", err, c.wantErr)
			}
		})
	}
}

func TestIsTrusted(t *testing.T) {
	t.Parallel()
	s := newTestStage(t, "", "10.0.0.0/8", "192.168.1.7/32", "::ffff:172.16.0.0/108", "2001:db8::/32")
	for _, c := range []struct {
		addr string
		want bool
	}{
		{"10.1.2.3", true},
		{"::ffff:10.1.2.3", true},
		{"192.168.1.7", true},
		{"192.168.1.8", false},
		{"172.16.5.5", true}, // from the IPv4-mapped prefix
		{"172.32.0.1", false},
		{"2001:db8::1", true},
		{"2001:db9::1", false},
		{"203.0.113.7", false},
	} {
		t.Run(c.addr, func(t *testing.T) {
			t.Parallel()
			if got := s.IsTrusted(netip.MustParseAddr(c.addr)); got != c.want {
				t.Fatalf("IsTrusted(%s) = %v, want %v", c.addr, got, c.want)
			}
		})
	}
	if s.IsTrusted(netip.Addr{}) {
		t.Fatal("the zero address (unix socket peer) must never be trusted")
	}
}

func TestHandleTrace(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		remote  string
		headers map[string][]string
		uri     string
		outcome string
		note    string
	}{
		{"direct client", "198.51.100.4:1", nil, "/", pipeline.OutcomePass, "client 198.51.100.4; peer untrusted"},
		{"ignored headers are named", "198.51.100.4:1",
			map[string][]string{"X-Forwarded-For": {"1.2.3.4"}, "Forwarded": {"for=1.2.3.4"}}, "/", pipeline.OutcomePass,
			"client 198.51.100.4; peer untrusted; ignored Forwarded, X-Forwarded-For"},
		{"via trusted proxy", "10.0.0.2:1",
			map[string][]string{"X-Forwarded-For": {"203.0.113.7"}}, "/", pipeline.OutcomePass,
			"client 203.0.113.7 via trusted proxy 10.0.0.2 (X-Forwarded-For)"},
		{"trusted peer without chain", "10.0.0.2:1", nil, "/", pipeline.OutcomePass,
			"client 10.0.0.2; trusted peer sent no forwarding header"},
		{"walk stopped at malformed hop", "10.0.0.2:1",
			map[string][]string{"X-Forwarded-For": {"203.0.113.7, bogus, 10.0.0.3"}}, "/", pipeline.OutcomePass,
			"client 10.0.0.3 (X-Forwarded-For); stopped at a malformed hop"},
		{"denial is recorded", "198.51.100.4:1", nil, "/a/%2F", pipeline.OutcomeDeny, "client 198.51.100.4; peer untrusted"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newTestStage(t, "", "10.0.0.0/8")
			x, d := handle(s, newTestRequest("GET", c.uri, c.remote, c.headers))
			if len(x.Trace) != 1 {
				t.Fatalf("trace has %d steps, want 1", len(x.Trace))
			}
			st := x.Trace[0]
			if st.Stage != "accept" || st.Outcome != c.outcome || st.Note != c.note {
				t.Fatalf("step = %+v, want outcome %s note %q", st, c.outcome, c.note)
			}
			if d.Denied() && (st.Code != d.Denial.Code || st.Rule != d.Denial.Rule) {
				t.Fatalf("step %+v does not carry the denial's code and rule", st)
			}
		})
	}
}

// TestHandleOverHTTP sends raw request lines to a real server that runs the
// stage and proxies to a real backend, and checks what the backend receives:
// the proxy must send exactly the normalized path.
func TestHandleOverHTTP(t *testing.T) {
	t.Parallel()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.RequestURI)
	}))
	t.Cleanup(backend.Close)
	target, _ := url.Parse(backend.URL)
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) }}
	s := newTestStage(t, "", "127.0.0.0/8")
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := &pipeline.Exchange{Request: r, Start: time.Now()}
		d := s.Handle(x)
		w.Header().Set("X-Request-Id", x.ID)
		w.Header().Set("X-Client", x.ClientIP.String())
		if d.Denied() {
			p := problem.New(d.Denial.Code, d.Denial.Params)
			w.Header().Set(problem.HeaderCode, p.Code)
			w.WriteHeader(p.Status)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)

	for _, c := range []struct {
		name, target string
		headers      string
		code         string
		upstream     string
		client       string
	}{
		{"unreserved escapes decoded", "/a/%7Euser//x/./y?q=%41", "", "", "/a/~user/x/y?q=%41", "127.0.0.1"},
		{"reserved escapes kept, hex upper-cased", "/x%3fy/a%20b", "", "", "/x%3Fy/a%20b", "127.0.0.1"},
		{"double-encoded slash stays literal", "/%252F", "", "", "/%252F", "127.0.0.1"},
		{"non-ASCII escapes kept", "/caf%c3%a9", "", "", "/caf%C3%A9", "127.0.0.1"},
		{"dot-dot resolved", "/a/b/../c", "", "", "/a/c", "127.0.0.1"},
		{"encoded slash refused", "/a/%2Fetc", "", "request.invalid_path", "", ""},
		{"encoded dot-dot refused", "/a/%2e%2E/b", "", "request.invalid_path", "", ""},
		{"encoded backslash refused", "/a/%5c..%5cb", "", "request.invalid_path", "", ""},
		{"traversal refused", "/../etc/passwd", "", "request.invalid_path", "", ""},
		{"trusted proxy's client", "/", "X-Forwarded-For: 203.0.113.7\r\n", "", "/", "203.0.113.7"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			conn, err := net.Dial("tcp", front.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: example.com\r\n%sConnection: close\r\n\r\n", c.target, c.headers)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if got := resp.Header.Get(problem.HeaderCode); got != c.code {
				t.Fatalf("code %q (status %d), want %q", got, resp.StatusCode, c.code)
			}
			if len(resp.Header.Get("X-Request-Id")) != uuidLen {
				t.Errorf("X-Request-Id %q is not a generated UUID", resp.Header.Get("X-Request-Id"))
			}
			if c.code != "" {
				return
			}
			if string(body) != c.upstream {
				t.Errorf("upstream received %q, want %q", body, c.upstream)
			}
			if got := resp.Header.Get("X-Client"); got != c.client {
				t.Errorf("client %q, want %q", got, c.client)
			}
		})
	}
}

func TestHandleSetsURL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ target, path, rawPath string }{
		{"/a/b", "/a/b", ""},
		{"/a/%7e", "/a/~", ""},
		{"/a%20b/c%3F", "/a b/c?", "/a%20b/c%3F"},
	} {
		t.Run(c.target, func(t *testing.T) {
			t.Parallel()
			s := newTestStage(t, "")
			x, d := handle(s, newTestRequest("GET", c.target, "198.51.100.1:1", nil))
			if d.Denied() {
				t.Fatal(d.Denial.Reason)
			}
			u := x.Request.URL
			if u.Path != c.path || u.RawPath != c.rawPath || u.EscapedPath() != x.Path {
				t.Fatalf("URL Path %q RawPath %q EscapedPath %q; want %q %q %q",
					u.Path, u.RawPath, u.EscapedPath(), c.path, c.rawPath, x.Path)
			}
		})
	}
}

// TestHandleAllocs pins the allocation budget of the common request: one
// string holding the request id, traceparent and trace note.
func TestHandleAllocs(t *testing.T) {
	s := newTestStage(t, "", "10.0.0.0/8")
	for _, c := range []struct {
		name string
		r    *http.Request
	}{
		{"untrusted peer, no forwarding headers", newTestRequest("GET", "/orders/42?x=1", "198.51.100.4:5555", map[string][]string{"Accept": {"application/json"}})},
		{"trusted proxy with X-Forwarded-For", newTestRequest("GET", "/orders/42?x=1", "10.0.0.2:5555", map[string][]string{"X-Forwarded-For": {"203.0.113.7, 10.1.1.1"}})},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := &pipeline.Exchange{Trace: make([]pipeline.Step, 0, 8)}
			allocs := testing.AllocsPerRun(200, func() {
				x.Reset()
				x.Request = c.r
				if s.Handle(x).Denied() {
					t.Fatal("denied")
				}
			})
			if allocs != 1 {
				t.Fatalf("Handle allocates %v times per request, want 1", allocs)
			}
		})
	}
}

func BenchmarkHandle(b *testing.B) {
	s := newTestStage(b, "", "10.0.0.0/8")
	for _, c := range []struct {
		name string
		r    *http.Request
	}{
		{"untrusted-plain", newTestRequest("GET", "/orders/42?x=1", "198.51.100.4:5555",
			map[string][]string{"Accept": {"application/json"}, "User-Agent": {"bench/1.0"}})},
		{"trusted-xff", newTestRequest("GET", "/orders/42?x=1", "10.0.0.2:5555",
			map[string][]string{"Accept": {"application/json"}, "X-Forwarded-For": {"203.0.113.7, 10.1.1.1"}, "X-Forwarded-Proto": {"https"}})},
		{"trusted-id-and-traceparent", newTestRequest("GET", "/orders/42?x=1", "10.0.0.2:5555",
			map[string][]string{"X-Forwarded-For": {"203.0.113.7"}, "X-Request-Id": {"edge-1234"},
				textproto.CanonicalMIMEHeaderKey("traceparent"): {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}})},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			x := &pipeline.Exchange{Trace: make([]pipeline.Step, 0, 8)}
			for b.Loop() {
				x.Reset()
				x.Request = c.r
				s.Handle(x)
			}
		})
	}
}
