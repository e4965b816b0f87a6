package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTallyRate(t *testing.T) {
	t.Parallel()
	results := []result{
		{Test: "1-1", Outcome: passed},
		{Test: "1-2", Outcome: passed, Code: "request.invalid_path"},
		{Test: "1-3", Outcome: passed},
		{Test: "1-4", Outcome: failed},
		{Test: "1-5", Outcome: overridden},
	}
	tl := count(results)
	if tl.Passed != 3 || tl.Failed != 1 || tl.Overridden != 1 || tl.PassedRefused != 1 || tl.total() != 5 {
		t.Fatalf("tally %+v", tl)
	}
	// Overridden tests are out of the rate, as go-ftw's ignored tests are.
	if r := tl.rate(); r != 75 {
		t.Errorf("rate %v, want 75", r)
	}
	if r := (tally{}).rate(); r != 0 {
		t.Errorf("empty rate %v", r)
	}
	s := summary(tl, 99, "corpus", 1500*time.Millisecond)
	for _, want := range []string{"5 tests in 1.5s", "passed          3", "1 of them refused by the gateway", "failed          1",
		"overridden      1", "passed outright: 3 of 5 tests run (60.00 %)", "pass rate 75.00 % = passed / (passed + failed) = 3 / 4; threshold 99.00 %: NOT met"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
}

func TestWriteFailures(t *testing.T) {
	t.Parallel()
	results := []result{
		{Test: "920100-4", Rule: 920100, Outcome: overridden, Reason: "gateway request.invalid_path: dot segments", Status: 400, Code: "request.invalid_path", Expected: []uint{920100}},
		{Test: "942100-2", Rule: 942100, Outcome: failed, Reason: "Failed to find the following IDs\tin the log: [942100]", Status: 200, Expected: []uint{942100}, Fired: []uint{920350}},
		{Test: "942100-1", Rule: 942100, Outcome: passed},
		{Test: "911100-6", Rule: 911100, Outcome: passed, StaleOverride: "net/http: x", Status: 200},
	}
	path := filepath.Join(t.TempDir(), "failures.txt")
	if err := writeFailures(path, results); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "# outcome\ttest\trule\treason\tseen\n" +
		"failed\t942100-2\t942100\tFailed to find the following IDs in the log: [942100]\tanswer 200 without Pinpoint-Code; expected [942100]; fired [920350]\n" +
		"overridden\t920100-4\t920100\tgateway request.invalid_path: dot segments\tanswer 400 request.invalid_path; expected [920100]; fired []\n" +
		"stale-override\t911100-6\t911100\tnet/http: x\tanswer 200 without Pinpoint-Code; fired []\n"
	if string(b) != want {
		t.Errorf("got\n%s\nwant\n%s", b, want)
	}

	md := filepath.Join(t.TempDir(), "results.md")
	if err := writeMarkdown(md, results, "summary\n"); err != nil {
		t.Fatal(err)
	}
	b, err = os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### Failed (1)", "| 942100-2 | Failed to find", "### Overridden (1)", "| 920100-4 | gateway request.invalid_path: dot segments |",
		"### Passed, refused by the gateway before the WAF (0)"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("markdown lacks %q:\n%s", want, b)
		}
	}
}
