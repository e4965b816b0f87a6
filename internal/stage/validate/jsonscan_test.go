package validate

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestScanJSON pins the scanner's verdicts, offsets and pointers.
func TestScanJSON(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		body    string
		l       jsonLimits
		kind    int
		offset  int
		what    string
		pointer string
	}{
		{body: `{}`},
		{body: `[]`},
		{body: ` "x" `},
		{body: `-0.5e+10`},
		{body: `[true, false, null, 0, -1, 1.25, 3E2, "\u00e9\ud83d\ude00"]`},
		{body: `{"a": {"b": [1, {"c": []}]}}`, l: jsonLimits{depth: 5}},
		{body: `{"a": {"b": [1, {"c": []}]}}`, l: jsonLimits{depth: 4}, kind: problemDepth, offset: 22, pointer: "/a/b/1/c"},
		{body: `{"a": {"b": [1, {"c": []}]}}`, l: jsonLimits{depth: 3}, kind: problemDepth, offset: 16, pointer: "/a/b/1"},
		{body: `[[], [[]], [[1, 2]]]`, l: jsonLimits{depth: 3}},
		{body: `[[], [[]], [[[[]]]]]`, l: jsonLimits{depth: 3}, kind: problemDepth, offset: 13, pointer: "/2/0/0"},
		{body: `{"abc": "defg"}`, l: jsonLimits{field: 4}},
		{body: `{"abcde": 1}`, l: jsonLimits{field: 4}, kind: problemField, offset: 1, what: "object key", pointer: ""},
		{body: `{"a": ["x", "abcde"]}`, l: jsonLimits{field: 4}, kind: problemField, offset: 12, what: "string", pointer: "/a/1"},
		{body: `{"a": 1, "b": {"c": "abcde"}}`, l: jsonLimits{field: 4}, kind: problemField, offset: 20, what: "string", pointer: "/b/c"},
		{body: `"\\\\\\\\"`, l: jsonLimits{field: 4}},
		{body: `"\u00e9\u00e9x"`, l: jsonLimits{field: 4}, kind: problemField, offset: 0, what: "string"},
		{body: `"\ud800"`, l: jsonLimits{field: 3}},                                           // lone surrogate: U+FFFD, 3 bytes
		{body: `"\ud83d\u0041"`, l: jsonLimits{field: 3}, kind: problemField, what: "string"}, // U+FFFD + A
		{body: strings.Repeat("[", hardMaxDepth) + strings.Repeat("]", hardMaxDepth)},
		{body: strings.Repeat("[", hardMaxDepth+1), kind: problemDepth, offset: hardMaxDepth, pointer: strings.Repeat("/0", hardMaxDepth)},
		{body: ``, kind: problemSyntax, offset: 0, what: "unexpected end of the body, expected a value"},
		{body: `{`, kind: problemSyntax, offset: 1, what: "unexpected end of the body, expected a string key"},
		{body: `{"a"`, kind: problemSyntax, offset: 4, what: "unexpected end of the body, expected ':'"},
		{body: `{"a" 1}`, kind: problemSyntax, offset: 5, what: "unexpected character, expected ':'"},
		{body: `{"a": 1`, kind: problemSyntax, offset: 7, what: "unexpected end of the body, expected ',' or '}'"},
		{body: `[1 2]`, kind: problemSyntax, offset: 3, what: "unexpected character, expected ',' or ']'"},
		{body: `[1,]`, kind: problemSyntax, offset: 3, what: "unexpected character, expected a value"},
		{body: `{1: 2}`, kind: problemSyntax, offset: 1, what: "unexpected character, expected a string key"},
		{body: `[1}`, kind: problemSyntax, offset: 2, what: "unexpected character, expected ',' or ']'"},
		{body: `{"a": 1]`, kind: problemSyntax, offset: 7, what: "unexpected character, expected ',' or '}'"},
		{body: `tru`, kind: problemSyntax, offset: 0, what: "unexpected character, expected a value"},
		{body: `nul1`, kind: problemSyntax, offset: 0, what: "unexpected character, expected a value"},
		{body: `truex`, kind: problemSyntax, offset: 4, what: "unexpected data after the JSON value"},
		{body: `-`, kind: problemSyntax, offset: 1, what: "invalid number"},
		{body: `-a`, kind: problemSyntax, offset: 1, what: "invalid number"},
		{body: `1.`, kind: problemSyntax, offset: 2, what: "invalid number"},
		{body: `1.e5`, kind: problemSyntax, offset: 2, what: "invalid number"},
		{body: `1e`, kind: problemSyntax, offset: 2, what: "invalid number"},
		{body: `1e+`, kind: problemSyntax, offset: 3, what: "invalid number"},
		{body: `+1`, kind: problemSyntax, offset: 0, what: "unexpected character, expected a value"},
		{body: `.5`, kind: problemSyntax, offset: 0, what: "unexpected character, expected a value"},
		{body: `01`, kind: problemSyntax, offset: 1, what: "unexpected data after the JSON value"},
		{body: `NaN`, kind: problemSyntax, offset: 0, what: "unexpected character, expected a value"},
		{body: `"abc`, kind: problemSyntax, offset: 4, what: "unexpected end of the body in a string"},
		{body: `"abc\`, kind: problemSyntax, offset: 5, what: "unexpected end of the body in a string"},
		{body: `"a\qb"`, kind: problemSyntax, offset: 2, what: "invalid escape sequence in a string"},
		{body: `"a\u12x4"`, kind: problemSyntax, offset: 2, what: "invalid escape sequence in a string"},
		{body: `"a\u12"`, kind: problemSyntax, offset: 2, what: "invalid escape sequence in a string"},
		{body: "\"a\tb\"", kind: problemSyntax, offset: 2, what: "control character in a string"},
		{body: "\"a\xffb\"", kind: problemSyntax, offset: 2, what: "invalid UTF-8 in a string"},
		{body: "\xef\xbb\xbf{}", kind: problemSyntax, offset: 0, what: "unexpected character, expected a value"},
		{body: `'a'`, kind: problemSyntax, offset: 0, what: "unexpected character, expected a value"},
		{body: `{} {}`, kind: problemSyntax, offset: 3, what: "unexpected data after the JSON value"},
		{body: `// c` + "\n" + `{}`, kind: problemSyntax, offset: 0, what: "unexpected character, expected a value"},
	} {
		p := scanJSON([]byte(c.body), c.l)
		if p.kind != c.kind || p.kind != problemNone && (p.offset != c.offset || p.pointer != c.pointer) || c.what != "" && p.what != c.what {
			t.Errorf("scanJSON(%.40q, %+v) = kind %d offset %d what %q pointer %.40q\nwant kind %d offset %d what %q pointer %.40q",
				c.body, c.l, p.kind, p.offset, p.what, p.pointer, c.kind, c.offset, c.what, c.pointer)
		}
		if (c.kind == problemNone || c.kind == problemSyntax) && utf8.ValidString(c.body) {
			if valid := json.Valid([]byte(c.body)); valid != (c.kind == problemNone) {
				t.Errorf("scanJSON(%.40q) disagrees with json.Valid = %v", c.body, valid)
			}
		}
	}
}

// TestScanJSONAllocations pins that scanning within the default depth
// allocates nothing.
func TestScanJSONAllocations(t *testing.T) {
	body := []byte(strings.Repeat(`{"a": [`, 30) + `"x"` + strings.Repeat(`]}`, 30))
	allocs := testing.AllocsPerRun(100, func() {
		if p := scanJSON(body, jsonLimits{depth: 64, field: 1 << 10}); p.kind != problemNone {
			t.Fatal(p.what)
		}
	})
	if allocs != 0 {
		t.Errorf("scanJSON allocates %v times per call", allocs)
	}
}

// TestDecodeJSON compares the stage's decoder with encoding/json.
func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"a": [1, -2.5e3, true, false, null, "x\ty\u00e9\ud83d\ude00\"\\\/"], "b": {}, "c": [], "a": "dup"}`,
		`"\ud800 lone \udc00 \ud83d\u0041"`,
		` [ { "k" : [ [ ] ] } ] `,
		`12345678901234567890123`,
	} {
		got := decodeJSON([]byte(body))
		d := json.NewDecoder(strings.NewReader(body))
		d.UseNumber()
		var want any
		if err := d.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("decodeJSON(%q)\n= %#v\nwant %#v", body, got, want)
		}
	}
}

// FuzzScanJSON checks the scanner against encoding/json: the same verdict
// on UTF-8 input, the same values once decoded, and field lengths counted
// as the decoded strings' bytes.
func FuzzScanJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `[1, "a", {"b": null}]`, `"\u00e9\ud83d\ude00"`, `{"a": [[[]]], "b": "x\ny"}`,
		`[1,]`, `{"a" 1}`, `"\ud800"`, `-0.0e-0`, `01`, "\"\x7f\"", `[[[[[[[[[[]]]]]]]]]]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p := scanJSON(body, jsonLimits{})
		valid := json.Valid(body)
		if p.kind == problemDepth {
			return
		}
		if utf8.Valid(body) && valid != (p.kind == problemNone) {
			t.Fatalf("scanJSON(%q) = %+v, json.Valid = %v", body, p, valid)
		}
		if p.kind != problemNone {
			if valid && utf8.Valid(body) {
				t.Fatalf("scanJSON refused valid JSON %q: %+v", body, p)
			}
			if strings.Contains(p.syntaxReason(), `"`) && bytes.Contains(body, []byte(p.what)) {
				t.Fatalf("reason %q may quote the body", p.syntaxReason())
			}
			return
		}
		got := decodeJSON(body)
		d := json.NewDecoder(bytes.NewReader(body))
		d.UseNumber()
		var want any
		if err := d.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeJSON(%q) = %#v, encoding/json %#v", body, got, want)
		}
		longest := longestString(got)
		if longest > 1 {
			if p := scanJSON(body, jsonLimits{field: int64(longest)}); p.kind != problemNone {
				t.Fatalf("field limit %d refused %q, whose longest string has that length: %+v", longest, body, p)
			}
			if p := scanJSON(body, jsonLimits{field: int64(longest - 1)}); p.kind != problemField {
				t.Fatalf("field limit %d let %q through, whose longest string is %d bytes", longest-1, body, longest)
			}
		}
	})
}

// longestString is the byte length of the longest string or key in v.
func longestString(v any) int {
	switch v := v.(type) {
	case string:
		return len(v)
	case []any:
		n := 0
		for _, e := range v {
			n = max(n, longestString(e))
		}
		return n
	case map[string]any:
		n := 0
		for k, e := range v {
			n = max(n, len(k), longestString(e))
		}
		return n
	}
	return 0
}
