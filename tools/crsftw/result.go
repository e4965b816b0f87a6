package main

import (
	"fmt"
	"slices"
	"strings"
)

// outcome is what became of one test of the corpus.
type outcome string

const (
	// passed: go-ftw's checks all held.
	passed outcome = "passed"
	// failed: a check did not hold and no override explains it.
	failed outcome = "failed"
	// overridden: a check did not hold, and an entry of the overrides
	// file explains why and was verified against the gateway's answer.
	overridden outcome = "overridden"
)

// result is one test's outcome with what crsftw saw.
type result struct {
	// Test is go-ftw's test id, e.g. "942100-3"; Rule the CRS rule the
	// test file is about.
	Test    string
	Rule    uint
	Outcome outcome
	// Reason is why the test failed, or the override's reason line.
	Reason string
	// Status is the status of the last stage's answer (0: none), Code its
	// Pinpoint-Code header ("" when the answer had none); ExpectStatus is
	// the status the last stage that expects one expects (0: none).
	Status       int
	Code         string
	ExpectStatus int
	// Fired are the rule ids go-ftw found in the error log, over all stages.
	Fired []uint
	// Expected and Unexpected are the rule ids the test's stages expect in
	// the log and expect not to be there; MatchesLog is set when a stage
	// matches the log against a regular expression.
	Expected   []uint
	Unexpected []uint
	MatchesLog bool
	// StaleOverride is the reason of an override for a test that passed:
	// the override is no longer needed.
	StaleOverride string
}

// answer describes the gateway's answer for a reason line.
func (r *result) answer() string {
	switch {
	case r.Status == 0:
		return "no answer"
	case r.Code == "":
		return fmt.Sprintf("%d without Pinpoint-Code", r.Status)
	default:
		return fmt.Sprintf("%d %s", r.Status, r.Code)
	}
}

// missing are the expected rule ids that did not fire.
func (r *result) missing() []uint {
	var out []uint
	for _, id := range r.Expected {
		if !slices.Contains(r.Fired, id) {
			out = append(out, id)
		}
	}
	return out
}

// unexpected are the rule ids that fired although the test expects them not to.
func (r *result) unexpected() []uint {
	var out []uint
	for _, id := range r.Unexpected {
		if slices.Contains(r.Fired, id) {
			out = append(out, id)
		}
	}
	return out
}

// refusedByGateway reports whether Pinpoint answered the test's request
// itself before the WAF: an accept-stage code (request.*), so the WAF
// never saw the request.
func (r *result) refusedByGateway() bool {
	return strings.HasPrefix(r.Code, "request.")
}

// describe is the context a failure line carries after its reason.
func (r *result) describe() string {
	parts := []string{"answer " + r.answer()}
	if len(r.Expected) > 0 {
		parts = append(parts, fmt.Sprintf("expected %v", r.Expected))
	}
	if len(r.Unexpected) > 0 {
		parts = append(parts, fmt.Sprintf("not expected %v", r.Unexpected))
	}
	parts = append(parts, fmt.Sprintf("fired %v", r.Fired))
	return strings.Join(parts, "; ")
}

// tally counts the outcomes of a run.
type tally struct {
	Passed, Failed, Overridden int
	// PassedRefused are passed tests whose request the gateway refused
	// before the WAF (the test passed because it expected no rule).
	PassedRefused int
	// Stale are overrides of tests that passed.
	Stale int
}

// count tallies results.
func count(results []result) tally {
	var t tally
	for i := range results {
		r := &results[i]
		switch r.Outcome {
		case passed:
			t.Passed++
			if r.refusedByGateway() {
				t.PassedRefused++
			}
			if r.StaleOverride != "" {
				t.Stale++
			}
		case failed:
			t.Failed++
		case overridden:
			t.Overridden++
		}
	}
	return t
}

// rate is the pass rate in percent: passed tests of those that were not
// overridden (an override is a test that cannot pass through a gateway
// for a reason that is not the WAF's, which go-ftw counts as ignored).
func (t tally) rate() float64 {
	n := t.Passed + t.Failed
	if n == 0 {
		return 0
	}
	return 100 * float64(t.Passed) / float64(n)
}

// total is the number of tests run.
func (t tally) total() int { return t.Passed + t.Failed + t.Overridden }
