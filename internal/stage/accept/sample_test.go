package accept

import (
	"net/netip"
	"strings"
	"testing"
)

// The sampled flag of a generated traceparent follows Config.SampleTrace,
// which sees the trace id written into it; a trusted proxy's traceparent
// keeps its own flag.
func TestGeneratedTraceparentSampledFlag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		sample func([16]byte) bool
		suffix string
	}{
		{"no sampler: sampled", nil, "-01"},
		{"sampler says yes", func([16]byte) bool { return true }, "-01"},
		{"sampler says no", func([16]byte) bool { return false }, "-00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var seen string
			sample := tc.sample
			if sample != nil {
				inner := sample
				sample = func(id [16]byte) bool {
					seen = string(appendHex(nil, id[:]))
					return inner(id)
				}
			}
			s, err := New(Config{Limits: testLimits, SampleTrace: sample,
				TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
			if err != nil {
				t.Fatal(err)
			}
			x, d := handle(s, newTestRequest("GET", "/", "192.0.2.1:1234", nil))
			if d.Denied() || !ValidTraceParent(x.TraceParent) || !strings.HasSuffix(x.TraceParent, tc.suffix) {
				t.Fatalf("traceparent %q (%v), want a valid one ending %s", x.TraceParent, d.Denial, tc.suffix)
			}
			if sample != nil && x.TraceParent[3:35] != seen {
				t.Errorf("sampler saw trace id %s, traceparent has %s", seen, x.TraceParent[3:35])
			}
			const incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
			x, _ = handle(s, newTestRequest("GET", "/", "10.0.0.2:1234", map[string][]string{"Traceparent": {incoming}}))
			if x.TraceParent != incoming {
				t.Errorf("trusted traceparent became %q", x.TraceParent)
			}
		})
	}
}

// A sampler costs the common request no allocation (the trace id is
// passed by value).
func TestSampleTraceDoesNotAllocate(t *testing.T) {
	base, err := New(Config{Limits: testLimits})
	if err != nil {
		t.Fatal(err)
	}
	sampled, err := New(Config{Limits: testLimits, SampleTrace: func(id [16]byte) bool { return id[15]&1 == 0 }})
	if err != nil {
		t.Fatal(err)
	}
	r := newTestRequest("GET", "/orders", "192.0.2.1:1234", nil)
	allocs := func(s *Stage) float64 {
		return testing.AllocsPerRun(200, func() { handle(s, r) })
	}
	if a, b := allocs(base), allocs(sampled); b > a {
		t.Errorf("with a sampler Handle allocates %.0f times, without %.0f", b, a)
	}
}
