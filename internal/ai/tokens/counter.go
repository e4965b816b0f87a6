package tokens

import (
	"unicode"
	"unicode/utf8"
)

const (
	// flushAt is how much text a Counter holds before it tokenizes.
	flushAt = 16 << 10
	// holdMax is how much text without a cut point (base64, minified
	// JSON with no spaces) a Counter holds before it cuts anyway.
	holdMax = 64 << 10
)

// Counter counts the tokens of a streamed answer's text as it arrives,
// with bounded memory: it holds the text until it has 16 KiB, tokenizes it
// up to its last cut point and keeps the rest.
//
// A cut point is a space or tab that follows a character other than
// whitespace, or a line break that follows a letter or digit. OpenAI's
// tokenizers never put such a character in one token with the character
// before it (their split patterns attach spaces to the following word and
// line breaks only to preceding punctuation or whitespace), so counting
// the two sides apart gives exactly the count of the whole text. Only text
// with no cut point in 64 KiB is cut elsewhere (at a character boundary),
// which may add or lose a token there: at most about one in 16,000.
//
// The zero value counts with cl100k_base and is ready to use; a Counter
// is not safe for concurrent use.
type Counter struct {
	// Model picks the encoding, as in Count. Set it before the first Write.
	Model string

	buf      []byte
	searched int // no position of buf below searched is a cut point
	total    int64
}

// NewCounter returns a Counter for model.
func NewCounter(model string) *Counter { return &Counter{Model: model} }

// Write adds text to the count.
func (c *Counter) Write(text []byte) {
	for len(text) > 0 {
		n := min(len(text), flushAt)
		c.buf = append(c.buf, text[:n]...)
		text = text[n:]
		if len(c.buf) >= flushAt {
			c.flush()
		}
	}
}

// WriteString adds text to the count.
func (c *Counter) WriteString(text string) {
	for len(text) > 0 {
		n := min(len(text), flushAt)
		c.buf = append(c.buf, text[:n]...)
		text = text[n:]
		if len(c.buf) >= flushAt {
			c.flush()
		}
	}
}

// Total counts the text still held and returns the tokens of everything
// written since the Counter was made or Reset. Writing after Total goes on
// counting, as if the text so far had ended at a cut point.
func (c *Counter) Total() int64 {
	if len(c.buf) > 0 {
		c.total += encodingFor(c.Model).count(string(c.buf))
		c.buf, c.searched = c.buf[:0], 0
	}
	return c.total
}

// Reset clears the count for reuse, keeping Model and the buffer's memory.
func (c *Counter) Reset() {
	c.buf, c.searched, c.total = c.buf[:0], 0, 0
}

// flush tokenizes the held text up to its last cut point.
func (c *Counter) flush() {
	cut := lastCut(c.buf, c.searched)
	if cut <= 0 {
		if len(c.buf) < holdMax {
			c.searched = len(c.buf)
			return
		}
		cut = len(c.buf)
		for cut > 1 && !utf8.RuneStart(c.buf[cut-1]) {
			cut--
		}
		cut-- // before the last rune, which may be incomplete
		if cut <= 0 {
			cut = len(c.buf) // not UTF-8 at all
		}
	}
	c.total += encodingFor(c.Model).count(string(c.buf[:cut]))
	rest := copy(c.buf, c.buf[cut:])
	c.buf, c.searched = c.buf[:rest], rest
}

// lastCut returns the last cut point of b at or after position from
// (positions below it are known to be none), or 0 when there is none.
func lastCut(b []byte, from int) int {
	for i := len(b) - 1; i >= max(from, 1); i-- {
		switch b[i] {
		case ' ', '\t':
			if r, _ := utf8.DecodeLastRune(b[:i]); !unicode.IsSpace(r) {
				return i
			}
		case '\n', '\r':
			if r, _ := utf8.DecodeLastRune(b[:i]); unicode.IsLetter(r) || unicode.IsNumber(r) {
				return i
			}
		}
	}
	return 0
}
