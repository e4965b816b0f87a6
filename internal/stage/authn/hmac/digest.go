package hmac

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// bodyDigest is one digest a request claims for its body.
type bodyDigest struct {
	header string // "Digest" or "Content-Digest"
	alg    string // "sha-256" or "sha-512"
	value  []byte
}

// parseDigests reads the SHA-256 and SHA-512 members of the Digest
// (RFC 3230: "SHA-256=<base64>") and Content-Digest (RFC 9530:
// "sha-256=:<base64>:") headers; other algorithms are ignored. problem is
// a client-safe reason when a value is broken or no member is usable.
func parseDigests(h http.Header) (ds []bodyDigest, problem string) {
	seen := false
	for _, name := range [...]string{"Digest", "Content-Digest"} {
		for _, line := range h[name] {
			for member := range strings.SplitSeq(line, ",") {
				member = strings.TrimSpace(member)
				if member == "" {
					continue
				}
				seen = true
				alg, value, ok := strings.Cut(member, "=")
				if !ok {
					return nil, "its " + name + " header is not a list of algorithm=value"
				}
				alg = strings.ToLower(strings.TrimSpace(alg))
				if alg != "sha-256" && alg != "sha-512" {
					continue
				}
				value = strings.TrimSpace(value)
				if name == "Content-Digest" {
					if i := strings.IndexByte(value, ';'); i >= 0 {
						value = strings.TrimSpace(value[:i]) // structured-field parameters
					}
					if len(value) < 2 || value[0] != ':' || value[len(value)-1] != ':' {
						return nil, "its Content-Digest value is not a :base64: byte sequence"
					}
					value = value[1 : len(value)-1]
				}
				raw, err := base64.StdEncoding.DecodeString(value)
				if err != nil {
					return nil, "its " + name + " value is not base64"
				}
				ds = append(ds, bodyDigest{header: name, alg: alg, value: raw})
			}
		}
	}
	if seen && len(ds) == 0 {
		return nil, "its Digest or Content-Digest header has no SHA-256 or SHA-512 value"
	}
	return ds, ""
}

// checkDigest verifies the body against the Digest and Content-Digest
// headers, when the request has any. It reads the body (at most
// maxBody bytes) and puts it back for the upstream.
func (m *Method) checkDigest(x *pipeline.Exchange, keyID string) *pipeline.Denial {
	r := x.Request
	if len(r.Header["Digest"]) == 0 && len(r.Header["Content-Digest"]) == 0 {
		return nil
	}
	ds, problem := parseDigests(r.Header)
	if problem != "" {
		return m.malformed(problem)
	}
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(io.LimitReader(r.Body, m.maxBody+1))
		switch {
		case errors.Is(err, pipeline.ErrBodyTooLarge) || int64(len(b)) > m.maxBody:
			return &pipeline.Denial{
				Code:   "request.body_too_large",
				Rule:   m.name,
				Params: map[string]string{"limit": strconv.FormatInt(m.maxBody, 10)},
				Reason: fmt.Sprintf("hmac authenticator %q: the body is larger than the %d bytes it reads to check the digest", m.name, m.maxBody),
			}
		case err != nil:
			return m.deny("authn.digest_mismatch", nil,
				fmt.Sprintf("hmac authenticator %q: reading the body to check its digest: %v", m.name, err))
		}
		body = b
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	var s256 [sha256.Size]byte
	var s512 [sha512.Size]byte
	have256, have512 := false, false
	for _, d := range ds {
		var sum []byte
		if d.alg == "sha-256" {
			if !have256 {
				s256, have256 = sha256.Sum256(body), true
			}
			sum = s256[:]
		} else {
			if !have512 {
				s512, have512 = sha512.Sum512(body), true
			}
			sum = s512[:]
		}
		if subtle.ConstantTimeCompare(sum, d.value) != 1 {
			return m.deny("authn.digest_mismatch", nil,
				fmt.Sprintf("hmac authenticator %q: key %q: the %s %s does not match the %d-byte body received", m.name, keyID, d.header, strings.ToUpper(d.alg), len(body)))
		}
	}
	return nil
}
