package token

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/crypto/chacha20poly1305"
)

// enc is strict so that exactly one text spells each token: a changed
// character can never decode to the same bytes.
var enc = base64.RawURLEncoding.Strict()

// Key is one decision-token key.
type Key struct {
	// ID names the key inside each token: 1 to 16 characters of
	// [A-Za-z0-9_-]. It is written in clear, so it must not say anything
	// secret.
	ID string
	// Secret is the 32-byte XChaCha20-Poly1305 key. Never log it.
	Secret []byte
}

// String hides the secret (a Key printed by mistake shows only its id).
func (k Key) String() string { return "token.Key{ID:" + k.ID + "}" }

// GoString hides the secret from %#v as well.
func (k Key) GoString() string { return k.String() }

// Keyring seals with its first key and opens with any of them. It is
// immutable and safe for concurrent use; rotate by building a new one with
// the new key first.
type Keyring struct {
	keys []ringKey
}

type ringKey struct {
	id   string
	aead cipher.AEAD
}

// NewKeyring builds a keyring from keys; keys[0] seals. Ids must be valid
// and distinct and every secret 32 bytes long.
func NewKeyring(keys ...Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("decision-token keyring: no keys")
	}
	r := &Keyring{keys: make([]ringKey, 0, len(keys))}
	for _, k := range keys {
		if err := CheckKeyID(k.ID); err != nil {
			return nil, err
		}
		if len(k.Secret) != KeySize {
			return nil, fmt.Errorf("decision-token key %q: the secret is %d bytes, want %d", k.ID, len(k.Secret), KeySize)
		}
		if r.find(k.ID) != nil {
			return nil, fmt.Errorf("decision-token key %q is given twice", k.ID)
		}
		a, err := chacha20poly1305.NewX(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("decision-token key %q: %w", k.ID, err)
		}
		r.keys = append(r.keys, ringKey{id: k.ID, aead: a})
	}
	return r, nil
}

// CheckKeyID reports whether id is a valid key id.
func CheckKeyID(id string) error {
	if id == "" || len(id) > MaxKeyIDLen {
		return fmt.Errorf("decision-token key id %q: want 1 to %d characters", id, MaxKeyIDLen)
	}
	for i := 0; i < len(id); i++ {
		if !idChar(id[i]) {
			return fmt.Errorf("decision-token key id %q: use only letters, digits, _ and -", id)
		}
	}
	return nil
}

func idChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// SealingKeyID is the id of the key Seal uses.
func (r *Keyring) SealingKeyID() string { return r.keys[0].id }

// KeyIDs lists the ids of the keys, the sealing key first.
func (r *Keyring) KeyIDs() []string {
	ids := make([]string, len(r.keys))
	for i, k := range r.keys {
		ids[i] = k.id
	}
	return ids
}

func (r *Keyring) find(id string) *ringKey {
	for i := range r.keys {
		if r.keys[i].id == id {
			return &r.keys[i]
		}
	}
	return nil
}

// bufPool holds scratch buffers big enough for the largest token, raw and
// encoded, so that Seal allocates only the string it returns.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, maxRaw+MaxLen)
	return &b
}}

// Seal returns the token of d under the sealing key. d.KeyID and
// d.Truncated are ignored; over-long strings are cut (see the package doc).
func (r *Keyring) Seal(d *Decision) string {
	k := &r.keys[0]
	bp := bufPool.Get().(*[]byte)
	b := (*bp)[:0]
	b = append(b, Version, byte(len(k.id)))
	b = append(b, k.id...)
	hdr := len(b)
	b = b[:hdr+nonceLen]
	// rand.Read never fails (Go 1.24+): it crashes the program instead.
	_, _ = rand.Read(b[hdr:])
	pt := len(b)
	b = appendPlain(b, d)
	// Seal in place: the ciphertext overwrites the plaintext exactly.
	raw := k.aead.Seal(b[:pt], b[hdr:pt], b[pt:], b[:hdr])
	out := raw[len(raw) : len(raw)+enc.EncodedLen(len(raw))]
	enc.Encode(out, raw)
	s := string(out)
	*bp = b[:0]
	bufPool.Put(bp)
	return s
}

// KeyIDOf returns the key id written in clear in tok, without opening it.
func KeyIDOf(tok string) (string, error) {
	raw, err := decodeRaw(tok, nil)
	if err != nil {
		return "", err
	}
	id, _, err := splitHeader(raw)
	return id, err
}

// Open authenticates and decodes tok. Errors wrap ErrMalformed, ErrVersion,
// ErrUnknownKey or ErrTampered; none of them quotes the token.
func (r *Keyring) Open(tok string) (Decision, error) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	raw, err := decodeRaw(tok, (*bp)[:0])
	if err != nil {
		return Decision{}, err
	}
	id, hdr, err := splitHeader(raw)
	if err != nil {
		return Decision{}, err
	}
	k := r.find(id)
	if k == nil {
		return Decision{}, fmt.Errorf("%w %q (this keyring holds %s)", ErrUnknownKey, id, quoteList(r.KeyIDs()))
	}
	nonce, sealed := raw[hdr:hdr+nonceLen], raw[hdr+nonceLen:]
	plain, err := k.aead.Open(sealed[:0], nonce, sealed, raw[:hdr])
	if err != nil {
		return Decision{}, fmt.Errorf("key %q: %w", id, ErrTampered)
	}
	d, err := parsePlain(plain)
	if err != nil {
		return Decision{}, err
	}
	d.KeyID = k.id
	return d, nil
}

// decodeRaw base64-decodes tok into dst.
func decodeRaw(tok string, dst []byte) ([]byte, error) {
	if len(tok) > MaxLen {
		return nil, fmt.Errorf("%w: %d characters, at most %d", ErrMalformed, len(tok), MaxLen)
	}
	raw, err := enc.AppendDecode(dst, []byte(tok))
	if err != nil {
		return nil, fmt.Errorf("%w: not unpadded base64url", ErrMalformed)
	}
	return raw, nil
}

// splitHeader checks the clear header and returns the key id and the
// header's length.
func splitHeader(raw []byte) (id string, hdr int, err error) {
	if len(raw) == 0 {
		return "", 0, fmt.Errorf("%w: empty", ErrMalformed)
	}
	if raw[0] != Version {
		return "", 0, fmt.Errorf("%w %d (this build reads version %d)", ErrVersion, raw[0], Version)
	}
	if len(raw) < 2 {
		return "", 0, fmt.Errorf("%w: too short", ErrMalformed)
	}
	n := int(raw[1])
	hdr = 2 + n
	if n == 0 || n > MaxKeyIDLen || len(raw) < hdr+nonceLen+tagLen+1 {
		return "", 0, fmt.Errorf("%w: too short or bad key id length", ErrMalformed)
	}
	for _, c := range raw[2:hdr] {
		if !idChar(c) {
			return "", 0, fmt.Errorf("%w: bad key id", ErrMalformed)
		}
	}
	return string(raw[2:hdr]), hdr, nil
}

func quoteList(ids []string) string {
	s := ""
	for i, id := range ids {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%q", id)
	}
	return s
}
