package calllog

import (
	"strings"
	"testing"
)

func TestRedactQuery(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"id=42", "id=redacted"},
		{"id=42&token=abc", "id=redacted&token=redacted"},
		{"a=1&b=&c", "a=redacted&b=&c"},
		{"c", "c"},
		{"b=", "b="},
		{"a&b&c", "a&b&c"},
		{"a=1&a=2", "a=redacted&a=redacted"},
		{"x=1=2", "x=redacted"},
		{"=secret", "=redacted"},
		{"a=1&&b=2", "a=redacted&&b=redacted"},
		{"&", "&"},
		{"email=a%40b.example&q=hello+world", "email=redacted&q=redacted"},
		{"a=1;b=2", "a=redacted"},
		{"k%3D=v", "k%3D=redacted"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := RedactQuery(tt.in); got != tt.want {
				t.Errorf("RedactQuery(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactQueryAllocations(t *testing.T) {
	for _, in := range []string{"", "a&b=&c"} {
		if n := testing.AllocsPerRun(100, func() { RedactQuery(in) }); n != 0 {
			t.Errorf("RedactQuery(%q): %v allocations, want 0", in, n)
		}
	}
	if n := testing.AllocsPerRun(100, func() { RedactQuery("id=42&token=abc&x") }); n != 1 {
		t.Errorf("RedactQuery with values: %v allocations, want 1", n)
	}
}

func FuzzRedactQuery(f *testing.F) {
	for _, s := range []string{"", "a=1&b=&c", "=x", "&&", "a==b&c=d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := RedactQuery(in)
		inPairs, outPairs := strings.Split(in, "&"), strings.Split(out, "&")
		if len(inPairs) != len(outPairs) {
			t.Fatalf("RedactQuery(%q) = %q: %d pairs became %d", in, out, len(inPairs), len(outPairs))
		}
		for i := range inPairs {
			key, value, hasEq := strings.Cut(inPairs[i], "=")
			want := key
			switch {
			case hasEq && value != "":
				want += "=" + Redacted
			case hasEq:
				want += "="
			}
			if outPairs[i] != want {
				t.Fatalf("RedactQuery(%q) pair %d = %q, want %q", in, i, outPairs[i], want)
			}
		}
	})
}
