package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/coreruleset/go-ftw/v2/test"
)

// logWriter is a stand-in for a gateway with a WAF: it writes error log
// lines the way waf.error_log does (the marker rule's message, and rule
// 942100 for a query holding "attack"), refuses paths holding "refuse"
// with Pinpoint-Code request.invalid_path before "the WAF", and answers
// everything else 200. It lets the suite's machinery be tested without
// building the gateway; TestCorpusThroughPinpoint runs the real one.
type logWriter struct {
	mu   sync.Mutex
	path string
}

func (l *logWriter) line(id int, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	fmt.Fprintf(f, `[client "127.0.0.1"] Coraza: Warning. %s [id "%d"] [msg "%s"] [data "[redacted]"]`+"\n", msg, id, msg)
}

func (l *logWriter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.Contains(r.URL.Path, "refuse") {
		w.Header().Set("Pinpoint-Code", "request.invalid_path")
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if v := r.Header.Get("X-CRS-Test"); v != "" {
		l.line(markerRuleID, "X-CRS-Test "+v)
	}
	if strings.Contains(r.URL.RawQuery, "attack") {
		l.line(942100, "SQL Injection Attack Detected via libinjection")
	}
	w.WriteHeader(http.StatusOK)
}

// ftwFile is one corpus file of tests for the stand-in.
const ftwFile = `---
meta:
  author: "crsftw"
rule_id: 942100
tests:
  - test_id: 1
    desc: attack detected
    stages:
      - input:
          dest_addr: "127.0.0.1"
          port: 80
          headers: {Host: localhost, User-Agent: crsftw}
          uri: "/?q=attack"
        output:
          log:
            expect_ids: [942100]
  - test_id: 2
    desc: attack missed
    stages:
      - input:
          dest_addr: "127.0.0.1"
          port: 80
          headers: {Host: localhost, User-Agent: crsftw}
          uri: "/?q=harmless"
        output:
          log:
            expect_ids: [942100]
  - test_id: 3
    desc: refused by the gateway before the WAF
    stages:
      - input:
          dest_addr: "127.0.0.1"
          port: 80
          headers: {Host: localhost, User-Agent: crsftw}
          uri: "/refuse/?q=attack"
        output:
          log:
            expect_ids: [942100]
  - test_id: 4
    desc: negative test
    stages:
      - input:
          dest_addr: "127.0.0.1"
          port: 80
          headers: {Host: localhost, User-Agent: crsftw}
          uri: "/?q=harmless"
        output:
          log:
            no_expect_ids: [942100]
  - test_id: 5
    desc: status expected by the test
    stages:
      - input:
          dest_addr: "127.0.0.1"
          port: 80
          headers: {Host: localhost, User-Agent: crsftw}
          uri: "/"
        output:
          status: 403
`

func TestSuite(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "waf.log")
	if err := os.WriteFile(logPath, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(&logWriter{path: logPath})
	t.Cleanup(srv.Close)
	host, portText, err := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		t.Fatal(err)
	}
	s, err := newSuite(suiteConfig{Addr: host, Port: port, LogFile: logPath, ReadTimeout: 5e9, Output: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.close() })
	f, err := test.GetTestFromYaml([]byte(ftwFile), "942100.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]result{}
	for _, tc := range f.Tests {
		r := s.run(f, tc)
		got[r.Test] = r
	}

	for _, tc := range []struct {
		id      string
		outcome outcome
		reason  string
		status  int
		code    string
		fired   string
	}{
		{"942100-1", passed, "", 200, "", "[942100]"},
		{"942100-2", failed, "Failed to find the following IDs in the log: [942100]", 200, "", "[]"},
		{"942100-3", failed, "Failed to find the following IDs in the log: [942100]", 400, "request.invalid_path", "[]"},
		{"942100-4", passed, "", 200, "", "[]"},
		{"942100-5", failed, "Failed to match response status. Expected: 403, found: 200", 200, "", "[]"},
	} {
		r, ok := got[tc.id]
		if !ok {
			t.Errorf("%s: no result", tc.id)
			continue
		}
		if r.Outcome != tc.outcome || r.Reason != tc.reason || r.Status != tc.status || r.Code != tc.code ||
			fmt.Sprint(r.Fired) != tc.fired || r.Rule != 942100 {
			t.Errorf("%s: got %s %q status %d code %q fired %v rule %d; want %s %q %d %q %s",
				tc.id, r.Outcome, r.Reason, r.Status, r.Code, r.Fired, r.Rule, tc.outcome, tc.reason, tc.status, tc.code, tc.fired)
		}
	}
	if r := got["942100-3"]; !r.refusedByGateway() || fmt.Sprint(r.Expected) != "[942100]" {
		t.Errorf("942100-3: refused %v expected %v", r.refusedByGateway(), r.Expected)
	}

	// The override of 942100-3 holds (the gateway named the code); one
	// for 942100-2 naming the same code does not, since the request went
	// through.
	results := []result{got["942100-2"], got["942100-3"]}
	applyOverrides(results, map[string]override{
		"942100-2": {Test: "942100-2", Kind: kindGateway, Code: "request.invalid_path", Reason: "gateway request.invalid_path: x"},
		"942100-3": {Test: "942100-3", Kind: kindGateway, Code: "request.invalid_path", Reason: "gateway request.invalid_path: x"},
	})
	if results[0].Outcome != failed || results[1].Outcome != overridden {
		t.Errorf("overrides: 942100-2 %s, 942100-3 %s; want failed, overridden", results[0].Outcome, results[1].Outcome)
	}
}

func TestReasonLogKeepsOnlyReasons(t *testing.T) {
	l := captureReasons()
	l.reset()
	l.Run(nil, 0, "ftw/http: sending data:\nGET / HTTP/1.1") // debug noise
	l.Run(nil, 0, "Failed to find the following IDs in the log: [942100]")
	l.Run(nil, 0, "Failed to find the following IDs in the log: [942100]")
	l.Run(nil, 3, "http/client: error sending request: EOF\n") // an error is kept
	if got, want := l.String(), "Failed to find the following IDs in the log: [942100]; http/client: error sending request: EOF"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	l.reset()
	if l.String() != "" {
		t.Errorf("after reset: %q", l.String())
	}
}
