package redact

import "testing"

// BenchmarkTextClean is the common case of free text: nothing to hide,
// found without running a regexp.
func BenchmarkTextClean(b *testing.B) {
	p := Default()
	s := "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Text(s)
	}
}

// BenchmarkHeaderLookup is the check the call log makes for every header.
func BenchmarkHeaderLookup(b *testing.B) {
	p := Default()
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Header("User-Agent")
		_ = p.Header("X-Forwarded-For")
	}
}
