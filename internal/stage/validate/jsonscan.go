package validate

import (
	"strconv"
	"unicode/utf8"
)

// hardMaxDepth bounds the nesting of every JSON body the stage decodes, also
// when limits.max_json_depth is 0 (no limit of its own): the decoder
// recurses once per level, and encoding/json refuses the same depth.
const hardMaxDepth = 10000

// jsonLimits are the bounds scanJSON enforces; zero means no bound (up to
// hardMaxDepth for the depth).
type jsonLimits struct {
	depth int   // nesting of objects and arrays (limits.max_json_depth)
	field int64 // decoded bytes of one string or object key (limits.max_json_field_bytes)
}

// enabled reports whether the route sets a JSON limit of its own.
func (l jsonLimits) enabled() bool { return l.depth > 0 || l.field > 0 }

// The kinds of problem scanJSON reports.
const (
	problemNone   = iota
	problemSyntax // not JSON
	problemDepth  // nests deeper than jsonLimits.depth
	problemField  // a string or key longer than jsonLimits.field
)

// scanProblem is what scanJSON found wrong with a body. It never holds a
// byte of the body's values: a syntax problem names what was expected and
// where, a limit problem the JSON pointer of the place.
type scanProblem struct {
	kind   int
	offset int    // byte offset in the body
	what   string // syntax: the problem ("unexpected character"); field: "string" or "object key"
	// pointer is the JSON pointer of the container that nests too deep, of
	// the string that is too long, or of the object whose key is too long.
	pointer string
}

// syntaxReason is the client-safe description of a syntax problem.
func (p *scanProblem) syntaxReason() string {
	return p.what + " at offset " + strconv.Itoa(p.offset)
}

// frame is one open container while scanning: enough to name the current
// element in a JSON pointer, built only when a problem is found.
type frame struct {
	object   bool
	index    int // array: the index of the current element
	keyStart int // object: the raw bytes of the current key, between its quotes
	keyEnd   int
}

// scanJSON checks that buf is one well-formed JSON value (RFC 8259: UTF-8,
// nothing but white space around the value) within the limits l, in one
// pass and without decoding. String and key lengths are counted decoded,
// so that an escape such as \u00e9 counts as the two bytes of é, not six.
//
// It runs before any decoding, so that a hostile body (a million nested
// arrays, a 100 MB string) is refused before it costs memory.
func scanJSON(buf []byte, l jsonLimits) scanProblem {
	maxDepth := l.depth
	if maxDepth <= 0 || maxDepth > hardMaxDepth {
		maxDepth = hardMaxDepth
	}
	// Room for the default limits.max_json_depth (64) without allocating.
	var inline [64]frame
	stack := inline[:0]
	i := skipSpace(buf, 0)
	wantValue := true
	for {
		if wantValue {
			if i >= len(buf) {
				return syntaxProblem(i, "unexpected end of the body, expected a value")
			}
			switch c := buf[i]; c {
			case '{', '[':
				if len(stack) >= maxDepth {
					return scanProblem{kind: problemDepth, offset: i, pointer: pointerOf(buf, stack)}
				}
				stack = append(stack, frame{object: c == '{'})
				i = skipSpace(buf, i+1)
				if i < len(buf) && (buf[i] == '}' && c == '{' || buf[i] == ']' && c == '[') {
					stack = stack[:len(stack)-1]
					i++
					wantValue = false
					continue
				}
				if c == '{' {
					var p scanProblem
					if i, p = scanKey(buf, i, stack, l.field); p.kind != problemNone {
						return p
					}
				}
				continue
			case '"':
				end, n, p := scanString(buf, i)
				if p.kind != problemNone {
					return p
				}
				if l.field > 0 && n > l.field {
					return scanProblem{kind: problemField, offset: i, what: "string", pointer: pointerOf(buf, stack)}
				}
				i = end
			case 't':
				if !hasLiteral(buf, i, "true") {
					return syntaxProblem(i, "unexpected character, expected a value")
				}
				i += 4
			case 'f':
				if !hasLiteral(buf, i, "false") {
					return syntaxProblem(i, "unexpected character, expected a value")
				}
				i += 5
			case 'n':
				if !hasLiteral(buf, i, "null") {
					return syntaxProblem(i, "unexpected character, expected a value")
				}
				i += 4
			default:
				if c != '-' && (c < '0' || c > '9') {
					return syntaxProblem(i, "unexpected character, expected a value")
				}
				end, ok := scanNumber(buf, i)
				if !ok {
					return syntaxProblem(end, "invalid number")
				}
				i = end
			}
			wantValue = false
			continue
		}

		// After a value: the end of the body, or a separator or closer of
		// the innermost container.
		i = skipSpace(buf, i)
		if len(stack) == 0 {
			if i != len(buf) {
				return syntaxProblem(i, "unexpected data after the JSON value")
			}
			return scanProblem{}
		}
		top := &stack[len(stack)-1]
		if i >= len(buf) {
			return syntaxProblem(i, "unexpected end of the body, expected "+closers(top.object))
		}
		switch c := buf[i]; {
		case c == ',':
			i = skipSpace(buf, i+1)
			if top.object {
				var p scanProblem
				if i, p = scanKey(buf, i, stack, l.field); p.kind != problemNone {
					return p
				}
			} else {
				top.index++
			}
			wantValue = true
		case c == '}' && top.object, c == ']' && !top.object:
			stack = stack[:len(stack)-1]
			i++
		default:
			return syntaxProblem(i, "unexpected character, expected "+closers(top.object))
		}
	}
}

// closers names what may follow a value inside an object or an array.
func closers(object bool) string {
	if object {
		return "',' or '}'"
	}
	return "',' or ']'"
}

// scanKey scans an object key at buf[i] and the colon after it, records
// the key in the innermost frame, and returns the offset of the value.
func scanKey(buf []byte, i int, stack []frame, maxField int64) (int, scanProblem) {
	if i >= len(buf) {
		return i, syntaxProblem(i, "unexpected end of the body, expected a string key")
	}
	if buf[i] != '"' {
		return i, syntaxProblem(i, "unexpected character, expected a string key")
	}
	end, n, p := scanString(buf, i)
	if p.kind != problemNone {
		return i, p
	}
	if maxField > 0 && n > maxField {
		return i, scanProblem{kind: problemField, offset: i, what: "object key", pointer: pointerOf(buf, stack[:len(stack)-1])}
	}
	top := &stack[len(stack)-1]
	top.keyStart, top.keyEnd = i+1, end-1
	i = skipSpace(buf, end)
	if i >= len(buf) {
		return i, syntaxProblem(i, "unexpected end of the body, expected ':'")
	}
	if buf[i] != ':' {
		return i, syntaxProblem(i, "unexpected character, expected ':'")
	}
	return skipSpace(buf, i+1), scanProblem{}
}

// scanString scans the string whose opening quote is at buf[i]. It returns
// the offset after the closing quote and the length of the decoded string
// in bytes, or the problem that makes it invalid.
func scanString(buf []byte, i int) (end int, n int64, p scanProblem) {
	j := i + 1
	for j < len(buf) {
		run := j
		for j < len(buf) && plainStringByte[buf[j]] {
			j++
		}
		n += int64(j - run)
		if j == len(buf) {
			break
		}
		c := buf[j]
		switch {
		case c == '"':
			return j + 1, n, scanProblem{}
		case c == '\\':
			if j+1 >= len(buf) {
				return j, n, syntaxProblem(len(buf), "unexpected end of the body in a string")
			}
			switch buf[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				n++
				j += 2
			case 'u':
				r, ok := hex4(buf, j+2)
				if !ok {
					return j, n, syntaxProblem(j, "invalid escape sequence in a string")
				}
				j += 6
				switch {
				case r < 0xD800 || r > 0xDFFF:
					n += int64(utf8.RuneLen(r))
				case r < 0xDC00 && j+1 < len(buf) && buf[j] == '\\' && buf[j+1] == 'u':
					// A high surrogate: with a low one after it, the pair
					// is one 4-byte character.
					if lo, ok := hex4(buf, j+2); ok && lo >= 0xDC00 && lo <= 0xDFFF {
						n += 4
						j += 6
						continue
					}
					n += 3 // decoded as U+FFFD
				default:
					n += 3 // a lone surrogate decodes as U+FFFD
				}
			default:
				return j, n, syntaxProblem(j, "invalid escape sequence in a string")
			}
		case c < 0x20:
			return j, n, syntaxProblem(j, "control character in a string")
		default:
			r, size := utf8.DecodeRune(buf[j:])
			if r == utf8.RuneError && size == 1 {
				return j, n, syntaxProblem(j, "invalid UTF-8 in a string")
			}
			n += int64(size)
			j += size
		}
	}
	return j, n, syntaxProblem(len(buf), "unexpected end of the body in a string")
}

// plainStringByte marks the bytes a string holds as they are: printable
// ASCII other than the quote and the backslash. Control characters end a
// string with an error; other bytes are checked as UTF-8.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// hex4 decodes the four hex digits at buf[i:i+4].
func hex4(buf []byte, i int) (rune, bool) {
	if i+4 > len(buf) {
		return 0, false
	}
	var r rune
	for _, c := range buf[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// scanNumber scans a number (RFC 8259 grammar) at buf[i]. It returns the
// offset after it, or the offset of the offending byte and false.
func scanNumber(buf []byte, i int) (int, bool) {
	if buf[i] == '-' {
		i++
	}
	switch {
	case i >= len(buf):
		return i, false
	case buf[i] == '0':
		i++
	case buf[i] >= '1' && buf[i] <= '9':
		i = skipDigits(buf, i+1)
	default:
		return i, false
	}
	if i < len(buf) && buf[i] == '.' {
		j := skipDigits(buf, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(buf) && (buf[i] == 'e' || buf[i] == 'E') {
		i++
		if i < len(buf) && (buf[i] == '+' || buf[i] == '-') {
			i++
		}
		j := skipDigits(buf, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func skipDigits(buf []byte, i int) int {
	for i < len(buf) && buf[i] >= '0' && buf[i] <= '9' {
		i++
	}
	return i
}

func skipSpace(buf []byte, i int) int {
	for i < len(buf) {
		switch buf[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func hasLiteral(buf []byte, i int, lit string) bool {
	return len(buf)-i >= len(lit) && string(buf[i:i+len(lit)]) == lit
}

func syntaxProblem(offset int, what string) scanProblem {
	return scanProblem{kind: problemSyntax, offset: offset, what: what}
}

// pointerOf is the JSON pointer of the element the frames lead to: each
// frame contributes its current key or index. It runs only when a problem
// was found, so it may allocate.
func pointerOf(buf []byte, stack []frame) string {
	if len(stack) == 0 {
		return ""
	}
	p := make([]byte, 0, 64)
	for _, f := range stack {
		p = append(p, '/')
		if !f.object {
			p = strconv.AppendInt(p, int64(f.index), 10)
			continue
		}
		p = appendPointerToken(p, unquoteJSON(buf[f.keyStart:f.keyEnd]))
	}
	return string(p)
}
