package waf

import (
	"strings"
	"testing"
)

func TestCategory(t *testing.T) {
	t.Parallel()
	cases := []struct {
		id   int
		tags []string
		want string
	}{
		{911100, []string{"attack-generic"}, catMethod}, // the file decides over CRS's tag
		{913100, []string{"attack-reputation-scanner"}, catScanner},
		{920270, []string{"attack-protocol"}, catProtocol},
		{921120, nil, catProtocol},
		{922110, []string{"attack-multipart-header"}, catProtocol},
		{930100, nil, catTraversal},
		{931120, nil, catRFI},
		{932235, nil, catRCE},
		{933100, nil, catPHP},
		{934100, []string{"attack-rce"}, catGeneric}, // Node.js
		{941100, nil, catXSS},
		{942100, nil, catSQLi},
		{943120, nil, catFixation},
		{944100, []string{"attack-rce"}, catJava},
		{200002, nil, catProtocol},
		{949110, []string{"anomaly-evaluation"}, catUnassigned},
		{901100, nil, catUnassigned},
		{100001, nil, catUnassigned},
		{100002, []string{"custom", "ATTACK-SQLI"}, catSQLi},
		{100003, []string{"attack-injection-php"}, catPHP},
		{100004, []string{"method-enforcement"}, catMethod},
	}
	for _, tc := range cases {
		if got := category(tc.id, tc.tags); got != tc.want {
			t.Errorf("category(%d, %v) = %q, want %q", tc.id, tc.tags, got, tc.want)
		}
	}
}

// Every category is a stable lower-case token fit for the client.
func TestCategoryNames(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, c := range ruleFiles {
		seen[c] = true
	}
	for _, c := range ruleTags {
		seen[c] = true
	}
	for c := range seen {
		if c == "" || strings.ToLower(c) != c || strings.ContainsAny(c, " _{}") {
			t.Errorf("category %q", c)
		}
	}
	if len(seen) != 12 {
		t.Errorf("%d categories, want the 12 documented", len(seen))
	}
}
