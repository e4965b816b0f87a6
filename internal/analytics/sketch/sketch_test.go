package sketch

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

var quantiles = []float64{0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1}

// datasets are value streams with different shapes; latencies in
// nanoseconds mostly.
func datasets() map[string][]float64 {
	r := rand.New(rand.NewPCG(1, 2))
	gen := func(n int, f func() float64) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = f()
		}
		return out
	}
	return map[string][]float64{
		"uniform 1ms-100ms": gen(10000, func() float64 { return 1e6 + r.Float64()*99e6 }),
		"lognormal latency": gen(20000, func() float64 { return math.Exp(13 + 1.5*r.NormFloat64()) }),
		"pareto tail":       gen(5000, func() float64 { return 1e5 / math.Pow(r.Float64()+1e-12, 1/1.2) }),
		"constant":          gen(1000, func() float64 { return 1234567 }),
		"one value":         {42},
		"with zeros":        append(gen(500, func() float64 { return 0 }), gen(1500, func() float64 { return 1 + r.Float64()*1e4 })...),
		"integers 1..1000":  gen(1000, func() float64 { return float64(1 + r.IntN(1000)) }),
	}
}

// checkQuantiles compares s with the exact quantiles of the sorted data:
// the element at rank floor(q·(n-1)), within RelativeAccuracy.
func checkQuantiles(t *testing.T, s *Sketch, data []float64) {
	t.Helper()
	sorted := slices.Clone(data)
	slices.Sort(sorted)
	for _, q := range quantiles {
		want := sorted[int(q*float64(len(sorted)-1))]
		got := s.Quantile(q)
		if math.Abs(got-want) > RelativeAccuracy*want+1e-12 {
			t.Errorf("q=%v: got %v, want %v ± %.0f%%", q, got, want, RelativeAccuracy*100)
		}
	}
	if s.Count() != uint64(len(data)) {
		t.Errorf("Count = %d, want %d", s.Count(), len(data))
	}
	if s.Min() != sorted[0] || s.Max() != sorted[len(sorted)-1] {
		t.Errorf("Min, Max = %v, %v, want %v, %v", s.Min(), s.Max(), sorted[0], sorted[len(sorted)-1])
	}
}

func TestQuantilesAgainstSortedData(t *testing.T) {
	t.Parallel()
	for name, data := range datasets() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := New()
			for _, v := range data {
				s.Add(v)
			}
			checkQuantiles(t, s, data)
		})
	}
}

func TestMergeIsUnion(t *testing.T) {
	t.Parallel()
	for name, data := range datasets() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			all := New()
			for _, v := range data {
				all.Add(v)
			}
			// Split the stream into three parts seen by three "nodes".
			parts := []*Sketch{New(), New(), New()}
			for i, v := range data {
				parts[i%3].Add(v)
			}
			merged := New()
			for _, p := range parts {
				merged.Merge(p)
			}
			if !bytes.Equal(merged.Encode(), all.Encode()) {
				t.Fatalf("merge of the parts differs from the sketch of the whole stream")
			}
			checkQuantiles(t, merged, data)
		})
	}
}

func TestMergeEmpty(t *testing.T) {
	t.Parallel()
	a, b := New(), New()
	a.Merge(b)
	if a.Count() != 0 || a.Quantile(0.5) != 0 {
		t.Fatalf("empty merge: count %d", a.Count())
	}
	b.Add(5)
	a.Merge(b)
	if a.Count() != 1 || a.Quantile(0.99) != 5 {
		t.Fatalf("after merge: count %d, p99 %v", a.Count(), a.Quantile(0.99))
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for name, data := range datasets() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := New()
			for _, v := range data {
				s.Add(v)
			}
			enc := s.Encode()
			d, err := Decode(enc)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(d.Encode(), enc) {
				t.Fatalf("re-encoding differs")
			}
			for _, q := range quantiles {
				if d.Quantile(q) != s.Quantile(q) {
					t.Errorf("q=%v: decoded %v, original %v", q, d.Quantile(q), s.Quantile(q))
				}
			}
			if d.Count() != s.Count() || d.Min() != s.Min() || d.Max() != s.Max() {
				t.Errorf("decoded count/min/max differ")
			}
		})
	}
	empty, err := Decode(New().Encode())
	if err != nil || empty.Count() != 0 {
		t.Fatalf("empty round trip: %v, count %d", err, empty.Count())
	}
}

func TestEncodingIsCompact(t *testing.T) {
	t.Parallel()
	s := New()
	r := rand.New(rand.NewPCG(3, 4))
	for range 60000 { // a busy minute: 1000 requests/s
		s.Add(math.Exp(15 + 0.5*r.NormFloat64())) // around 3 ms
	}
	if n := len(s.Encode()); n > 600 {
		t.Fatalf("a minute of latencies encodes to %d bytes, want at most 600", n)
	}
	if n := len(New().Encode()); n != 3 {
		t.Fatalf("an empty sketch encodes to %d bytes, want 3", n)
	}
}

func TestCollapseKeepsHighQuantiles(t *testing.T) {
	t.Parallel()
	// 64 buckets cover a ratio of γ^64 ≈ 3.6; the data spans 1 to 1e6,
	// so the low buckets collapse while p90 and above stay exact.
	s := NewBounded(64)
	var data []float64
	for i := 1; i <= 100000; i++ {
		v := float64(i) * float64(i) / 1e4 // 1e-4 .. 1e6
		if v < 1 {
			v = 1
		}
		data = append(data, v)
		s.Add(v)
	}
	if s.Bins() > 64 {
		t.Fatalf("%d bins, bound is 64", s.Bins())
	}
	sorted := slices.Clone(data)
	slices.Sort(sorted)
	for _, q := range []float64{0.9, 0.95, 0.99, 1} {
		want := sorted[int(q*float64(len(sorted)-1))]
		if got := s.Quantile(q); math.Abs(got-want) > RelativeAccuracy*want {
			t.Errorf("q=%v after collapsing: got %v, want %v", q, got, want)
		}
	}
	// Collapsed values are answered with the lowest kept bucket: too high,
	// never too low, and never below the true minimum.
	if got := s.Quantile(0.01); got < sorted[int(0.01*float64(len(sorted)-1))] {
		t.Errorf("p1 after collapsing: %v is below the true value", got)
	}
	// Merging into a bounded sketch respects the bound too.
	m := NewBounded(64)
	wide := New()
	for _, v := range data {
		wide.Add(v)
	}
	m.Merge(wide)
	if m.Bins() > 64 || m.Count() != uint64(len(data)) {
		t.Fatalf("merge into a bounded sketch: %d bins, count %d", m.Bins(), m.Count())
	}
	if got, want := m.Quantile(0.99), s.Quantile(0.99); got != want {
		t.Errorf("p99 merged %v, added %v", got, want)
	}
}

func TestDecodeRefuses(t *testing.T) {
	t.Parallel()
	good := New()
	good.Add(10)
	good.Add(1000)
	enc := good.Encode()
	cases := map[string][]byte{
		"empty":          {},
		"version 2":      append([]byte{2}, enc[1:]...),
		"truncated":      enc[:len(enc)-1],
		"trailing bytes": append(slices.Clone(enc), 0),
		"bins only":      {Version, 0, 1},
		"too many bins":  {Version, 0, 0xff, 0xff, 0x03},
	}
	for name, b := range cases {
		if _, err := Decode(b); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

func TestMergeEncoded(t *testing.T) {
	t.Parallel()
	a, b := New(), New()
	a.Add(1e6)
	b.Add(2e6)
	m, err := Decode(MergeEncoded(a.Encode(), b.Encode()))
	if err != nil || m.Count() != 2 || m.Max() != 2e6 {
		t.Fatalf("merged: %v, count %d", err, m.Count())
	}
	if got := MergeEncoded([]byte("junk"), b.Encode()); !bytes.Equal(got, b.Encode()) {
		t.Fatalf("a bad old side must leave the new side")
	}
	if got := MergeEncoded(a.Encode(), nil); !bytes.Equal(got, a.Encode()) {
		t.Fatalf("a bad new side must leave the old side")
	}
}

func FuzzDecode(f *testing.F) {
	s := New()
	for _, v := range []float64{0, 1, 17, 1e3, 1e6, 1e9} {
		s.Add(v)
	}
	f.Add(s.Encode())
	f.Add(New().Encode())
	f.Add([]byte{Version, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Decode(b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to the same bytes and answers queries.
		enc := d.Encode()
		if !bytes.Equal(enc, b) {
			t.Fatalf("re-encoding %x gave %x", b, enc)
		}
		_ = d.Quantile(0.5)
		m := New()
		m.Merge(d)
		m.Merge(d)
		if m.Count() != 2*d.Count() && d.Count() < math.MaxUint64/2 {
			t.Fatalf("merge count %d, want %d", m.Count(), 2*d.Count())
		}
	})
}

func BenchmarkAdd(b *testing.B) {
	s := New()
	r := rand.New(rand.NewPCG(5, 6))
	vals := make([]float64, 1024)
	for i := range vals {
		vals[i] = math.Exp(15 + r.NormFloat64())
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Add(vals[i&1023])
	}
}

func BenchmarkEncodeDecode(b *testing.B) {
	s := New()
	r := rand.New(rand.NewPCG(7, 8))
	for range 60000 {
		s.Add(math.Exp(15 + r.NormFloat64()))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(s.Encode()); err != nil {
			b.Fatal(err)
		}
	}
}
