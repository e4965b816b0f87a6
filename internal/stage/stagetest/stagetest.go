// Package stagetest holds what the stage packages' tests check alike: the
// denial contract and the decision corpora in testdata/*.yaml.
package stagetest

import (
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/problem"
)

// Denial checks the contract every refusal keeps and returns the code's
// catalog entry: d is non-nil and has code; code is in the catalog (with
// status, when status is not 0); the rule and the operator's reason are
// set; every {placeholder} of the code's detail and hint has a parameter;
// and no secret appears in the parameters, headers or reason.
func Denial(t testing.TB, d *pipeline.Denial, code string, status int, secrets ...string) *problem.Code {
	t.Helper()
	if d == nil {
		t.Fatalf("no denial, want %s", code)
	}
	if d.Code != code {
		t.Fatalf("code %s (%s), want %s", d.Code, d.Reason, code)
	}
	c, ok := problem.Lookup(code)
	if !ok {
		t.Fatalf("%s is not in the catalog", code)
	}
	if status != 0 && c.Status != status {
		t.Errorf("catalog status of %s = %d, want %d", code, c.Status, status)
	}
	if d.Rule == "" || d.Reason == "" {
		t.Errorf("rule %q, reason %q: both are needed to explain the refusal", d.Rule, d.Reason)
	}
	for _, ph := range problem.Placeholders(c.Detail + c.Hint) {
		if _, ok := d.Params[ph]; !ok {
			t.Errorf("placeholder {%s} of %s not filled (params %v)", ph, code, d.Params)
		}
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(d.Reason, s) {
			t.Errorf("the reason reveals %q", s)
		}
		for k, v := range d.Params {
			if strings.Contains(v, s) {
				t.Errorf("param %s = %q reveals %q", k, v, s)
			}
		}
		for k, vs := range d.Header {
			for _, v := range vs {
				if strings.Contains(v, s) {
					t.Errorf("header %s = %q reveals %q", k, v, s)
				}
			}
		}
	}
	return c
}

// Corpus decodes a YAML decision corpus (a list of cases, or any document
// shape v points to) strictly: unknown fields are errors, so a misspelled
// expectation cannot pass silently.
func Corpus(t testing.TB, path string, v any) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// Clock is an injectable clock that tests move by hand instead of sleeping.
// It is safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
