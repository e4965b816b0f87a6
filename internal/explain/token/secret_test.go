package token

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func TestParseSecret(t *testing.T) {
	t.Parallel()
	secret := bytes.Repeat([]byte{0xfb, 0xff, 0x3e}, 11)[:KeySize]
	good := map[string]string{
		"hex":          hex.EncodeToString(secret),
		"HEX":          strings.ToUpper(hex.EncodeToString(secret)),
		"std":          base64.StdEncoding.EncodeToString(secret),
		"std unpadded": base64.RawStdEncoding.EncodeToString(secret),
		"url":          base64.URLEncoding.EncodeToString(secret),
		"url unpadded": base64.RawURLEncoding.EncodeToString(secret),
		"spaces":       "  " + base64.StdEncoding.EncodeToString(secret) + "\n",
	}
	for name, s := range good {
		got, err := ParseSecret(s)
		if err != nil || !bytes.Equal(got, secret) {
			t.Errorf("%s: ParseSecret = %x, %v", name, got, err)
		}
	}
	bad := map[string]string{
		"short":     base64.StdEncoding.EncodeToString(secret[:16]),
		"long hex":  hex.EncodeToString(append(secret, 1)),
		"garbage":   "hunter2-not-a-key!",
		"empty":     "",
		"63 digits": hex.EncodeToString(secret)[:63],
	}
	for name, s := range bad {
		_, err := ParseSecret(s)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("%s: the error quotes the secret: %v", name, err)
		}
	}
}

func TestParseKeys(t *testing.T) {
	t.Parallel()
	s1 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, KeySize))
	s2 := hex.EncodeToString(bytes.Repeat([]byte{2}, KeySize))
	keys, err := ParseKeys("# newest first\n\nk2=" + s1 + "\n  k1 : " + s2 + "  \r\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].ID != "k2" || keys[1].ID != "k1" || keys[1].Secret[0] != 2 {
		t.Fatalf("ParseKeys = %v", keys)
	}
	if keys, err := ParseKeys("a=" + s1 + ",b:" + s2); err != nil || len(keys) != 2 {
		t.Errorf("comma-separated: %v, %v", keys, err)
	}
	for text, wantErr := range map[string]string{
		"":                          "no keys",
		"k1 " + s1[:43]:             "line 1: want id=secret",
		"k1 " + s1:                  "line 1: invalid key id",
		"k1=" + s1 + "\nk1=" + s2:   "line 2: key id \"k1\" is given twice (first on line 1)",
		"k/1=" + s1:                 "line 1: invalid key id",
		"k1=hunter2-secret-value!!": "line 1: key \"k1\": the secret is neither",
	} {
		_, err := ParseKeys(text)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("ParseKeys(%q) = %v, want %q", text, err, wantErr)
		}
		if err != nil && (strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), s1[:20])) {
			t.Errorf("error shows a secret: %v", err)
		}
	}
}

func TestGenerateKey(t *testing.T) {
	t.Parallel()
	a, err := GenerateKey("store-1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := GenerateKey("store-1")
	if len(a.Secret) != KeySize || bytes.Equal(a.Secret, b.Secret) {
		t.Errorf("generated secrets: %d bytes, equal=%v", len(a.Secret), bytes.Equal(a.Secret, b.Secret))
	}
	if _, err := GenerateKey("bad id"); err == nil {
		t.Error("GenerateKey accepted a bad id")
	}
}
