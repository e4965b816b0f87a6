package introspect

import (
	"testing"
)

// FuzzParseAnswer: the answer parser never panics, and only a boolean
// active: true yields an active answer.
func FuzzParseAnswer(f *testing.F) {
	for _, s := range []string{
		`{"active":true,"client_id":"a","scope":"x y","exp":1e10,"nbf":-1}`,
		`{"active":false}`, `{"active":"true"}`, `{"active":true,"exp":1e300}`,
		`{"active":true,"exp":NaN}`, `{"active":true,"scope":[1,"a",null]}`, `null`, `[]`, `{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := parseAnswer(body, "client_id", "scope")
		if err != nil {
			return
		}
		if a == nil {
			t.Fatal("nil answer without error")
		}
		if !a.active && (a.claims != nil || a.scopes != nil || a.consumer != "") {
			t.Fatalf("inactive answer keeps members: %+v", a)
		}
		if a.active && a.claims["active"] != true {
			t.Fatalf("active answer from %q", body)
		}
	})
}

// FuzzAuthenticate: arbitrary bearer tokens never panic the method and
// reach the endpoint intact.
func FuzzAuthenticate(f *testing.F) {
	srv := newIDPServer(f)
	m := newMethod(f, srv, newClock())
	for _, s := range []string{"2YotnFZFEjr1zCsicMWpAA", "a+b/c=d&e", "pp_live_x", "é\u00a0x", "a\x00b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		found, d := m.Authenticate(exchange("Bearer "+tok), testDirectory)
		if found && d == nil {
			t.Fatal("accepted a token the endpoint does not know")
		}
		if d != nil && d.Code != codeInactive && d.Code != codeIDPUnavailable {
			t.Fatalf("code %s: %s", d.Code, d.Reason)
		}
	})
}
