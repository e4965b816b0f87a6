package accept

import (
	"net/netip"
	"strings"
	"testing"
)

// TestSpoofing pins the attacks the client IP resolution exists to stop.
// Each case is named for the attack.
func TestSpoofing(t *testing.T) {
	t.Parallel()
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, c := range []struct {
		name      string
		forwarded string // Config.ForwardedHeader
		remote    string
		headers   map[string][]string
		client    string
	}{
		{"client-supplied X-Forwarded-For must not change the client IP", "",
			"198.51.100.4:1", map[string][]string{"X-Forwarded-For": {"10.0.0.1"}}, "198.51.100.4"},
		{"client-supplied X-Real-IP must not change the client IP", "",
			"198.51.100.4:1", map[string][]string{"X-Real-Ip": {"10.0.0.1"}}, "198.51.100.4"},
		{"spoofed XFF prepended before a trusted proxy's append must not win", "",
			"10.0.0.2:1", map[string][]string{"X-Forwarded-For": {"1.2.3.4, 203.0.113.7"}}, "203.0.113.7"},
		{"spoofed XFF line before a trusted proxy's own line must not win", "",
			"10.0.0.2:1", map[string][]string{"X-Forwarded-For": {"1.2.3.4", "203.0.113.7"}}, "203.0.113.7"},
		{"spoofed trusted address in XFF must not make the client trusted", "",
			"10.0.0.2:1", map[string][]string{"X-Forwarded-For": {"10.9.9.9, 203.0.113.7"}}, "203.0.113.7"},
		{"Forwarded header from an untrusted peer is ignored", HeaderForwarded,
			"198.51.100.4:1", map[string][]string{"Forwarded": {"for=10.0.0.1"}}, "198.51.100.4"},
		{"client-supplied Forwarded must not override a trusted proxy's X-Forwarded-For", "",
			"10.0.0.2:1", map[string][]string{"Forwarded": {"for=1.2.3.4"}, "X-Forwarded-For": {"203.0.113.7"}}, "203.0.113.7"},
		{"client-supplied X-Forwarded-For must not override a trusted proxy's Forwarded", HeaderForwarded,
			"10.0.0.2:1", map[string][]string{"Forwarded": {"for=203.0.113.7"}, "X-Forwarded-For": {"1.2.3.4"}}, "203.0.113.7"},
		{"broken Forwarded element from the client must not hide the proxy's element", HeaderForwarded,
			"10.0.0.2:1", map[string][]string{"Forwarded": {`for="unterminated, for=10.9.9.9, for=203.0.113.7`}}, "203.0.113.7"},
		{"quoted string from the client must not swallow the proxy's element", HeaderForwarded,
			"10.0.0.2:1", map[string][]string{"Forwarded": {`x=", for="[2001:db8::cafe]"`}}, "2001:db8::cafe"},
		{"obfuscated hop from the client must not stop the walk early", HeaderForwarded,
			"10.0.0.2:1", map[string][]string{"Forwarded": {"for=_hidden, for=203.0.113.7"}}, "203.0.113.7"},
		{"IPv4-mapped peer address is still untrusted", "",
			"[::ffff:198.51.100.4]:1", map[string][]string{"X-Forwarded-For": {"10.0.0.1"}}, "198.51.100.4"},
		{"long spoofed chain cannot exhaust the hop limit before the real client", "",
			"10.0.0.2:1", map[string][]string{"X-Forwarded-For": {strings.Repeat("10.0.0.9, ", 60) + "203.0.113.7"}}, "203.0.113.7"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newTestStage(t, c.forwarded, "10.0.0.0/8")
			x, d := handle(s, newTestRequest("GET", "/", c.remote, c.headers))
			if d.Denied() {
				t.Fatal(d.Denial.Reason)
			}
			if got := x.ClientIP.String(); got != c.client {
				t.Fatalf("client IP %s, want %s (trace: %s)", got, c.client, x.Trace[0].Note)
			}
		})
	}

	t.Run("request id from untrusted peer replaced", func(t *testing.T) {
		t.Parallel()
		s := newTestStage(t, "", "10.0.0.0/8")
		x, _ := handle(s, newTestRequest("GET", "/", "198.51.100.4:1",
			map[string][]string{"X-Request-Id": {"chosen-by-client"}, "Traceparent": {tp}}))
		if x.ID == "chosen-by-client" || len(x.ID) != uuidLen {
			t.Fatalf("request id %q: an untrusted client chose its own id", x.ID)
		}
		if x.TraceParent == tp {
			t.Fatal("traceparent from an untrusted peer was kept")
		}
	})
	t.Run("request id and traceparent from trusted proxy kept", func(t *testing.T) {
		t.Parallel()
		s := newTestStage(t, "", "10.0.0.0/8")
		x, _ := handle(s, newTestRequest("GET", "/", "10.0.0.2:1",
			map[string][]string{"X-Request-Id": {"edge:42"}, "Traceparent": {tp}}))
		if x.ID != "edge:42" || x.TraceParent != tp {
			t.Fatalf("id %q traceparent %q: a trusted proxy's values must be kept", x.ID, x.TraceParent)
		}
	})
	t.Run("insane request id from trusted proxy replaced", func(t *testing.T) {
		t.Parallel()
		s := newTestStage(t, "", "10.0.0.0/8")
		x, _ := handle(s, newTestRequest("GET", "/", "10.0.0.2:1",
			map[string][]string{"X-Request-Id": {"a b\"c"}}))
		if len(x.ID) != uuidLen {
			t.Fatalf("request id %q was kept", x.ID)
		}
	})
}

// TestResolveClient covers the walk along the forwarding chain.
func TestResolveClient(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		mode    string
		peer    string
		headers map[string][]string
		client  string
		scheme  string
		stop    string
	}{
		{"no headers from trusted peer", "", "10.0.0.2", nil, "10.0.0.2", "", stopNoChain},
		{"whole chain trusted: leftmost", "", "10.0.0.2",
			map[string][]string{"X-Forwarded-For": {"10.0.0.5, 10.0.0.4"}}, "10.0.0.5", "", stopAllTrust},
		{"unknown stops the walk", "", "10.0.0.2",
			map[string][]string{"X-Forwarded-For": {"203.0.113.7, unknown, 10.0.0.4"}}, "10.0.0.4", "", stopUnknown},
		{"malformed rightmost hop: client is the peer", "", "10.0.0.2",
			map[string][]string{"X-Forwarded-For": {"203.0.113.7, 300.1.1.1"}}, "10.0.0.2", "", stopMalformed},
		{"empty elements and whitespace", "", "10.0.0.2",
			map[string][]string{"X-Forwarded-For": {" ,203.0.113.7 ,\t, ", ""}}, "203.0.113.7", "", stopNone},
		{"ports and brackets", "", "10.0.0.2",
			map[string][]string{"X-Forwarded-For": {"203.0.113.7:5555, [2001:db8::7]:443"}}, "2001:db8::7", "", stopNone},
		{"IPv4-mapped element unmapped", "", "10.0.0.2",
			map[string][]string{"X-Forwarded-For": {"::ffff:203.0.113.7"}}, "203.0.113.7", "", stopNone},
		{"hop limit", "", "10.0.0.2",
			map[string][]string{"X-Forwarded-For": {"203.0.113.7, " + strings.Repeat("10.0.0.9,", MaxHops)}}, "10.0.0.9", "", stopHopLimit},
		{"hop limit exactly reached is fine", "", "10.0.0.2",
			map[string][]string{"X-Forwarded-For": {"203.0.113.7" + strings.Repeat(",10.0.0.9", MaxHops-1)}}, "203.0.113.7", "", stopNone},
		{"X-Forwarded-Proto per hop", "", "10.0.0.2",
			map[string][]string{"X-Forwarded-For": {"203.0.113.7, 10.0.0.3"}, "X-Forwarded-Proto": {"https, http"}}, "203.0.113.7", "https", stopNone},
		{"X-Forwarded-Proto single value", "", "10.0.0.2",
			map[string][]string{"X-Forwarded-For": {"203.0.113.7, 10.0.0.3"}, "X-Forwarded-Proto": {"HTTPS"}}, "203.0.113.7", "https", stopNone},
		{"X-Forwarded-Proto mismatched list uses last", "", "10.0.0.2",
			map[string][]string{"X-Forwarded-For": {"203.0.113.7"}, "X-Forwarded-Proto": {"https, http"}}, "203.0.113.7", "http", stopNone},
		{"Forwarded IPv6 with port and proto", HeaderForwarded, "10.0.0.2",
			map[string][]string{"Forwarded": {`for="[2001:db8::1]:4711";proto=https;by=10.0.0.2`}}, "2001:db8::1", "https", stopNone},
		{"Forwarded unknown stops", HeaderForwarded, "10.0.0.2",
			map[string][]string{"Forwarded": {"for=203.0.113.7, for=unknown"}}, "10.0.0.2", "", stopUnknown},
		{"Forwarded obfuscated stops", HeaderForwarded, "10.0.0.2",
			map[string][]string{"Forwarded": {"for=203.0.113.7, for=_gw1"}}, "10.0.0.2", "", stopHidden},
		{"Forwarded element without for stops", HeaderForwarded, "10.0.0.2",
			map[string][]string{"Forwarded": {"for=203.0.113.7, proto=https"}}, "10.0.0.2", "", stopNoFor},
		{"Forwarded malformed rightmost element", HeaderForwarded, "10.0.0.2",
			map[string][]string{"Forwarded": {"for=203.0.113.7, for"}}, "10.0.0.2", "", stopMalformed},
		{"Forwarded several lines", HeaderForwarded, "10.0.0.2",
			map[string][]string{"Forwarded": {"for=203.0.113.7;proto=http", "for=10.0.0.3;proto=https"}}, "203.0.113.7", "http", stopNone},
		{"Forwarded hop limit", HeaderForwarded, "10.0.0.2",
			map[string][]string{"Forwarded": {"for=203.0.113.7" + strings.Repeat(",for=10.0.0.9", MaxHops)}}, "10.0.0.9", "", stopHopLimit},
		{"Forwarded mode ignores X-Forwarded-For", HeaderForwarded, "10.0.0.2",
			map[string][]string{"X-Forwarded-For": {"203.0.113.7"}}, "10.0.0.2", "", stopNoChain},
		{"auto prefers Forwarded", HeaderAuto, "10.0.0.2",
			map[string][]string{"Forwarded": {"for=203.0.113.8"}, "X-Forwarded-For": {"203.0.113.7"}}, "203.0.113.8", "", stopNone},
		{"auto falls back to X-Forwarded-For", HeaderAuto, "10.0.0.2",
			map[string][]string{"X-Forwarded-For": {"203.0.113.7"}}, "203.0.113.7", "", stopNone},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newTestStage(t, c.mode, "10.0.0.0/8")
			h := newTestRequest("GET", "/", "", c.headers).Header
			r := s.resolveClient(h, netip.MustParseAddr(c.peer), true)
			if r.client.String() != c.client || r.proto != c.scheme || r.stop != c.stop {
				t.Fatalf("got client %s proto %q stop %q; want %s %q %q", r.client, r.proto, r.stop, c.client, c.scheme, c.stop)
			}
		})
	}
}

func TestPeerAddr(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ remote, want string }{
		{"192.0.2.1:1234", "192.0.2.1"},
		{"[2001:db8::1]:80", "2001:db8::1"},
		{"[::ffff:192.0.2.1]:80", "192.0.2.1"},
		{"[fe80::1%eth0]:80", "fe80::1"},
		{"192.0.2.1", "192.0.2.1"},
		{"@", "invalid IP"},
		{"/run/pinpoint.sock", "invalid IP"},
		{"", "invalid IP"},
	} {
		t.Run(c.remote, func(t *testing.T) {
			t.Parallel()
			if got := peerAddr(c.remote).String(); got != c.want {
				t.Fatalf("peerAddr(%q) = %s, want %s", c.remote, got, c.want)
			}
		})
	}
}
