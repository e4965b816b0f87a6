package authz

import (
	"errors"
	"strings"
)

// pointer is a parsed RFC 6901 JSON pointer: the reference tokens with
// "~1" and "~0" already decoded. The empty pointer (no tokens) refers to the
// whole document.
type pointer []string

// Errors of parsePointer; fixed texts, safe for config messages.
var (
	errPointerStart  = errors.New(`a JSON pointer must start with "/" (e.g. "/owner_id")`)
	errPointerEscape = errors.New(`"~" must be followed by 0 or 1 ("~0" is "~", "~1" is "/")`)
)

// parsePointer parses s as a JSON pointer (RFC 6901 §3): "" or a sequence of
// "/"-prefixed reference tokens in which "~" only appears as "~0" or "~1".
//
//	parsePointer("/account/owner") // ["account", "owner"]
//	parsePointer("/a~1b/~0c")      // ["a/b", "~c"]
func parsePointer(s string) (pointer, error) {
	if s == "" {
		return pointer{}, nil
	}
	if s[0] != '/' {
		return nil, errPointerStart
	}
	toks := strings.Split(s[1:], "/")
	for i, t := range toks {
		if strings.IndexByte(t, '~') < 0 {
			continue
		}
		var b strings.Builder
		for j := 0; j < len(t); j++ {
			c := t[j]
			if c != '~' {
				b.WriteByte(c)
				continue
			}
			if j+1 == len(t) {
				return nil, errPointerEscape
			}
			switch t[j+1] {
			case '0':
				b.WriteByte('~')
			case '1':
				b.WriteByte('/')
			default:
				return nil, errPointerEscape
			}
			j++
		}
		toks[i] = b.String()
	}
	return pointer(toks), nil
}

// String formats p back into its RFC 6901 form.
func (p pointer) String() string {
	var b strings.Builder
	for _, t := range p {
		b.WriteByte('/')
		for i := 0; i < len(t); i++ {
			switch t[i] {
			case '~':
				b.WriteString("~0")
			case '/':
				b.WriteString("~1")
			default:
				b.WriteByte(t[i])
			}
		}
	}
	return b.String()
}

// lookup resolves p in a document decoded by encoding/json (maps, slices,
// strings, json.Number, bools, nil). An array index must be a decimal
// without leading zeros; "-" (the element after the last) never exists.
func (p pointer) lookup(doc any) (any, bool) {
	cur := doc
	for _, t := range p {
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[t]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, ok := arrayIndex(t)
			if !ok || i >= len(v) {
				return nil, false
			}
			cur = v[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// arrayIndex parses an RFC 6901 array index: "0" or a decimal without a
// leading zero, small enough not to overflow.
func arrayIndex(t string) (int, bool) {
	if t == "" || len(t) > 9 || (len(t) > 1 && t[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
