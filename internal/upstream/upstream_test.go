package upstream

import (
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/config"
)

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		cfg     config.Upstream
		wantErr string
	}{
		{"no targets", config.Upstream{Name: "a"}, "at least one target"},
		{"bad scheme", config.Upstream{Targets: []config.Target{{URL: "ftp://h"}}}, "scheme"},
		{"no host", config.Upstream{Targets: []config.Target{{URL: "http://"}}}, "host"},
		{"credentials", config.Upstream{Targets: []config.Target{{URL: "http://u:p@h"}}}, "credentials"},
		{"query", config.Upstream{Targets: []config.Target{{URL: "http://h/?a=1"}}}, "query"},
		{"negative weight", config.Upstream{Targets: []config.Target{{URL: "http://h", Weight: -1}}}, "weight"},
		{"unknown balance", config.Upstream{Balance: "fastest", Targets: []config.Target{{URL: "http://h"}}}, "balance"},
		{"bad hash_on", config.Upstream{Balance: "consistent_hash", HashOn: "cookie", Targets: []config.Target{{URL: "http://h"}}}, "hash_on"},
		{"hash_on without hashing", config.Upstream{HashOn: "ip", Targets: []config.Target{{URL: "http://h"}}}, "hash_on"},
		{"missing CA file", config.Upstream{TLS: config.UpstreamTLS{CAFile: "/nonexistent/ca.pem"}, Targets: []config.Target{{URL: "https://h"}}}, "ca_file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tc.cfg, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err %v, want one mentioning %q", err, tc.wantErr)
			}
		})
	}
}

func TestTargetParsing(t *testing.T) {
	t.Parallel()
	cases := []struct {
		url, hostport, base, display string
	}{
		{"http://10.0.0.5:8080", "10.0.0.5:8080", "", "http://10.0.0.5:8080"},
		{"http://api.internal", "api.internal:80", "", "http://api.internal"},
		{"https://api.internal/v2/", "api.internal:443", "/v2", "https://api.internal/v2"},
		{"http://[::1]:9000/a%20b", "[::1]:9000", "/a%20b", "http://[::1]:9000/a%20b"},
	}
	for _, tc := range cases {
		tg, err := parseTarget(0, config.Target{URL: tc.url})
		if err != nil {
			t.Fatalf("%s: %v", tc.url, err)
		}
		if tg.hostport != tc.hostport || tg.basePath != tc.base || tg.display != tc.display || tg.weight != 1 {
			t.Errorf("%s: got %q %q %q weight %d", tc.url, tg.hostport, tg.basePath, tg.display, tg.weight)
		}
	}
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	u := newUpstream(t, []string{"http://10.0.0.1", "http://10.0.0.2"}, nil)
	if u.Name() != "svc" {
		t.Fatalf("Name %q", u.Name())
	}
	u.Start()
	u.Start()
	u.Close()
	u.Close()
	u.Start() // after Close: nothing
	if st := u.Status(); len(st) != 2 || !st[0].Healthy || st[1].URL != "http://10.0.0.2" {
		t.Fatalf("status %+v", st)
	}
	if s, _ := u.Circuit(); s != "disabled" {
		t.Fatalf("circuit %s, want disabled", s)
	}
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"http://10.0.0.5:8080", "https://api.internal/v2/", "http://[::1]:9000/a%20b", "http://u:p@h", "ftp://x", "http://h:99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		tg, err := parseTarget(0, config.Target{URL: raw})
		if err != nil {
			return
		}
		if _, _, err := net.SplitHostPort(tg.hostport); err != nil {
			t.Fatalf("hostport %q: %v", tg.hostport, err)
		}
		if pu, err := url.Parse(tg.display); err != nil || pu.User != nil || pu.Host != tg.host {
			t.Fatalf("display %q does not parse back to the target (%v)", tg.display, err)
		}
		if tg.scheme != "http" && tg.scheme != "https" {
			t.Fatalf("scheme %q accepted", tg.scheme)
		}
	})
}
