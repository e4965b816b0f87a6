package waf

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// testEngines is the engine cache of the whole package's tests: an
// engine is built once per distinct settings and shared by every test
// that asks for the same, which keeps the CRS tests fast.
var testEngines = NewEngines(nil)

// loadConfig loads a config document whose waf block is global and whose
// one route ("api") has route as its waf block (either may be ""), so
// that the blocks get the config package's own validation and defaults.
func loadConfig(t testing.TB, global, route string) *config.Config {
	t.Helper()
	var doc strings.Builder
	doc.WriteString("version: 1\nlisteners:\n  - {name: public, kind: proxy, address: \"127.0.0.1:0\"}\n")
	if global != "" {
		doc.WriteString("waf:\n" + indent(global, "  "))
	}
	doc.WriteString("routes:\n  - name: api\n    paths: [\"/*\"]\n    upstream: app\n")
	if route != "" {
		doc.WriteString("    waf:\n" + indent(route, "      "))
	}
	doc.WriteString("upstreams:\n  - name: app\n    targets: [{url: \"http://127.0.0.1:9\"}]\n")
	cfg, err := config.Load("waf_test.yaml", []byte(doc.String()), nil)
	if err != nil {
		t.Fatalf("config: %v\n%s", err, doc.String())
	}
	return cfg
}

// indent prefixes every line of a YAML block.
func indent(block, prefix string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(strings.TrimRight(block, "\n"), "\n") {
		b.WriteString(prefix + line + "\n")
	}
	return b.String()
}

// yamlText renders a corpus node as a YAML block ("" for none).
func yamlText(t testing.TB, n yaml.Node) string {
	t.Helper()
	if n.Kind == 0 {
		return ""
	}
	b, err := yaml.Marshal(&n)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// newStage builds the stage of the test route of a config document.
func newStage(t testing.TB, global, route string) *Stage {
	t.Helper()
	cfg := loadConfig(t, global, route)
	fw, err := testEngines.Compile(&cfg.WAF)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fw.Stage(cfg.Routes[0].WAF)
	if err != nil {
		t.Fatal(err)
	}
	if s == nil {
		t.Fatal("the route does not run the WAF")
	}
	return s
}

// enabled is the smallest global block that runs the WAF everywhere.
const enabled = "enabled: true"

// request describes a test request.
type request struct {
	Method      string            `yaml:"method"`
	URI         string            `yaml:"uri"`
	Headers     map[string]string `yaml:"headers"`
	ContentType string            `yaml:"content_type"`
	Body        string            `yaml:"body"`
	// Chunked sends the body without a length.
	Chunked bool `yaml:"chunked"`
}

// exchange builds the exchange of q as the accept and route stages leave
// it: a resolved client IP, the normalized host and the raw URI.
func (q request) exchange() *pipeline.Exchange {
	m := q.Method
	if m == "" {
		m = http.MethodGet
	}
	uri := q.URI
	if uri == "" {
		uri = "/"
	}
	var body io.Reader
	if q.Body != "" {
		body = strings.NewReader(q.Body)
	}
	r := httptest.NewRequest(m, uri, body)
	r.Host = "api.example.com"
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) pinpoint-test")
	r.Header.Set("Accept", "application/json")
	if q.ContentType != "" {
		r.Header.Set("Content-Type", q.ContentType)
	}
	for k, v := range q.Headers {
		r.Header.Set(k, v)
	}
	if q.Chunked {
		r.ContentLength = -1
		r.TransferEncoding = []string{"chunked"}
		r.Body = io.NopCloser(strings.NewReader(q.Body))
	}
	return &pipeline.Exchange{
		Request:  r,
		ID:       "req-" + strings.ReplaceAll(m, " ", ""),
		ClientIP: netip.MustParseAddr("192.0.2.10"),
		Host:     "api.example.com",
		Path:     r.URL.Path,
		RawURI:   r.RequestURI,
		Trace:    make([]pipeline.Step, 0, 4),
	}
}

// lastStep returns the stage's last trace step.
func lastStep(t testing.TB, x *pipeline.Exchange) pipeline.Step {
	t.Helper()
	for i := len(x.Trace) - 1; i >= 0; i-- {
		if x.Trace[i].Stage == stageName {
			return x.Trace[i]
		}
	}
	t.Fatalf("no waf step in the trace %+v", x.Trace)
	return pipeline.Step{}
}
