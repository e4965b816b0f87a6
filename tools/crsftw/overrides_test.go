package main

import (
	"os"
	"strings"
	"testing"
)

func TestParseOverrides(t *testing.T) {
	t.Parallel()
	got, err := parseOverrides(`
testoverride:
  ignore:
    '^920100-4$': 'gateway request.invalid_path: the accept stage refuses ".." segments'
    '^920430-8$': 'net/http: Go refuses HTTP/3.0 with 505'
    '^951110-1$': 'response rules: the WAF inspects requests only'
    '^932207-4$': 'redacted: the test matches the matched value'
    '^920610-2$': 'status: Apache refuses a raw fragment with 400'
    '^922130-1$': 'body rejected: Go refuses the part header'
`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]override{
		"920100-4": {Test: "920100-4", Kind: kindGateway, Code: "request.invalid_path"},
		"920430-8": {Test: "920430-8", Kind: kindNetHTTP},
		"951110-1": {Test: "951110-1", Kind: kindResponse},
		"932207-4": {Test: "932207-4", Kind: kindRedacted},
		"920610-2": {Test: "920610-2", Kind: kindStatus},
		"922130-1": {Test: "922130-1", Kind: kindBodyRejected},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d overrides, want %d: %+v", len(got), len(want), got)
	}
	for id, w := range want {
		g := got[id]
		if g.Test != w.Test || g.Kind != w.Kind || g.Code != w.Code || g.Reason == "" {
			t.Errorf("%s: got %+v, want %+v with its reason", id, g, w)
		}
	}
}

func TestParseOverridesRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text, want string
	}{
		{"unanchored key matches more than one test", `
testoverride:
  ignore:
    '920100-4': 'net/http: x'`, "must name one test"},
		{"a range is not one test", `
testoverride:
  ignore:
    '^9201.*$': 'net/http: x'`, "must name one test"},
		{"reason without kind", `
testoverride:
  ignore:
    '^920100-4$': 'the gateway refuses it'`, `must be "KIND: explanation"`},
		{"unknown kind", `
testoverride:
  ignore:
    '^920100-4$': 'flaky: sometimes fails'`, "reason must start with"},
		{"gateway without a code", `
testoverride:
  ignore:
    '^920100-4$': 'gateway: refused'`, "reason must start with"},
		{"gateway with a malformed code", `
testoverride:
  ignore:
    '^920100-4$': 'gateway 400: refused'`, "is not a Pinpoint code"},
		{"kind without an explanation", `
testoverride:
  ignore:
    '^920100-4$': 'net/http:'`, `must be "KIND: explanation"`},
		{"forcepass hides a result", `
testoverride:
  forcepass:
    '^920100-4$': 'net/http: x'`, "only testoverride.ignore"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseOverrides(tc.text)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestLoadOverridesMissingFileIsAnError(t *testing.T) {
	t.Parallel()
	// go-ftw's own loader would fall back to ~/.ftw.yaml.
	if _, err := loadOverrides(t.TempDir() + "/none.yaml"); err == nil {
		t.Fatal("a missing overrides file loaded")
	}
}

// TestCommittedOverrides keeps the file the tool ships valid.
func TestCommittedOverrides(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("overrides.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseOverrides(string(b)); err != nil {
		t.Fatal(err)
	}
}

func TestOverrideVerify(t *testing.T) {
	t.Parallel()
	gateway := override{Test: "920100-4", Kind: kindGateway, Code: "request.invalid_path"}
	nethttp := override{Test: "920430-8", Kind: kindNetHTTP}
	response := override{Test: "951110-1", Kind: kindResponse}
	redacted := override{Test: "932207-4", Kind: kindRedacted}
	status := override{Test: "920610-2", Kind: kindStatus}
	body := override{Test: "922130-1", Kind: kindBodyRejected}
	for _, tc := range []struct {
		name string
		o    override
		r    result
		ok   bool
		why  string
	}{
		{"gateway refused with the named code", gateway, result{Status: 400, Code: "request.invalid_path"}, true, ""},
		{"gateway refused with another code", gateway, result{Status: 400, Code: "request.malformed"},
			false, "expects Pinpoint-Code request.invalid_path, the gateway answered 400 request.malformed"},
		{"gateway let the request through", gateway, result{Status: 200}, false, "answered 200 without Pinpoint-Code"},
		{"net/http answered without a code", nethttp, result{Status: 505}, true, ""},
		{"net/http: no answer at all", nethttp, result{}, true, ""},
		{"net/http: Pinpoint answered", nethttp, result{Status: 400, Code: "request.malformed"}, false, "Pinpoint answered 400 request.malformed"},
		{"response rule test", response, result{Rule: 951110, Expected: []uint{951110}}, true, ""},
		{"response rule test without ids (match_regex)", response, result{Rule: 959100, MatchesLog: true}, true, ""},
		{"a request rule is not a response rule", response, result{Rule: 942100, Expected: []uint{951110}}, false, "its rule 942100 is a request rule"},
		{"949110 is a request rule", response, result{Rule: 949110}, false, "its rule 949110 is a request rule"},
		{"status is the only difference", status, result{ExpectStatus: 400, Status: 200, Expected: []uint{920610}, Fired: []uint{920610, 949110}}, true, ""},
		{"status: the test expects no status", status, result{Status: 200}, false, "it expects none"},
		{"status: Pinpoint answered", status, result{ExpectStatus: 400, Status: 400, Code: "request.invalid_path"}, false, "Pinpoint answered 400 request.invalid_path"},
		{"status: an expected rule missed", status, result{ExpectStatus: 400, Status: 200, Expected: []uint{920610}}, false, "rules [920610] did not fire"},
		{"status: an unexpected rule fired", status, result{ExpectStatus: 400, Status: 200, Unexpected: []uint{920620}, Fired: []uint{920620}}, false, "rules [920620] fired"},
		{"body rejected by the parser", body, result{Fired: []uint{200002, 200003}}, true, ""},
		{"body parsed after all", body, result{Fired: []uint{922130}}, false, "rule 200002 did not fire"},
		{"redacted: rules fired, regex missed", redacted, result{MatchesLog: true, Expected: []uint{932207}, Fired: []uint{932207, 949110}}, true, ""},
		{"redacted: the rule did not fire", redacted, result{MatchesLog: true, Expected: []uint{932207}, Fired: []uint{949110}}, false, "rules [932207] did not fire"},
		{"redacted: no regex in the test", redacted, result{Expected: []uint{932207}, Fired: []uint{932207}}, false, "has no match_regex"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ok, why := tc.o.verify(&tc.r)
			if ok != tc.ok || !strings.Contains(why, tc.why) {
				t.Fatalf("verify = %v, %q; want %v, %q", ok, why, tc.ok, tc.why)
			}
		})
	}
}

func TestApplyOverrides(t *testing.T) {
	t.Parallel()
	overrides := map[string]override{
		"920100-4": {Test: "920100-4", Kind: kindGateway, Code: "request.invalid_path", Reason: "gateway request.invalid_path: dot segments"},
		"920100-5": {Test: "920100-5", Kind: kindGateway, Code: "request.invalid_path", Reason: "gateway request.invalid_path: dot segments"},
		"920100-6": {Test: "920100-6", Kind: kindGateway, Code: "request.invalid_path", Reason: "gateway request.invalid_path: dot segments"},
	}
	results := []result{
		{Test: "920100-4", Outcome: failed, Reason: "Failed to find the following IDs in the log: [920100]", Status: 400, Code: "request.invalid_path"},
		{Test: "920100-5", Outcome: failed, Reason: "Failed to find the following IDs in the log: [920100]", Status: 200},
		{Test: "920100-6", Outcome: passed, Status: 200},
		{Test: "942100-1", Outcome: failed, Reason: "Failed to find the following IDs in the log: [942100]", Status: 200},
	}
	applyOverrides(results, overrides)
	if r := results[0]; r.Outcome != overridden || r.Reason != overrides["920100-4"].Reason {
		t.Errorf("verified override: got %s %q", r.Outcome, r.Reason)
	}
	if r := results[1]; r.Outcome != failed || !strings.Contains(r.Reason, "[920100]") || !strings.Contains(r.Reason, "answered 200") {
		t.Errorf("override the answer contradicts must stay a failure with both reasons: got %s %q", r.Outcome, r.Reason)
	}
	if r := results[2]; r.Outcome != passed || r.StaleOverride == "" {
		t.Errorf("override of a passing test must be reported stale: got %s stale=%q", r.Outcome, r.StaleOverride)
	}
	if r := results[3]; r.Outcome != failed {
		t.Errorf("a failure without an override must stay failed: got %s", r.Outcome)
	}
	tl := count(results)
	if tl.Passed != 1 || tl.Failed != 2 || tl.Overridden != 1 || tl.Stale != 1 {
		t.Errorf("tally %+v", tl)
	}
}
