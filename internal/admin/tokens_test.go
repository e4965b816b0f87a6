package admin_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/admin/admintest"
	"github.com/pinpointgw/pinpoint/internal/explain/token"
)

// tokenControl is the test Control with the gateway's decision-token
// decoding: the real keyring of the token package.
type tokenControl struct {
	*admintest.Control
	ring *token.Keyring
}

func (c tokenControl) DecodeToken(tok string) (token.Decision, error) { return c.ring.Open(tok) }

func TestDecodeDecisionToken(t *testing.T) {
	t.Parallel()
	ring, err := token.NewKeyring(token.Key{ID: "k1", Secret: bytes.Repeat([]byte{7}, token.KeySize)})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(o *admin.Options) { o.Control = tokenControl{Control: o.Control.(*admintest.Control), ring: ring} })
	want := token.Decision{RequestID: "01920d4e-8f3a-7b21-9c4d-2f6e8a1b3c5d", Time: start, Route: "orders", Stage: "authz",
		Rule: "scopes", Code: "authz.scope_missing", ConsumerID: "acme", CredentialID: "pp_live_k7f3a9c2d1e0", Revision: 4}
	tok := ring.Seal(&want)

	got, err := f.client.DecodeToken(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	want.KeyID = "k1"
	if !got.Time.Equal(want.Time) {
		t.Errorf("time %v, want %v", got.Time, want.Time)
	}
	got.Time, want.Time = time.Time{}, time.Time{}
	if got != want {
		t.Errorf("decoded %+v, want %+v", got, want)
	}

	other, _ := token.NewKeyring(token.Key{ID: "k9", Secret: bytes.Repeat([]byte{9}, token.KeySize)})
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	raw[len(raw)-1] ^= 1
	for _, tc := range []struct {
		name, body string
		status     int
		code, text string
	}{
		{"unknown key", `{"token":"` + other.Seal(&want) + `"}`, 404, "admin.not_found", `"k9"`},
		{"tampered", `{"token":"` + base64.RawURLEncoding.EncodeToString(raw) + `"}`, 400, "admin.bad_request", "failed authentication"},
		{"malformed", `{"token":"not-a-token!"}`, 400, "admin.bad_request", "malformed"},
		{"empty", `{"token":""}`, 400, "admin.bad_request", `needs "token"`},
		{"unknown field", `{"tok":"x"}`, 400, "admin.bad_request", "not the expected JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.do(t, "POST", "/admin/decision-tokens/decode", testToken, []byte(tc.body))
			var p map[string]any
			if err := json.Unmarshal(r.body, &p); err != nil {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if r.status != tc.status || p["code"] != tc.code || !strings.Contains(p["detail"].(string), tc.text) {
				t.Errorf("%d %s, want %d %s with %q", r.status, r.body, tc.status, tc.code, tc.text)
			}
			if strings.Contains(string(r.body), "not-a-token") {
				t.Errorf("the answer echoes the token: %s", r.body)
			}
		})
	}

	// The client surfaces a refusal as an *APIError.
	_, err = f.client.DecodeToken(t.Context(), other.Seal(&want))
	var apiErr *admin.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 404 {
		t.Errorf("client error %v, want a 404 APIError", err)
	}
	// The endpoint needs the admin token.
	if r := f.do(t, "POST", "/admin/decision-tokens/decode", "", []byte(`{"token":"`+tok+`"}`)); r.status != 401 {
		t.Errorf("without a token: %d", r.status)
	}
}

func TestDecodeDecisionTokenWithoutDecoder(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.do(t, "POST", "/admin/decision-tokens/decode", testToken, []byte(`{"token":"AQJrMQ"}`))
	if r.status != 404 {
		t.Errorf("a Control that cannot decode: %d %s", r.status, r.body)
	}
}
