// Package mtls is the "mtls" authentication method: it identifies the
// caller by the TLS client certificate that the listener verified against
// its tls.client_ca_file, and maps it to the consumer that lists the
// certificate under mtls, by SHA-256 fingerprint of the DER encoding
// first, then by subject common name.
//
//	authenticators:
//	  - name: partner-certs
//	    type: mtls
//	consumers:
//	  - id: acme
//	    mtls:
//	      - subject: acme-client
//	      - sha256: 3f1c…(64 hex digits)
//
// Only verified chains count: a certificate the client merely presented
// (tls.RequestClientCert, or any listener without a client CA) proves
// nothing and is treated as no certificate at all.
//
// mtls offers no HTTP challenge (Challenge returns ""): a client cannot
// answer a 401 with a certificate on the same connection. When a request
// has no certificate the method reports found=false so that other methods
// can run; a route whose only method is mtls refuses with Missing().
//
// Certificates carry no scopes: authorize such callers with
// authorize.groups (the consumer's groups) or a policy.
package mtls

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"

	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/authn/credential"
)

// Kind is the authenticator type this package implements.
const Kind = "mtls"

// Method maps verified client certificates to consumers. It is safe for
// concurrent use.
type Method struct {
	name          string
	missingReason string
}

// The authn stage's Method interface, restated so that this package does
// not import authn (which imports it).
var _ interface {
	Name() string
	Kind() string
	Challenge() string
	Authenticate(*pipeline.Exchange, *identity.Directory) (bool, *pipeline.Denial)
} = (*Method)(nil)

// New builds the mtls method named name. It needs no configuration: the
// listener verifies certificates, consumers list them.
func New(name string) *Method {
	return &Method{
		name:          name,
		missingReason: fmt.Sprintf("mtls authenticator %q: the connection presented no client certificate verified against the listener's tls.client_ca_file", name),
	}
}

// Name is the authenticator's configured name.
func (m *Method) Name() string { return m.name }

// Kind returns "mtls".
func (m *Method) Kind() string { return Kind }

// Challenge returns "": mtls has no WWW-Authenticate challenge, and the
// authn stage leaves empty challenges out.
func (m *Method) Challenge() string { return "" }

// Leaf returns the verified client certificate of x, or nil when the
// connection has none. PeerCertificates without a verified chain are
// ignored.
func Leaf(x *pipeline.Exchange) *x509.Certificate {
	cs := x.Request.TLS
	if cs == nil || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return nil
	}
	return cs.VerifiedChains[0][0]
}

// Fingerprint is the lowercase hex SHA-256 of a certificate's DER
// encoding, the form consumers list under mtls[].sha256.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	var buf [2 * sha256.Size]byte
	hex.Encode(buf[:], sum[:])
	return string(buf[:])
}

// Authenticate maps the verified client certificate to a consumer. found
// is false when the connection has no verified certificate.
func (m *Method) Authenticate(x *pipeline.Exchange, dir *identity.Directory) (found bool, d *pipeline.Denial) {
	leaf := Leaf(x)
	if leaf == nil {
		return false, nil
	}
	fp := Fingerprint(leaf)
	cn := leaf.Subject.CommonName
	ci := dir.Cert(fp, cn)
	if ci == nil {
		return true, &pipeline.Denial{
			Code:   "authn.client_cert_unknown",
			Rule:   m.name,
			Params: map[string]string{"subject": subjectParam(cn, fp)},
			Reason: fmt.Sprintf("mtls authenticator %q: no consumer lists the certificate with subject %q (sha256 %s, issuer %q, serial %s) under mtls",
				m.name, credential.Display(leaf.Subject.String(), 200), fp, credential.Display(leaf.Issuer.String(), 200), leaf.SerialNumber.Text(16)),
		}
	}
	id := &x.Identity
	id.Authenticated = true
	id.Method = Kind
	id.Authenticator = m.name
	// The credential is what matched: the pinned certificate, or the
	// subject shared by every certificate issued to it.
	if ci.SHA256 == fp || cn == "" {
		id.CredentialID = "sha256:" + fp[:16]
	} else {
		id.CredentialID = cn
	}
	id.ConsumerID = ci.ConsumerID
	return true, nil
}

// Missing is the refusal for a route that accepts only mtls when the
// connection has no verified client certificate (authn.client_cert_missing).
func (m *Method) Missing() *pipeline.Denial {
	return &pipeline.Denial{Code: "authn.client_cert_missing", Rule: m.name, Reason: m.missingReason}
}

// subjectParam is the client-safe name of a certificate: its common name,
// else its short fingerprint.
func subjectParam(cn, fp string) string {
	if cn != "" {
		return credential.Display(cn, 64)
	}
	return "sha256:" + fp[:16]
}
