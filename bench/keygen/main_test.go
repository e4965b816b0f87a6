package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/identity"
)

var keyShape = regexp.MustCompile(`^pp_live_([a-z2-7]{12})_[0-9A-Za-z]{32}$`)

func TestGenerate(t *testing.T) {
	t.Parallel()
	keys, err := generate(rand.Reader, "live", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 100 {
		t.Fatalf("got %d keys, want 100", len(keys))
	}
	ids := map[string]bool{}
	for _, k := range keys {
		m := keyShape.FindStringSubmatch(k.Key)
		if m == nil {
			t.Fatalf("key %q is not pp_live_<12 base32>_<32 base62>", k.Key)
		}
		if m[1] != k.ID {
			t.Errorf("id %q, but the key's prefix id is %q", k.ID, m[1])
		}
		sum := sha256.Sum256([]byte(k.Key))
		if want := hex.EncodeToString(sum[:]); k.SHA256 != want {
			t.Errorf("sha256 of %s: got %s, want %s", k.ID, k.SHA256, want)
		}
		if ids[k.ID] {
			t.Errorf("id %s twice", k.ID)
		}
		ids[k.ID] = true
	}
}

// The gateway's own parser must accept every generated key, so that a change
// of the key format shows up here and not as 401s in the benchmark.
func TestKeysParse(t *testing.T) {
	t.Parallel()
	keys, err := generate(rand.Reader, "live", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		p, err := identity.ParseKey(k.Key)
		if err != nil {
			t.Fatalf("identity.ParseKey(%s…): %v", k.Key[:20], err)
		}
		if p.Env != "live" || p.ID != k.ID {
			t.Errorf("parsed %+v, want env live, id %s", p, k.ID)
		}
	}
}
