// Package jsontext appends JSON text to byte slices, for the code that
// writes JSON by hand on hot paths instead of marshalling values.
package jsontext

import "unicode/utf8"

const hex = "0123456789abcdef"

// AppendString appends s as a JSON string literal.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = AppendEscaped(b, s)
	return append(b, '"')
}

// AppendEscaped appends s escaped for the inside of a JSON string:
// quotes, backslashes and control characters escaped, invalid UTF-8
// replaced by U+FFFD (as encoding/json does), and U+2028 and U+2029
// escaped so that the text is also safe JavaScript. "<", ">" and "&" are
// kept as they are: the output is not meant for HTML.
func AppendEscaped(b []byte, s string) []byte {
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
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(b, s[start:]...)
}

// AppendCompact appends the JSON text raw without the whitespace between
// its tokens, escaped for the inside of a JSON string when escape is set.
// raw must be valid JSON (a gjson Raw value, a config document).
func AppendCompact(b []byte, raw string, escape bool) []byte {
	put := func(b []byte, s string) []byte {
		if escape {
			return AppendEscaped(b, s)
		}
		return append(b, s...)
	}
	start := 0
	inString := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case ' ', '\t', '\n', '\r':
			b = put(b, raw[start:i])
			start = i + 1
		}
	}
	return put(b, raw[start:])
}

// AppendCompactString appends a JSON string literal whose value is the
// compact text of the JSON value raw: how a tool call's arguments object
// becomes OpenAI's arguments string, in one pass.
func AppendCompactString(b []byte, raw string) []byte {
	b = append(b, '"')
	b = AppendCompact(b, raw, true)
	return append(b, '"')
}
