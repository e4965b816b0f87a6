package token

import (
	"bytes"
	"encoding/base64"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/problem"
)

var update = flag.Bool("update", false, "rewrite testdata/code-table.golden")

func testKey(id string, fill byte) Key {
	return Key{ID: id, Secret: bytes.Repeat([]byte{fill}, KeySize)}
}

func testRing(t testing.TB, keys ...Key) *Keyring {
	t.Helper()
	r, err := NewKeyring(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// typical is a refusal as the gateway seals it.
func typical() Decision {
	return Decision{
		RequestID:    "01920d4e-8f3a-7b21-9c4d-2f6e8a1b3c5d",
		Time:         time.Date(2026, 12, 1, 14, 2, 7, 123_000_000, time.UTC),
		Route:        "orders",
		Stage:        "authz",
		Rule:         "scopes",
		Code:         "authz.scope_missing",
		ConsumerID:   "acme-corp",
		CredentialID: "pp_live_k7f3a9c2d1e0",
		Revision:     42,
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	r := testRing(t, testKey("k1", 1))
	long := strings.Repeat("é", 100) // 200 bytes: cut at a rune boundary
	cases := []struct {
		name string
		in   Decision
		want Decision // zero: same as in
	}{
		{name: "typical", in: typical()},
		{name: "empty", in: Decision{Time: time.UnixMilli(0).UTC()}},
		{name: "client request id", in: Decision{RequestID: "req-abc.123:x", Time: time.UnixMilli(1).UTC(), Code: "route.not_found", Stage: "route"}},
		{name: "upper-case uuid kept as text", in: Decision{RequestID: "01920D4E-8F3A-7B21-9C4D-2F6E8A1B3C5D", Time: time.UnixMilli(5).UTC()}},
		{name: "codes and stages outside the tables", in: Decision{Code: "future.code", Stage: "report", Time: time.UnixMilli(9).UTC(), Revision: -3}},
		{name: "before 1970", in: Decision{Time: time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC), Code: "waf.blocked"}},
		{name: "unicode", in: Decision{Route: "commandes-été", Rule: "règle ✓", ConsumerID: "клиент", Time: time.UnixMilli(7).UTC()}},
		{
			name: "over-long values are cut and marked",
			in:   Decision{RequestID: strings.Repeat("r", 300), Route: long, Rule: long, Code: long, Stage: long, ConsumerID: long, CredentialID: long, Time: time.UnixMilli(3).UTC()},
			want: Decision{
				RequestID: strings.Repeat("r", maxRequestID) + ellipsis,
				Route:     strings.Repeat("é", 32) + ellipsis, Rule: strings.Repeat("é", 32) + ellipsis,
				Code: strings.Repeat("é", 32) + ellipsis, Stage: strings.Repeat("é", 32) + ellipsis,
				ConsumerID: strings.Repeat("é", 32) + ellipsis, CredentialID: strings.Repeat("é", 32) + ellipsis,
				Time: time.UnixMilli(3).UTC(), Truncated: true,
			},
		},
		{name: "sub-millisecond time is dropped", in: Decision{Time: time.Date(2026, 1, 2, 3, 4, 5, 678_901_234, time.UTC)},
			want: Decision{Time: time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok := r.Seal(&tc.in)
			if len(tok) > MaxLen {
				t.Errorf("token is %d characters, MaxLen is %d", len(tok), MaxLen)
			}
			got, err := r.Open(tok)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			want := tc.want
			if want == (Decision{}) {
				want = tc.in
			}
			want.KeyID = "k1"
			if !got.Time.Equal(want.Time) {
				t.Errorf("time = %v, want %v", got.Time, want.Time)
			}
			got.Time, want.Time = time.Time{}, time.Time{}
			if got != want {
				t.Errorf("Open(Seal(d)) =\n %+v\nwant\n %+v", got, want)
			}
		})
	}
}

func TestTypicalTokenIsSmall(t *testing.T) {
	t.Parallel()
	r := testRing(t, testKey("k2026-12", 1))
	d := typical()
	tok := r.Seal(&d)
	if len(tok) >= 300 {
		t.Errorf("a typical token is %d characters, want < 300: %s", len(tok), tok)
	}
	t.Logf("typical token: %d characters", len(tok))
}

func TestWorstCaseIsBounded(t *testing.T) {
	t.Parallel()
	r := testRing(t, testKey(strings.Repeat("k", MaxKeyIDLen), 1))
	huge := strings.Repeat("\U0001F600", 1000)
	d := Decision{RequestID: huge, Route: huge, Stage: huge, Rule: huge, Code: huge, ConsumerID: huge, CredentialID: huge,
		Time: time.Unix(1<<40, 0), Revision: -1 << 62}
	tok := r.Seal(&d)
	if len(tok) > MaxLen {
		t.Fatalf("worst case is %d characters, MaxLen %d", len(tok), MaxLen)
	}
	got, err := r.Open(tok)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Truncated || !strings.HasSuffix(got.Rule, ellipsis) {
		t.Errorf("over-long values not marked: %+v", got)
	}
}

func TestEachSealUsesAFreshNonce(t *testing.T) {
	t.Parallel()
	r := testRing(t, testKey("k1", 1))
	d := typical()
	a, b := r.Seal(&d), r.Seal(&d)
	if a == b {
		t.Fatal("two seals of one decision gave the same token")
	}
}

// The caller holding a token must learn nothing but the key id.
func TestTokenLeaksNothing(t *testing.T) {
	t.Parallel()
	r := testRing(t, testKey("k1", 1))
	d := typical()
	tok := r.Seal(&d)
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{d.RequestID, d.Route, d.Rule, d.Code, d.ConsumerID, d.CredentialID, "orders", "acme", "pp_live", "scope"} {
		if strings.Contains(tok, secret) || bytes.Contains(raw, []byte(secret)) {
			t.Errorf("token shows %q", secret)
		}
	}
	if !bytes.Contains(raw[:4], []byte("k1")) {
		t.Errorf("the key id should be the one clear part: % x", raw[:4])
	}
}

func openErr(err error) bool {
	return errors.Is(err, ErrMalformed) || errors.Is(err, ErrVersion) || errors.Is(err, ErrUnknownKey) || errors.Is(err, ErrTampered)
}

func TestTamperingEveryByteIsDetected(t *testing.T) {
	t.Parallel()
	r := testRing(t, testKey("k1", 1), testKey("k2", 2))
	d := typical()
	tok := r.Seal(&d)
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	for i := range raw {
		for _, flip := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(raw)
			bad[i] ^= flip
			_, err := r.Open(base64.RawURLEncoding.EncodeToString(bad))
			if err == nil || !openErr(err) {
				t.Fatalf("byte %d ^ %#x: Open = %v, want a token error", i, flip, err)
			}
			// Past the header, only authentication can notice.
			if i >= 4 && !errors.Is(err, ErrTampered) {
				t.Errorf("byte %d ^ %#x: %v, want ErrTampered", i, flip, err)
			}
		}
	}
	// The key id is authenticated: renaming k1 to k2 (a key the ring holds)
	// fails authentication instead of opening.
	bad := bytes.Clone(raw)
	bad[3] = '2'
	if _, err := r.Open(base64.RawURLEncoding.EncodeToString(bad)); !errors.Is(err, ErrTampered) {
		t.Errorf("renamed key id: %v, want ErrTampered", err)
	}
}

func TestTamperingEveryCharacterIsDetected(t *testing.T) {
	t.Parallel()
	r := testRing(t, testKey("k1", 1))
	d := typical()
	tok := r.Seal(&d)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range len(tok) {
		for _, c := range []byte{alphabet[(strings.IndexByte(alphabet, tok[i])+1)%64], '=', '+', '.'} {
			bad := []byte(tok)
			bad[i] = c
			if _, err := r.Open(string(bad)); err == nil || !openErr(err) {
				t.Fatalf("character %d → %q: Open = %v, want a token error", i, c, err)
			}
		}
	}
}

func TestTruncatedTokens(t *testing.T) {
	t.Parallel()
	r := testRing(t, testKey("k1", 1))
	d := typical()
	tok := r.Seal(&d)
	for n := range len(tok) {
		if _, err := r.Open(tok[:n]); err == nil || !openErr(err) {
			t.Fatalf("first %d characters: Open = %v, want a token error", n, err)
		}
	}
	if _, err := r.Open(""); !errors.Is(err, ErrMalformed) {
		t.Errorf("empty: %v, want ErrMalformed", err)
	}
	if _, err := r.Open(tok + "AAAA"); !errors.Is(err, ErrTampered) {
		t.Errorf("extended: %v, want ErrTampered", err)
	}
	if _, err := r.Open(strings.Repeat("A", MaxLen+4)); !errors.Is(err, ErrMalformed) {
		t.Errorf("over-long: %v, want ErrMalformed", err)
	}
	if _, err := r.Open("not a token!"); !errors.Is(err, ErrMalformed) {
		t.Errorf("not base64: %v, want ErrMalformed", err)
	}
}

func TestWrongVersion(t *testing.T) {
	t.Parallel()
	r := testRing(t, testKey("k1", 1))
	d := typical()
	raw, _ := base64.RawURLEncoding.DecodeString(r.Seal(&d))
	for _, v := range []byte{0, 2, 0xff} {
		raw[0] = v
		_, err := r.Open(base64.RawURLEncoding.EncodeToString(raw))
		if !errors.Is(err, ErrVersion) {
			t.Errorf("version %d: %v, want ErrVersion", v, err)
		}
	}
}

func TestRotation(t *testing.T) {
	t.Parallel()
	k1, k2 := testKey("k1", 1), testKey("k2", 2)
	before := testRing(t, k1)
	after := testRing(t, k2, k1) // the new key first, the old one kept
	d := typical()
	old := before.Seal(&d)

	got, err := after.Open(old)
	if err != nil {
		t.Fatalf("an old token no longer opens after rotation: %v", err)
	}
	if got.KeyID != "k1" || got.Code != d.Code {
		t.Errorf("old token opened to %+v", got)
	}
	if after.SealingKeyID() != "k2" {
		t.Errorf("SealingKeyID = %q, want k2", after.SealingKeyID())
	}
	fresh := after.Seal(&d)
	if id, err := KeyIDOf(fresh); err != nil || id != "k2" {
		t.Errorf("KeyIDOf(new token) = %q, %v; want k2", id, err)
	}
	if _, err := before.Open(fresh); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("a node without the new key: %v, want ErrUnknownKey", err)
	}
	retired := testRing(t, k2) // k1 dropped: its tokens no longer open
	if _, err := retired.Open(old); !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), `"k1"`) {
		t.Errorf("retired key: %v, want ErrUnknownKey naming k1", err)
	}
}

func TestSameIDOtherSecretIsTampered(t *testing.T) {
	t.Parallel()
	d := typical()
	tok := testRing(t, testKey("k1", 1)).Seal(&d)
	if _, err := testRing(t, testKey("k1", 9)).Open(tok); !errors.Is(err, ErrTampered) {
		t.Errorf("Open with another secret under the same id: %v, want ErrTampered", err)
	}
}

func TestNewKeyringRefusesBadKeys(t *testing.T) {
	t.Parallel()
	cases := map[string][]Key{
		"none":          nil,
		"empty id":      {testKey("", 1)},
		"long id":       {testKey(strings.Repeat("k", 17), 1)},
		"bad id":        {testKey("k/1", 1)},
		"short secret":  {{ID: "k1", Secret: []byte("short")}},
		"duplicate ids": {testKey("k1", 1), testKey("k1", 2)},
	}
	for name, keys := range cases {
		if _, err := NewKeyring(keys...); err == nil {
			t.Errorf("%s: NewKeyring accepted %v", name, keys)
		}
	}
}

func TestKeyPrintsNoSecret(t *testing.T) {
	t.Parallel()
	k := Key{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := sprintf(format, k); strings.Contains(s, "0123") || strings.Contains(s, "48 49") {
			t.Errorf("%s shows the secret: %s", format, s)
		}
	}
}

// TestCodeTable pins the compact encoding's tables: entries are catalog
// codes, never removed or reordered (testdata/code-table.golden holds the
// table as released; -update appends new entries to it).
func TestCodeTable(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for i, c := range codeTable {
		if _, ok := problem.Lookup(c); !ok {
			t.Errorf("codeTable[%d] = %q is not a catalog code", i, c)
		}
		if seen[c] {
			t.Errorf("codeTable[%d] = %q repeats", i, c)
		}
		seen[c] = true
	}
	if len(codeIndex) != len(codeTable) || len(stageIndex) != len(stageTable) {
		t.Error("a table holds a duplicate")
	}
	current := strings.Join(append(codeTable[:], append([]string{"--- stages"}, stageTable[:]...)...), "\n") + "\n"
	const golden = "testdata/code-table.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(current), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	wantCodes, wantStages, _ := strings.Cut(string(want), "--- stages\n")
	gotCodes, gotStages, _ := strings.Cut(current, "--- stages\n")
	if !strings.HasPrefix(gotCodes, wantCodes) || !strings.HasPrefix(gotStages, wantStages) {
		t.Errorf("the token tables changed other than by appending; tokens of older gateways would decode wrongly.\nwant a table starting with\n%s", want)
	}
}
