// Command keygen makes throwaway API keys for the benchmark's S2 scenario:
// n keys of the form pp_<env>_<12 lowercase base32>_<32 base62>, the same
// shape `pinpoint keys create` issues, from crypto/rand.
//
//	keygen -n 100 -env live
//
// It prints one key a line: "<id> <sha256 hex of the whole key> <key>".
// The script puts id and sha256 in the gateway config and the keys, which
// are secrets in the format's sense, only in its temporary directory.
package main

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
)

const (
	base32Chars = "abcdefghijklmnopqrstuvwxyz234567"
	base62Chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	idLength    = 12
	secretLen   = 32
)

// randomString draws n characters uniformly from alphabet (rejection
// sampling, so no character is more likely than another).
func randomString(r io.Reader, alphabet string, n int) (string, error) {
	out := make([]byte, 0, n)
	limit := 256 - 256%len(alphabet)
	var buf [64]byte
	for len(out) < n {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return "", err
		}
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
	return string(out), nil
}

// key is one generated key.
type key struct {
	ID, SHA256, Key string
}

// generate returns n keys for env with distinct ids.
func generate(r io.Reader, env string, n int) ([]key, error) {
	keys := make([]key, 0, n)
	seen := make(map[string]bool, n)
	for len(keys) < n {
		id, err := randomString(r, base32Chars, idLength)
		if err != nil {
			return nil, err
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		secret, err := randomString(r, base62Chars, secretLen)
		if err != nil {
			return nil, err
		}
		whole := "pp_" + env + "_" + id + "_" + secret
		sum := sha256.Sum256([]byte(whole))
		keys = append(keys, key{ID: id, SHA256: hex.EncodeToString(sum[:]), Key: whole})
	}
	return keys, nil
}

func main() {
	n := flag.Int("n", 100, "number of keys")
	env := flag.String("env", "live", "key environment (gateway.environment)")
	flag.Parse()
	if *n < 1 {
		log.Fatal("keygen: -n must be at least 1")
	}
	keys, err := generate(rand.Reader, *env, *n)
	if err != nil {
		log.Fatalf("keygen: %v", err)
	}
	w := bufio.NewWriter(os.Stdout)
	for _, k := range keys {
		fmt.Fprintf(w, "%s %s %s\n", k.ID, k.SHA256, k.Key)
	}
	if err := w.Flush(); err != nil {
		log.Fatalf("keygen: %v", err)
	}
}
