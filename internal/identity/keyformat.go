package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"strings"
)

// Key format: pp_<env>_<id>_<secret>
//
//	pp_live_k7f3a9c2d1e0_3xQm8bZ1LrV0aP5cN7tY2wK9sD4fH6jG
//
// env is the gateway environment (lowercase letters and digits), id a
// 12-character lowercase base32 prefix id that is safe to show and log, and
// secret 32 base62 characters (190 bits) that only the caller holds. The
// store keeps the SHA-256 of the whole string.
const (
	keyScheme   = "pp_"
	idLength    = 12
	secretBytes = 32
	base32Chars = "abcdefghijklmnopqrstuvwxyz234567"
	base62Chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// Errors of ParseKey; their text is client-safe.
var (
	ErrNotAKey      = errors.New("it does not start with pp_")
	ErrKeyMalformed = errors.New("it is not of the form pp_<environment>_<id>_<secret>")
)

// ParsedKey is a presented key split into its parts.
type ParsedKey struct {
	Env, ID string
}

// LooksLikeKey reports whether s claims to be a Pinpoint API key (has the
// pp_ scheme); other bearer tokens (JWTs, opaque tokens) do not.
func LooksLikeKey(s string) bool { return strings.HasPrefix(s, keyScheme) }

// ParseKey splits a presented key. It never allocates: the parts are
// substrings of s.
func ParseKey(s string) (ParsedKey, error) {
	if !strings.HasPrefix(s, keyScheme) {
		return ParsedKey{}, ErrNotAKey
	}
	rest := s[len(keyScheme):]
	i := strings.IndexByte(rest, '_')
	if i <= 0 {
		return ParsedKey{}, ErrKeyMalformed
	}
	env := rest[:i]
	rest = rest[i+1:]
	j := strings.IndexByte(rest, '_')
	if j <= 0 || j == len(rest)-1 {
		return ParsedKey{}, ErrKeyMalformed
	}
	id, secret := rest[:j], rest[j+1:]
	if !ValidEnv(env) || !validID(id) || !validSecret(secret) {
		return ParsedKey{}, ErrKeyMalformed
	}
	return ParsedKey{Env: env, ID: id}, nil
}

// ValidEnv reports whether env can be a key environment: 1-16 lowercase
// letters or digits.
func ValidEnv(env string) bool {
	if env == "" || len(env) > 16 {
		return false
	}
	for i := 0; i < len(env); i++ {
		c := env[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// ValidKeyID reports whether id can be a key's prefix id: 4-32 lowercase
// letters and digits (generated ids are 12 base32 characters).
func ValidKeyID(id string) bool { return validID(id) }

func validID(id string) bool {
	if len(id) < 4 || len(id) > 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func validSecret(s string) bool {
	if len(s) < 16 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// Prefix is the visible part of a key: pp_<env>_<id>.
func Prefix(env, id string) string { return keyScheme + env + "_" + id }

// HashKey returns the SHA-256 of a whole key string.
func HashKey(key string) [32]byte { return sha256.Sum256([]byte(key)) }

// GenerateKey generates a key for env. It returns the whole key (shown once)
// and its prefix id.
func GenerateKey(env string) (key, id string) {
	id = randomString(base32Chars, idLength)
	secret := randomString(base62Chars, secretBytes)
	return Prefix(env, id) + "_" + secret, id
}

// randomString draws n characters uniformly from alphabet (rejection
// sampling, so no character is more likely than another).
func randomString(alphabet string, n int) string {
	out := make([]byte, 0, n)
	limit := 256 - 256%len(alphabet)
	var buf [64]byte
	for len(out) < n {
		_, _ = rand.Read(buf[:]) // crypto/rand.Read never fails (Go 1.24+)
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out = append(out, alphabet[int(b)%len(alphabet)])
			if len(out) == n {
				break
			}
		}
	}
	return string(out)
}
