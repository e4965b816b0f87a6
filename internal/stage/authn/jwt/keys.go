package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/MicahParks/jwkset"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// minRSABits is the smallest RSA key accepted (NIST SP 800-131A).
const minRSABits = 2048

// publicKey is one configured PEM public key.
type publicKey struct {
	algs []string   // algorithms the key verifies
	jwk  jwkset.JWK // the key under its kid, for keyfunc
}

// loadPublicKeys reads and checks the public_keys entries.
func loadPublicKeys(entries []config.JWTPublicKey) ([]publicKey, error) {
	var errs []error
	var out []publicKey
	seen := map[string]int{}
	for i, e := range entries {
		at := "public_keys[" + strconv.Itoa(i) + "]"
		if j, dup := seen[e.Kid]; dup {
			errs = append(errs, config.Fieldf(at+".kid", "duplicate kid %q (also public_keys[%d])", e.Kid, j))
			continue
		}
		seen[e.Kid] = i
		if e.File == "" {
			errs = append(errs, config.Fieldf(at+".file", "required: the PEM file of an RSA, ECDSA or Ed25519 public key"))
			continue
		}
		data, err := os.ReadFile(e.File)
		if err != nil {
			errs = append(errs, config.Fieldf(at+".file", "cannot read the public key: %v", err))
			continue
		}
		key, algs, err := parsePublicKeyPEM(data)
		if err != nil {
			errs = append(errs, config.Fieldf(at+".file", "%s: %v", e.File, err))
			continue
		}
		jwk, err := jwkset.NewJWKFromKey(key, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: e.Kid}})
		if err != nil {
			errs = append(errs, config.Fieldf(at+".file", "%s: %v", e.File, err))
			continue
		}
		out = append(out, publicKey{algs: algs, jwk: jwk})
	}
	return out, errors.Join(errs...)
}

// parsePublicKeyPEM parses the first PEM block of data as a public key
// (PKIX "PUBLIC KEY", PKCS #1 "RSA PUBLIC KEY" or the key of a
// "CERTIFICATE") and returns it with the algorithms it can verify.
func parsePublicKeyPEM(data []byte) (crypto.PublicKey, []string, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, nil, errors.New("no PEM block found; want -----BEGIN PUBLIC KEY-----")
	}
	var key any
	var err error
	switch {
	case block.Type == "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case block.Type == "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case block.Type == "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			key = cert.PublicKey
		}
	case strings.Contains(block.Type, "PRIVATE KEY"):
		return nil, nil, errors.New("this is a private key; give only the public key " +
			"(openssl pkey -in key.pem -pubout) and keep the private key off the gateway")
	default:
		return nil, nil, fmt.Errorf("unexpected PEM block %q; want PUBLIC KEY", block.Type)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("invalid %s: %v", strings.ToLower(block.Type), err)
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return nil, nil, fmt.Errorf("RSA key of %d bits; at least %d are required", k.N.BitLen(), minRSABits)
		}
		return k, rsaAlgs, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return k, []string{"ES256"}, nil
		case elliptic.P384():
			return k, []string{"ES384"}, nil
		case elliptic.P521():
			return k, []string{"ES512"}, nil
		}
		return nil, nil, fmt.Errorf("unsupported ECDSA curve %s", k.Curve.Params().Name)
	case ed25519.PublicKey:
		return k, edAlgs, nil
	}
	return nil, nil, fmt.Errorf("unsupported key type %T; want RSA, ECDSA or Ed25519", key)
}
