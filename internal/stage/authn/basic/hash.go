package basic

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Bounds ValidateHash enforces, so that one configured hash cannot make a
// single verification take minutes or gigabytes.
const (
	// maxArgonMemoryKiB is 1 GiB.
	maxArgonMemoryKiB = 1 << 20
	maxArgonTime      = 16
	maxArgonThreads   = 255
	minArgonSaltBytes = 8
	maxArgonSaltBytes = 64
	minArgonKeyBytes  = 16
	maxArgonKeyBytes  = 128
	minBcryptCost     = bcrypt.MinCost // 4
	maxBcryptCost     = bcrypt.MaxCost // 31
	// bcryptMaxPassword is the longest password bcrypt reads; it ignores
	// the rest, so longer passwords are refused rather than truncated.
	bcryptMaxPassword = 72
)

// argonParams is a parsed argon2id PHC string.
type argonParams struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

// ValidateHash reports whether phc is a password hash the basic method can
// verify, so that the configuration is refused at load rather than every
// login failing at run time. It accepts
//
//	$argon2id$v=19$m=65536,t=3,p=2$<salt>$<hash>   (salt and hash: base64 without padding)
//	$2a$12$…, $2b$12$…, $2y$12$…                    (bcrypt, cost 4..31)
//
// with argon2 memory at most 1 GiB and time at most 16. The error text
// never contains the hash.
func ValidateHash(phc string) error {
	switch {
	case strings.HasPrefix(phc, "$argon2id$"):
		_, err := parseArgon2id(phc)
		return err
	case strings.HasPrefix(phc, "$2a$"), strings.HasPrefix(phc, "$2b$"), strings.HasPrefix(phc, "$2y$"):
		return validateBcrypt(phc)
	case strings.HasPrefix(phc, "$argon2i$"), strings.HasPrefix(phc, "$argon2d$"):
		return errors.New("only argon2id hashes are accepted, not argon2i or argon2d")
	default:
		return errors.New(`password hash must be an argon2id PHC string ("$argon2id$v=19$m=65536,t=3,p=2$…") or bcrypt ("$2b$12$…")`)
	}
}

// parseArgon2id parses "$argon2id$v=19$m=65536,t=3,p=2$<salt>$<hash>".
func parseArgon2id(phc string) (argonParams, error) {
	var p argonParams
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, errors.New("argon2id hash must have the form $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>")
	}
	if parts[2] != "v=19" {
		return p, errors.New("argon2id hash must be version 19 (v=19)")
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 || !strings.HasPrefix(params[0], "m=") || !strings.HasPrefix(params[1], "t=") || !strings.HasPrefix(params[2], "p=") {
		return p, errors.New("argon2id parameters must read m=<KiB>,t=<passes>,p=<lanes>")
	}
	m, err := phcUint(params[0][2:], maxArgonMemoryKiB)
	if err != nil {
		return p, fmt.Errorf("argon2id memory m: %w (at most %d KiB, 1 GiB)", err, maxArgonMemoryKiB)
	}
	t, err := phcUint(params[1][2:], maxArgonTime)
	if err != nil {
		return p, fmt.Errorf("argon2id time t: %w (at most %d)", err, maxArgonTime)
	}
	threads, err := phcUint(params[2][2:], maxArgonThreads)
	if err != nil {
		return p, fmt.Errorf("argon2id parallelism p: %w (at most %d)", err, maxArgonThreads)
	}
	if m < 8*threads {
		return p, fmt.Errorf("argon2id memory m=%d is below the minimum of 8 KiB per lane (p=%d)", m, threads)
	}
	p.memory, p.time, p.threads = uint32(m), uint32(t), uint8(threads)
	if p.salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[4]); err != nil {
		return p, errors.New("argon2id salt is not base64 without padding")
	}
	if len(p.salt) < minArgonSaltBytes || len(p.salt) > maxArgonSaltBytes {
		return p, fmt.Errorf("argon2id salt must be %d to %d bytes, not %d", minArgonSaltBytes, maxArgonSaltBytes, len(p.salt))
	}
	if p.key, err = base64.RawStdEncoding.Strict().DecodeString(parts[5]); err != nil {
		return p, errors.New("argon2id hash is not base64 without padding")
	}
	if len(p.key) < minArgonKeyBytes || len(p.key) > maxArgonKeyBytes {
		return p, fmt.Errorf("argon2id hash must be %d to %d bytes, not %d", minArgonKeyBytes, maxArgonKeyBytes, len(p.key))
	}
	return p, nil
}

// phcUint parses a decimal in 1..max without sign or leading zeros.
func phcUint(s string, max uint64) (uint64, error) {
	if s == "" || (len(s) > 1 && s[0] == '0') || s[0] == '+' || s[0] == '-' {
		return 0, errors.New("not a positive decimal")
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 {
		return 0, errors.New("not a positive decimal")
	}
	if n > max {
		return 0, errors.New("too large")
	}
	return n, nil
}

// bcryptAlphabet is bcrypt's base64 alphabet.
const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// validateBcrypt checks "$2b$12$" + 53 characters of bcrypt base64.
func validateBcrypt(h string) error {
	if len(h) != 60 || h[6] != '$' {
		return errors.New("bcrypt hash must be 60 characters: $2b$<cost>$<53 characters>")
	}
	cost, err := strconv.Atoi(h[4:6])
	if err != nil || h[4] < '0' || h[4] > '9' {
		return errors.New("bcrypt cost must be two digits")
	}
	if cost < minBcryptCost || cost > maxBcryptCost {
		return fmt.Errorf("bcrypt cost must be %d to %d, not %d", minBcryptCost, maxBcryptCost, cost)
	}
	for i := 7; i < len(h); i++ {
		if strings.IndexByte(bcryptAlphabet, h[i]) < 0 {
			return errors.New("bcrypt salt and hash must use the characters ./A-Za-z0-9")
		}
	}
	if _, err := bcrypt.Cost([]byte(h)); err != nil {
		return errors.New("bcrypt hash is not well formed")
	}
	return nil
}

// errHashUnusable wraps why a stored hash could not be used.
var errHashUnusable = errors.New("stored password hash is unusable")

// verifyPassword reports whether password matches the PHC hash. err is
// non-nil only when the hash itself cannot be used (ValidateHash would
// have refused it); a wrong password is (false, nil).
func verifyPassword(phc string, password []byte) (bool, error) {
	if strings.HasPrefix(phc, "$argon2id$") {
		p, err := parseArgon2id(phc)
		if err != nil {
			return false, fmt.Errorf("%w: %v", errHashUnusable, err)
		}
		got := argon2.IDKey(password, p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
		return subtle.ConstantTimeCompare(got, p.key) == 1, nil
	}
	if err := validateBcrypt(phc); err != nil {
		return false, fmt.Errorf("%w: %v", errHashUnusable, err)
	}
	if len(password) > bcryptMaxPassword {
		// Still spend the time, so length does not show in timing.
		_ = bcrypt.CompareHashAndPassword([]byte(phc), password[:bcryptMaxPassword])
		return false, nil
	}
	switch err := bcrypt.CompareHashAndPassword([]byte(phc), password); {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	default:
		return false, fmt.Errorf("%w: %v", errHashUnusable, err)
	}
}
