package hmac

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"
)

// This file is the client side: a plain, independent implementation of
// draft-cavage signing used to build the requests the tests verify. It
// shares no code with the verifier.

// testKeys are the keys of the test directory: id → secret.
var testKeys = map[string]string{
	"k1":          "k1-secret-0123456789abcdef",
	"k2":          "k2-secret-fedcba9876543210",
	"partner.key": "partner-secret-ABCDEFGHIJKL",
}

// testClock is the gateway's clock in the tests.
var testClock = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// signSpec says how a test client signs.
type signSpec struct {
	KeyID     string `yaml:"key_id"`
	Secret    string `yaml:"secret"`    // default: the key's secret
	Algorithm string `yaml:"algorithm"` // default hmac-sha256; "-" omits the parameter
	Headers   string `yaml:"headers"`   // default "(request-target) host date"; "-" omits it
	In        string `yaml:"in"`        // "authorization" (default) or "signature"
}

func clientHash(alg string) func() hash.Hash {
	switch strings.ToLower(alg) {
	case "hmac-sha256":
		return sha256.New
	case "hmac-sha384":
		return sha512.New384
	default: // hmac-sha512, hs2019, none
		return sha512.New
	}
}

// signingString is the draft's signing string, computed the obvious way.
func signingString(r *http.Request, headers string) string {
	var lines []string
	for _, h := range strings.Fields(headers) {
		h = strings.ToLower(h)
		switch h {
		case "(request-target)":
			lines = append(lines, h+": "+strings.ToLower(r.Method)+" "+r.URL.RequestURI())
		case "host":
			lines = append(lines, "host: "+r.Host)
		default:
			lines = append(lines, h+": "+strings.Join(r.Header.Values(h), ", "))
		}
	}
	return strings.Join(lines, "\n")
}

// sign adds the signature of spec to r.
func sign(r *http.Request, spec signSpec) {
	alg := spec.Algorithm
	if alg == "" {
		alg = "hmac-sha256"
	}
	headers := spec.Headers
	if headers == "" {
		headers = "(request-target) host date"
	}
	secret := spec.Secret
	if secret == "" {
		secret = testKeys[spec.KeyID]
	}
	signed := headers
	if headers == "-" {
		signed = "date"
	}
	mac := hmac.New(clientHash(alg), []byte(secret))
	io.WriteString(mac, signingString(r, signed))
	sig := base64.StdEncoding.EncodeToString(mac.Sum(nil))

	parts := []string{`keyId="` + spec.KeyID + `"`}
	if alg != "-" {
		parts = append(parts, `algorithm="`+alg+`"`)
	}
	if headers != "-" {
		parts = append(parts, `headers="`+headers+`"`)
	}
	parts = append(parts, `signature="`+sig+`"`)
	if spec.In == "signature" {
		r.Header.Set("Signature", strings.Join(parts, ","))
	} else {
		r.Header.Set("Authorization", "Signature "+strings.Join(parts, ","))
	}
}

// digestHeader computes a body digest header the way a client would.
func digestHeader(kind, body string) (name, value string) {
	s256 := sha256.Sum256([]byte(body))
	s512 := sha512.Sum512([]byte(body))
	b := base64.StdEncoding.EncodeToString
	switch kind {
	case "sha-256":
		return "Digest", "SHA-256=" + b(s256[:])
	case "sha-512":
		return "Digest", "SHA-512=" + b(s512[:])
	case "content-digest":
		return "Content-Digest", "sha-256=:" + b(s256[:]) + ":"
	case "content-digest-512":
		return "Content-Digest", "sha-512=:" + b(s512[:]) + ":"
	case "wrong":
		w := sha256.Sum256([]byte(body + "x"))
		return "Digest", "SHA-256=" + b(w[:])
	case "md5":
		return "Digest", "MD5=HUXZLQLMuI/KZ5KDcJPcOA=="
	}
	return "", ""
}

// newSignedRequest builds a server-side request dated at the test clock
// plus offset and signs it.
func newSignedRequest(method, target, body string, offset time.Duration, spec signSpec) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	r.Header.Set("Date", testClock.Add(offset).Format(http.TimeFormat))
	if body != "" {
		n, v := digestHeader("sha-256", body)
		r.Header.Set(n, v)
	}
	sign(r, spec)
	return r
}
