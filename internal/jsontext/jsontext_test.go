package jsontext

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendString(t *testing.T) {
	for in, want := range map[string]string{
		"":                 `""`,
		"plain":            `"plain"`,
		"a\"b\\c":          `"a\"b\\c"`,
		"l1\nl2\r\t":       `"l1\nl2\r\t"`,
		"\x00\x1f":         `"\u0000\u001f"`,
		"<&>":              `"<&>"`,
		"bad\xffutf8":      `"bad\ufffdutf8"`,
		"ls\u2028ps\u2029": `"ls\u2028ps\u2029"`,
		"naïve 漢字":         `"naïve 漢字"`,
	} {
		if got := string(AppendString(nil, in)); got != want {
			t.Errorf("AppendString(%q) = %s, want %s", in, got, want)
		}
	}
}

// FuzzAppendString: the output is valid JSON that decodes to s (with
// invalid UTF-8 replaced, as encoding/json does).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\x00", "\xff", "\u2028", "漢\n字"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := AppendString([]byte("x"), s)[1:]
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("AppendString(%q) = %s: %v", s, out, err)
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if !utf8.ValidString(s) {
			// encoding/json replaces each invalid byte, ToValidUTF8 each run.
			want = string([]rune(s))
		}
		if back != want {
			t.Fatalf("AppendString(%q) decodes to %q, want %q", s, back, want)
		}
	})
}

func TestAppendCompact(t *testing.T) {
	raw := "{ \"a\" : [1, 2 ],\n \"s\": \"x y\\\" z\" }"
	if got := string(AppendCompact(nil, raw, false)); got != `{"a":[1,2],"s":"x y\" z"}` {
		t.Errorf("AppendCompact = %s", got)
	}
	lit := AppendCompactString(nil, raw)
	var back string
	if err := json.Unmarshal(lit, &back); err != nil || back != `{"a":[1,2],"s":"x y\" z"}` {
		t.Errorf("AppendCompactString = %s (%q, %v)", lit, back, err)
	}
}
