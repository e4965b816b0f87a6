package accept

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestParseForwarded(t *testing.T) {
	t.Parallel()
	type E = ForwardedElement
	bad := E{Malformed: true}
	for _, c := range []struct {
		name    string
		in      []string
		want    []E
		wantErr bool
	}{
		{"empty", nil, nil, false},
		{"one element", []string{"for=192.0.2.60;proto=http;by=203.0.113.43"},
			[]E{{For: "192.0.2.60", Proto: "http", By: "203.0.113.43"}}, false},
		{"quoted IPv6 with port", []string{`for="[2001:db8:cafe::17]:4711"`},
			[]E{{For: "[2001:db8:cafe::17]:4711"}}, false},
		{"names are case-insensitive", []string{"For=a;PROTO=https;Host=example.com"},
			[]E{{For: "a", Proto: "https", Host: "example.com"}}, false},
		{"list and lines", []string{"for=a, for=b", "for=c"},
			[]E{{For: "a"}, {For: "b"}, {For: "c"}}, false},
		{"empty elements and whitespace", []string{" , for=a ,, ; ,\tfor=b ; proto=https ", ""},
			[]E{{For: "a"}, {For: "b", Proto: "https"}}, false},
		{"extension parameters ignored", []string{"for=a;secret=xyz;v=\"1\""},
			[]E{{For: "a"}}, false},
		{"only extensions", []string{"ext=1"}, []E{{}}, false},
		{"quoted pair", []string{`for="a\"b\\c"`}, []E{{For: `a"b\c`}}, false},
		{"quoted comma and semicolon", []string{`for="x,y;z", for=b`}, []E{{For: "x,y;z"}, {For: "b"}}, false},
		{"unquoted port tolerated", []string{"for=192.0.2.1:80"}, []E{{For: "192.0.2.1:80"}}, false},
		{"obfuscated", []string{"for=_hidden, for=unknown"}, []E{{For: "_hidden"}, {For: "unknown"}}, false},
		{"missing value", []string{"for=, for=b"}, []E{bad, {For: "b"}}, true},
		{"missing equals", []string{"for, for=b"}, []E{bad, {For: "b"}}, true},
		{"space around equals", []string{"for = a"}, []E{bad}, true},
		{"duplicate parameter", []string{"for=a;for=b, for=c"}, []E{bad, {For: "c"}}, true},
		{"unterminated quote resumes at next comma", []string{`for="a, for=b`}, []E{bad, {For: "b"}}, true},
		{"garbage after quoted value", []string{`for="a"b, for=c`}, []E{bad, {For: "c"}}, true},
		{"control character", []string{"for=\"a\x01\", for=c"}, []E{bad, {For: "c"}}, true},
		{"errors do not cross lines", []string{`for="a`, "for=b"}, []E{bad, {For: "b"}}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseForwarded(c.in)
			if (err != nil) != c.wantErr {
				t.Fatalf("error %v, want error: %v", err, c.wantErr)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("ParseForwarded(%q) =\n%+v\nwant\n%+v", c.in, got, c.want)
			}
		})
	}
}

func TestForwardedElementString(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		el   ForwardedElement
		want string
	}{
		{ForwardedElement{For: "192.0.2.1", Proto: "https"}, "for=192.0.2.1;proto=https"},
		{ForwardedElement{For: "[2001:db8::1]:4711", By: "_gw"}, `for="[2001:db8::1]:4711";by=_gw`},
		{ForwardedElement{Host: `a"b\c`}, `host="a\"b\\c"`},
		{ForwardedElement{For: "a\x00b"}, `for="ab"`},
		{ForwardedElement{}, ""},
	} {
		t.Run(c.want, func(t *testing.T) {
			t.Parallel()
			if got := c.el.String(); got != c.want {
				t.Fatalf("String() = %q, want %q", got, c.want)
			}
		})
	}
}

func TestParseXFF(t *testing.T) {
	t.Parallel()
	var zero netip.Addr
	a := netip.MustParseAddr
	for _, c := range []struct {
		name string
		in   []string
		want []netip.Addr
	}{
		{"empty", nil, nil},
		{"one", []string{"203.0.113.7"}, []netip.Addr{a("203.0.113.7")}},
		{"list over lines", []string{"203.0.113.7, 10.0.0.1", "10.0.0.2"},
			[]netip.Addr{a("203.0.113.7"), a("10.0.0.1"), a("10.0.0.2")}},
		{"ports and brackets", []string{"203.0.113.7:80,[2001:db8::1]:443,[2001:db8::2],2001:db8::3"},
			[]netip.Addr{a("203.0.113.7"), a("2001:db8::1"), a("2001:db8::2"), a("2001:db8::3")}},
		{"IPv4-mapped unmapped", []string{"::ffff:192.0.2.1"}, []netip.Addr{a("192.0.2.1")}},
		{"empty elements skipped", []string{" , ,203.0.113.7,\t,"}, []netip.Addr{a("203.0.113.7")}},
		{"malformed elements are zero", []string{"unknown, _x, 1.2.3, fe80::1%eth0, 203.0.113.7:99999, [1.2.3.4]"},
			[]netip.Addr{zero, zero, zero, zero, zero, zero}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := ParseXFF(c.in); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("ParseXFF(%q) = %v, want %v", c.in, got, c.want)
			}
		})
	}
}

func TestParseNode(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		addr string
		kind nodeKind
	}{
		{"192.0.2.1", "192.0.2.1", nodeIP},
		{"192.0.2.1:8080", "192.0.2.1", nodeIP},
		{"192.0.2.1:_port", "192.0.2.1", nodeIP},
		{"[2001:db8::1]:4711", "2001:db8::1", nodeIP},
		{"[2001:db8::1]", "2001:db8::1", nodeIP},
		{"2001:db8::1", "2001:db8::1", nodeIP},
		{"[::ffff:192.0.2.1]:1", "192.0.2.1", nodeIP},
		{"unknown", "invalid IP", nodeUnknown},
		{"UNKNOWN", "invalid IP", nodeUnknown},
		{"_hidden", "invalid IP", nodeObfuscated},
		{"", "invalid IP", nodeMalformed},
		{"[192.0.2.1]", "invalid IP", nodeMalformed},
		{"[2001:db8::1]:", "invalid IP", nodeMalformed},
		{"[2001:db8::1]x", "invalid IP", nodeMalformed},
		{"[fe80::1%eth0]", "invalid IP", nodeMalformed},
		{"2001:db8::1:80:x", "invalid IP", nodeMalformed},
		{"192.0.2.1:", "invalid IP", nodeMalformed},
		{"192.0.2.1:_", "invalid IP", nodeMalformed},
		{"192.0.2.1:_a b", "invalid IP", nodeMalformed},
		{"example.com", "invalid IP", nodeMalformed},
	} {
		t.Run(c.in, func(t *testing.T) {
			t.Parallel()
			a, k := parseNode(c.in)
			if a.String() != c.addr || k != c.kind {
				t.Fatalf("parseNode(%q) = %s, %v; want %s, %v", c.in, a, k, c.addr, c.kind)
			}
		})
	}
}

// FuzzParseForwarded: never panics; an error comes with a Malformed element
// and only then; and every well-formed element formats with String to text
// that parses back to exactly that element (so the upstream stage can write
// what it read).
func FuzzParseForwarded(f *testing.F) {
	for _, s := range []string{
		"for=192.0.2.60;proto=http;by=203.0.113.43",
		`for="[2001:db8:cafe::17]:4711", for=unknown`,
		`for="a\"b", for=_x;host="h;,"`,
		`for="unterminated, for=b`,
		" , ;; ,for=a;ext=1",
	} {
		f.Add(s, "for=10.0.0.1")
	}
	f.Fuzz(func(t *testing.T, line1, line2 string) {
		els, err := ParseForwarded([]string{line1, line2})
		malformed := 0
		var good []ForwardedElement
		for _, e := range els {
			if e.Malformed {
				malformed++
				if e != (ForwardedElement{Malformed: true}) {
					t.Fatalf("malformed element carries values: %+v", e)
				}
				continue
			}
			if e == (ForwardedElement{}) {
				continue
			}
			good = append(good, e)
			back, err := ParseForwarded([]string{e.String()})
			if err != nil || len(back) != 1 || back[0] != e {
				t.Fatalf("%+v → %q → %+v, %v: round trip failed", e, e.String(), back, err)
			}
		}
		if (err != nil) != (malformed > 0) {
			t.Fatalf("error %v with %d malformed elements", err, malformed)
		}
		// The good elements joined as one list parse back to themselves.
		var parts []string
		for _, e := range good {
			parts = append(parts, e.String())
		}
		back, err := ParseForwarded([]string{strings.Join(parts, ", ")})
		if err != nil || len(back) != len(good) || len(good) > 0 && !reflect.DeepEqual(back, good) {
			t.Fatalf("list %q → %+v, %v; want %+v", strings.Join(parts, ", "), back, err, good)
		}
	})
}

// FuzzParseXFF: never panics; yields one address per non-empty element;
// addresses are unmapped and zone-free; and the valid addresses, formatted
// and joined, parse back to themselves.
func FuzzParseXFF(f *testing.F) {
	for _, s := range []string{
		"203.0.113.7, 10.0.0.1",
		"[2001:db8::1]:443, ::ffff:1.2.3.4, unknown",
		" ,, 1.2.3.4:80 ,",
	} {
		f.Add(s, "10.0.0.2")
	}
	f.Fuzz(func(t *testing.T, line1, line2 string) {
		lines := []string{line1, line2}
		addrs := ParseXFF(lines)
		if n := countElements(lines); len(addrs) != n {
			t.Fatalf("%d addresses for %d elements", len(addrs), n)
		}
		var valid []string
		var want []netip.Addr
		for _, a := range addrs {
			if !a.IsValid() {
				continue
			}
			if a.Is4In6() || a.Zone() != "" {
				t.Fatalf("address %v is mapped or zoned", a)
			}
			valid = append(valid, a.String())
			want = append(want, a)
		}
		back := ParseXFF([]string{strings.Join(valid, ", ")})
		if !reflect.DeepEqual(back, want) {
			t.Fatalf("%v → %v", want, back)
		}
		// The walk agrees with the parser: from an all-trusting stage it
		// ends at the leftmost address, or at the rightmost invalid one.
		s := &Stage{trusted: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}}
		peer := netip.MustParseAddr("10.0.0.2")
		r := s.walkXFF(lines, peer)
		wantClient := peer
		for i := len(addrs) - 1; i >= 0 && i >= len(addrs)-MaxHops; i-- {
			if !addrs[i].IsValid() {
				break
			}
			wantClient = addrs[i]
		}
		if r.client != wantClient {
			t.Fatalf("walk ended at %v, parser says %v", r.client, wantClient)
		}
	})
}
