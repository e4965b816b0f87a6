package prompt

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/pinpointgw/pinpoint/internal/jsontext"
)

// piece is one part of a parsed template: literal text, or the variable
// a placeholder names.
type piece struct {
	text string // literal text, unescaped; empty for a placeholder
	name string // the placeholder's variable; empty for text
	line int    // where the placeholder is, for errors (1-based)
	col  int
}

// parseTemplate cuts src into text and placeholders following the package
// rule: "{{{{" is a literal "{{", any other "{{" opens a placeholder
// "{{ name }}" that must be well formed.
func parseTemplate(src string) ([]piece, error) {
	var out []piece
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			out = append(out, piece{text: text.String()})
			text.Reset()
		}
	}
	i := 0
	for {
		j := strings.Index(src[i:], "{{")
		if j < 0 {
			text.WriteString(src[i:])
			break
		}
		j += i
		text.WriteString(src[i:j])
		if strings.HasPrefix(src[j:], "{{{{") {
			text.WriteString("{{")
			i = j + 4
			continue
		}
		name, end, ok := placeholder(src, j)
		line, col := position(src, j)
		if !ok {
			return nil, fmt.Errorf("%q at line %d, column %d is not a placeholder: write {{name}} with a name of letters, digits, \"_\" and \"-\", or \"{{{{\" for a literal \"{{\"",
				snippet(src[j:]), line, col)
		}
		flush()
		out = append(out, piece{name: name, line: line, col: col})
		i = end
	}
	flush()
	return out, nil
}

// placeholder reads the placeholder that starts at src[at:] ("{{"): the
// variable name and the offset just past its "}}".
func placeholder(src string, at int) (name string, end int, ok bool) {
	i := at + 2
	for i < len(src) && src[i] == ' ' {
		i++
	}
	start := i
	for i < len(src) && isNameByte(src[i]) {
		i++
	}
	name = src[start:i]
	for i < len(src) && src[i] == ' ' {
		i++
	}
	if name == "" || !strings.HasPrefix(src[i:], "}}") {
		return "", 0, false
	}
	return name, i + 2, true
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// position is the 1-based line and column (in characters) of src[at].
func position(src string, at int) (line, col int) {
	before := src[:at]
	line = 1 + strings.Count(before, "\n")
	if k := strings.LastIndexByte(before, '\n'); k >= 0 {
		before = before[k+1:]
	}
	return line, 1 + utf8.RuneCountInString(before)
}

// snippet is the start of s, up to its first line end or 24 bytes, for an
// error message.
func snippet(s string) string {
	if k := strings.IndexByte(s, '\n'); k >= 0 {
		s = s[:k]
	}
	if len(s) > 24 {
		n := 24
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "…"
	}
	return s
}

// segment is one part of a compiled template: literal text already
// escaped for a JSON string, or a variable to insert.
type segment struct {
	text []byte // JSON-escaped text, without quotes; nil for a variable
	v    int    // index into Prompt.vars; -1 for text
}

// compileTemplate parses src and resolves its placeholders against the
// variables; field names the template in errors.
func compileTemplate(field, src string, index map[string]int) ([]segment, error) {
	pieces, err := parseTemplate(src)
	if err != nil {
		return nil, &FieldError{Field: field, Msg: err.Error()}
	}
	segs := make([]segment, 0, len(pieces))
	for _, p := range pieces {
		if p.name == "" {
			segs = append(segs, segment{text: jsontext.AppendEscaped(nil, p.text), v: -1})
			continue
		}
		v, ok := index[p.name]
		if !ok {
			return nil, &FieldError{Field: field, Msg: fmt.Sprintf(
				"{{%s}} at line %d, column %d is not a variable: variables.properties has no %q", p.name, p.line, p.col, p.name)}
		}
		segs = append(segs, segment{v: v})
	}
	return segs, nil
}
