package waf

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/corazawaf/coraza/v3/types"
	"github.com/corazawaf/coraza/v3/types/variables"
)

// Bounds of what a verdict keeps, so that a request matching many rules
// cannot make the trace or the call log large.
const (
	maxRules     = 32   // rule ids in Denial.Rule
	maxVars      = 6    // variable names per rule
	maxKey       = 64   // bytes of a variable's key (ARGS:<key>)
	maxReason    = 4096 // bytes of Denial.Reason
	maxNote      = 1024 // bytes of a trace step's note
	minScrubbed  = 4    // shorter matched values are not searched for in messages
	maxScrubbed  = 64   // matched values searched for in messages
	redactedMark = "…"
)

// blockingRules are CRS's anomaly evaluation rules: when one of them
// interrupts, the rules that scored explain the block.
var blockingRules = map[int]bool{949110: true, 949111: true}

// verdict is what one transaction found, told without request values:
// the ids of the matched rules, the operator's explanation and the
// category the client is told.
type verdict struct {
	rules    string
	reason   string
	category string
}

// facts are the stage's settings a verdict quotes.
type facts struct {
	paranoia, threshold int
	// partial is set when only the first body_limit bytes of the body
	// were inspected; bodyLimit is that limit.
	partial   bool
	bodyLimit int64
	// readErr is a body read error that stopped inspection early.
	readErr string
}

// judge describes the matches of tx. it is the interruption (nil when
// the request passes). ok is false when no rule worth reporting matched
// and the request passes.
func judge(tx types.Transaction, it *types.Interruption, f facts) (v verdict, ok bool) {
	matched := tx.MatchedRules()
	var logged []types.MatchedRule
	for _, mr := range matched {
		if logs(mr) || (it != nil && mr.Rule().ID() == it.RuleID) {
			logged = append(logged, mr)
		}
	}
	if it == nil && len(logged) == 0 {
		return v, false
	}
	scrub := matchedValues(logged)

	var ids, reason strings.Builder
	switch {
	case it == nil:
		reason.WriteString("below the anomaly threshold")
	case blockingRules[it.RuleID]:
		reason.WriteString("anomaly score reached the threshold")
	default:
		reason.WriteString("rule " + strconv.Itoa(it.RuleID) + " interrupted (" + action(it) + ")")
	}
	reason.WriteString(" (paranoia " + strconv.Itoa(f.paranoia) + ", threshold " + strconv.Itoa(f.threshold) + ")")
	if f.partial {
		reason.WriteString("; only the first " + strconv.FormatInt(f.bodyLimit, 10) + " bytes of the body were inspected (waf.body_limit)")
	}
	if f.readErr != "" {
		reason.WriteString("; the body could not be read to the end: " + f.readErr)
	}
	reason.WriteString(":")

	best, bestSeverity := catUnassigned, 1<<30
	for i, mr := range logged {
		r := mr.Rule()
		id := strconv.Itoa(r.ID())
		if i < maxRules {
			if i > 0 {
				ids.WriteByte(',')
			}
			ids.WriteString(id)
		} else if i == maxRules {
			ids.WriteString(",…")
		}
		if i > 0 {
			reason.WriteByte(';')
		}
		msg := mr.Message()
		if expandsMacros(r.Raw()) {
			msg = scrubValues(msg, scrub)
		}
		reason.WriteString(" " + id + " " + clean(msg))
		writeVars(&reason, mr.MatchedDatas())

		if c := category(r.ID(), r.Tags()); c != catUnassigned {
			sev := int(r.Severity())
			if sev < 0 {
				sev = 1 << 20 // unset: below every set severity
			}
			if sev < bestSeverity {
				best, bestSeverity = c, sev
			}
		}
	}
	if it != nil && !blockingRules[it.RuleID] {
		// A rule that blocked by itself (a custom deny, a body that cannot
		// be parsed) names the category when it has one.
		for _, mr := range logged {
			if r := mr.Rule(); r.ID() == it.RuleID {
				if c := category(r.ID(), r.Tags()); c != catUnassigned {
					best = c
				}
				break
			}
		}
	}
	if best == catUnassigned {
		best = catGeneric
	}
	return verdict{rules: ids.String(), reason: bound(reason.String(), maxReason), category: best}, true
}

// logs reports whether mr's rule has the log action. Coraza's MatchedRule
// has the method but its interface does not name it.
func logs(mr types.MatchedRule) bool {
	l, ok := mr.(interface{ Log() bool })
	return ok && l.Log()
}

// action describes an interruption.
func action(it *types.Interruption) string {
	a := it.Action
	if a == "" {
		a = "deny"
	}
	if it.Status != 0 {
		a += ", status " + strconv.Itoa(it.Status)
	}
	return a
}

// matchedValues are the request values the rules matched, to be removed
// from messages that quote them through macros (%{MATCHED_VAR}).
// Transaction variables (anomaly scores) are the WAF's own values.
func matchedValues(rules []types.MatchedRule) []string {
	var out []string
	for _, mr := range rules {
		for _, md := range mr.MatchedDatas() {
			if md.Variable() == variables.TX || len(md.Value()) < minScrubbed {
				continue
			}
			if len(out) == maxScrubbed {
				return out
			}
			out = append(out, md.Value())
		}
	}
	return out
}

// writeVars appends the names of the variables a rule matched, e.g.
// " [ARGS:id, REQUEST_HEADERS:User-Agent]". A key that contains the
// matched value (ARGS_NAMES, REQUEST_HEADERS_NAMES: the name is what
// matched) is redacted.
func writeVars(b *strings.Builder, mds []types.MatchData) {
	seen := make([]string, 0, maxVars)
	for _, md := range mds {
		name := md.Variable().Name()
		if k := md.Key(); k != "" {
			if v := md.Value(); v != "" && strings.Contains(k, v) {
				k = redactedMark
			}
			name += ":" + safeKey(k)
		}
		if contains(seen, name) {
			continue
		}
		if len(seen) == maxVars {
			seen = append(seen, redactedMark)
			break
		}
		seen = append(seen, name)
	}
	if len(seen) == 0 {
		return
	}
	b.WriteString(" [")
	b.WriteString(strings.Join(seen, ", "))
	b.WriteByte(']')
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// safeKey bounds a variable key and replaces bytes that are not
// printable ASCII.
func safeKey(k string) string {
	if len(k) > maxKey {
		k = k[:maxKey] + redactedMark
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 0x20 || c >= 0x7f {
			return strings.Map(func(r rune) rune {
				if r < 0x20 || r == 0x7f || r == utf8.RuneError {
					return '?'
				}
				return r
			}, k)
		}
	}
	return k
}

// expandsMacros reports whether the message of a rule (its raw text)
// quotes variables through macros, as in msg:'restricted header
// (%{MATCHED_VAR})'; only such messages can hold request values.
func expandsMacros(raw string) bool {
	i := strings.Index(raw, "msg:")
	if i < 0 {
		return false
	}
	m := raw[i+len("msg:"):]
	if strings.HasPrefix(m, "'") {
		if end := strings.IndexByte(m[1:], '\''); end >= 0 {
			m = m[1 : end+1]
		}
	} else if end := strings.IndexAny(m, ",\""); end >= 0 {
		m = m[:end]
	}
	return strings.Contains(m, "%{")
}

// scrubValues replaces the matched values a message quotes.
func scrubValues(msg string, values []string) string {
	for _, v := range values {
		if strings.Contains(msg, v) {
			msg = strings.ReplaceAll(msg, v, redactedMark)
		}
	}
	return msg
}

// clean replaces control characters in a message.
func clean(msg string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, msg)
}

// bound cuts s to at most n bytes on a character boundary.
func bound(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len(redactedMark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + redactedMark
}
