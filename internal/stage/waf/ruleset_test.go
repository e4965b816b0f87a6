package waf

import (
	"slices"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/config"
)

func TestLogicalLines(t *testing.T) {
	t.Parallel()
	got := logicalLines("# comment\n\nSecRule ARGS \"@rx a\" \\\n  \"id:1,phase:1,pass\"\nSecAction \"id:2\"\n")
	want := []string{`SecRule ARGS "@rx a" "id:1,phase:1,pass"`, `SecAction "id:2"`}
	if !slices.Equal(got, want) {
		t.Fatalf("logicalLines = %q, want %q", got, want)
	}
}

// The rule set loads the settings before CRS and the exclusions after it.
func TestPiecesOrder(t *testing.T) {
	t.Parallel()
	s := &settings{
		Paranoia: 2, Threshold: 7,
		Directives: []string{"SecAction \"id:100,phase:1,pass,nolog\""},
		Exclusions: []exclusion{{WAFExclusion: config.WAFExclusion{RuleIDs: []string{"942100", "941000-941999"}, Targets: []string{"ARGS:q"}}, Path: "exclusions[0]", Route: true}},
	}
	ps := s.pieces()
	var all strings.Builder
	for _, p := range ps {
		all.WriteString(p.text + "\n")
	}
	text := all.String()
	order := []string{"@coraza.conf-recommended", "SecRuleEngine On", "@crs-setup.conf.example",
		"setvar:tx.blocking_paranoia_level=2", "setvar:tx.inbound_anomaly_score_threshold=7",
		`SecAction "id:100`, "@owasp_crs/REQUEST-*.conf",
		"SecRuleRemoveByTag paranoia-level/3", "SecRuleRemoveByTag paranoia-level/4",
		`SecRuleUpdateTargetById 942100 "!ARGS:q"`, `SecRuleUpdateTargetById 941000-941999 "!ARGS:q"`}
	at := 0
	for _, want := range order {
		i := strings.Index(text[at:], want)
		if i < 0 {
			t.Fatalf("%q missing or out of order in:\n%s", want, text)
		}
		at += i
	}
	if strings.Contains(text, "paranoia-level/2") || strings.Contains(text, "RESPONSE-") {
		t.Fatalf("rule set removes paranoia 2 rules or loads response rules:\n%s", text)
	}
	last := ps[len(ps)-1]
	if last.path != "exclusions[0].targets[0]" || last.idPath != "exclusions[0].rule_ids[1]" || !last.route {
		t.Fatalf("last piece %+v", last)
	}
}

// An engine's key changes with every setting that changes the rule set,
// and only with those.
func TestSettingsKey(t *testing.T) {
	t.Parallel()
	base := settings{Paranoia: 1, Threshold: 5}
	k := base.key()
	for name, s := range map[string]settings{
		"paranoia":   {Paranoia: 2, Threshold: 5},
		"threshold":  {Paranoia: 1, Threshold: 6},
		"directives": {Paranoia: 1, Threshold: 5, Directives: []string{"x"}},
		"exclusions": {Paranoia: 1, Threshold: 5, Exclusions: []exclusion{{WAFExclusion: config.WAFExclusion{Tags: []string{"t"}}}}},
	} {
		if s.key() == k {
			t.Errorf("%s does not change the key", name)
		}
	}
	same := settings{Paranoia: 1, Threshold: 5}
	if same.key() != k {
		t.Error("equal settings have different keys")
	}
}
