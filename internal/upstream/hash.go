package upstream

import (
	"slices"
	"strconv"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// vnodesPerWeight is how many points each unit of weight puts on the ring.
// 160 (as in ketama) keeps the share of each target within a few percent of
// its weight while the ring stays small (160 points per target of weight 1).
const vnodesPerWeight = 160

// consistentHash maps a request key onto a ring of virtual nodes and walks
// clockwise to the first eligible target. Points are derived from the target
// URLs only, so adding or removing a target (or ejecting one) moves only the
// keys that land on that target's points.
type consistentHash struct {
	ring ring
	key  hashKey
}

func (b *consistentHash) pick(x *pipeline.Exchange, now int64, tried []*target) *target {
	return b.ring.lookup(b.key.sum(x), now, tried)
}

type point struct {
	hash uint64
	t    *target
}

type ring []point

func newRing(ts []*target) ring {
	n := 0
	for _, t := range ts {
		n += t.weight * vnodesPerWeight
	}
	r := make(ring, 0, n)
	buf := make([]byte, 0, 128)
	for _, t := range ts {
		for v := range t.weight * vnodesPerWeight {
			buf = append(buf[:0], t.display...)
			buf = append(buf, '#')
			buf = strconv.AppendInt(buf, int64(v), 10)
			r = append(r, point{hash: hashBytes(buf), t: t})
		}
	}
	slices.SortFunc(r, func(a, b point) int {
		switch {
		case a.hash < b.hash:
			return -1
		case a.hash > b.hash:
			return 1
		}
		// Equal hashes (astronomically rare) order by target for determinism.
		return a.t.index - b.t.index
	})
	return r
}

// lookup returns the first eligible target at or after h on the ring.
func (r ring) lookup(h uint64, now int64, tried []*target) *target {
	if len(r) == 0 {
		return nil
	}
	i, _ := slices.BinarySearchFunc(r, h, func(p point, h uint64) int {
		switch {
		case p.hash < h:
			return -1
		case p.hash > h:
			return 1
		}
		return 0
	})
	var last *target
	for j := range len(r) {
		t := r[(i+j)%len(r)].t
		if t == last {
			continue // consecutive points of a target already refused
		}
		if eligible(t, now, tried) {
			return t
		}
		last = t
	}
	return nil
}

// FNV-1a 64 followed by murmur3's finalizer: FNV alone clusters keys that
// differ only in their last bytes ("host#1", "host#2"), which would bunch
// a target's virtual nodes together on the ring.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashString(s string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return mix64(h)
}

func hashBytes(b []byte) uint64 {
	h := uint64(fnvOffset)
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return mix64(h)
}

func mix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}
