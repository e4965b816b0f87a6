package waf

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// fieldErrors returns the positioned errors of err the way the gateway
// reports them for the block at path.
func fieldErrors(t *testing.T, cfg *config.Config, path string, err error) []string {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	var out []string
	for _, e := range cfg.BlockErrors(path, err) {
		out = append(out, e.Path+": "+e.Message)
	}
	return out
}

// Errors in waf.directives and waf.exclusions name the field that holds
// the bad SecLang.
func TestCompileErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, global string
		path, msg    string
	}{
		{"bad regex", `enabled: true
directives:
  - SecRule ARGS "@rx (" "id:100101,phase:1,deny"`, "waf.directives[0]", "error parsing regexp"},
		{"second directive", `enabled: true
directives:
  - SecRule ARGS "@rx a" "id:100102,phase:1,pass,nolog"
  - SecRule ARGS "@nosuchop a" "id:100103,phase:1,deny"`, "waf.directives[1]", "nosuchop"},
		{"unknown directive", `enabled: true
directives:
  - SecNoSuchThing On`, "waf.directives[0]", "unknown directive"},
		{"duplicate id", `enabled: true
directives:
  - SecRule ARGS "@rx a" "id:100104,phase:1,pass,nolog"
  - SecRule ARGS "@rx b" "id:100104,phase:1,pass,nolog"`, "waf.directives[1]", "100104"},
		{"managed directive", `enabled: true
directives:
  - SecRuleEngine DetectionOnly`, "waf.directives[0]", "waf.mode"},
		{"managed in a continued line", `enabled: true
directives:
  - |
    # raise the limit
    SecRequestBodyLimit \
      99999999`, "waf.directives[0]", "waf.body_limit"},
		{"unknown variable in a target", `enabled: true
exclusions:
  - rule_ids: ["942100"]
    targets: ["ARGS:a", "NOSUCHVAR:x"]`, "waf.exclusions[0].targets[1]", "NOSUCHVAR"},
		{"unknown rule in a target exclusion", `enabled: true
exclusions:
  - rule_ids: ["942100", "942001"]
    targets: ["ARGS:a"]`, "waf.exclusions[0].rule_ids[1]", "942001"},
		{"body limit", "enabled: true\nbody_limit: 2GiB", "waf.body_limit", "1GiB"},
		{"error log", "enabled: true\nerror_log: /nonexistent-dir/waf.log", "waf.error_log", "cannot open"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := loadConfig(t, tc.global, "")
			_, err := testEngines.Compile(&cfg.WAF)
			got := fieldErrors(t, cfg, "waf", err)
			if len(got) != 1 || !strings.HasPrefix(got[0], tc.path+": ") || !strings.Contains(got[0], tc.msg) {
				t.Fatalf("errors %q, want one at %s mentioning %q", got, tc.path, tc.msg)
			}
			t.Log(got[0])
		})
	}
}

// A route's exclusions are positioned relative to the route's waf block.
func TestRouteExclusionError(t *testing.T) {
	t.Parallel()
	cfg := loadConfig(t, enabled, `exclusions:
  - rule_ids: ["941100"]
    targets: ["ARGS:ok"]
  - tags: [attack-sqli]
    targets: ["NOSUCHVAR"]`)
	fw, err := testEngines.Compile(&cfg.WAF)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fw.Stage(cfg.Routes[0].WAF)
	got := fieldErrors(t, cfg, "routes[0].waf", err)
	if len(got) != 1 || !strings.HasPrefix(got[0], "routes[0].waf.exclusions[1].targets[0]: ") {
		t.Fatalf("errors %q, want one at routes[0].waf.exclusions[1].targets[0]", got)
	}
}

// A route that does not run the WAF gets no stage.
func TestRouteDisabled(t *testing.T) {
	t.Parallel()
	cfg := loadConfig(t, enabled, "enabled: false")
	fw, err := testEngines.Compile(&cfg.WAF)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fw.Stage(cfg.Routes[0].WAF)
	if s != nil || err != nil {
		t.Fatalf("stage %v, error %v; want none", s, err)
	}
}

// Engines are shared by routes and revisions with the same settings,
// whatever their mode, and let go when no revision uses them.
func TestEnginesShared(t *testing.T) {
	t.Parallel()
	e := NewEngines(nil)
	build := func(global, route string) (*Firewall, *Stage) {
		t.Helper()
		cfg := loadConfig(t, global, route)
		fw, err := e.Compile(&cfg.WAF)
		if err != nil {
			t.Fatal(err)
		}
		s, err := fw.Stage(cfg.Routes[0].WAF)
		if err != nil {
			t.Fatal(err)
		}
		return fw, s
	}
	fw1, base := build(enabled, "")
	_, report := build(enabled, "mode: report_only")
	if report.eng != base.eng || e.Len() != 1 {
		t.Fatalf("report_only route built its own engine (%d engines)", e.Len())
	}
	fw2, pl2 := build(enabled, "paranoia_level: 2")
	if pl2.eng == base.eng || e.Len() != 2 {
		t.Fatalf("paranoia 2 shares the paranoia 1 engine (%d engines)", e.Len())
	}
	// fw2 uses the waf block's engine (Compile) and the route's.
	e.Retain(fw2)
	if e.Len() != 2 {
		t.Fatalf("%d engines after Retain(fw2), want 2", e.Len())
	}
	e.Retain(fw1)
	if e.Len() != 1 {
		t.Fatalf("%d engines after Retain(fw1), want 1", e.Len())
	}
	// A dropped engine still serves the requests of the revision holding it.
	if d := pl2.Handle(request{URI: "/api?u=http://evil.example/x"}.exchange()); !d.Denied() {
		t.Fatal("a dropped engine stopped blocking")
	}
	_, again := build(enabled, "")
	if again.eng != base.eng {
		t.Fatal("an equal revision did not reuse the engine")
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if e.Len() != 0 {
		t.Fatalf("%d engines after Close", e.Len())
	}
	cfg := loadConfig(t, enabled, "")
	if _, err := e.Compile(&cfg.WAF); err == nil {
		t.Fatal("Compile works after Close")
	}
}

// Retain closes the error logs no kept revision writes to.
func TestRetainClosesErrorLogs(t *testing.T) {
	t.Parallel()
	e := NewEngines(nil)
	dir := t.TempDir()
	compile := func(name string) *Firewall {
		t.Helper()
		cfg := loadConfig(t, "enabled: true\nerror_log: "+filepath.Join(dir, name), "")
		fw, err := e.Compile(&cfg.WAF)
		if err != nil {
			t.Fatal(err)
		}
		return fw
	}
	a, b := compile("a.log"), compile("b.log")
	if a.log == b.log {
		t.Fatal("two files share one log")
	}
	if again := compile("a.log"); again.log != a.log {
		t.Fatal("the same file was opened twice")
	}
	e.Retain(b)
	if !a.log.closed || b.log.closed {
		t.Fatalf("after Retain(b): a closed %v, b closed %v", a.log.closed, b.log.closed)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if !b.log.closed {
		t.Fatal("Close left a log open")
	}
	if _, err := os.Stat(filepath.Join(dir, "a.log")); err != nil {
		t.Fatal(err)
	}
}

// A build failure is not cached: the next revision may have fixed it.
func TestFailedBuildNotCached(t *testing.T) {
	t.Parallel()
	e := NewEngines(nil)
	cfg := loadConfig(t, "enabled: true\ndirectives: [\"SecNoSuchThing On\"]", "")
	_, err := e.Compile(&cfg.WAF)
	var fe *config.FieldError
	if !errors.As(err, &fe) || fe.Path != "directives[0]" {
		t.Fatalf("error %v, want one at directives[0]", err)
	}
	if e.Len() != 0 {
		t.Fatalf("%d engines cached after a failed build", e.Len())
	}
}
