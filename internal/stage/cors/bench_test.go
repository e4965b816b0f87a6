package cors

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

func benchStage(b *testing.B) *Stage {
	s, err := New(&config.CORS{
		AllowOrigins:     []string{"https://app.example.com", "https://*.example.com"},
		AllowCredentials: true,
	}, []string{"GET", "POST", "PUT"}, "X-API-Key")
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkActualAllowed: an actual request from an allowed (pattern)
// origin, decorated on a response header map the gateway reuses.
func BenchmarkActualAllowed(b *testing.B) {
	s := benchStage(b)
	r := httptest.NewRequest("POST", "/orders", nil)
	r.Header.Set("Origin", "https://shop.example.com")
	x := &pipeline.Exchange{Request: r, Scheme: "https", ResponseHeader: http.Header{}, Trace: make([]pipeline.Step, 0, 8)}
	b.ReportAllocs()
	for b.Loop() {
		clear(x.ResponseHeader)
		x.Trace = x.Trace[:0]
		if d := s.Handle(x); d.Ends() {
			b.Fatal(d)
		}
	}
}

// BenchmarkPreflight: an allowed preflight with two requested headers.
func BenchmarkPreflight(b *testing.B) {
	s := benchStage(b)
	r := httptest.NewRequest("OPTIONS", "/orders", nil)
	r.Header.Set("Origin", "https://app.example.com")
	r.Header.Set("Access-Control-Request-Method", "PUT")
	r.Header.Set("Access-Control-Request-Headers", "content-type,x-api-key")
	x := &pipeline.Exchange{Request: r, Scheme: "https", ResponseHeader: http.Header{}, Trace: make([]pipeline.Step, 0, 8)}
	b.ReportAllocs()
	for b.Loop() {
		x.Trace = x.Trace[:0]
		if d := s.Handle(x); d.Answer == nil {
			b.Fatal(d)
		}
	}
}
