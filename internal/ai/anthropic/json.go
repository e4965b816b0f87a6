package anthropic

import (
	"strconv"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// The translation writes JSON by appending to byte slices. String values
// read from one JSON document are copied to the other as their literal
// (gjson's Raw), escapes and all, so text is never unescaped and escaped
// again; only strings that come from Go (ids, model names) are encoded.

const hex = "0123456789abcdef"

// appendString appends s as a JSON string literal. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendInner appends the inside of a JSON string literal (its Raw
// without the quotes), so that several literals can be joined into one.
func appendInner(b []byte, lit string) []byte {
	if len(lit) >= 2 && lit[0] == '"' && lit[len(lit)-1] == '"' {
		return append(b, lit[1:len(lit)-1]...)
	}
	return b
}

// appendJSONAsString appends a JSON string literal whose value is the
// compact text of the JSON value raw: whitespace between tokens is
// dropped, and quotes and backslashes are escaped once more. It is how a
// tool's input object becomes OpenAI's arguments string, in one pass.
func appendJSONAsString(b []byte, raw string) []byte {
	b = append(b, '"')
	inString, escaped := false, false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		} else {
			switch c {
			case ' ', '\t', '\n', '\r':
				continue
			case '"':
				inString = true
			}
		}
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20: // only possible in invalid JSON; keep the output valid
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// appendInt appends n in decimal.
func appendInt(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }

// isString tells whether r is a JSON string.
func isString(r gjson.Result) bool { return r.Type == gjson.String }

// isObject tells whether raw JSON text is an object.
func isObject(raw string) bool {
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return true
		}
		return false
	}
	return false
}
