package calllog

import "strings"

// Redacted replaces every query value that RedactQuery hides.
const Redacted = "redacted"

// RedactQuery hides the values of a raw URL query so call logs never keep
// tokens, e-mail addresses or other data callers put in query strings. Keys
// and their order are kept, and nothing is decoded or re-encoded:
//
//	"id=42&token=abc"  -> "id=redacted&token=redacted"
//	"a=1&b=&c"         -> "a=redacted&b=&c"  (empty values stay empty, bare keys stay bare)
//	""                 -> ""
//
// Only '&' separates pairs; a query without any non-empty value is returned
// as is, without allocating.
func RedactQuery(rawQuery string) string {
	if !hasValue(rawQuery) {
		return rawQuery
	}
	var b strings.Builder
	b.Grow(len(rawQuery) + len(Redacted)*strings.Count(rawQuery, "="))
	for rest, first := rawQuery, true; ; first = false {
		pair, next, more := strings.Cut(rest, "&")
		if !first {
			b.WriteByte('&')
		}
		key, value, ok := strings.Cut(pair, "=")
		b.WriteString(key)
		if ok {
			b.WriteByte('=')
			if value != "" {
				b.WriteString(Redacted)
			}
		}
		if !more {
			break
		}
		rest = next
	}
	return b.String()
}

// hasValue reports whether some pair in rawQuery has a non-empty value.
func hasValue(rawQuery string) bool {
	for {
		eq := strings.IndexByte(rawQuery, '=')
		if eq < 0 {
			return false
		}
		rest := rawQuery[eq+1:]
		if rest != "" && rest[0] != '&' {
			return true
		}
		amp := strings.IndexByte(rest, '&')
		if amp < 0 {
			return false
		}
		rawQuery = rest[amp+1:]
	}
}
