package hmac

import (
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"strings"
)

// params are the parameters of a draft-cavage signature:
//
//	keyId="k1",algorithm="hmac-sha256",headers="(request-target) date",signature="base64"
//
// Values are substrings of the header unless they held escapes.
type params struct {
	keyID, algorithm, headers, signature string
	// hasHeaders is false when the headers parameter is absent (the
	// draft's default is then "date").
	hasHeaders bool
}

// maxParams bounds the parameters one signature may carry.
const maxParams = 16

// parseParams parses the auth-param list of a Signature credential.
// problem is a client-safe reason when s is not well formed; it never
// echoes s.
func parseParams(s string) (p params, problem string) {
	if strings.TrimSpace(s) == "" {
		return p, "it is empty"
	}
	var seen [4]bool
	n := 0
	for i := 0; i < len(s); {
		i = skipOWS(s, i)
		if i < len(s) && s[i] == ',' { // empty list element (RFC 9110 §5.6.1)
			i++
			continue
		}
		if i == len(s) {
			break
		}
		if n++; n > maxParams {
			return p, "it has too many parameters"
		}
		start := i
		for i < len(s) && isTchar(s[i]) {
			i++
		}
		name := s[start:i]
		if name == "" {
			return p, `it is not a list of name="value" parameters`
		}
		i = skipOWS(s, i)
		if i == len(s) || s[i] != '=' {
			return p, `it is not a list of name="value" parameters`
		}
		i = skipOWS(s, i+1)
		var value string
		if i < len(s) && s[i] == '"' {
			v, next, ok := quoted(s, i)
			if !ok {
				return p, "a quoted parameter value is not terminated"
			}
			value, i = v, next
		} else {
			start := i
			for i < len(s) && isTchar(s[i]) {
				i++
			}
			value = s[start:i]
		}
		i = skipOWS(s, i)
		if i < len(s) && s[i] != ',' {
			return p, "parameters must be separated by commas"
		}
		slot := -1
		switch {
		case strings.EqualFold(name, "keyId"):
			slot, p.keyID = 0, value
		case strings.EqualFold(name, "algorithm"):
			slot, p.algorithm = 1, value
		case strings.EqualFold(name, "headers"):
			slot, p.headers, p.hasHeaders = 2, value, true
		case strings.EqualFold(name, "signature"):
			slot, p.signature = 3, value
		}
		if slot >= 0 {
			if seen[slot] {
				return p, "a parameter appears twice"
			}
			seen[slot] = true
		}
	}
	switch {
	case p.keyID == "":
		return p, "it has no keyId"
	case p.signature == "":
		return p, "it has no signature"
	case p.hasHeaders && strings.TrimSpace(p.headers) == "":
		return p, "its headers parameter is empty"
	}
	return p, ""
}

// quoted reads the quoted-string starting at s[i] == '"'. It returns the
// unescaped value and the index after the closing quote.
func quoted(s string, i int) (value string, next int, ok bool) {
	j := i + 1
	escaped := false
	for ; j < len(s); j++ {
		switch s[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			if !escaped {
				return s[i+1 : j], j + 1, true
			}
			return unescape(s[i+1 : j]), j + 1, true
		}
	}
	return "", 0, false
}

func unescape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func skipOWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// isTchar reports whether c is an RFC 9110 token character.
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// Algorithm ids, indexing hashes.
const (
	algSHA256 uint8 = iota
	algSHA384
	algSHA512
)

var hashes = [...]func() hash.Hash{algSHA256: sha256.New, algSHA384: sha512.New384, algSHA512: sha512.New}

var algNames = [...]string{algSHA256: "hmac-sha256", algSHA384: "hmac-sha384", algSHA512: "hmac-sha512"}

// algorithm maps a signature's algorithm parameter to a hash. hs2019 (the
// draft's "derive it from the key") means HMAC-SHA512 for the HMAC keys
// this method holds, and so does an absent algorithm.
func algorithm(name string) (uint8, bool) {
	switch {
	case name == "", strings.EqualFold(name, "hs2019"), strings.EqualFold(name, "hmac-sha512"):
		return algSHA512, true
	case strings.EqualFold(name, "hmac-sha256"):
		return algSHA256, true
	case strings.EqualFold(name, "hmac-sha384"):
		return algSHA384, true
	}
	return 0, false
}
