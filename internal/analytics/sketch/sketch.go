// Package sketch is a mergeable quantile sketch with relative accuracy, in
// the manner of DDSketch (Masson, Rim, Lee: "DDSketch: a fast and
// fully-mergeable quantile sketch with relative-error guarantees", VLDB 2019).
//
// Values fall into logarithmic buckets: bucket i holds the values in
// (γ^(i-1), γ^i] with γ = (1+α)/(1-α), so that answering a quantile with the
// bucket's representative value 2γ^i/(γ+1) is off by at most α = 1 % of the
// true value. Two sketches merge by adding their buckets, exactly as if one
// sketch had seen both streams: per-minute latency sketches of every node
// merge into hour and day sketches without losing accuracy.
//
// The bucket count is bounded (DefaultMaxBins): when the values span more
// buckets than that, the lowest buckets are collapsed into one, so the low
// quantiles lose accuracy first and the high ones (p90, p99) keep it.
package sketch

import (
	"math"
)

// RelativeAccuracy is α: a quantile is answered within ±1 % of the value
// of that rank.
const RelativeAccuracy = 0.01

// DefaultMaxBins bounds the buckets of a sketch. With α = 1 % it covers a
// ratio of e^40 between the smallest and largest value before collapsing,
// far more than latencies need (1 µs to 1 h is a ratio of 3.6e9, 1100 buckets).
const DefaultMaxBins = 2048

// MinValue is the smallest positive value with a bucket of its own;
// smaller ones (and zero and negative values) are counted as zero.
const MinValue = 1e-9

var (
	gamma       = (1 + RelativeAccuracy) / (1 - RelativeAccuracy)
	logGamma    = math.Log(gamma)
	invLogGamma = 1 / logGamma
)

// Sketch is a quantile sketch of non-negative values. The zero value is
// not usable; call New. A Sketch is not safe for concurrent use.
type Sketch struct {
	maxBins int
	// zero counts the values below MinValue.
	zero uint64
	// count is the number of values (zero included).
	count    uint64
	min, max float64
	// bins[i] counts the values of bucket offset+i.
	offset int
	bins   []uint64
}

// New returns an empty sketch bounded to DefaultMaxBins buckets.
func New() *Sketch { return NewBounded(DefaultMaxBins) }

// NewBounded returns an empty sketch bounded to maxBins buckets (at least 1).
func NewBounded(maxBins int) *Sketch {
	return &Sketch{maxBins: max(1, maxBins), min: math.Inf(1), max: math.Inf(-1)}
}

// Reset empties s, keeping its memory.
func (s *Sketch) Reset() {
	s.zero, s.count, s.offset = 0, 0, 0
	s.min, s.max = math.Inf(1), math.Inf(-1)
	clear(s.bins)
	s.bins = s.bins[:0]
}

// Count is the number of values added.
func (s *Sketch) Count() uint64 { return s.count }

// Min and Max are the exact smallest and largest values added (0 when empty).
func (s *Sketch) Min() float64 {
	if s.count == 0 {
		return 0
	}
	return s.min
}

// Max: see Min.
func (s *Sketch) Max() float64 {
	if s.count == 0 {
		return 0
	}
	return s.max
}

// Bins is the number of buckets the sketch holds (empty ones included).
func (s *Sketch) Bins() int { return len(s.bins) }

// index is the bucket of v ≥ MinValue.
func index(v float64) int { return int(math.Ceil(math.Log(v) * invLogGamma)) }

// value is the representative value of bucket i: within α of every value
// of the bucket.
func value(i int) float64 { return 2 * math.Exp(float64(i)*logGamma) / (gamma + 1) }

// Add adds one value.
func (s *Sketch) Add(v float64) { s.AddN(v, 1) }

// AddN adds n occurrences of v. NaN is ignored.
func (s *Sketch) AddN(v float64, n uint64) {
	if n == 0 || v != v {
		return
	}
	if v < 0 {
		v = 0
	}
	s.count += n
	s.min = min(s.min, v)
	s.max = max(s.max, v)
	if v < MinValue {
		s.zero += n
		return
	}
	if math.IsInf(v, 1) {
		v = math.MaxFloat64
	}
	s.addBin(index(v), n)
}

// addBin adds n to bucket i, which collapses into the lowest bucket when
// it is below the kept range.
func (s *Sketch) addBin(i int, n uint64) {
	if len(s.bins) == 0 || i < s.offset || i >= s.offset+len(s.bins) {
		s.cover(i, i)
	}
	s.bins[max(0, i-s.offset)] += n
}

// cover extends the bins to include buckets lo..hi, collapsing the lowest
// ones into one when the span would exceed maxBins.
func (s *Sketch) cover(lo, hi int) {
	if len(s.bins) > 0 {
		lo = min(lo, s.offset)
		hi = max(hi, s.offset+len(s.bins)-1)
	}
	if hi-lo+1 > s.maxBins {
		lo = hi - s.maxBins + 1
	}
	n := hi - lo + 1
	if len(s.bins) > 0 && lo == s.offset && n <= cap(s.bins) {
		old := len(s.bins)
		s.bins = s.bins[:n]
		clear(s.bins[old:])
		return
	}
	nb := make([]uint64, n, min(s.maxBins, n+n/4+16))
	for j, c := range s.bins {
		nb[max(0, s.offset+j-lo)] += c
	}
	s.offset, s.bins = lo, nb
}

// Merge adds every value of o to s, as if s had seen them. o is unchanged.
func (s *Sketch) Merge(o *Sketch) {
	if o.count == 0 {
		return
	}
	s.count += o.count
	s.zero += o.zero
	s.min = min(s.min, o.min)
	s.max = max(s.max, o.max)
	first, last := -1, -1
	for j, c := range o.bins {
		if c != 0 {
			if first < 0 {
				first = j
			}
			last = j
		}
	}
	if first < 0 {
		return
	}
	s.cover(o.offset+first, o.offset+last)
	for j := first; j <= last; j++ {
		if c := o.bins[j]; c != 0 {
			s.bins[max(0, o.offset+j-s.offset)] += c
		}
	}
}

// Quantile returns the value of rank q·(n-1) (q in [0, 1]) within
// RelativeAccuracy, for buckets that were not collapsed; 0 when empty.
func (s *Sketch) Quantile(q float64) float64 {
	if s.count == 0 || q != q {
		return 0
	}
	q = min(1, max(0, q))
	rank := q * float64(s.count-1)
	if float64(s.zero) > rank {
		return s.min
	}
	cum := s.zero
	for j, c := range s.bins {
		cum += c
		if float64(cum) > rank {
			return min(s.max, max(s.min, value(s.offset+j)))
		}
	}
	return s.max
}
