package config

import (
	"strconv"
	"strings"
)

// interpolate expands environment references in one scalar value:
//
//	${NAME}            the value of NAME; an error when NAME is not set
//	${NAME:-default}   the value of NAME, or default when NAME is unset or empty
//	$${                a literal "${"
//
// It reports whether any variable was substituted, so that callers never show
// the expanded text (it may be a secret), and one message per problem.
// Messages name variables, never their values.
func interpolate(s string, lookup func(string) (string, bool)) (out string, expanded bool, problems []string) {
	if !strings.Contains(s, "${") {
		return s, false, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			b.WriteString("${")
			i += 3
			continue
		}
		if !strings.HasPrefix(s[i:], "${") {
			b.WriteByte(s[i])
			i++
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			problems = append(problems, `unterminated "${" (write "$${" for a literal "${")`)
			return s, expanded, problems
		}
		inner := s[i+2 : i+2+end]
		i += 2 + end + 1
		name, def, hasDef := strings.Cut(inner, ":-")
		switch {
		case !validEnvName(name):
			problems = append(problems, "invalid environment variable name "+strconv.Quote(name)+
				` in "${...}" (letters, digits and _, not starting with a digit)`)
			continue
		case strings.Contains(def, "${"):
			problems = append(problems, "nested \"${\" in the default of ${"+name+"} is not supported")
			continue
		}
		var v string
		var ok bool
		if lookup != nil {
			v, ok = lookup(name)
		}
		switch {
		case ok && (v != "" || !hasDef):
			b.WriteString(v)
		case hasDef:
			b.WriteString(def)
		default:
			problems = append(problems, "environment variable "+name+" is not set (use ${"+name+":-default} to give a default)")
			continue
		}
		expanded = true
	}
	if problems != nil {
		return s, expanded, problems
	}
	return b.String(), expanded, nil
}

// validEnvName reports whether n is a portable environment variable name.
func validEnvName(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}
