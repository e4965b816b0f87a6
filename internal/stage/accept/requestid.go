package accept

import (
	"crypto/rand"
	"sync"
	"sync/atomic"
	"time"
)

// maxRequestIDLen bounds a request id accepted from a trusted proxy.
const maxRequestIDLen = 128

// ValidRequestID reports whether id may be kept as a request id when a
// trusted proxy sends it: 1 to 128 characters of A-Z a-z 0-9 . _ : -.
// Anything else (spaces, quotes, control characters) could corrupt logs or
// headers, so it is replaced by a generated id.
func ValidRequestID(id string) bool {
	if len(id) == 0 || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// NewRequestID returns a new request id: a UUIDv7 (RFC 9562) as a 36-character
// lower-case string, e.g. "01920d4e-8f3a-7b21-9c4d-2f6e8a1b3c5d". Ids sort by
// creation time and are strictly increasing within one process.
func NewRequestID() string {
	var id [16]byte
	newUUIDv7(&id, time.Now())
	var b [uuidLen]byte
	return string(appendUUID(b[:0], &id))
}

// uuidLen is the length of a UUID in its 8-4-4-4-12 text form.
const uuidLen = 36

// traceParentLen is the length of a version 00 W3C traceparent.
const traceParentLen = 55

// clock is the UUIDv7 timestamp and counter: the Unix time in milliseconds in
// the upper 52 bits, a 12-bit counter (the rand_a field) in the lower 12.
// Advancing it with compare-and-swap makes ids strictly increasing without a
// lock (RFC 9562 section 6.2, method 1); when the counter overflows it carries
// into the timestamp, which the RFC allows.
var clock atomic.Uint64

// newUUIDv7 fills id with a fresh UUIDv7 for the time now (passed in so
// that Handle reads the clock once for the id and its trace step).
func newUUIDv7(id *[16]byte, now time.Time) {
	var rnd [10]byte
	randomBytes(rnd[:])
	floor := uint64(now.UnixMilli()) << 12 // this millisecond, counter 0
	var next uint64
	for {
		old := clock.Load()
		next = old + 1
		if floor > old {
			// A new millisecond: start the counter at a random value with its
			// top bit clear, so it has room to count before it carries.
			next = floor | uint64(rnd[8])<<3&0x7ff | uint64(rnd[9]&7)
		}
		if clock.CompareAndSwap(old, next) {
			break
		}
	}
	ms := next >> 12
	id[0] = byte(ms >> 40)
	id[1] = byte(ms >> 32)
	id[2] = byte(ms >> 24)
	id[3] = byte(ms >> 16)
	id[4] = byte(ms >> 8)
	id[5] = byte(ms)
	id[6] = 0x70 | byte(next>>8)&0x0f
	id[7] = byte(next)
	copy(id[8:], rnd[:8])
	id[8] = 0x80 | id[8]&0x3f
}

// randBuf is a batch of random bytes from crypto/rand; off marks how many
// have been handed out. Bytes are never handed out twice.
type randBuf struct {
	b   [1024]byte
	off int
}

// randPool keeps one batch per P, so generating an id neither locks nor
// makes a system call except once every few dozen ids.
var randPool = sync.Pool{New: func() any { return &randBuf{off: len(randBuf{}.b)} }}

// randomBytes fills p (at most 1024 bytes) with cryptographically random bytes.
func randomBytes(p []byte) {
	r := randPool.Get().(*randBuf)
	if len(r.b)-r.off < len(p) {
		rand.Read(r.b[:]) // never fails since Go 1.24
		r.off = 0
	}
	r.off += copy(p, r.b[r.off:])
	randPool.Put(r)
}

const hexDigits = "0123456789abcdef"

// appendHex appends the lower-case hex form of p to b.
func appendHex(b []byte, p []byte) []byte {
	for _, c := range p {
		b = append(b, hexDigits[c>>4], hexDigits[c&0x0f])
	}
	return b
}

// appendUUID appends id in its 8-4-4-4-12 text form.
func appendUUID(b []byte, id *[16]byte) []byte {
	b = appendHex(b, id[0:4])
	b = append(b, '-')
	b = appendHex(b, id[4:6])
	b = append(b, '-')
	b = appendHex(b, id[6:8])
	b = append(b, '-')
	b = appendHex(b, id[8:10])
	b = append(b, '-')
	return appendHex(b, id[10:16])
}

// appendTraceParent appends a version 00 traceparent,
// "00-<trace id>-<span id>-01" when sampled, else ending in "-00".
func appendTraceParent(b []byte, trace *[16]byte, span *[8]byte, sampled bool) []byte {
	b = append(b, "00-"...)
	b = appendHex(b, trace[:])
	b = append(b, '-')
	b = appendHex(b, span[:])
	if sampled {
		return append(b, "-01"...)
	}
	return append(b, "-00"...)
}

// newSpanID returns a random, non-zero span id.
func newSpanID() [8]byte {
	var s [8]byte
	randomBytes(s[:])
	if s == [8]byte{} {
		s[7] = 1
	}
	return s
}

// newTraceID returns a random, non-zero trace id.
func newTraceID() [16]byte {
	var t [16]byte
	randomBytes(t[:])
	if t == [16]byte{} {
		t[15] = 1
	}
	return t
}

// ValidTraceParent reports whether tp is a W3C traceparent this gateway
// passes on: version 00, lower-case hex, non-zero trace id and parent id,
// e.g. "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".
func ValidTraceParent(tp string) bool {
	if len(tp) != traceParentLen || tp[0] != '0' || tp[1] != '0' ||
		tp[2] != '-' || tp[35] != '-' || tp[52] != '-' {
		return false
	}
	return lowerHex(tp[3:35]) && lowerHex(tp[36:52]) && lowerHex(tp[53:55]) &&
		!allZero(tp[3:35]) && !allZero(tp[36:52])
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func allZero(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}
