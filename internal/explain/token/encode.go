package token

import (
	"encoding/binary"
	"fmt"
	"time"
	"unicode/utf8"
)

// flagUUID marks a request id stored as 16 UUID bytes.
const flagUUID = 1

// ellipsis is appended by Open to values Seal had to cut.
const ellipsis = "…"

// appendPlain appends the compact encoding of d (see the package doc).
// It never appends more than maxPlain bytes.
func appendPlain(b []byte, d *Decision) []byte {
	var id [16]byte
	if parseUUID(d.RequestID, &id) {
		b = append(b, flagUUID)
		b = append(b, id[:]...)
	} else {
		b = append(b, 0)
		b = appendString(b, d.RequestID, maxRequestID)
	}
	b = binary.AppendVarint(b, d.Time.UnixMilli())
	b = binary.AppendVarint(b, d.Revision)
	b = appendIndexed(b, d.Code, codeIndex)
	b = appendIndexed(b, d.Stage, stageIndex)
	b = appendString(b, d.Route, maxField)
	b = appendString(b, d.Rule, maxField)
	b = appendString(b, d.ConsumerID, maxField)
	return appendString(b, d.CredentialID, maxField)
}

// appendString appends s, cut to limit bytes: varint(len<<1 | cut), bytes.
func appendString(b []byte, s string, limit int) []byte {
	s, cut := truncate(s, limit)
	h := uint64(len(s)) << 1
	if cut {
		h |= 1
	}
	b = binary.AppendUvarint(b, h)
	return append(b, s...)
}

// appendIndexed appends s as its table index when it has one, else as a
// string: varint(index<<1 | 1), or varint(len<<2 | cut<<1), bytes.
func appendIndexed(b []byte, s string, index map[string]uint64) []byte {
	if i, ok := index[s]; ok {
		return binary.AppendUvarint(b, i<<1|1)
	}
	s, cut := truncate(s, maxField)
	h := uint64(len(s)) << 2
	if cut {
		h |= 2
	}
	b = binary.AppendUvarint(b, h)
	return append(b, s...)
}

// truncate cuts s to at most limit bytes at a rune boundary.
func truncate(s string, limit int) (string, bool) {
	if len(s) <= limit {
		return s, false
	}
	n := limit
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], true
}

// plainReader decodes the compact encoding; the first error sticks.
type plainReader struct {
	b   []byte
	err error
	cut bool
}

func (r *plainReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: bad %s", ErrMalformed, what)
	}
}

func (r *plainReader) varint(what string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *plainReader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// bytes returns the next n bytes.
func (r *plainReader) bytes(n uint64, limit int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(limit) || n > uint64(len(r.b)) {
		r.fail(what)
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *plainReader) text(v []byte, cut bool) string {
	if cut {
		r.cut = true
		return string(v) + ellipsis
	}
	return string(v)
}

func (r *plainReader) str(limit int, what string) string {
	h := r.uvarint(what)
	v := r.bytes(h>>1, limit, what)
	return r.text(v, h&1 == 1)
}

func (r *plainReader) indexed(table []string, what string) string {
	h := r.uvarint(what)
	if r.err != nil {
		return ""
	}
	if h&1 == 1 {
		i := h >> 1
		if i >= uint64(len(table)) {
			// A table entry this build does not know: sealed by a newer
			// gateway.
			r.fail(what + " (unknown table index; decode with a newer pinpoint)")
			return ""
		}
		return table[i]
	}
	v := r.bytes(h>>2, maxField, what)
	return r.text(v, h&2 == 2)
}

// parsePlain decodes a plaintext written by appendPlain.
func parsePlain(b []byte) (Decision, error) {
	if len(b) == 0 {
		return Decision{}, fmt.Errorf("%w: empty body", ErrMalformed)
	}
	r := plainReader{b: b[1:]}
	var d Decision
	switch b[0] {
	case flagUUID:
		if v := r.bytes(16, 16, "request id"); v != nil {
			d.RequestID = formatUUID(v)
		}
	case 0:
		d.RequestID = r.str(maxRequestID, "request id")
	default:
		return Decision{}, fmt.Errorf("%w: unknown flags %#x", ErrMalformed, b[0])
	}
	ms := r.varint("time")
	d.Time = time.UnixMilli(ms).UTC()
	d.Revision = r.varint("revision")
	d.Code = r.indexed(codeTable[:], "code")
	d.Stage = r.indexed(stageTable[:], "stage")
	d.Route = r.str(maxField, "route")
	d.Rule = r.str(maxField, "rule")
	d.ConsumerID = r.str(maxField, "consumer id")
	d.CredentialID = r.str(maxField, "credential id")
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%w: %d unexpected trailing bytes", ErrMalformed, len(r.b))
	}
	if r.err != nil {
		return Decision{}, r.err
	}
	d.Truncated = r.cut
	return d, nil
}

// parseUUID decodes a lower-case canonical UUID ("01920d4e-8f3a-7b21-9c4d-
// 2f6e8a1b3c5d"); other spellings are kept as strings so that they round
// trip exactly.
func parseUUID(s string, out *[16]byte) bool {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
			continue
		}
		hi, ok1 := fromHex(s[i])
		lo, ok2 := fromHex(s[i+1])
		if !ok1 || !ok2 {
			return false
		}
		out[j] = hi<<4 | lo
		j++
		i += 2
	}
	return true
}

func fromHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

func formatUUID(v []byte) string {
	const hexDigits = "0123456789abcdef"
	var buf [36]byte
	j := 0
	for i, c := range v {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			buf[j] = '-'
			j++
		}
		buf[j], buf[j+1] = hexDigits[c>>4], hexDigits[c&0x0f]
		j += 2
	}
	return string(buf[:])
}
