package ip

import (
	"fmt"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// BenchmarkAllowed: an allowed address against a 1,000-entry allow list
// and a 100-entry deny list (gateway deny, route allow).
func BenchmarkAllowed(b *testing.B) {
	var allow, deny []string
	for i := range 1000 {
		// Every other /24, so that the set keeps 1,000 separate ranges.
		allow = append(allow, fmt.Sprintf("10.%d.%d.0/24", i/125, i%125*2))
	}
	for i := range 100 {
		deny = append(deny, fmt.Sprintf("192.0.%d.%d", i/50, i%50*4))
	}
	global, err := Compile(config.IPFilter{Deny: deny})
	if err != nil {
		b.Fatal(err)
	}
	route, err := Compile(config.IPFilter{Allow: allow})
	if err != nil {
		b.Fatal(err)
	}
	s := New(global, route)
	x := &pipeline.Exchange{
		Request:  httptest.NewRequest("GET", "/", nil),
		ClientIP: netip.MustParseAddr("10.3.200.9"),
		Trace:    make([]pipeline.Step, 0, 8),
	}
	b.ReportAllocs()
	for b.Loop() {
		x.Trace = x.Trace[:0]
		if d := s.Handle(x); d.Ends() {
			b.Fatal(d.Denial.Reason)
		}
	}
}
