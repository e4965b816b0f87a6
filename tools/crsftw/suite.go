package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	schema "github.com/coreruleset/ftw-tests-schema/v2/types"
	"github.com/coreruleset/go-ftw/v2/config"
	"github.com/coreruleset/go-ftw/v2/ftwhttp"
	"github.com/coreruleset/go-ftw/v2/output"
	"github.com/coreruleset/go-ftw/v2/runner"
	"github.com/coreruleset/go-ftw/v2/test"
	"github.com/coreruleset/go-ftw/v2/waflog"
	"github.com/rs/zerolog"
	zlog "github.com/rs/zerolog/log"
)

// suite runs corpus tests through go-ftw's runner one test case at a
// time, so that every result gets its own reason and the gateway's answer
// (runner.Run only returns the lists of passed and failed ids, and stops
// the whole run at the first test it cannot send).
type suite struct {
	ctx     *runner.TestRunContext
	reasons *reasonLog
}

// suiteConfig is what a suite needs to know about the gateway.
type suiteConfig struct {
	// Addr and Port are the gateway's proxy listener.
	Addr string
	Port int
	// LogFile is the gateway's waf.error_log.
	LogFile string
	// ReadTimeout bounds waiting for each answer.
	ReadTimeout time.Duration
	// Output receives go-ftw's own progress lines.
	Output io.Writer
}

// newSuite prepares go-ftw's runner against the gateway of c.
func newSuite(c suiteConfig) (*suite, error) {
	cfg := config.NewDefaultConfig()
	cfg.LogFile = c.LogFile
	cfg.TestOverride.Overrides.DestAddr = &c.Addr
	cfg.TestOverride.Overrides.Port = &c.Port
	rc := config.NewRunnerConfiguration(cfg)
	rc.ReadTimeout = c.ReadTimeout
	rc.ShowOnlyFailed = true
	lines, err := waflog.NewFTWLogLines(rc)
	if err != nil {
		return nil, err
	}
	client, err := ftwhttp.NewClient(rc)
	if err != nil {
		return nil, err
	}
	reasons := captureReasons()
	return &suite{
		reasons: reasons,
		ctx: &runner.TestRunContext{
			RunnerConfig:   rc,
			ShowOnlyFailed: true,
			Output:         output.NewOutput(string(output.Plain), c.Output),
			Stats:          runner.NewRunStats(),
			Client:         client,
			LogLines:       lines,
		},
	}, nil
}

// close releases the error log go-ftw reads.
func (s *suite) close() error { return s.ctx.LogLines.Cleanup() }

// run runs one test case of file f and returns its result, before
// overrides are applied.
func (s *suite) run(f *test.FTWTest, tc schema.Test) result {
	one := *f
	one.Tests = []schema.Test{tc}
	id := tc.IdString()
	r := result{Test: id, Rule: tc.RuleId}
	for _, st := range tc.Stages {
		r.Expected = append(r.Expected, st.Output.Log.ExpectIds...)
		r.Unexpected = append(r.Unexpected, st.Output.Log.NoExpectIds...)
		if st.Output.Log.MatchRegex != "" {
			r.MatchesLog = true
		}
		if st.Output.Status != 0 {
			r.ExpectStatus = st.Output.Status
		}
	}
	before := len(s.ctx.Stats.Success)
	s.reasons.reset()
	err := runner.RunTest(s.ctx, &one)
	for _, stage := range s.ctx.Stats.TriggeredRules[id] {
		for _, rule := range stage {
			if rule != markerRuleID && !slices.Contains(r.Fired, rule) {
				r.Fired = append(r.Fired, rule)
			}
		}
	}
	slices.Sort(r.Fired)
	if resp := s.ctx.LastStageResponse; resp != nil {
		r.Status = resp.Parsed.StatusCode
		r.Code = resp.Parsed.Header.Get("Pinpoint-Code")
	}
	switch {
	case err != nil && err.Error() == "retry-once":
		// A test marked retry_once that failed twice: go-ftw returns this
		// error instead of counting the failure.
		r.Outcome = failed
		r.Reason = "failed twice (retry_once)"
		if why := s.reasons.String(); why != "" {
			r.Reason += ": " + why
		}
	case err != nil:
		// A stage that cannot be sent (or whose log markers never appear)
		// ends the test without a result in go-ftw's stats.
		r.Outcome = failed
		r.Reason = "not run to the end: " + err.Error()
	case len(s.ctx.Stats.Success) > before:
		r.Outcome = passed
	default:
		r.Outcome = failed
		r.Reason = s.reasons.String()
		if r.Reason == "" {
			r.Reason = "go-ftw gave no reason"
		}
	}
	return r
}

// reasonLog collects the messages in which go-ftw's checks say why a test
// failed. go-ftw logs them at debug level through zerolog's global logger.
type reasonLog struct {
	mu   sync.Mutex
	msgs []string
}

// reasonPrefixes start the debug messages of go-ftw's checks
// (runner/check_*.go, runner/run.go, ftwhttp); every warning and error is
// kept too.
var reasonPrefixes = []string{
	"Failed to ",
	"Unexpectedly found ",
	"Found more than one triggered rule",
	"Encountered unexpected error",
	"ftw/run: error receiving response",
}

// captureReasons points zerolog's global logger (the one go-ftw uses) at a
// new reasonLog and drops everything else it logs.
func captureReasons() *reasonLog {
	l := &reasonLog{}
	zerolog.SetGlobalLevel(zerolog.DebugLevel)
	zlog.Logger = zerolog.New(io.Discard).Level(zerolog.DebugLevel).Hook(l)
	return l
}

// Run implements zerolog.Hook.
func (l *reasonLog) Run(_ *zerolog.Event, level zerolog.Level, msg string) {
	keep := level >= zerolog.WarnLevel
	for _, p := range reasonPrefixes {
		if strings.HasPrefix(msg, p) {
			keep = true
			break
		}
	}
	if !keep {
		return
	}
	msg = strings.Join(strings.Fields(msg), " ")
	l.mu.Lock()
	defer l.mu.Unlock()
	if !slices.Contains(l.msgs, msg) {
		l.msgs = append(l.msgs, msg)
	}
}

func (l *reasonLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = l.msgs[:0]
}

// String joins the messages collected since the last reset.
func (l *reasonLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.msgs, "; ")
}

// applyOverrides turns the failures that an override explains (and that
// the gateway's answer confirms) into overridden results, and marks the
// overrides of passed tests as stale.
func applyOverrides(results []result, overrides map[string]override) {
	for i := range results {
		r := &results[i]
		o, ok := overrides[r.Test]
		if !ok {
			continue
		}
		switch r.Outcome {
		case passed:
			r.StaleOverride = o.Reason
		case failed:
			if ok, why := o.verify(r); ok {
				r.Outcome = overridden
				r.Reason = o.Reason
			} else {
				r.Reason = fmt.Sprintf("%s (%s)", r.Reason, why)
			}
		}
	}
}
