package token

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// ParseSecret decodes a key's secret written as 64 hex digits or as
// base64 (standard or URL alphabet, padded or not) of 32 bytes. Its errors
// never quote s.
func ParseSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, e := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := e.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("the secret decodes to %d bytes, want %d", len(b), KeySize)
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("the secret is neither 64 hex digits nor base64 of %d bytes (make one with: openssl rand -base64 32)", KeySize)
}

// GenerateKey returns a new random key named id.
func GenerateKey(id string) (Key, error) {
	if err := CheckKeyID(id); err != nil {
		return Key{}, err
	}
	k := Key{ID: id, Secret: make([]byte, KeySize)}
	_, _ = rand.Read(k.Secret)
	return k, nil
}

// ParseKeys reads keys written one per line (or separated by commas) as
// "id=secret" or "id:secret", the secret as for ParseSecret. Blank lines
// and lines starting with # are skipped. This is the format of
// `pinpoint explain --key-file` and of $PINPOINT_TOKEN_KEYS:
//
//	# decision-token keys, newest first
//	k2=q9Jx0cM1b4yq1p3Jm1m5cQ3b0m3r7Y0v2gq7b1pJmWc=
//	k1:5f1c…(64 hex digits)
//
// Errors name the line, never a secret.
func ParseKeys(text string) ([]Key, error) {
	var keys []Key
	seen := map[string]int{}
	for n, line := range strings.Split(text, "\n") {
		for _, item := range strings.Split(line, ",") {
			item = strings.TrimSpace(item)
			if item == "" || strings.HasPrefix(item, "#") {
				continue
			}
			i := strings.IndexAny(item, "=:")
			if i < 0 {
				return nil, fmt.Errorf("line %d: want id=secret or id:secret", n+1)
			}
			id := strings.TrimSpace(item[:i])
			if CheckKeyID(id) != nil {
				// Not quoted: a missing separator would put the secret here.
				return nil, fmt.Errorf("line %d: invalid key id (want 1 to %d letters, digits, _ or -, then = or :, then the secret)", n+1, MaxKeyIDLen)
			}
			if first, dup := seen[id]; dup {
				return nil, fmt.Errorf("line %d: key id %q is given twice (first on line %d)", n+1, id, first)
			}
			secret, err := ParseSecret(item[i+1:])
			if err != nil {
				return nil, fmt.Errorf("line %d: key %q: %w", n+1, id, err)
			}
			seen[id] = n + 1
			keys = append(keys, Key{ID: id, Secret: secret})
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no keys: want one id=secret per line")
	}
	return keys, nil
}
