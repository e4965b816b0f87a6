// Package token seals and opens decision tokens: the decision behind a
// refusal (request id, time, route, stage, rule, reason code, consumer,
// credential prefix id, config revision), encrypted and authenticated with
// XChaCha20-Poly1305 under a key only the operator holds.
//
// Every refusal the gateway writes carries one as decision_token. A partner
// who reports "we get 403" sends it along; `pinpoint explain --token` opens
// it without the call log. The caller learns nothing from it: only the key
// id is in clear, and it is authenticated as additional data.
//
// # Format (version 1)
//
//	token   = base64url-nopad(version | idLen | keyID | nonce | sealed)
//	version = 0x01
//	idLen   = 1 byte, 1..16; keyID = idLen bytes of [A-Za-z0-9_-]
//	nonce   = 24 random bytes (XChaCha20-Poly1305)
//	sealed  = AEAD(key, nonce, plain, additional data = version|idLen|keyID)
//	plain   = flags requestID time revision code stage route rule consumer credential
//
// flags bit 0 says requestID is 16 UUID bytes (a lower-case canonical UUID);
// otherwise it is a string. time is the Unix time in milliseconds and
// revision the revision number, both zig-zag varints. code and stage are a
// varint h: h&1 == 1 is entry h>>1 of a frozen, append-only table of
// catalog codes (or stage names), else a string of length h>>2 whose
// (h>>1)&1 bit marks truncation. The other strings are a varint h = length<<1
// | truncated, then the bytes. Strings longer than their bound (128 bytes for
// the request id, 64 for the others) are cut at a rune boundary and marked;
// Open appends "…" to a cut value and sets Decision.Truncated.
//
// A typical refusal yields a token of about 200 characters; none is longer
// than MaxLen.
package token

import (
	"errors"
	"time"
)

// Version is the format version written by Seal.
const Version = 1

// Open's errors. Each is returned wrapped with context; test with errors.Is.
var (
	// ErrMalformed: the text is not a decision token (bad base64, too short
	// or too long, bad key id, or a sealed body that does not parse).
	ErrMalformed = errors.New("malformed decision token")
	// ErrVersion: the token was written in a format version this build does
	// not read.
	ErrVersion = errors.New("unsupported decision token version")
	// ErrUnknownKey: the token names a key id the keyring does not hold.
	ErrUnknownKey = errors.New("decision token sealed with an unknown key")
	// ErrTampered: authentication failed: the token was altered, or sealed
	// by a different key that has the same id.
	ErrTampered = errors.New("decision token failed authentication (altered, or sealed by another key with the same id)")
)

// Decision is what a token holds: the facts of one refusal.
type Decision struct {
	// RequestID is the request id the client got in X-Request-Id.
	RequestID string `json:"request_id"`
	// Time is when the gateway accepted the request (millisecond precision).
	Time time.Time `json:"time"`
	// Route is the matched route's name ("" before routing).
	Route string `json:"route,omitempty"`
	// Stage is the pipeline stage that refused ("authz").
	Stage string `json:"stage,omitempty"`
	// Rule is the rule, policy or check that refused ("scopes").
	Rule string `json:"rule,omitempty"`
	// Code is the reason code ("authz.scope_missing").
	Code string `json:"code"`
	// ConsumerID is the consumer behind the credential, if any.
	ConsumerID string `json:"consumer_id,omitempty"`
	// CredentialID is the credential's prefix id ("pp_live_k7f3a9c2d1e0"), if any.
	CredentialID string `json:"credential_id,omitempty"`
	// Revision is the config revision the request ran on.
	Revision int64 `json:"revision"`

	// KeyID is the id of the key that sealed the token; set by Open,
	// ignored by Seal.
	KeyID string `json:"key_id,omitempty"`
	// Truncated is set by Open when Seal had to cut an over-long value
	// (the cut values end in "…").
	Truncated bool `json:"truncated,omitempty"`
}

// Bounds of the encoded values.
const (
	// MaxKeyIDLen is the longest key id.
	MaxKeyIDLen = 16
	// KeySize is the length of a key's secret.
	KeySize = 32
	// maxRequestID is the longest request id kept whole (the accept
	// stage's own limit).
	maxRequestID = 128
	// maxField bounds every other string.
	maxField = 64

	nonceLen    = 24
	tagLen      = 16
	maxVarint   = 10
	maxHeader   = 2 + MaxKeyIDLen
	maxStrField = 2 + maxField // varint header (< 2^14) + bytes
	// maxPlain is the largest plaintext: flags, request id, time, revision,
	// code, stage, route, rule, consumer, credential.
	maxPlain = 1 + 2 + maxRequestID + 2*maxVarint + 6*maxStrField
	// maxRaw is the largest token before base64.
	maxRaw = maxHeader + nonceLen + maxPlain + tagLen
	// MaxLen is the longest token Seal writes (in characters); Open refuses
	// longer input as malformed.
	MaxLen = (maxRaw*8 + 5) / 6
)
