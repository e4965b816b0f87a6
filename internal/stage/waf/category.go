package waf

import "strings"

// The categories a waf.blocked answer names in its detail ("blocked … as
// a likely {category} attack"). They are client-visible and stable.
const (
	catSQLi       = "sql-injection"
	catXSS        = "xss"
	catTraversal  = "path-traversal"
	catRFI        = "remote-file-inclusion"
	catRCE        = "command-injection"
	catPHP        = "php-injection"
	catJava       = "java-attack"
	catGeneric    = "generic-attack"
	catFixation   = "session-fixation"
	catProtocol   = "protocol"
	catScanner    = "scanner"
	catMethod     = "method"
	catUnassigned = ""
)

// ruleFiles maps a CRS rule's file, which is its id divided by 1000, to
// its category. The file decides before the tags do because CRS tags do
// not always say what the file is about: 911100 (method enforcement) is
// tagged attack-generic, and the Node.js and SSRF rules of the generic
// file carry attack-rce and attack-ssrf.
//
//	911 method enforcement         → method
//	913 scanner detection          → scanner
//	920 protocol enforcement       → protocol
//	921 protocol attack            → protocol
//	922 multipart attack           → protocol
//	930 local file inclusion       → path-traversal
//	931 remote file inclusion      → remote-file-inclusion
//	932 remote command execution   → command-injection
//	933 PHP injection              → php-injection
//	934 generic (Node.js, SSRF, …) → generic-attack
//	941 cross-site scripting       → xss
//	942 SQL injection              → sql-injection
//	943 session fixation           → session-fixation
//	944 Java attacks               → java-attack
//	200 Coraza body checks         → protocol (a body that cannot be parsed)
//
// The initialisation, exception and blocking-evaluation files (901, 905,
// 949, 999) have no category: 949110 blocks because of the rules that
// scored.
var ruleFiles = map[int]string{
	911: catMethod, 913: catScanner,
	920: catProtocol, 921: catProtocol, 922: catProtocol,
	930: catTraversal, 931: catRFI, 932: catRCE, 933: catPHP, 934: catGeneric,
	941: catXSS, 942: catSQLi, 943: catFixation, 944: catJava,
	200: catProtocol,
}

// ruleTags maps the tags of rules outside CRS's files (waf.directives) to
// a category; both CRS's tag names and their older spellings are listed.
var ruleTags = map[string]string{
	"attack-sqli":               catSQLi,
	"attack-xss":                catXSS,
	"attack-lfi":                catTraversal,
	"attack-rfi":                catRFI,
	"attack-rce":                catRCE,
	"attack-php":                catPHP,
	"attack-injection-php":      catPHP,
	"attack-java":               catJava,
	"attack-injection-java":     catJava,
	"attack-generic":            catGeneric,
	"attack-injection-generic":  catGeneric,
	"attack-nodejs":             catGeneric,
	"attack-ssrf":               catGeneric,
	"attack-ssti":               catGeneric,
	"attack-session-fixation":   catFixation,
	"attack-fixation":           catFixation,
	"attack-protocol":           catProtocol,
	"attack-disclosure":         catProtocol,
	"attack-multipart":          catProtocol,
	"attack-multipart-header":   catProtocol,
	"attack-deprecated-header":  catProtocol,
	"attack-reputation-scanner": catScanner,
	"attack-scanner":            catScanner,
	"method-enforcement":        catMethod,
}

// category returns the category of one rule, or "" when it has none.
func category(id int, tags []string) string {
	if c, ok := ruleFiles[id/1000]; ok && isCRSFile(id) {
		return c
	}
	for _, t := range tags {
		if c, ok := ruleTags[strings.ToLower(t)]; ok {
			return c
		}
	}
	return catUnassigned
}

// isCRSFile reports whether id is in the range of CRS's request files or
// of coraza.conf-recommended's body checks (200000-200999).
func isCRSFile(id int) bool {
	return (id >= 900000 && id <= 999999) || (id >= 200000 && id <= 200999)
}
