package credential

import (
	"net/http"
	"reflect"
	"testing"
)

func TestChallengeQuoting(t *testing.T) {
	t.Parallel()
	got := Challenge("Bearer", "realm", `a "b" \c`, "error", "x\r\ny")
	if want := `Bearer realm="a \"b\" \\c", error="xy"`; got != want {
		t.Errorf("Challenge = %s, want %s", got, want)
	}
	if got := Bearer("", "", ""); got != `Bearer realm="pinpoint"` {
		t.Errorf("bare Bearer = %s", got)
	}
}

func TestBearerRefusalHeaders(t *testing.T) {
	t.Parallel()
	d := BearerRefusal("authn.token_expired", "authenticator:x", nil, "r")
	if got := d.Header.Get("WWW-Authenticate"); got != `Bearer realm="pinpoint", error="invalid_token", error_description="Token expired"` {
		t.Errorf("401 challenge = %s", got)
	}
	d = BearerRefusal("authn.idp_unavailable", "authenticator:x", nil, "r")
	if d.Header.Get("Retry-After") != IDPRetryAfter || d.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("503 headers = %v", d.Header)
	}
}

func TestBearerToken(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"Bearer abc": "abc", "bearer  abc ": "abc", "Bearer ": "", "Basic abc": "", "Bearerabc": ""} {
		h := http.Header{"Authorization": {in}}
		if got, _ := BearerToken(h); got != want {
			t.Errorf("BearerToken(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStringListAndDisplay(t *testing.T) {
	t.Parallel()
	if got := StringList("a  b c"); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Errorf("space-separated = %v", got)
	}
	if got := StringList([]any{"a", 1, "", "b"}); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("array = %v", got)
	}
	if StringList(42) != nil {
		t.Error("a number is not a list")
	}
	if got := Display("ab\x00c\ndé", 4); got != "abcd…" {
		t.Errorf("Display = %q", got)
	}
	if got := Display("aé", 2); got != "a…" {
		t.Errorf("Display cut a rune: %q", got)
	}
}
