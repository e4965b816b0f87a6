package limit

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/stagetest"
)

// decisionCase is one entry of testdata/cases.yaml: a route's limits and
// a sequence of requests, each with what it must get.
type decisionCase struct {
	Name       string             `yaml:"name"`
	RateLimits []config.RateLimit `yaml:"rate_limits"`
	Quotas     []config.Quota     `yaml:"quotas"`
	// Start moves the clock's start (default t0), RFC 3339.
	Start    string        `yaml:"start"`
	Requests []requestCase `yaml:"requests"`
}

type requestCase struct {
	// At is when the request arrives, after the case's start; requests
	// without it arrive when the previous one did.
	At string `yaml:"at"`
	// Repeat sends the request this many times (default 1), each with the
	// same expectation.
	Repeat int `yaml:"repeat"`
	Who    `yaml:",inline"`
	Expect struct {
		Code   string            `yaml:"code"`
		Status int               `yaml:"status"`
		Rule   string            `yaml:"rule"`
		Params map[string]string `yaml:"params"`
		// Headers are response headers the answer must carry exactly;
		// a value "-" means the header must be absent.
		Headers map[string]string `yaml:"headers"`
		// Reason and Note are substrings of the denial's reason and of the
		// pass step's note.
		Reason    string   `yaml:"reason"`
		Note      string   `yaml:"note"`
		WouldDeny []string `yaml:"would_deny"`
	} `yaml:"expect"`
}

// TestCases runs the decision corpus in testdata/cases.yaml on the test
// clock, with the local stores (Redis has its own tests).
func TestCases(t *testing.T) {
	t.Parallel()
	var cases []decisionCase
	stagetest.Corpus(t, "testdata/cases.yaml", &cases)
	if len(cases) < 25 {
		t.Fatalf("corpus has %d cases; expected the full file", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			start := t0
			if c.Start != "" {
				var err error
				if start, err = time.Parse(time.RFC3339, c.Start); err != nil {
					t.Fatal(err)
				}
			}
			clock := stagetest.NewClock(start)
			s := newNode(t, clock).stage(t, c.RateLimits, c.Quotas)
			for i, rc := range c.Requests {
				if rc.At != "" {
					at, err := time.ParseDuration(rc.At)
					if err != nil {
						t.Fatalf("request %d: at: %v", i+1, err)
					}
					if d := start.Add(at).Sub(clock.Now()); d < 0 {
						t.Fatalf("request %d: at %s is before the previous request", i+1, rc.At)
					} else {
						clock.Advance(d)
					}
				}
				for n := range max(1, rc.Repeat) {
					checkRequest(t, s, rc, i+1, n+1)
				}
			}
		})
	}
}

func checkRequest(t *testing.T, s *Stage, rc requestCase, i, n int) {
	t.Helper()
	a := handle(s, rc.Who)
	at := "request " + strconv.Itoa(i)
	if rc.Repeat > 1 {
		at += " #" + strconv.Itoa(n)
	}
	e := rc.Expect
	if a.code() != e.Code {
		reason := ""
		if a.d.Denial != nil {
			reason = ": " + a.d.Denial.Reason
		}
		t.Fatalf("%s: code %q%s, want %q", at, a.code(), reason, e.Code)
	}
	if a.d.Denial != nil {
		d := a.d.Denial
		stagetest.Denial(t, d, e.Code, e.Status, rc.Credential, rc.Headers["X-Api-Key"])
		if e.Rule != "" && d.Rule != e.Rule {
			t.Errorf("%s: rule %q, want %q", at, d.Rule, e.Rule)
		}
		if !strings.Contains(d.Reason, e.Reason) {
			t.Errorf("%s: reason %q\nwant it to contain %q", at, d.Reason, e.Reason)
		}
		if d.Stage != "limit" {
			t.Errorf("%s: stage %q", at, d.Stage)
		}
	}
	for k, want := range e.Params {
		if a.d.Denial == nil || a.d.Denial.Params[k] != want {
			t.Errorf("%s: param %s = %q, want %q", at, k, a.d.Denial.Params[k], want)
		}
	}
	for k, want := range e.Headers {
		got, ok := a.header[k]
		switch {
		case want == "-" && ok:
			t.Errorf("%s: header %s = %q, want none", at, k, got)
		case want != "-" && (len(got) != 1 || got[0] != want):
			t.Errorf("%s: header %s = %q, want %q", at, k, got, want)
		}
	}
	var would []string
	for _, st := range a.steps(pipeline.OutcomeWouldDeny) {
		would = append(would, st.Code)
		if st.Rule == "" || st.Note == "" {
			t.Errorf("%s: would_deny step without rule or note: %+v", at, st)
		}
	}
	if strings.Join(would, ",") != strings.Join(e.WouldDeny, ",") {
		t.Errorf("%s: would_deny %v, want %v", at, would, e.WouldDeny)
	}
	pass := a.steps(pipeline.OutcomePass)
	switch {
	case a.d.Denial == nil && len(pass) != 1:
		t.Errorf("%s: %d pass steps, want 1", at, len(pass))
	case a.d.Denial != nil && len(pass) != 0:
		t.Errorf("%s: a refused request recorded a pass step", at)
	case e.Note != "" && (len(pass) != 1 || !strings.Contains(pass[0].Note, e.Note)):
		t.Errorf("%s: pass steps %+v, want a note containing %q", at, pass, e.Note)
	}
}
