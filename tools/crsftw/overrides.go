package main

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/coreruleset/go-ftw/v2/config"
)

// overrideKind says why a test cannot pass through Pinpoint although the
// WAF is not at fault, and how crsftw checks on every run that this is
// still the case.
type overrideKind string

const (
	// kindGateway: Pinpoint itself refused the request before the WAF ran
	// (the accept stage's path normalization or size limits). Verified by
	// the answer carrying Pinpoint-Code: <code>.
	kindGateway overrideKind = "gateway"
	// kindNetHTTP: Go's HTTP server refused the request, or parsed it into
	// a different shape than Apache (for which the corpus is written),
	// before any of Pinpoint's code ran. Verified by an answer without
	// Pinpoint-Code, or no answer at all.
	kindNetHTTP overrideKind = "net/http"
	// kindStatus: the test expects the web server's own refusal (Apache's
	// 400) and checks nothing else the WAF does wrong. Verified by the
	// status being the only check that fails: every expected rule fired,
	// no unexpected one did, and the backend answered (no Pinpoint-Code).
	kindStatus overrideKind = "status"
	// kindResponse: the test is about a RESPONSE-9xx rule; the WAF inspects
	// requests only and does not load them. Verified by the test's rule
	// being a response rule.
	kindResponse overrideKind = "response rules"
	// kindRedacted: the test matches the matched value in the log, which
	// waf.error_log redacts. Verified by the test expecting a log regex and
	// every rule id it expects being in the log.
	kindRedacted overrideKind = "redacted"
	// kindBodyRejected: Coraza's body parser refuses the body the test
	// sends, so rule 200002 (REQBODY_ERROR) fires and an enforcing WAF
	// refuses the request before the rule the test is about can see it.
	// Verified by rule 200002 having fired.
	kindBodyRejected overrideKind = "body rejected"
)

// bodyErrorRule is coraza.conf-recommended's rule for a body that does
// not parse.
const bodyErrorRule = 200002

// override is one entry of the overrides file.
type override struct {
	// Test is the test id, e.g. "920100-4".
	Test string
	// Kind is what the reason claims, Code the Pinpoint code of a gateway
	// override.
	Kind overrideKind
	Code string
	// Reason is the whole reason line.
	Reason string
}

// overrideKey is the one key form crsftw accepts: an anchored test id, so
// that go-ftw (which reads keys as regular expressions) matches exactly
// one test too; an unanchored 920100-4 would also match 920100-40.
var overrideKey = regexp.MustCompile(`^\^([0-9]{6}-[0-9]+)\$$`)

// pinpointCode is the shape of a reason code: family.cause.
var pinpointCode = regexp.MustCompile(`^[a-z]+\.[a-z_]+$`)

// loadOverrides reads the overrides file at path: go-ftw's config format,
// of which only testoverride.ignore may be set, each key an anchored test
// id and each reason "KIND: explanation" (see overrideKind). A missing
// path is an error: the default file is part of the tool.
func loadOverrides(path string) (map[string]override, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseOverrides(string(b))
}

// parseOverrides parses the text of an overrides file.
func parseOverrides(text string) (map[string]override, error) {
	// NewConfigFromString, not NewConfigFromFile: the latter falls back to
	// ~/.ftw.yaml when the file is missing.
	cfg, err := config.NewConfigFromString(text)
	if err != nil {
		return nil, fmt.Errorf("overrides: %w", err)
	}
	to := cfg.TestOverride
	if len(to.ForcePass) > 0 || len(to.ForceFail) > 0 {
		return nil, errors.New("overrides: only testoverride.ignore is supported (forcepass and forcefail hide results)")
	}
	out := make(map[string]override, len(to.Ignore))
	var errs []error
	for re, reason := range to.Ignore {
		key := (*regexp.Regexp)(re).String()
		m := overrideKey.FindStringSubmatch(key)
		if m == nil {
			errs = append(errs, fmt.Errorf("overrides: key %q must name one test, like '^920100-4$'", key))
			continue
		}
		o, err := parseReason(m[1], reason)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[o.Test] = o
	}
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// parseReason reads the kind (and code) a reason starts with.
func parseReason(test, reason string) (override, error) {
	o := override{Test: test, Reason: strings.TrimSpace(reason)}
	head, rest, ok := strings.Cut(o.Reason, ":")
	if !ok || strings.TrimSpace(rest) == "" {
		return o, fmt.Errorf("overrides: %s: reason %q must be \"KIND: explanation\"", test, reason)
	}
	switch kind := overrideKind(head); {
	case kind == kindNetHTTP, kind == kindStatus, kind == kindResponse, kind == kindRedacted, kind == kindBodyRejected:
		o.Kind = kind
	case strings.HasPrefix(head, string(kindGateway)+" "):
		o.Kind = kindGateway
		o.Code = strings.TrimPrefix(head, string(kindGateway)+" ")
		if !pinpointCode.MatchString(o.Code) {
			return o, fmt.Errorf("overrides: %s: %q is not a Pinpoint code like request.invalid_path", test, o.Code)
		}
	default:
		return o, fmt.Errorf("overrides: %s: reason must start with \"gateway CODE:\", \"net/http:\", \"status:\", "+
			"\"response rules:\", \"redacted:\" or \"body rejected:\", not %q", test, head)
	}
	return o, nil
}

// firstResponseRule is the lowest id of the CRS response rules
// (RESPONSE-950 onwards); 949xxx is the request blocking evaluation.
const firstResponseRule = 950000

// verify reports whether o still explains the failure r, and if not, why.
func (o override) verify(r *result) (bool, string) {
	switch o.Kind {
	case kindGateway:
		if r.Code == o.Code {
			return true, ""
		}
		return false, fmt.Sprintf("override expects Pinpoint-Code %s, the gateway answered %s", o.Code, r.answer())
	case kindNetHTTP:
		if r.Code == "" {
			return true, ""
		}
		return false, fmt.Sprintf("override expects Go's HTTP server to refuse the request, but Pinpoint answered %s", r.answer())
	case kindStatus:
		switch {
		case r.ExpectStatus == 0:
			return false, "override says the test checks the status, but it expects none"
		case r.Code != "":
			return false, "override says the backend answered, but Pinpoint answered " + r.answer()
		case len(r.missing()) > 0:
			return false, fmt.Sprintf("override says only the status differs, but rules %v did not fire", r.missing())
		case len(r.unexpected()) > 0:
			return false, fmt.Sprintf("override says only the status differs, but rules %v fired", r.unexpected())
		}
		return true, ""
	case kindResponse:
		if r.Rule < firstResponseRule {
			return false, fmt.Sprintf("override says the test is about a response rule, but its rule %d is a request rule", r.Rule)
		}
		return true, ""
	case kindRedacted:
		if !r.MatchesLog {
			return false, "override says the test matches logged values, but it has no match_regex"
		}
		if missing := r.missing(); len(missing) > 0 {
			return false, fmt.Sprintf("override says only the redacted value is missing, but rules %v did not fire", missing)
		}
		return true, ""
	case kindBodyRejected:
		if !slices.Contains(r.Fired, bodyErrorRule) {
			return false, fmt.Sprintf("override says the body was rejected, but rule %d did not fire", bodyErrorRule)
		}
		return true, ""
	}
	return false, "unknown override kind " + string(o.Kind)
}
