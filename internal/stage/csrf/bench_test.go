package csrf

import (
	"net/http/httptest"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// BenchmarkSameOriginWithToken: the pass path of a browser POST
// (Sec-Fetch-Site: same-origin) with a matching double-submit token.
func BenchmarkSameOriginWithToken(b *testing.B) {
	s, err := New(&config.CSRF{TrustedOrigins: []string{"https://admin.example.com"}, Token: &config.CSRFToken{}})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("POST", "https://api.example.com/orders", nil)
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	r.Header.Set("Origin", "https://api.example.com")
	r.Header.Set("X-CSRF-Token", "0123456789abcdef0123456789abcdef0123456789abcdef")
	r.Header.Set("Cookie", "session=s3ss10n; csrf_token=0123456789abcdef0123456789abcdef0123456789abcdef; theme=dark")
	x := &pipeline.Exchange{Request: r}
	b.ReportAllocs()
	for b.Loop() {
		if d := s.Handle(x); d.Ends() {
			b.Fatal(d.Denial.Reason)
		}
	}
}

// BenchmarkOriginFallback: a POST from an old browser (Origin, no
// Sec-Fetch-Site) that matches Host; CrossOriginProtection parses Origin.
func BenchmarkOriginFallback(b *testing.B) {
	s, err := New(&config.CSRF{})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("POST", "https://api.example.com/orders", nil)
	r.Header.Set("Origin", "https://api.example.com")
	x := &pipeline.Exchange{Request: r}
	b.ReportAllocs()
	for b.Loop() {
		if d := s.Handle(x); d.Ends() {
			b.Fatal(d.Denial.Reason)
		}
	}
}
