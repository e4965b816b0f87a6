package ip

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/config"
)

func TestParseEntry(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in, want, err string
	}{
		{in: "10.6.6.6", want: "10.6.6.6/32"},
		{in: "10.0.0.0/8", want: "10.0.0.0/8"},
		{in: "0.0.0.0/0", want: "0.0.0.0/0"},
		{in: "2001:db8::/32", want: "2001:db8::/32"},
		{in: "2001:db8::1", want: "2001:db8::1/128"},
		{in: "::ffff:10.1.2.3", want: "10.1.2.3/32"},
		{in: "::ffff:10.0.0.0/104", want: "10.0.0.0/8"},
		{in: "", err: "empty entry"},
		{in: "10.1.2.3/8", err: `did you mean "10.0.0.0/8"`},
		{in: "10.0.0.0/33", err: "not an IP address or CIDR"},
		{in: "example.com", err: "not an IP address or CIDR"},
		{in: " 10.0.0.1", err: "not an IP address or CIDR"},
		{in: "fe80::1%eth0", err: "zones"},
		{in: "::ffff:0.0.0.0/96", want: "0.0.0.0/0"},
		{in: "::ffff:0.0.0.0/8", err: `did you mean "::/8"`},
	} {
		t.Run(c.in, func(t *testing.T) {
			t.Parallel()
			p, err := ParseEntry(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("ParseEntry(%q) = %v, %v; want error containing %q", c.in, p, err, c.err)
				}
				return
			}
			if err != nil || p.String() != c.want {
				t.Fatalf("ParseEntry(%q) = %v, %v; want %s", c.in, p, err, c.want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	_, err := Compile(config.IPFilter{
		Allow: []string{"10.0.0.0/8", "10.0.0.300"},
		Deny:  []string{"nope", "10.6.6.6"},
		Mode:  "audit",
	})
	if err == nil {
		t.Fatal("Compile accepted a bad filter")
	}
	var paths []string
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, inner := range j.Unwrap() {
				walk(inner)
			}
			return
		}
		var fe *config.FieldError
		if !errors.As(e, &fe) {
			t.Errorf("error %v is not a config.FieldError", e)
			return
		}
		paths = append(paths, fe.Path)
	}
	walk(err)
	if got, want := strings.Join(paths, " "), "mode allow[1] deny[0]"; got != want {
		t.Fatalf("error paths %q, want %q (%v)", got, want, err)
	}
	if !strings.Contains(err.Error(), `"audit"`) {
		t.Errorf("mode error %q should name the bad value", err)
	}
}

func TestCompileEmpty(t *testing.T) {
	t.Parallel()
	l, err := Compile(config.IPFilter{})
	if err != nil || !l.Empty() {
		t.Fatalf("Compile(empty) = %v, %v; want an empty list", l, err)
	}
	if !(*List)(nil).Empty() || (*List)(nil).ReportOnly() {
		t.Fatal("a nil List is empty and enforcing")
	}
	l, err = Compile(config.IPFilter{Allow: []string{"10.0.0.1"}, Mode: "report_only"})
	if err != nil || l.Empty() || !l.ReportOnly() {
		t.Fatalf("Compile = %+v, %v", l, err)
	}
}

// FuzzParseEntry: never panics; a parsed entry is a valid, masked,
// unmapped prefix without a zone, and the set built from it contains
// exactly the addresses the prefix contains.
func FuzzParseEntry(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "10.6.6.6", "2001:db8::/32", "::ffff:10.0.0.0/104", "10.1.2.3/8", "fe80::1%eth0", "::/0", ""} {
		f.Add(s, "10.1.2.3")
	}
	f.Fuzz(func(t *testing.T, s, probe string) {
		p, err := ParseEntry(s)
		if err != nil {
			if p.IsValid() {
				t.Fatalf("error %v with a valid prefix %v", err, p)
			}
			return
		}
		if !p.IsValid() || p.Masked() != p || p.Addr().Is4In6() || p.Addr().Zone() != "" {
			t.Fatalf("ParseEntry(%q) = %v: not a clean prefix", s, p)
		}
		l, err := Compile(config.IPFilter{Deny: []string{s}, Allow: []string{s}})
		if err != nil {
			t.Fatalf("Compile of a parsed entry %q: %v", s, err)
		}
		a, err := netip.ParseAddr(probe)
		if err != nil {
			return
		}
		a = a.Unmap()
		match, denied := l.denied(a)
		if denied != p.Contains(a) || l.allows(a) != p.Contains(a) {
			t.Fatalf("entry %q (%v), address %v: denied %v, allowed %v, contains %v", s, p, a, denied, l.allows(a), p.Contains(a))
		}
		if denied && match != s {
			t.Fatalf("match %q, want the entry as written %q", match, s)
		}
	})
}
