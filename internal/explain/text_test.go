package explain

import (
	"bytes"
	"strings"
	"testing"
)

// TestWrapKeepsCommandsWhole: a `command` in a fix is never broken across
// lines, however long, and no line but such a command passes 100 columns.
func TestWrapKeepsCommandsWhole(t *testing.T) {
	t.Parallel()
	cmd := "`pinpoint keys create --consumer orders-app --scope orders:read --scope orders:write --scope orders:admin`"
	var buf bytes.Buffer
	p := &printer{w: &buf}
	p.wrapped("  - ", "An API key's scopes are fixed when it is issued: issue a replacement with the scope, "+cmd+", hand it over.")
	if p.err != nil {
		t.Fatal(p.err)
	}
	out := buf.String()
	if !strings.Contains(out, cmd+",") {
		t.Errorf("the command was broken:\n%s", out)
	}
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if len(line) > 100 && !strings.Contains(line, cmd) {
			t.Errorf("line of %d columns: %q", len(line), line)
		}
		if !strings.HasPrefix(line, "  - ") && !strings.HasPrefix(line, "    ") {
			t.Errorf("continuation not indented: %q", line)
		}
	}
}

func TestWords(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"a b  c":                  "a|b|c",
		"run `a b c` now":         "run|`a b c`|now",
		"run `a b c`, then `d e`": "run|`a b c`,|then|`d e`",
		"odd `a b":                "odd|`a|b",
		"":                        "",
	} {
		if got := strings.Join(words(in), "|"); got != want {
			t.Errorf("words(%q) = %q, want %q", in, got, want)
		}
	}
}
