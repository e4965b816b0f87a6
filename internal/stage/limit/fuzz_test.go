package limit

import (
	"strings"
	"testing"
)

// FuzzSFString checks that any limit name becomes a valid structured-field
// string (RFC 9651 §3.3.3) that reads back as the name, bytes outside
// printable ASCII replaced by '?'.
func FuzzSFString(f *testing.F) {
	for _, s := range []string{"per-key", `say "hi"`, `back\slash`, "naïve", "", "\x00\x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		v := sfString(name)
		if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			t.Fatalf("%q: not quoted", v)
		}
		var back strings.Builder
		body := v[1 : len(v)-1]
		for i := 0; i < len(body); i++ {
			c := body[i]
			switch {
			case c < 0x20 || c > 0x7e:
				t.Fatalf("%q: byte %#x outside printable ASCII", v, c)
			case c == '\\':
				i++
				if i == len(body) || (body[i] != '"' && body[i] != '\\') {
					t.Fatalf("%q: bad escape", v)
				}
				back.WriteByte(body[i])
			case c == '"':
				t.Fatalf("%q: unescaped quote", v)
			default:
				back.WriteByte(c)
			}
		}
		want := []byte(name)
		for i, c := range want {
			if c < 0x20 || c > 0x7e {
				want[i] = '?'
			}
		}
		if back.String() != string(want) {
			t.Fatalf("%q reads back as %q, want %q", v, back.String(), want)
		}
	})
}

// FuzzParseCaller checks that a caller key an operator types either is
// refused or reads back to the same key.
func FuzzParseCaller(f *testing.F) {
	for _, s := range []string{"consumer:c_1", "ip:192.0.2.7", "ip:::ffff:10.0.0.1", "tenant:", "x", "credential:a:b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		c, err := parseCaller(key)
		if err != nil {
			return
		}
		shown := kindNames[c.kind] + ":" + c.storedID()
		again, err := parseCaller(shown)
		if err != nil || again.kind != c.kind || again.storedID() != c.storedID() {
			t.Fatalf("%q shown as %q, which reads back as %+v, %v", key, shown, again, err)
		}
	})
}
