package gemini

import (
	"strconv"
	"unsafe"

	"github.com/tidwall/gjson"
)

// view returns b as a string without copying, so that gjson results are
// substrings of the body rather than copies. The string, and every
// result taken from it, is valid only while b is neither modified nor
// released; the translators use them only while building their output.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// parse parses b without copying it (see view). gjson is lenient, so b
// is validated first: a malformed document gives an empty result rather
// than fragments that would be copied into the output as raw JSON.
func parse(b []byte) gjson.Result {
	s := view(b)
	if !gjson.Valid(s) {
		return gjson.Result{}
	}
	return gjson.Parse(s)
}

// appendInt appends n in decimal.
func appendInt(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }
