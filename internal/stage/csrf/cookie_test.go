package csrf

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCookieValueMatchesNetHTTP: the allocation-free cookie scanner finds
// what (*http.Request).Cookie finds.
func TestCookieValueMatchesNetHTTP(t *testing.T) {
	t.Parallel()
	for _, lines := range [][]string{
		{"csrf_token=abc"},
		{"a=1; csrf_token=abc; b=2"},
		{`csrf_token="abc"`},
		{"csrf_token=a\"bc; csrf_token=good"},
		{"  csrf_token = abc ;"},
		{"a=1", "csrf_token=second-line"},
		{"csrf_token"},
		{"csrf_token="},
		{"Csrf_Token=abc"},
	} {
		checkCookie(t, lines, "csrf_token")
	}
}

func checkCookie(t *testing.T, lines []string, name string) {
	t.Helper()
	r := httptest.NewRequest("GET", "/", nil)
	r.Header["Cookie"] = lines
	want, err := r.Cookie(name)
	got, ok := cookieValue(r.Header, name)
	if (err == nil) != ok || ok && got != want.Value {
		t.Fatalf("cookieValue(%q, %q) = %q, %v; net/http: %v, %v", lines, name, got, ok, want, err)
	}
}

// FuzzCookieValue: the scanner agrees with net/http on any Cookie lines.
func FuzzCookieValue(f *testing.F) {
	f.Add("a=1; csrf_token=abc", "x=y", "csrf_token")
	f.Add(`csrf_token="q"; csrf_token=r`, "", "csrf_token")
	f.Add(" ; ;csrf_token=\x7f;csrf_token=ok", "csrf_token=", "csrf_token")
	f.Fuzz(func(t *testing.T, line1, line2, name string) {
		if !isToken(name) || strings.Count(line1+line2, ";") > 1000 {
			return // net/http refuses invalid names and caps the cookie count
		}
		checkCookie(t, []string{line1, line2}, name)
	})
}
