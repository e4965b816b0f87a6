package validate

import (
	"encoding/json"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeJSON decodes buf, which scanJSON accepted, into the values
// kin-openapi validates: map[string]any, []any, string, json.Number, bool
// and nil. Numbers stay json.Number, so large integers keep every digit
// for integer and format checks. A repeated object key keeps its last
// value, as with encoding/json.
//
// It does not check syntax again; it is several times faster than
// encoding/json's decoding into any, which the schema validation would
// otherwise spend most of its time in.
func decodeJSON(buf []byte) any {
	d := decoder{buf: buf}
	return d.value()
}

type decoder struct {
	buf []byte
	pos int
}

func (d *decoder) value() any {
	d.pos = skipSpace(d.buf, d.pos)
	switch c := d.buf[d.pos]; c {
	case '{':
		d.pos++
		obj := make(map[string]any)
		if d.next() == '}' {
			d.pos++
			return obj
		}
		for {
			d.pos = skipSpace(d.buf, d.pos)
			key := d.string()
			d.pos = skipSpace(d.buf, d.pos) + 1 // the colon
			obj[key] = d.value()
			if d.next() == '}' {
				d.pos++
				return obj
			}
			d.pos++ // the comma
		}
	case '[':
		d.pos++
		arr := make([]any, 0, 4)
		if d.next() == ']' {
			d.pos++
			return arr
		}
		for {
			arr = append(arr, d.value())
			if d.next() == ']' {
				d.pos++
				return arr
			}
			d.pos++
		}
	case '"':
		return d.string()
	case 't':
		d.pos += 4
		return true
	case 'f':
		d.pos += 5
		return false
	case 'n':
		d.pos += 4
		return nil
	default:
		start := d.pos
		d.pos, _ = scanNumber(d.buf, d.pos)
		return json.Number(d.buf[start:d.pos])
	}
}

// next skips white space and returns the byte there.
func (d *decoder) next() byte {
	d.pos = skipSpace(d.buf, d.pos)
	return d.buf[d.pos]
}

// string decodes the string whose opening quote is at d.pos.
func (d *decoder) string() string {
	start := d.pos + 1
	for i := start; i < len(d.buf); i++ {
		switch d.buf[i] {
		case '"':
			d.pos = i + 1
			return string(d.buf[start:i])
		case '\\':
			end, _, _ := scanString(d.buf, d.pos)
			d.pos = end
			return unquoteJSON(d.buf[start : end-1])
		}
	}
	d.pos = len(d.buf)
	return string(d.buf[start:])
}

// unquoteJSON decodes the content of a valid JSON string (without its
// quotes). A lone surrogate becomes U+FFFD, as with encoding/json.
func unquoteJSON(raw []byte) string {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(raw) {
			break
		}
		switch raw[i+1] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, _ := hex4(raw, i+2)
			i += 6
			if utf16.IsSurrogate(r) {
				if r < 0xDC00 && i+1 < len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if lo, ok := hex4(raw, i+2); ok {
						if pair := utf16.DecodeRune(r, lo); pair != utf8.RuneError {
							out = utf8.AppendRune(out, pair)
							i += 6
							continue
						}
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		default: // '"', '\\', '/'
			out = append(out, raw[i+1])
		}
		i += 2
	}
	return string(out)
}

// appendPointerToken appends a JSON pointer reference token (RFC 6901):
// ~ is written ~0 and / is written ~1.
func appendPointerToken(p []byte, token string) []byte {
	for i := 0; i < len(token); i++ {
		switch c := token[i]; c {
		case '~':
			p = append(p, '~', '0')
		case '/':
			p = append(p, '~', '1')
		default:
			p = append(p, c)
		}
	}
	return p
}
