package waf

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// markerRule is the rule the CRS regression corpus adds: go-ftw sends
// X-CRS-Test: <uuid> before and after each test and looks for the
// marker's line in the error log.
const markerRule = `SecRule REQUEST_HEADERS:X-CRS-Test "@rx ^.*$" "id:999999,phase:1,log,pass,t:none,msg:'X-CRS-Test %{MATCHED_VAR}'"`

// errorLogStage builds a stage whose waf block writes an error log in a
// fresh directory. The engine is shared (the log is not part of its
// settings); the log is this test's.
func errorLogStage(t *testing.T) (*Stage, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "waf-error.log")
	cfg := loadConfig(t, "enabled: true\nerror_log: "+path+"\ndirectives:\n  - '"+strings.ReplaceAll(markerRule, "'", "''")+"'", "")
	fw, err := testEngines.Compile(&cfg.WAF)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fw.Stage(cfg.Routes[0].WAF)
	if err != nil {
		t.Fatal(err)
	}
	return s, path
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// The error log holds one line per matched log rule, in the format
// go-ftw reads ([id "…"] between marker lines), with the request id and
// without the matched values.
func TestErrorLog(t *testing.T) {
	t.Parallel()
	s, path := errorLogStage(t)
	const secret = "sk_live_51HqSECRETe2"
	marker := func(id string) {
		x := request{URI: "/", Headers: map[string]string{"X-CRS-Test": id}}.exchange()
		if d := s.Handle(x); d.Denied() {
			t.Fatalf("marker request denied: %+v", d.Denial)
		}
	}
	marker("start-4b1f0c2e")
	x := request{URI: "/api?token=1'%20OR%20'" + secret + "'='" + secret}.exchange()
	x.ID = "01JDREQUESTID"
	if d := s.Handle(x); !d.Denied() {
		t.Fatal("attack not blocked")
	}
	marker("end-9a7d3b11")

	lines := readLines(t, path)
	if len(lines) < 4 {
		t.Fatalf("%d lines, want markers and the attack's rules:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	if l := lines[0]; !strings.Contains(strings.ToLower(l), "x-crs-test") || !strings.Contains(l, "start-4b1f0c2e") || !strings.Contains(l, `[id "999999"]`) {
		t.Errorf("first line is not the start marker: %s", l)
	}
	if l := lines[len(lines)-1]; !strings.Contains(l, "end-9a7d3b11") {
		t.Errorf("last line is not the end marker: %s", l)
	}
	between := strings.Join(lines[1:len(lines)-1], "\n")
	for _, want := range []string{`[id "942100"]`, `[id "949110"]`, `[unique_id "01JDREQUESTID"]`, `[data "[redacted]"]`, `[uri "/api"]`, `[client "192.0.2.10"]`, `[severity "critical"]`, `[tag "attack-sqli"]`} {
		if !strings.Contains(between, want) {
			t.Errorf("attack lines lack %s:\n%s", want, between)
		}
	}
	if strings.Contains(between, secret) {
		t.Errorf("the error log reveals the matched value:\n%s", between)
	}
	shape := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[client "[^"]*"\] Coraza: .* \[file "[^"]*"\] \[line "\d+"\] \[id "\d+"\] .*\[unique_id "[^"]*"\]$`)
	for _, l := range lines {
		if !shape.MatchString(l) {
			t.Errorf("line not in the ModSecurity shape: %s", l)
		}
	}
}

// The rule that denies is logged as such (this pins the order of
// Coraza's disruptive action enum that appendAction reads).
func TestErrorLogDeny(t *testing.T) {
	t.Parallel()
	s, path := errorLogStage(t)
	s.Handle(request{URI: "/api?q=<script>alert(1)</script>"}.exchange())
	var deny, warn string
	for _, l := range readLines(t, path) {
		switch {
		case strings.Contains(l, `[id "949110"]`):
			deny = l
		case strings.Contains(l, `[id "941100"]`):
			warn = l
		}
	}
	if !strings.Contains(deny, "Coraza: Access denied (phase 2). Inbound Anomaly Score Exceeded") {
		t.Errorf("949110 line: %s", deny)
	}
	if !strings.Contains(warn, "Coraza: Warning. XSS Attack Detected via libinjection") {
		t.Errorf("941100 line: %s", warn)
	}
}

// Lines of concurrent requests never interleave.
func TestErrorLogConcurrent(t *testing.T) {
	t.Parallel()
	s, path := errorLogStage(t)
	const workers, each = 4, 5
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				s.Handle(request{URI: "/api?id=1'%20OR%20'1'='1"}.exchange())
			}
		})
	}
	wg.Wait()
	lines := readLines(t, path)
	n := 0
	for _, l := range lines {
		if strings.Count(l, "[unique_id ") != 1 || !strings.HasSuffix(l, "]") {
			t.Fatalf("broken line: %q", l)
		}
		if strings.Contains(l, `[id "949110"]`) {
			n++
		}
	}
	if n != workers*each {
		t.Fatalf("%d blocking lines, want %d", n, workers*each)
	}
}

// A message quoting a matched value through a macro cannot forge a line.
func TestErrorLogLineBreaks(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "waf-error.log")
	cfg := loadConfig(t, "enabled: true\nerror_log: "+path+"\ndirectives:\n  - SecRule ARGS:m \"@rx .\" \"id:100201,phase:2,pass,log,msg:'got %{MATCHED_VAR}'\"", "")
	fw, err := testEngines.Compile(&cfg.WAF)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := fw.Stage(nil)
	s.Handle(request{URI: "/api?m=a%0a2026-01-01T00:00:00.000Z%20[id%20%22942100%22]"}.exchange())
	for _, l := range readLines(t, path) {
		if strings.HasPrefix(l, "2026-01-01") {
			t.Fatalf("a forged line: %q", l)
		}
	}
}
