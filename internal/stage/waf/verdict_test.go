package waf

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestBound(t *testing.T) {
	t.Parallel()
	s := strings.Repeat("é", 600) // 1200 bytes
	got := bound(s, maxNote)
	if len(got) > maxNote || !utf8.ValidString(got) || !strings.HasSuffix(got, redactedMark) {
		t.Fatalf("bound: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	if bound("short", maxNote) != "short" {
		t.Fatal("a short text was cut")
	}
}

func TestExpandsMacros(t *testing.T) {
	t.Parallel()
	cases := map[string]bool{
		`SecRule ARGS "@rx a" "id:1,msg:'got %{MATCHED_VAR}',logdata:'%{MATCHED_VAR}'"`:  true,
		`SecRule ARGS "@rx a" "id:1,msg:'static text',logdata:'Matched %{MATCHED_VAR}'"`: false,
		`SecRule ARGS "@rx a" "id:1,logdata:'%{MATCHED_VAR}'"`:                           false,
		`SecRule ARGS "@rx a" "id:1,msg:plain,logdata:'%{MATCHED_VAR}'"`:                 false,
		`SecRule REQUEST_HEADERS_NAMES "@rx a" "id:1,msg:'restricted (%{MATCHED_VAR})'"`: true,
	}
	for raw, want := range cases {
		if got := expandsMacros(raw); got != want {
			t.Errorf("expandsMacros(%s) = %v, want %v", raw, got, want)
		}
	}
}

func TestSafeKey(t *testing.T) {
	t.Parallel()
	if got := safeKey("id"); got != "id" {
		t.Errorf("safeKey(id) = %q", got)
	}
	if got := safeKey("a\nb\x7f"); got != "a?b?" {
		t.Errorf("control bytes kept: %q", got)
	}
	if got := safeKey(strings.Repeat("k", 100)); len(got) > maxKey+len(redactedMark) {
		t.Errorf("long key kept: %d bytes", len(got))
	}
}

func TestScrubValues(t *testing.T) {
	t.Parallel()
	got := clean(scrubValues("restricted header (x-secret-thing)\r\n", []string{"x-secret-thing"}))
	if strings.Contains(got, "secret") || strings.ContainsAny(got, "\r\n") {
		t.Fatalf("scrubbed: %q", got)
	}
}
