package waf

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// Rule ids of the SecActions Pinpoint adds. They sit outside the ranges
// CRS (900000-999999) and local rules (1-199999) use, so a directive
// copied from crs-setup.conf.example does not collide with them.
const (
	setupRuleID = 7700001
)

// corazaBodyLimit is Coraza's own request body limit (and in-memory
// limit), its maximum. The stage writes at most waf.body_limit bytes to a
// transaction, so Coraza's limit is never reached and the body limit is
// not part of an engine's settings. Coraza's buffers grow as written.
const corazaBodyLimit = 1 << 30

// maxBodyLimit is the largest waf.body_limit: one byte under Coraza's
// limit, which flags a body that reaches it as cut off.
const maxBodyLimit = corazaBodyLimit - 1

// settings are what an engine is built from: everything that changes the
// compiled rule set. Mode, inspect_body, body_limit and body_limit_action
// are applied by the stage per request, so one engine serves enforcing
// and report-only routes alike.
type settings struct {
	Paranoia   int
	Threshold  int
	Directives []string
	Exclusions []exclusion
}

// exclusion is one waf.exclusions entry with the place it was written.
type exclusion struct {
	config.WAFExclusion
	// Path is the entry's field path relative to its block ("exclusions[0]").
	Path string
	// Route is true for routes[].waf.exclusions, false for waf.exclusions.
	Route bool
}

// key identifies the engine settings s build. Paths and origins are part
// of it so that a failed build reports the fields of the block that
// asked for it; two routes with the same settings still share a key,
// since their paths are relative to their own waf block.
func (s *settings) key() string {
	b, err := json.Marshal(s)
	if err != nil {
		// settings hold only strings and numbers.
		panic("waf: settings do not encode: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// piece is one part of an engine's rule set, loaded with its own
// WithDirectives call so that a parse error can be traced to the field
// that wrote it.
type piece struct {
	text string
	// path is the field the text comes from, relative to its block; ""
	// for the parts Pinpoint writes itself.
	path string
	// idPath is blamed instead of path when Coraza reports that the rule
	// a target exclusion names does not exist.
	idPath string
	// route is true when the field is in the route's waf block.
	route bool
	// generated is set for directives Pinpoint wrote from a config field
	// (exclusions), which errors quote since the user did not write them.
	generated bool
}

// pieces lays out the rule set of s in load order:
//
//  1. coraza.conf-recommended (the body processors, rules 200000-200006),
//     then the settings Pinpoint manages: engine on, request body access
//     and limits (see corazaBodyLimit), no response body, no audit log;
//  2. crs-setup.conf.example, then one SecAction with the paranoia
//     level and anomaly threshold (CRS initialisation only sets
//     variables that are still unset, so this must come first) and the
//     allowed methods;
//  3. waf.directives, where ModSecurity users put "before CRS" files;
//  4. the CRS request rules (REQUEST-9xx; the response rules are not
//     loaded: the WAF inspects requests only);
//  5. the removal of rules above the paranoia level (CRS would skip them
//     at run time; not loading them keeps every transaction shorter);
//  6. waf.exclusions, then the route's exclusions.
func (s *settings) pieces() []piece {
	limit := strconv.Itoa(corazaBodyLimit)
	ps := []piece{{text: "Include @coraza.conf-recommended\n" +
		"SecRuleEngine On\n" +
		"SecRequestBodyAccess On\n" +
		"SecRequestBodyLimit " + limit + "\n" +
		"SecRequestBodyInMemoryLimit " + limit + "\n" +
		"SecRequestBodyLimitAction ProcessPartial\n" +
		"SecResponseBodyAccess Off\n" +
		"SecAuditEngine Off\n" +
		"Include @crs-setup.conf.example\n" +
		setupAction(s.Paranoia, s.Threshold)}}
	for i, d := range s.Directives {
		ps = append(ps, piece{text: d, path: "directives[" + strconv.Itoa(i) + "]"})
	}
	ps = append(ps, piece{text: "Include @owasp_crs/REQUEST-*.conf\n" + removeAbove(s.Paranoia)})
	for _, e := range s.Exclusions {
		ps = append(ps, e.pieces()...)
	}
	return ps
}

// setupAction sets the CRS variables Pinpoint's config owns. The allowed
// methods add PUT, PATCH and DELETE to CRS's default (GET HEAD POST
// OPTIONS): an API gateway's routes declare their methods and the route
// stage refuses the others, so rule 911100 would only refuse ordinary
// REST calls. A directive can set tx.allowed_methods again.
func setupAction(paranoia, threshold int) string {
	pl, th := strconv.Itoa(paranoia), strconv.Itoa(threshold)
	return `SecAction "id:` + strconv.Itoa(setupRuleID) + `,phase:1,pass,nolog,t:none,` +
		`setvar:tx.blocking_paranoia_level=` + pl + `,` +
		`setvar:tx.detection_paranoia_level=` + pl + `,` +
		`setvar:tx.inbound_anomaly_score_threshold=` + th + `,` +
		`setvar:'tx.allowed_methods=GET HEAD POST OPTIONS PUT PATCH DELETE'"` + "\n"
}

// removeAbove removes the CRS rules of the paranoia levels above pl.
func removeAbove(pl int) string {
	var b strings.Builder
	for l := pl + 1; l <= 4; l++ {
		b.WriteString("SecRuleRemoveByTag paranoia-level/" + strconv.Itoa(l) + "\n")
	}
	return b.String()
}

// pieces turns one exclusion into directives: without targets the rules
// are removed (SecRuleRemoveById / SecRuleRemoveByTag); with targets each
// rule stops inspecting each target (SecRuleUpdateTargetById /
// SecRuleUpdateTargetByTag "!TARGET"). Each id, tag and target gets its
// own directive: Coraza's SecRuleUpdateTargetById applies only the first
// of several ids, and one directive per field makes errors precise.
func (e *exclusion) pieces() []piece {
	var ps []piece
	add := func(text, path, idPath string) {
		ps = append(ps, piece{text: text, path: path, idPath: idPath, route: e.Route, generated: true})
	}
	idPath := func(j int) string { return e.Path + ".rule_ids[" + strconv.Itoa(j) + "]" }
	tagPath := func(j int) string { return e.Path + ".tags[" + strconv.Itoa(j) + "]" }
	if len(e.Targets) == 0 {
		for j, id := range e.RuleIDs {
			add("SecRuleRemoveById "+id, idPath(j), "")
		}
		for j, t := range e.Tags {
			add("SecRuleRemoveByTag "+t, tagPath(j), "")
		}
		return ps
	}
	for k, target := range e.Targets {
		tp := e.Path + ".targets[" + strconv.Itoa(k) + "]"
		for j, id := range e.RuleIDs {
			add("SecRuleUpdateTargetById "+id+` "!`+target+`"`, tp, idPath(j))
		}
		for _, t := range e.Tags {
			add("SecRuleUpdateTargetByTag "+t+` "!`+target+`"`, tp, "")
		}
	}
	return ps
}

// managed are the directives whose settings Pinpoint's config owns, with
// the field to use instead.
var managed = map[string]string{
	"secruleengine":               "waf.mode (enforce or report_only)",
	"secrequestbodyaccess":        "waf.inspect_body",
	"secrequestbodylimit":         "waf.body_limit",
	"secrequestbodyinmemorylimit": "waf.body_limit",
	"secrequestbodylimitaction":   "waf.body_limit_action",
	"secauditengine":              "waf.error_log (the WAF writes no audit log)",
	"secauditlog":                 "waf.error_log (the WAF writes no audit log)",
	"secdebuglog":                 "waf.error_log",
}

// checkManaged refuses a directive that would change a setting the
// config owns; it returns "" or the message.
func checkManaged(d string) string {
	for _, line := range logicalLines(d) {
		name, _, _ := strings.Cut(line, " ")
		if use, ok := managed[strings.ToLower(name)]; ok {
			return name + " is set by Pinpoint: use " + use
		}
	}
	return ""
}

// logicalLines splits SecLang text into directives, joining lines
// continued with a trailing backslash and dropping comments.
func logicalLines(text string) []string {
	var out []string
	var cur strings.Builder
	for raw := range strings.SplitSeq(text, "\n") {
		line := strings.TrimSpace(raw)
		if cur.Len() == 0 && (line == "" || line[0] == '#') {
			continue
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(cont)
			continue
		}
		cur.WriteString(line)
		out = append(out, cur.String())
		cur.Reset()
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}
