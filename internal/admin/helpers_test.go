package admin_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/admin/admintest"
	"github.com/pinpointgw/pinpoint/internal/problem"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// testToken is the admin token every fixture accepts, stored as "alice".
const testToken = "ppadm_test-token-for-the-admin-api-tests"

// start is the fixed clock of the fixtures' revisions.
var start = time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)

// fixture is an admin API over a real SQLite store and a config-backed Control.
type fixture struct {
	st     *sqlite.Store
	dir    string
	ctl    *admintest.Control
	srv    *httptest.Server
	client *admin.Client
}

func newFixture(t testing.TB, configure ...func(*admin.Options)) *fixture {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "pinpoint.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.CreateAdminToken(ctx, "alice", admin.HashToken(testToken)); err != nil {
		t.Fatal(err)
	}
	ctl := admintest.New(st)
	ctl.Now = admintest.Clock(start)
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounter(prometheus.CounterOpts{Name: "pinpoint_test_requests_total", Help: "Test counter."})
	reg.MustRegister(requests)
	requests.Add(3)
	o := admin.Options{
		Control: ctl,
		Store:   st,
		Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		Version: "1.2.3-test",
	}
	for _, c := range configure {
		c(&o)
	}
	srv := httptest.NewServer(admin.NewHandler(o))
	t.Cleanup(srv.Close)
	return &fixture{
		st:     st,
		dir:    dir,
		ctl:    ctl,
		srv:    srv,
		client: &admin.Client{BaseURL: srv.URL, Token: testToken, HTTP: srv.Client()},
	}
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request; token "" sends no Authorization header.
func (f *fixture) do(t *testing.T, method, path, token string, body []byte) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, f.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// apply posts a testdata document as alice.
func (f *fixture) apply(t *testing.T, name string) admin.ApplyResult {
	t.Helper()
	res, err := f.client.Apply(t.Context(), name, readTestdata(t, name), false)
	if err != nil {
		t.Fatalf("apply %s: %v", name, err)
	}
	return res
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeProblem checks the problem+json framing of r and decodes it.
func decodeProblem(t *testing.T, r response) problem.Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != problem.ContentType {
		t.Fatalf("Content-Type = %q, want %q; body %s", ct, problem.ContentType, r.body)
	}
	var p problem.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("decoding problem: %v; body %s", err, r.body)
	}
	if p.Status != r.status {
		t.Errorf("problem status %d, HTTP status %d", p.Status, r.status)
	}
	if got := r.header.Get(problem.HeaderCode); got != p.Code {
		t.Errorf("%s = %q, body code %q", problem.HeaderCode, got, p.Code)
	}
	if id := r.header.Get("X-Request-Id"); id == "" || p.RequestID != id {
		t.Errorf("request_id %q, X-Request-Id %q: want equal and non-empty", p.RequestID, id)
	}
	return p
}

// goldenHeaders are the response headers a golden problem file pins.
var goldenHeaders = []string{"Allow", "Content-Type", "Location", "Pinpoint-Code", "Pinpoint-Layer", "WWW-Authenticate"}

// checkGolden compares r, with its request id normalized, against
// testdata/problems/NAME.golden.
func checkGolden(t *testing.T, name string, r response) {
	t.Helper()
	decodeProblem(t, r)
	var b strings.Builder
	b.WriteString("HTTP " + strconv.Itoa(r.status) + " " + http.StatusText(r.status) + "\n")
	var hs []string
	for _, h := range goldenHeaders {
		if v := r.header.Get(h); v != "" {
			hs = append(hs, h+": "+v)
		}
	}
	sort.Strings(hs)
	for _, h := range hs {
		b.WriteString(h + "\n")
	}
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	body["request_id"] = "<request-id>"
	var pretty bytes.Buffer
	enc := json.NewEncoder(&pretty)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(body); err != nil {
		t.Fatal(err)
	}
	b.WriteString("\n" + pretty.String())
	got := []byte(b.String())

	path := filepath.Join("testdata", "problems", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/admin -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}
