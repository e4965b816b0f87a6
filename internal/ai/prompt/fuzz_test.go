package prompt

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/jsontext"
)

// FuzzParseTemplate checks that a template that parses reads the same
// once written back in the canonical form ("{{{{" for literal braces,
// "{{name}}" for placeholders).
func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{"", "x", "{{a}}", "{{ a }}", "{{{{a}}", "{{{{{{a}}}}", "{{", "}}{", "{{a", "é{{b-c_1}}\n{{d}}", "{{{{{"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		pieces, err := parseTemplate(src)
		if err != nil {
			return
		}
		var b strings.Builder
		for _, p := range pieces {
			if p.name != "" {
				b.WriteString("{{" + p.name + "}}")
			} else {
				b.WriteString(strings.ReplaceAll(p.text, "{{", "{{{{"))
			}
		}
		again, err := parseTemplate(b.String())
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", b.String(), src, err)
		}
		strip := func(ps []piece) []piece {
			out := make([]piece, len(ps))
			for i, p := range ps {
				out[i] = piece{text: p.text, name: p.name}
			}
			return out
		}
		if !reflect.DeepEqual(strip(pieces), strip(again)) {
			t.Fatalf("%q parses as %+v, its canonical form %q as %+v", src, pieces, b.String(), again)
		}
	})
}

// FuzzAppendQuoted checks the string escaper against encoding/json.
func FuzzAppendQuoted(f *testing.F) {
	for _, s := range []string{"", "plain", "\"\\\n\r\t\x00\x1f", "<&>", "é😀", "\u2028\u2029", "\xff\xfe", "a\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got, want string
		if err := json.Unmarshal(jsontext.AppendString(nil, s), &got); err != nil {
			t.Fatalf("jsontext.AppendString(%q) is not a JSON string: %v", s, err)
		}
		std, _ := json.Marshal(s)
		_ = json.Unmarshal(std, &want)
		if got != want {
			t.Fatalf("jsontext.AppendString(%q) reads %q; encoding/json's %q", s, got, want)
		}
	})
}

// FuzzBuild checks that whatever body Build accepts, the request is JSON
// with the user message in place, and that the variables come out as
// Build documents.
func FuzzBuild(f *testing.F) {
	for _, s := range []string{`{"text":"t","max_words":3}`, `{"text":{"a" : [1, "x y"]}}`, `{"text":"\u0000\"","text":null}`, `[]`, `{`, `{"lang":5}`} {
		f.Add([]byte(s))
	}
	p := mustCompile(f, summarize)
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := p.Build(body)
		if err != nil {
			return
		}
		var req struct {
			Messages []struct{ Content string } `json:"messages"`
		}
		if err := json.Unmarshal(out, &req); err != nil {
			t.Fatalf("Build(%q) is not JSON: %v\n%s", body, err, out)
		}
		if len(req.Messages) != 2 || !strings.HasPrefix(req.Messages[1].Content, "Summarize in at most ") {
			t.Fatalf("Build(%q) messages = %+v", body, req.Messages)
		}
	})
}
