package token

import "testing"

// BenchmarkSeal measures sealing a typical refusal (target ≤ 5 µs).
func BenchmarkSeal(b *testing.B) {
	r := testRing(b, testKey("k2026-12", 1), testKey("k1", 2))
	d := typical()
	b.ReportAllocs()
	for b.Loop() {
		_ = r.Seal(&d)
	}
}

// BenchmarkOpen measures opening a typical token.
func BenchmarkOpen(b *testing.B) {
	r := testRing(b, testKey("k2026-12", 1), testKey("k1", 2))
	d := typical()
	tok := r.Seal(&d)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Open(tok); err != nil {
			b.Fatal(err)
		}
	}
}
