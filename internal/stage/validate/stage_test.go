package validate

import (
	"bytes"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/stagetest"
)

// secret is the distinctive value the corpus puts in failing fields: it
// must never reach a denial's params or reason, nor a trace note.
const secret = "SECRET-VALUE-123"

// docs are the corpus's documents by name; "none" checks JSON limits only.
var docs = map[string]string{
	"":          "testdata/orders.yaml",
	"orders":    "testdata/orders.yaml",
	"catalog31": "testdata/catalog31.yaml",
	"none":      "",
}

type corpusCase struct {
	Name   string `yaml:"name"`
	Doc    string `yaml:"doc"`
	Config struct {
		Mode              string `yaml:"mode"`
		UnknownOperation  string `yaml:"unknown_operation"`
		Body              *bool  `yaml:"body"`
		Parameters        *bool  `yaml:"parameters"`
		MaxBodyBytes      int64  `yaml:"max_body_bytes"`
		MaxJSONDepth      int    `yaml:"max_json_depth"`
		MaxJSONFieldBytes int64  `yaml:"max_json_field_bytes"`
	} `yaml:"config"`
	Request struct {
		Method  string            `yaml:"method"`
		Path    string            `yaml:"path"`
		Header  map[string]string `yaml:"header"`
		Body    string            `yaml:"body"`
		Chunked bool              `yaml:"chunked"`
	} `yaml:"request"`
	Expect struct {
		Code      string            `yaml:"code"`
		Status    int               `yaml:"status"`
		Rule      string            `yaml:"rule"`
		Params    map[string]string `yaml:"params"`
		Reason    string            `yaml:"reason"`
		WouldDeny []string          `yaml:"would_deny"`
		Pass      string            `yaml:"pass"`
		Skip      bool              `yaml:"skip"`
	} `yaml:"expect"`
}

// newStage builds the stage a case describes.
func (c *corpusCase) newStage(t testing.TB) *Stage {
	t.Helper()
	spec, ok := docs[c.Doc]
	if !ok {
		t.Fatalf("unknown doc %q", c.Doc)
	}
	o := Options{
		Route:             "orders",
		MaxBodyBytes:      c.Config.MaxBodyBytes,
		MaxJSONDepth:      c.Config.MaxJSONDepth,
		MaxJSONFieldBytes: c.Config.MaxJSONFieldBytes,
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if spec != "" {
		o.OpenAPI = &config.OpenAPI{
			Spec:             spec,
			Mode:             c.Config.Mode,
			UnknownOperation: c.Config.UnknownOperation,
			Body:             c.Config.Body,
			Parameters:       c.Config.Parameters,
		}
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if s == nil {
		t.Fatal("New returned no stage")
	}
	return s
}

// exchange builds the exchange of a case as the accept and route stages
// leave it.
func (c *corpusCase) exchange() *pipeline.Exchange {
	method := c.Request.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if c.Request.Body != "" {
		body = strings.NewReader(c.Request.Body)
	}
	r := httptest.NewRequest(method, c.Request.Path, body)
	for k, v := range c.Request.Header {
		r.Header.Set(k, v)
	}
	if c.Request.Chunked {
		r.ContentLength = -1
		if r.Body == http.NoBody {
			r.Body = io.NopCloser(strings.NewReader(""))
		}
	}
	return &pipeline.Exchange{Request: r, Path: r.URL.Path, Route: "orders"}
}

// TestCorpus runs the decision corpus in testdata/cases.yaml.
func TestCorpus(t *testing.T) {
	t.Parallel()
	var cases []corpusCase
	stagetest.Corpus(t, "testdata/cases.yaml", &cases)
	if len(cases) < 80 {
		t.Fatalf("corpus has %d cases; expected the full file", len(cases))
	}
	codes := map[string]bool{}
	for _, c := range cases {
		codes[c.Expect.Code] = true
	}
	for _, code := range []string{
		"request.operation_unknown", "request.invalid_parameter", "request.invalid_content_type",
		"request.body_required", "request.invalid_json", "request.invalid_body",
		"request.json_too_deep", "request.json_field_too_long", "request.body_too_large",
	} {
		if !codes[code] {
			t.Errorf("no case expects %s", code)
		}
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			s := c.newStage(t)
			x := c.exchange()
			d := s.Handle(x)
			checkDecision(t, &c, d)
			checkTrace(t, &c, x)
			// The upstream still gets every byte of the body.
			got, err := io.ReadAll(x.Request.Body)
			if err != nil {
				t.Fatalf("reading the body after the stage: %v", err)
			}
			if string(got) != c.Request.Body {
				t.Errorf("upstream body %q, want %q", got, c.Request.Body)
			}
		})
	}
}

func checkDecision(t *testing.T, c *corpusCase, d pipeline.Decision) {
	t.Helper()
	if c.Expect.Code == "" {
		if d.Ends() {
			t.Fatalf("denied with %s (%s), want pass", d.Denial.Code, d.Denial.Reason)
		}
		return
	}
	if !d.Denied() {
		t.Fatalf("passed, want %s", c.Expect.Code)
	}
	stagetest.Denial(t, d.Denial, c.Expect.Code, c.Expect.Status, secret)
	if d.Denial.Stage != stageName {
		t.Errorf("stage %q, want validate", d.Denial.Stage)
	}
	if c.Expect.Rule != "" && d.Denial.Rule != c.Expect.Rule {
		t.Errorf("rule %q, want %q", d.Denial.Rule, c.Expect.Rule)
	}
	if c.Expect.Params != nil && !maps.Equal(d.Denial.Params, c.Expect.Params) {
		t.Errorf("params %v\nwant   %v", d.Denial.Params, c.Expect.Params)
	}
	if accept := d.Denial.Header.Get("Accept"); accept != c.Expect.Params["accepted"] {
		t.Errorf("Accept header %q, want the accepted media types %q", accept, c.Expect.Params["accepted"])
	}
	if c.Expect.Reason != "" && d.Denial.Reason != c.Expect.Reason {
		t.Errorf("reason %q\nwant   %q", d.Denial.Reason, c.Expect.Reason)
	}
}

func checkTrace(t *testing.T, c *corpusCase, x *pipeline.Exchange) {
	t.Helper()
	var would []string
	pass, skip := "", false
	for _, st := range x.Trace {
		if st.Stage != stageName {
			t.Errorf("step %+v: want stage validate", st)
		}
		if strings.Contains(st.Note, secret) {
			t.Errorf("step note %q reveals the value", st.Note)
		}
		switch st.Outcome {
		case pipeline.OutcomeWouldDeny:
			would = append(would, st.Code)
			if st.Rule == "" || st.Note == "" {
				t.Errorf("would_deny step %+v lacks rule or note", st)
			}
		case pipeline.OutcomePass:
			pass = st.Note
		case pipeline.OutcomeSkip:
			skip = true
		}
	}
	if !slices.Equal(would, c.Expect.WouldDeny) {
		t.Errorf("would_deny steps %v, want %v", would, c.Expect.WouldDeny)
	}
	if pass != c.Expect.Pass {
		t.Errorf("pass step %q, want %q", pass, c.Expect.Pass)
	}
	if skip != c.Expect.Skip {
		t.Errorf("skip step %v, want %v", skip, c.Expect.Skip)
	}
}

// TestReportOnlyKeepsBody pins that a report_only stage, which reads and
// decodes the body, leaves it whole and replayable for the upstream.
func TestReportOnlyKeepsBody(t *testing.T) {
	t.Parallel()
	s, err := New(Options{Route: "orders", MaxBodyBytes: 1 << 10, OpenAPI: &config.OpenAPI{Spec: "testdata/orders.yaml", Mode: "report_only"}})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"customer":"` + secret + `","items":[{"sku":"ABC","qty":0}]}`
	r := httptest.NewRequest("POST", "/shop/v1/orders", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Tenant", "acme")
	x := &pipeline.Exchange{Request: r, Path: r.URL.Path}
	if d := s.Handle(x); d.Ends() {
		t.Fatalf("report_only stage ended the request: %+v", d)
	}
	if len(x.Trace) != 1 || x.Trace[0].Code != "request.invalid_body" {
		t.Fatalf("trace %+v, want one would_deny request.invalid_body", x.Trace)
	}
	for range 2 {
		rc, err := r.GetBody()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		if !bytes.Equal(got, []byte(body)) {
			t.Fatalf("replayed body %q, want %q", got, body)
		}
	}
}

// TestHeaderParametersUntouched pins that validating parameters writes no
// defaults into the request the upstream receives.
func TestHeaderParametersUntouched(t *testing.T) {
	t.Parallel()
	s, err := New(Options{Route: "orders", MaxBodyBytes: 1 << 10, OpenAPI: &config.OpenAPI{Spec: "testdata/defaults.yaml"}})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/search", nil)
	x := &pipeline.Exchange{Request: r, Path: r.URL.Path}
	if d := s.Handle(x); d.Ends() {
		t.Fatalf("denied: %+v", d.Denial)
	}
	if r.URL.RawQuery != "" || len(r.Header) != 0 {
		t.Errorf("the stage changed the request: query %q, header %v", r.URL.RawQuery, r.Header)
	}
}

// TestConcurrentHandle runs valid and refused requests through one stage
// from several goroutines, as the gateway does: the compiled document and
// kin-openapi's schemas are shared and only read.
func TestConcurrentHandle(t *testing.T) {
	t.Parallel()
	var cases []corpusCase
	stagetest.Corpus(t, "testdata/cases.yaml", &cases)
	stages := map[string]*Stage{}
	var run []corpusCase
	for _, c := range cases {
		if c.Config != (corpusCase{}).Config || c.Doc == "none" {
			continue
		}
		if stages[c.Doc] == nil {
			stages[c.Doc] = c.newStage(t)
		}
		run = append(run, c)
	}
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range run {
				c := &run[(i+g*7)%len(run)]
				d := stages[c.Doc].Handle(c.exchange())
				if got := d.Denied(); got != (c.Expect.Code != "") {
					t.Errorf("%s: denied %v", c.Name, got)
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}
