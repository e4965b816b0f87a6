package redact

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/config"
)

const (
	apiKey   = "pp_live_k7f3a9c2d1e0_3xQm8bZ1LrV0aP5cN7tY2wK9sD4fH6jG"
	keyID    = "pp_live_k7f3a9c2d1e0"
	longKey  = "pp_test_abcd_0123456789abcdefghijABCDEFGHIJ0123456789abcdefghij" // a declared key, 60-character secret
	jwt      = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNlY3JldA"
	basicCrd = "YWxpY2U6aHVudGVyMg==" // alice:hunter2
)

func policy() *Policy {
	return New(config.Redact{Headers: []string{"X-Partner-Secret-Less"}, QueryParams: []string{"ticket"}, JSONFields: []string{"card_number"}}, false, []string{"X-Orders-Key"})
}

func TestHeader(t *testing.T) {
	t.Parallel()
	p := policy()
	for name, want := range map[string]bool{
		"Authorization": true, "authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
		"X-Api-Key": true, "X-API-KEY": true, "Api-Key": true, "X-Auth-Token": true, "X-Csrf-Token": true,
		"X-Goog-Api-Key": true, "X-Partner-Secret": true, "X-Session-Token": true, "X-Hub-Signature-256": true,
		"X-Orders-Key": true, "X-Partner-Secret-Less": true, "Pinpoint-Debug-Token": true, "X-Amz-Security-Token": true,
		"Accept": false, "User-Agent": false, "X-Request-Id": false, "Traceparent": false, "Idempotency-Key": false,
		"Content-Type": false, "Www-Authenticate": false, "Pinpoint-Decision-Token": false,
		strings.Repeat("X-Very-Long-Header-Name-", 5) + "Token": true,
	} {
		if got := p.Header(name); got != want {
			t.Errorf("Header(%q) = %v, want %v", name, got, want)
		}
	}
}

// A header the redact block names is hidden even when it is one of the
// common headers looked up first.
func TestHeaderNamedByConfig(t *testing.T) {
	t.Parallel()
	p := New(config.Redact{Headers: []string{"x-request-id"}}, false, nil)
	if !p.Header("X-Request-Id") || p.Header("User-Agent") {
		t.Errorf("X-Request-Id hidden %v, User-Agent hidden %v", p.Header("X-Request-Id"), p.Header("User-Agent"))
	}
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	h := http.Header{
		"Authorization": {"Bearer " + jwt},
		"X-Api-Key":     {apiKey},
		"Cookie":        {"session=abc123; theme=dark"},
		"Referer":       {"https://app.example/cb?access_token=abcdefgh12345&x=1"},
		"X-Forwarded":   {"by " + apiKey},
		"Accept":        {"application/json"},
	}
	got := policy().Headers(h)
	if got.Get("Authorization") != Mask || got.Get("X-Api-Key") != Mask || got.Get("Cookie") != Mask {
		t.Errorf("secret headers kept: %v", got)
	}
	if got.Get("Accept") != "application/json" {
		t.Errorf("Accept = %q", got.Get("Accept"))
	}
	if r := got.Get("Referer"); strings.Contains(r, "abcdefgh12345") || !strings.Contains(r, "x=1") {
		t.Errorf("Referer = %q", r)
	}
	if f := got.Get("X-Forwarded"); f != "by "+keyID+"_"+Mask {
		t.Errorf("free-text header = %q, want the key id kept", f)
	}
	if h.Get("Authorization") == Mask {
		t.Error("Headers modified its argument")
	}
}

func TestQuery(t *testing.T) {
	t.Parallel()
	p := policy()
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"page=2", "page=2"},
		{"access_token=abc&page=2", "access_token=" + Mask + "&page=2"},
		{"api_key=" + apiKey, "api_key=" + Mask},
		{"apiKey=xyz&API-KEY=zzz", "apiKey=" + Mask + "&API-KEY=" + Mask},
		// Names are compared decoded, as an authenticator reads them.
		{"access%5Ftoken=abc&ac%63ess_token=def", "access%5Ftoken=" + Mask + "&ac%63ess_token=" + Mask},
		{"ticket=t1&session_token=s&user_password=p", "ticket=" + Mask + "&session_token=" + Mask + "&user_password=" + Mask},
		// Credential-shaped values are hidden under any name.
		{"q=" + apiKey, "q=" + Mask},
		{"q=" + jwt + "&r=1", "q=" + Mask + "&r=1"},
		{"q=Bearer%20abcdefgh12345", "q=" + Mask},
		{"flag&empty=&x=1", "flag&empty=&x=1"},
		{"decision_token=ok", "decision_token=ok"},
	} {
		if got := p.Query(tc.in); got != tc.want {
			t.Errorf("Query(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	all := New(config.Redact{}, true, nil)
	if got := all.Query("page=2&q=x"); got != "page="+Mask+"&q="+Mask {
		t.Errorf("allQuery: %q", got)
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	p := policy()
	in := `{"user":"alice","password":"hunter2","nested":{"newPassword":"p2","tokens_used":12,"access_token":"at",
		"list":[{"client_secret":"cs"},"Bearer abcdefgh12345", "` + apiKey + `"]},"card_number":"4111","note":"<b>&</b>",
		"n":12345678901234567890,"decision_token":"dt","max_tokens":5}`
	out := p.JSON([]byte(in))
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, out)
	}
	s := string(out)
	for _, secret := range []string{"hunter2", `"p2"`, `"at"`, `"cs"`, "abcdefgh12345", "3xQm8bZ1LrV0aP5cN7tY2wK9sD4fH6jG", "4111"} {
		if strings.Contains(s, secret) {
			t.Errorf("%s survived: %s", secret, s)
		}
	}
	for _, kept := range []string{`"user":"alice"`, `"tokens_used":12`, `"note":"<b>&</b>"`, `"n":12345678901234567890`, keyID + "_" + Mask, `"decision_token":"dt"`, `"max_tokens":5`} {
		if !strings.Contains(s, kept) {
			t.Errorf("%s lost: %s", kept, s)
		}
	}
}

func TestJSONNotJSON(t *testing.T) {
	t.Parallel()
	p := policy()
	for _, tc := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"token " + jwt, Mask},
		{"user=alice&password=hunter2&card_number=4111", "user=alice&password=" + Mask + "&card_number=" + Mask},
		{`{"password":"x"} {"password":"y"}`, Mask},
		{`{"a":1} trailing`, `{"a":1} trailing`},
		{"", ""},
	} {
		if got := string(p.JSON([]byte(tc.in))); got != tc.want {
			t.Errorf("JSON(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	p := policy()
	for _, tc := range []struct{ in, want string }{
		{"nothing to see", "nothing to see"},
		{"key " + apiKey + " refused", "key " + keyID + "_" + Mask + " refused"},
		{"declared " + longKey, "declared pp_test_abcd_" + Mask},
		{"x_" + apiKey, "x_" + keyID + "_" + Mask},
		{"credential " + keyID + " lacks scope", "credential " + keyID + " lacks scope"},
		{"Authorization: Bearer " + jwt, "Authorization: Bearer " + Mask},
		{"Basic " + basicCrd, "Basic " + Mask},
		{"jwt " + jwt + " expired", "jwt " + Mask + " expired"},
		{"upstream https://bob:s3cret@db.internal/x", "upstream https://" + Mask + "@db.internal/x"},
		{"password=hunter2 rejected", "password=" + Mask + " rejected"},
		{`{"password": "hunter2"}`, `{"password": "` + Mask + `"}`},
		{"api_key: abc123, next", "api_key: " + Mask + ", next"},
		{"client_secret=xyz&a=1", "client_secret=" + Mask + "&a=1"},
		{"decision_token=abc", "decision_token=abc"},
		{"scope orders:write missing; basic plan", "scope orders:write missing; basic plan"},
		{"tokens: 12", "tokens: 12"},
		{"the basic subscription plan", "the basic subscription plan"},
		{"Bearer abcdefgh12345678", "Bearer " + Mask},
		{"bearer lowercaseonlytoken", "bearer lowercaseonlytoken"},
		{"session=abc123; theme=dark", "session=" + Mask + "; theme=dark"},
	} {
		if got := p.Text(tc.in); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNoAllocationsOnCleanInput(t *testing.T) {
	p := policy()
	if n := testing.AllocsPerRun(100, func() { _ = p.Header("User-Agent"); _ = p.Header("Authorization") }); n != 0 {
		t.Errorf("Header allocates %.0f times", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = p.Text("Mozilla/5.0 (X11; Linux x86_64)") }); n != 0 {
		t.Errorf("Text on clean text allocates %.0f times", n)
	}
}

// FuzzText: no Pinpoint API key secret or JWT survives, the key id does,
// and redacting twice changes nothing more.
func FuzzText(f *testing.F) {
	for _, s := range []string{"", "a b", "Bearer x", "password=", "pp_live_abcd_", "eyJ.eyJ.", "a://b:c@d"} {
		f.Add(s, s)
	}
	p := policy()
	f.Fuzz(func(t *testing.T, before, after string) {
		in := before + " " + apiKey + " " + after + " " + jwt
		out := p.Text(in)
		if strings.Contains(out, "3xQm8bZ1LrV0aP5cN7tY2wK9sD4fH6jG") || strings.Contains(out, "c2lnbmF0dXJlLXNlY3JldA") {
			t.Fatalf("secret survived Text(%q) = %q", in, out)
		}
		if !strings.Contains(out, keyID) {
			t.Fatalf("key id lost: Text(%q) = %q", in, out)
		}
		if again := p.Text(out); again != out {
			t.Fatalf("not idempotent: %q then %q", out, again)
		}
	})
}

// FuzzQuery: the value of a hidden parameter never survives, whatever
// surrounds it, and keys are kept in order.
func FuzzQuery(f *testing.F) {
	f.Add("a=1&b=2", "x")
	f.Add("", "%zz")
	f.Add("access%5Ftoken=1", "&&")
	p := policy()
	f.Fuzz(func(t *testing.T, prefix, suffix string) {
		raw := prefix + "&access_token=SeCrEtVaLuE99&" + suffix
		out := p.Query(raw)
		if strings.Contains(out, "SeCrEtVaLuE99") {
			t.Fatalf("Query(%q) = %q", raw, out)
		}
		if strings.Count(out, "&") != strings.Count(raw, "&") {
			t.Fatalf("pairs changed: Query(%q) = %q", raw, out)
		}
		if _, err := url.ParseQuery(raw); err == nil {
			if _, err := url.ParseQuery(out); err != nil {
				t.Fatalf("Query(%q) = %q, no longer a query: %v", raw, out, err)
			}
		}
	})
}

// FuzzJSON: JSON in, JSON out, and a hidden field's value never survives.
func FuzzJSON(f *testing.F) {
	f.Add(`{"a":1}`)
	f.Add(`[{"b":"x"},2,null,true]`)
	f.Add(`"s"`)
	p := policy()
	f.Fuzz(func(t *testing.T, doc string) {
		if !json.Valid([]byte(doc)) {
			_ = p.JSON([]byte(doc)) // must not panic
			return
		}
		body := `{"password":"SeCrEtVaLuE99","doc":` + doc + `}`
		out := p.JSON([]byte(body))
		if !json.Valid(out) {
			t.Fatalf("JSON(%q) = %q, not JSON", body, out)
		}
		if strings.Contains(string(out), "SeCrEtVaLuE99") {
			t.Fatalf("JSON(%q) = %q", body, out)
		}
	})
}

func TestURL(t *testing.T) {
	t.Parallel()
	p := policy()
	for _, tc := range []struct{ in, want string }{
		{"http://10.0.0.5:8080/orders?access_token=abc&page=2", "http://10.0.0.5:8080/orders?access_token=" + Mask + "&page=2"},
		{"https://bob:s3cret@db.internal/x", "https://" + Mask + "@db.internal/x"},
		{"/orders", "/orders"},
		{"%zz Bearer abcdefgh12345", "%zz Bearer " + Mask},
	} {
		if got := p.URL(tc.in); got != tc.want {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// Other query values stay even when the call log hides them all.
	if got := Default().URL("http://h/o?page=2&token=t"); got != "http://h/o?page=2&token="+Mask {
		t.Errorf("Default().URL = %q", got)
	}
}
