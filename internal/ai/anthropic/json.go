package anthropic

import (
	"strconv"

	"github.com/tidwall/gjson"
)

// The translation writes JSON by appending to byte slices. String values
// read from one JSON document are copied to the other as their literal
// (gjson's Raw), escapes and all, so text is never unescaped and escaped
// again; only strings that come from Go (ids, model names) are encoded.

const hex = "0123456789abcdef"

// appendInner appends the inside of a JSON string literal (its Raw
// without the quotes), so that several literals can be joined into one.
func appendInner(b []byte, lit string) []byte {
	if len(lit) >= 2 && lit[0] == '"' && lit[len(lit)-1] == '"' {
		return append(b, lit[1:len(lit)-1]...)
	}
	return b
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
