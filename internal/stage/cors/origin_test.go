package cors

import (
	"net/url"
	"strings"
	"testing"
)

func TestPatternMatch(t *testing.T) {
	t.Parallel()
	var o origins
	for _, e := range []string{"https://*.example.com", "http://*.dev.test:8080", "http://[0:0::1]:3000"} {
		if err := o.add(e); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		origin string
		want   bool
	}{
		{"https://a.example.com", true},
		{"http://[::1]:3000", true}, // configured as [0:0::1]
		{"https://a.b.example.com", true},
		{"https://A.Example.COM", true},
		{"https://xn--bcher-kva.example.com", true},
		{"http://a.dev.test:8080", true},
		{"https://example.com", false},
		{"https://.example.com", false},
		{"https://a..example.com", false},
		{"https://evilexample.com", false},
		{"https://a.example.com.evil.com", false},
		{"https://evil.com/.example.com", false},
		{"https://evil.com?.example.com", false},
		{"https://evil.com#.example.com", false},
		{"https://user@a.example.com", false},
		{"http://a.example.com", false},
		{"wss://a.example.com", false},
		{"https://a.example.com:443", false},
		{"https://a.example.com:", false},
		{"https://a.example.com/", false},
		{"http://a.dev.test", false},
		{"http://a.dev.test:8081", false},
		{"https://\u212Aa.example.com", false}, // Kelvin sign is not a letter here
		{"null", false},
		{"", false},
	} {
		if got := o.match(c.origin); got != c.want {
			t.Errorf("match(%q) = %v, want %v", c.origin, got, c.want)
		}
	}
}

// FuzzPatternMatch: the subdomain matcher never matches an origin that is
// not scheme://host[:port] with the pattern's scheme and port and a host
// ending in "." + domain, as net/url reads it; and never the bare domain.
func FuzzPatternMatch(f *testing.F) {
	for _, s := range []string{
		"https://a.example.com", "https://example.com", "https://a.example.com.evil.com",
		"https://evilexample.com", "https://a@b.example.com", "https://[::1].example.com",
		"HTTPS://A.EXAMPLE.COM", "http://x.dev.test:8080", "https://a.example.com%2f",
	} {
		f.Add(s)
	}
	pats := []struct{ entry, scheme, domain, port string }{
		{"https://*.example.com", "https", "example.com", ""},
		{"http://*.dev.test:8080", "http", "dev.test", "8080"},
	}
	var o origins
	for _, p := range pats {
		if err := o.add(p.entry); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, origin string) {
		if !o.match(origin) {
			return
		}
		u, err := url.Parse(origin)
		if err != nil {
			t.Fatalf("matched %q, which net/url cannot parse: %v", origin, err)
		}
		if u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || strings.ContainsAny(origin, "?#") {
			t.Fatalf("matched %q, which is not a bare origin (%+v)", origin, u)
		}
		host := strings.ToLower(u.Hostname())
		for _, p := range pats {
			if u.Scheme == p.scheme && u.Port() == p.port && strings.HasSuffix(host, "."+p.domain) && host != "."+p.domain {
				return
			}
		}
		t.Fatalf("matched %q: scheme %q host %q port %q is under no pattern", origin, u.Scheme, host, u.Port())
	})
}

// FuzzAddOrigin: parsing an allow_origins entry never panics, and an
// accepted exact entry matches itself in any case, and nothing with a path.
func FuzzAddOrigin(f *testing.F) {
	for _, s := range []string{"https://app.example.com", "https://*.example.com:8443", "http://[::1]:3000", "null", "*", "https://a.test/", "x://y:0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, entry string) {
		var o origins
		if err := o.add(entry); err != nil {
			return
		}
		if entry == "*" || entry == "null" || strings.Contains(entry, "*.") {
			return
		}
		if strings.Contains(entry, "[") {
			return // IPv6 literals are stored as browsers serialize them
		}
		if !o.match(entry) || !o.match(strings.ToUpper(entry)) || !o.match(strings.ToLower(entry)) {
			t.Fatalf("accepted %q does not match itself", entry)
		}
		if o.match(entry+"/") || o.match(entry+"/x") {
			t.Fatalf("accepted %q matches with a path", entry)
		}
	})
}
