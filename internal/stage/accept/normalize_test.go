package accept

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestNormalizePath(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want string
		err  error
	}{
		// Already normal: returned as is.
		{"/", "/", nil},
		{"/orders/42", "/orders/42", nil},
		{"/a/b/", "/a/b/", nil},
		{"/a%20b", "/a%20b", nil},
		{"/a;v=1/b:c@d", "/a;v=1/b:c@d", nil},
		{"/.well-known/x", "/.well-known/x", nil},
		{"/a/.../b", "/a/.../b", nil},
		{"/%C3%A9", "/%C3%A9", nil},

		// Duplicate slashes.
		{"//", "/", nil},
		{"//a", "/a", nil},
		{"/a//b", "/a/b", nil},
		{"/a///", "/a/", nil},

		// Dot segments.
		{"/./a", "/a", nil},
		{"/a/./b", "/a/b", nil},
		{"/a/.", "/a/", nil},
		{"/a/../b", "/b", nil},
		{"/a/b/..", "/a/", nil},
		{"/a/b/../", "/a/", nil},
		{"/a/b/../../c", "/c", nil},
		{"/a/..", "/", nil},
		{"/a//../b", "/b", nil},

		// Escapes.
		{"/%41", "/A", nil},
		{"/%7euser", "/~user", nil},
		{"/%2Dx%5Fy%2e", "/-x_y.", nil},
		{"/a%2ebc", "/a.bc", nil},
		{"/a%3fb", "/a%3Fb", nil},
		{"/a%c3%a9", "/a%C3%A9", nil},
		{"/%252F", "/%252F", nil},
		{"/%25", "/%25", nil},
		{"/a%23b", "/a%23b", nil},

		// Characters not allowed raw in a path are encoded.
		{"/a\"b", "/a%22b", nil},
		{"/a{b}", "/a%7Bb%7D", nil},
		{"/caf\xc3\xa9", "/caf%C3%A9", nil},
		{"/a#b", "/a%23b", nil},
		{"/a[0]", "/a%5B0%5D", nil},

		// Refused.
		{"", "", ErrPathNotAbsolute},
		{"a/b", "", ErrPathNotAbsolute},
		{"*", "", ErrPathNotAbsolute},
		{"/a%2Fb", "", ErrEncodedSlash},
		{"/a%2fb", "", ErrEncodedSlash},
		{"/%2F", "", ErrEncodedSlash},
		{"/a%5Cb", "", ErrEncodedBackslash},
		{"/a%5cb", "", ErrEncodedBackslash},
		{"/a\\b", "", ErrBackslash},
		{"/..\\..\\x", "", ErrBackslash},
		{"/%2e%2e/x", "", ErrEncodedDot},
		{"/a/%2E%2E", "", ErrEncodedDot},
		{"/a/.%2e/b", "", ErrEncodedDot},
		{"/a/%2e/b", "", ErrEncodedDot},
		{"/..", "", ErrAboveRoot},
		{"/../a", "", ErrAboveRoot},
		{"/a/../../b", "", ErrAboveRoot},
		{"/a/./../..", "", ErrAboveRoot},
		{"/a%00b", "", ErrControlChar},
		{"/a%0Ab", "", ErrControlChar},
		{"/a%0d", "", ErrControlChar},
		{"/a%7F", "", ErrControlChar},
		{"/a\x00b", "", ErrControlChar},
		{"/a\tb", "", ErrControlChar},
		{"/a\x7f", "", ErrControlChar},
		{"/a%", "", ErrBadEscape},
		{"/a%4", "", ErrBadEscape},
		{"/a%zz", "", ErrBadEscape},
		{"/a%4/b", "", ErrBadEscape},
	} {
		t.Run(c.in, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizePath(c.in)
			if !errors.Is(err, c.err) || got != c.want {
				t.Fatalf("NormalizePath(%q) = %q, %v; want %q, %v", c.in, got, err, c.want, c.err)
			}
		})
	}
}

// TestNormalizePathNoAlloc pins that the common, already-normal path costs
// no allocation.
func TestNormalizePathNoAlloc(t *testing.T) {
	for _, p := range []string{"/", "/orders/42", "/v1/users/me/", "/a%20b"} {
		if n := testing.AllocsPerRun(100, func() { NormalizePath(p) }); n != 0 {
			t.Errorf("NormalizePath(%q) allocates %v times", p, n)
		}
	}
}

func TestPathFromRequest(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ target, want string }{
		{"/a/b?c=d", "/a/b"},
		{"/a%2Fb?x", "/a%2Fb"},
		{"*", "*"},
		{"http://example.com", "/"},
		{"http://example.com?q=1", "/"},
		{"https://example.com/a//b?q", "/a//b"},
	} {
		t.Run(c.target, func(t *testing.T) {
			t.Parallel()
			r := newTestRequest("OPTIONS", c.target, "", nil)
			if got := pathFromRequest(r); got != c.want {
				t.Fatalf("pathFromRequest(%q) = %q, want %q", c.target, got, c.want)
			}
		})
	}
	t.Run("no request line", func(t *testing.T) {
		t.Parallel()
		r := newTestRequest("GET", "/", "", nil)
		r.RequestURI = ""
		r.URL = &url.URL{Path: "/a/b c", RawPath: "/a/b%20c"}
		if got := pathFromRequest(r); got != "/a/b%20c" {
			t.Fatalf("got %q", got)
		}
	})
}

func TestNormalizeHost(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"", "", true},
		{"api.example.com", "api.example.com", true},
		{"API.Example.com", "api.example.com", true},
		{"api.example.com:8443", "api.example.com", true},
		{"api.example.com.", "api.example.com", true},
		{"api.example.com.:80", "api.example.com", true},
		{"api.example.com:", "api.example.com", true},
		{"192.0.2.1:80", "192.0.2.1", true},
		{"[2001:DB8::1]", "2001:db8::1", true},
		{"[2001:db8::1]:8080", "2001:db8::1", true},
		{"under_score.example", "under_score.example", true},
		{"api example.com", "", false},
		{"api\x00.example.com", "", false},
		{"api.example.com\r\nX: y", "", false},
		{"api.example.com:http", "", false},
		{"api.example.com:123456", "", false},
		{"a:b:c", "", false},
		{"user@api.example.com", "", false},
		{"api.example.com/path", "", false},
		{"[2001:db8::1", "", false},
		{"[2001:db8::1]x", "", false},
		{"[example.com]", "", false},
		{":80", "", false},
	} {
		t.Run(c.in, func(t *testing.T) {
			t.Parallel()
			got, ok := normalizeHost(c.in)
			if got != c.want || ok != c.ok {
				t.Fatalf("normalizeHost(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
			}
		})
	}
}

// FuzzNormalizePath checks the normalizer's contract on arbitrary input:
// the result is absolute, normal (a fixed point), free of empty and dot
// segments and of encoded separators, and decodes cleanly.
func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{"/", "/a/b", "//a/./b/../c/", "/%2e%2E/", "/a%2Fb", "/%41%7e%3f", "/a\"b", "/%252F", "/a/b/..", "/..", "/a%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := NormalizePath(raw)
		if err != nil {
			if p != "" {
				t.Fatalf("error %v with result %q", err, p)
			}
			return
		}
		if p == "" || p[0] != '/' {
			t.Fatalf("%q → %q: not absolute", raw, p)
		}
		if again, err := NormalizePath(p); err != nil || again != p {
			t.Fatalf("%q → %q → %q, %v: not a fixed point", raw, p, again, err)
		}
		if !isNormalPath(p) {
			t.Fatalf("%q → %q: fast path does not recognize the result as normal", raw, p)
		}
		segs := strings.Split(p[1:], "/")
		for i, seg := range segs {
			if seg == "" && i < len(segs)-1 || seg == "." || seg == ".." {
				t.Fatalf("%q → %q: empty or dot segment inside", raw, p)
			}
		}
		dec, err := url.PathUnescape(p)
		if err != nil {
			t.Fatalf("%q → %q does not decode: %v", raw, p, err)
		}
		if strings.Count(dec, "/") != strings.Count(p, "/") || strings.ContainsAny(dec, "\\\x00\r\n") {
			t.Fatalf("%q → %q decodes to %q with a separator or control character the encoded form hid", raw, p, dec)
		}
	})
}

func BenchmarkNormalizePath(b *testing.B) {
	for _, c := range []struct{ name, path string }{
		{"normal", "/api/v1/orders/42/items"},
		{"dirty", "/api//v1/./orders/%34%32/../42/items/"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				NormalizePath(c.path)
			}
		})
	}
}
