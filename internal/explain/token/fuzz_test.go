package token

import (
	"testing"
	"time"
)

// FuzzOpen feeds arbitrary text to Open: it must never panic, and a token
// that opens must be one the keyring sealed (re-sealing reproduces it).
func FuzzOpen(f *testing.F) {
	r := testRing(f, testKey("k1", 1))
	d := typical()
	f.Add(r.Seal(&d))
	f.Add("")
	f.Add("AQJrMQ")
	f.Fuzz(func(t *testing.T, tok string) {
		got, err := r.Open(tok)
		if err != nil {
			if !openErr(err) {
				t.Fatalf("Open error %v is none of the documented errors", err)
			}
			return
		}
		again, err := r.Open(r.Seal(&got))
		if err != nil || again.Code != got.Code || again.RequestID != got.RequestID {
			t.Fatalf("re-sealed %+v opened to %+v, %v", got, again, err)
		}
	})
}

// FuzzRoundTrip seals arbitrary field values: they must open unchanged
// (or cut and marked when over-long).
func FuzzRoundTrip(f *testing.F) {
	r := testRing(f, testKey("k1", 1))
	f.Add("01920d4e-8f3a-7b21-9c4d-2f6e8a1b3c5d", "orders", "authz", "scopes", "authz.scope_missing", "acme", "pp_live_x", int64(42), int64(1764597727000))
	f.Fuzz(func(t *testing.T, id, route, stage, rule, code, consumer, cred string, rev, ms int64) {
		in := Decision{RequestID: id, Route: route, Stage: stage, Rule: rule, Code: code, ConsumerID: consumer, CredentialID: cred,
			Revision: rev, Time: time.UnixMilli(ms).UTC()}
		tok := r.Seal(&in)
		if len(tok) > MaxLen {
			t.Fatalf("%d characters > MaxLen %d", len(tok), MaxLen)
		}
		got, err := r.Open(tok)
		if err != nil {
			t.Fatal(err)
		}
		if got.Truncated {
			return
		}
		got.KeyID = ""
		if !got.Time.Equal(in.Time) {
			t.Fatalf("time %v, want %v", got.Time, in.Time)
		}
		got.Time, in.Time = time.Time{}, time.Time{}
		if got != in {
			t.Fatalf("got %+v, want %+v", got, in)
		}
	})
}

// FuzzParseKeys feeds arbitrary key files to ParseKeys: no panic, and
// every key it returns makes a valid keyring (TestParseKeys checks that
// errors never show a secret).
func FuzzParseKeys(f *testing.F) {
	f.Add("k1=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n# c\nk2:" + "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
	f.Add("k1 AAECAwQF,k2=")
	f.Fuzz(func(t *testing.T, text string) {
		keys, err := ParseKeys(text)
		if err != nil {
			return
		}
		if _, err := NewKeyring(keys...); err != nil {
			t.Fatalf("ParseKeys returned keys NewKeyring refuses: %v", err)
		}
	})
}
