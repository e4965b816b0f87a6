package authz

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
)

func TestParsePointer(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want []string
		err  bool
	}{
		{"", []string{}, false},
		{"/", []string{""}, false},
		{"/owner_id", []string{"owner_id"}, false},
		{"/account/owner", []string{"account", "owner"}, false},
		{"/a~1b/~0c", []string{"a/b", "~c"}, false},
		{"/~01", []string{"~1"}, false},
		{"/a//b/", []string{"a", "", "b", ""}, false},
		{"owner", nil, true},
		{"/a~", nil, true},
		{"/a~2", nil, true},
		{"#/a", nil, true},
	} {
		p, err := parsePointer(c.in)
		if (err != nil) != c.err {
			t.Errorf("%q: err %v, want error %v", c.in, err, c.err)
			continue
		}
		if !c.err && !slices.Equal(p, c.want) {
			t.Errorf("%q: %q, want %q", c.in, p, c.want)
		}
	}
}

// The examples of RFC 6901 §5.
func TestPointerLookupRFC6901(t *testing.T) {
	t.Parallel()
	doc := decodeJSON(t, `{"foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4,
		"i\\j": 5, "k\"l": 6, " ": 7, "m~n": 8}`)
	for ptr, want := range map[string]string{
		"/foo/0": "bar", "/": "0", "/a~1b": "1", "/c%d": "2", "/e^f": "3", "/g|h": "4",
		`/i\j`: "5", `/k"l`: "6", "/ ": "7", "/m~0n": "8",
	} {
		p, err := parsePointer(ptr)
		if err != nil {
			t.Fatal(err)
		}
		v, ok := p.lookup(doc)
		if s, _ := scalar(v); !ok || s != want {
			t.Errorf("%s: %v %v, want %s", ptr, v, ok, want)
		}
	}
	for _, ptr := range []string{"/foo/2", "/foo/-", "/foo/01", "/foo/x", "/bar", "/foo/0/x", "/foo/99999999999"} {
		p, _ := parsePointer(ptr)
		if v, ok := p.lookup(doc); ok {
			t.Errorf("%s: found %v", ptr, v)
		}
	}
}

func decodeJSON(t testing.TB, s string) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// FuzzParsePointer: parsing never panics, a parsed pointer formats back to
// a pointer that parses to the same tokens, and lookups never panic.
func FuzzParsePointer(f *testing.F) {
	for _, s := range []string{"", "/", "/a/b", "/a~1b/~0c", "/~", "/~2", "a", "/0/1/-", "//", "/\xff"} {
		f.Add(s)
	}
	doc := decodeJSON(f, `{"a": {"b": [1, {"c": "d"}]}, "": [[]], "~/": null}`)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePointer(s)
		if err != nil {
			return
		}
		back := p.String()
		q, err := parsePointer(back)
		if err != nil || !slices.Equal(p, q) {
			t.Fatalf("%q → %q → %q, %v", s, back, q, err)
		}
		if len(s) > 0 && back != s {
			t.Fatalf("%q formats as %q", s, back)
		}
		p.lookup(doc)
	})
}
