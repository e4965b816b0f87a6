package waf

import (
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/problem"
	"github.com/pinpointgw/pinpoint/internal/stage/stagetest"
)

type corpus struct {
	Configs map[string]struct {
		WAF   yaml.Node `yaml:"waf"`
		Route yaml.Node `yaml:"route"`
	} `yaml:"configs"`
	Cases []struct {
		Name    string `yaml:"name"`
		Config  string `yaml:"config"`
		request `yaml:",inline"`
		Secret  string `yaml:"secret"`
		Expect  struct {
			Outcome  string `yaml:"outcome"`
			Code     string `yaml:"code"`
			Status   int    `yaml:"status"`
			Category string `yaml:"category"`
			Rules    []int  `yaml:"rules"`
			Absent   []int  `yaml:"absent"`
		} `yaml:"expect"`
	} `yaml:"cases"`
}

// blockText returns a corpus config block: a scalar holds the YAML text
// itself, a mapping is rendered.
func blockText(t testing.TB, n yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return yamlText(t, n)
}

func TestCases(t *testing.T) {
	t.Parallel()
	var c corpus
	stagetest.Corpus(t, "testdata/cases.yaml", &c)
	if len(c.Cases) < 40 {
		t.Fatalf("corpus has %d cases; expected the full file", len(c.Cases))
	}
	stages := map[string]*Stage{}
	for name, cfg := range c.Configs {
		stages[name] = newStage(t, blockText(t, cfg.WAF), blockText(t, cfg.Route))
	}
	for _, tc := range c.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			name := tc.Config
			if name == "" {
				name = "default"
			}
			s, ok := stages[name]
			if !ok {
				t.Fatalf("unknown config %q", name)
			}
			x := tc.request.exchange()
			d := s.Handle(x)
			want := tc.Expect
			outcome := want.Outcome
			if outcome == "" {
				outcome = pipeline.OutcomePass
				if want.Code != "" {
					outcome = pipeline.OutcomeDeny
				}
			}
			step := lastStep(t, x)
			if step.Outcome != outcome {
				t.Fatalf("step %+v, want outcome %s (decision %+v)", step, outcome, d.Denial)
			}
			if len(step.Note) > maxNote {
				t.Errorf("note of %d bytes, over %d", len(step.Note), maxNote)
			}
			rules := step.Rule
			switch outcome {
			case pipeline.OutcomeDeny:
				cat := stagetest.Denial(t, d.Denial, want.Code, 0, tc.Secret)
				status := cat.Status
				if d.Denial.Status != 0 {
					status = d.Denial.Status
				}
				if want.Status != 0 && status != want.Status {
					t.Errorf("status %d, want %d", status, want.Status)
				}
				if want.Category != "" && d.Denial.Params["category"] != want.Category {
					t.Errorf("category %q, want %q (%s)", d.Denial.Params["category"], want.Category, d.Denial.Reason)
				}
				if step.Code != want.Code || step.Rule != d.Denial.Rule {
					t.Errorf("step %+v does not match the denial %+v", step, d.Denial)
				}
				rules = d.Denial.Rule
			default:
				if d.Denial != nil {
					t.Fatalf("denied %+v, want %s", d.Denial, outcome)
				}
				if want.Code != "" && step.Code != want.Code {
					t.Errorf("step code %q, want %q", step.Code, want.Code)
				}
			}
			ids := strings.Split(rules, ",")
			for _, id := range want.Rules {
				if !slices.Contains(ids, strconv.Itoa(id)) {
					t.Errorf("rules %q lack %d (note %s)", rules, id, step.Note)
				}
			}
			for _, id := range want.Absent {
				if slices.Contains(ids, strconv.Itoa(id)) {
					t.Errorf("rules %q hold %d", rules, id)
				}
			}
			if tc.Secret != "" && strings.Contains(step.Note, tc.Secret) {
				t.Errorf("the trace note reveals %q: %s", tc.Secret, step.Note)
			}
		})
	}
}

// The WAF reads the body through the exchange's shared buffer; the
// upstream must still get every byte, also past body_limit.
func TestBodyReachesUpstream(t *testing.T) {
	t.Parallel()
	s := newStage(t, "enabled: true\nbody_limit: 64", "")
	body := "pad=" + strings.Repeat("a", 200) + "&end=1"
	x := request{Method: "POST", URI: "/api", ContentType: "application/x-www-form-urlencoded", Body: body}.exchange()
	if d := s.Handle(x); d.Denied() {
		t.Fatalf("denied: %+v", d.Denial)
	}
	got, err := io.ReadAll(x.Request.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != body {
		t.Fatalf("upstream body %d bytes, want the %d sent", len(got), len(body))
	}
}

// In report_only mode an oversized body is recorded as a would-be
// request.body_too_large as well as what its start matched.
func TestReportOnlyBodyTooLarge(t *testing.T) {
	t.Parallel()
	s := newStage(t, "enabled: true\nbody_limit: 64\nbody_limit_action: reject", "mode: report_only")
	x := request{Method: "POST", URI: "/api", ContentType: "application/x-www-form-urlencoded", Body: "a=" + strings.Repeat("b", 100)}.exchange()
	if d := s.Handle(x); d.Ends() {
		t.Fatalf("decision %+v, want continue", d)
	}
	if len(x.Trace) == 0 || x.Trace[0].Outcome != pipeline.OutcomeWouldDeny || x.Trace[0].Code != "request.body_too_large" || x.Trace[0].Rule != ruleBodyLimit {
		t.Fatalf("trace %+v, want a would_deny request.body_too_large first", x.Trace)
	}
}

// The 413 names the WAF's limit, and the client-visible parts hold no
// request data.
func TestBodyTooLargeDenial(t *testing.T) {
	t.Parallel()
	s := newStage(t, "enabled: true\nbody_limit: 64\nbody_limit_action: reject", "")
	x := request{Method: "POST", URI: "/api", ContentType: "text/plain", Body: strings.Repeat("secretvalue", 10)}.exchange()
	d := s.Handle(x)
	stagetest.Denial(t, d.Denial, "request.body_too_large", 413, "secretvalue")
	if d.Denial.Params["limit"] != "64" {
		t.Errorf("limit %q, want 64", d.Denial.Params["limit"])
	}
	p := problem.New(d.Denial.Code, d.Denial.Params)
	if !strings.Contains(p.Detail, "64 bytes") {
		t.Errorf("detail %q does not name the limit", p.Detail)
	}
}

// Stages are shared by every request of a route: run attacks and clean
// requests at once (under -race in CI).
func TestConcurrentRequests(t *testing.T) {
	t.Parallel()
	s := newStage(t, enabled, "")
	reqs := []struct {
		r    request
		deny bool
	}{
		{request{URI: "/api/orders?id=42"}, false},
		{request{URI: "/api/orders?id=1'%20OR%20'1'='1"}, true},
		{request{Method: "POST", URI: "/api", ContentType: "application/json", Body: `{"c":"<script>alert(1)</script>"}`}, true},
		{request{Method: "POST", URI: "/api", ContentType: "application/json", Body: `{"c":"fine"}`}, false},
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				q := reqs[(g+i)%len(reqs)]
				x := q.r.exchange()
				if d := s.Handle(x); d.Denied() != q.deny {
					t.Errorf("%s %s: denied %v, want %v", q.r.Method, q.r.URI, d.Denied(), q.deny)
				}
			}
		})
	}
	wg.Wait()
}
