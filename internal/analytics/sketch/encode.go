package sketch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Version is the first byte of every encoded sketch. A decoder refuses
// other versions, so a future encoding can change α or the layout.
const Version byte = 1

// The encoding (all integers unsigned varints unless said otherwise):
//
//	version byte (1)
//	zero count
//	number of non-empty buckets k
//	when the sketch is not empty: min and max, 8 bytes each (IEEE 754, little endian)
//	k times: bucket index (the first as a zigzag varint, then the gap to
//	the previous one, ≥ 1) and its count (≥ 1)
//
// An empty sketch is 3 bytes; 100 latencies of one route about 150, and
// 60,000 (a minute at 1000/s) about 500.

// Encode returns the compact binary form of s.
func (s *Sketch) Encode() []byte { return s.AppendEncode(nil) }

// AppendEncode appends the binary form of s to dst.
func (s *Sketch) AppendEncode(dst []byte) []byte {
	k := 0
	for _, c := range s.bins {
		if c != 0 {
			k++
		}
	}
	dst = append(dst, Version)
	dst = binary.AppendUvarint(dst, s.zero)
	dst = binary.AppendUvarint(dst, uint64(k))
	if s.count == 0 {
		return dst
	}
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(s.min))
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(s.max))
	prev, first := 0, true
	for j, c := range s.bins {
		if c == 0 {
			continue
		}
		i := s.offset + j
		if first {
			dst = binary.AppendVarint(dst, int64(i))
			first = false
		} else {
			dst = binary.AppendUvarint(dst, uint64(i-prev))
		}
		dst = binary.AppendUvarint(dst, c)
		prev = i
	}
	return dst
}

// maxIndex bounds bucket indexes: MinValue and math.MaxFloat64 lie well inside.
const maxIndex = 40000

// Decode parses an encoded sketch. It refuses unknown versions, truncated
// or trailing bytes, empty buckets, out-of-range indexes, spans wider than
// DefaultMaxBins and counts that overflow.
func Decode(b []byte) (*Sketch, error) {
	if len(b) == 0 {
		return nil, errors.New("sketch: empty encoding")
	}
	if b[0] != Version {
		return nil, fmt.Errorf("sketch: unknown version %d", b[0])
	}
	r := reader{b: b[1:]}
	s := New()
	s.zero = r.uvarint()
	k := r.uvarint()
	if r.err != nil {
		return nil, r.err
	}
	if k > DefaultMaxBins {
		return nil, fmt.Errorf("sketch: %d buckets exceed %d", k, DefaultMaxBins)
	}
	if k == 0 && s.zero == 0 {
		if len(r.b) != 0 {
			return nil, errors.New("sketch: trailing bytes")
		}
		return s, nil
	}
	s.min, s.max = r.float(), r.float()
	if r.err != nil {
		return nil, r.err
	}
	if !(s.min >= 0 && s.min <= s.max && !math.IsInf(s.max, 0)) {
		return nil, errors.New("sketch: bad min or max")
	}
	s.count = s.zero
	idx := make([]int, 0, k)
	cnt := make([]uint64, 0, k)
	for n := uint64(0); n < k; n++ {
		var i int64
		if n == 0 {
			i = r.varint()
		} else {
			gap := r.uvarint()
			if gap == 0 || gap > 2*maxIndex {
				return nil, errors.New("sketch: bucket indexes not increasing")
			}
			i = int64(idx[n-1]) + int64(gap)
		}
		c := r.uvarint()
		if r.err != nil {
			return nil, r.err
		}
		if i < -maxIndex || i > maxIndex {
			return nil, fmt.Errorf("sketch: bucket index %d out of range", i)
		}
		if c == 0 {
			return nil, errors.New("sketch: empty bucket")
		}
		if s.count+c < s.count {
			return nil, errors.New("sketch: count overflows")
		}
		s.count += c
		idx, cnt = append(idx, int(i)), append(cnt, c)
	}
	if len(r.b) != 0 {
		return nil, errors.New("sketch: trailing bytes")
	}
	if k > 0 {
		if span := idx[k-1] - idx[0] + 1; span > DefaultMaxBins {
			return nil, fmt.Errorf("sketch: buckets span %d, more than %d", span, DefaultMaxBins)
		}
		s.offset = idx[0]
		s.bins = make([]uint64, idx[k-1]-idx[0]+1)
		for n, i := range idx {
			s.bins[i-s.offset] = cnt[n]
		}
	}
	return s, nil
}

// MergeEncoded merges two encoded sketches and returns the encoding of the
// union; it is the merge function the store applies to roll-up rows. An
// undecodable side is dropped (the other is returned) rather than losing both.
func MergeEncoded(old, new []byte) []byte {
	a, errA := Decode(old)
	b, errB := Decode(new)
	switch {
	case errA != nil && errB != nil:
		return nil
	case errA != nil:
		return new
	case errB != nil:
		return old
	}
	a.Merge(b)
	return a.Encode()
}

type reader struct {
	b   []byte
	err error
}

var (
	errTruncated = errors.New("sketch: truncated encoding")
	// errOverlong refuses varints longer than needed, so that every
	// sketch has exactly one encoding.
	errOverlong = errors.New("sketch: overlong varint")
)

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errTruncated
		return 0
	}
	if n > 1 && r.b[n-1] == 0 {
		r.err = errOverlong
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errTruncated
		return 0
	}
	if n > 1 && r.b[n-1] == 0 {
		r.err = errOverlong
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) float() float64 {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 8 {
		r.err = errTruncated
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}
