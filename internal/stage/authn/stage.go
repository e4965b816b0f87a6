// Package authn is pipeline stage 5: it finds out who is calling. A route
// names the authenticators it accepts (auth.methods); they are tried in
// order and the first that finds a credential of its kind decides: the
// request goes on with x.Identity filled in, or is refused with a reason
// code for exactly what is wrong with the credential. A request with no
// credential at all is refused with authn.credential_missing and a
// WWW-Authenticate challenge per accepted method, unless auth.optional.
//
// The methods live in this package (api_key) and in subpackages (jwt,
// introspect, basic, hmac, mtls). Every attempt is a trace step.
package authn

import (
	"net/http"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/problem"
)

const stageName = "authn"

// Stage runs a route's authenticators.
type Stage struct {
	methods  []Method
	rules    []string // "authenticator:<name>", precomputed for the trace
	dir      *identity.Directory
	optional bool
	// challenges are the WWW-Authenticate values of a credential_missing answer.
	challenges []string
	accepted   string
	certOnly   bool
}

var _ pipeline.Stage = (*Stage)(nil)

// New builds the stage for a route. dir resolves consumers (the
// snapshot's directory); methods are the route's authenticators in order.
func New(methods []Method, dir *identity.Directory, optional bool) *Stage {
	s := &Stage{methods: methods, dir: dir, optional: optional, certOnly: len(methods) > 0}
	var accepted []string
	for _, m := range methods {
		s.rules = append(s.rules, "authenticator:"+m.Name())
		if c := m.Challenge(); c != "" && !contains(s.challenges, c) {
			s.challenges = append(s.challenges, c)
		}
		if d := describe(m); !contains(accepted, d) {
			accepted = append(accepted, d)
		}
		if m.Kind() != "mtls" {
			s.certOnly = false
		}
	}
	s.accepted = strings.Join(accepted, ", or ")
	return s
}

// Challenges are the WWW-Authenticate values the route offers.
func (s *Stage) Challenges() []string { return s.challenges }

// Name returns "authn".
func (s *Stage) Name() string { return stageName }

// Handle tries each method in order. A simulation that assumes an
// identity skips the credential check and takes that identity instead
// (see assume).
func (s *Stage) Handle(x *pipeline.Exchange) pipeline.Decision {
	if x.Simulation.Assumed() {
		return s.assume(x, x.Simulation)
	}
	for i, m := range s.methods {
		found, d := m.Authenticate(x, s.dir)
		if !found {
			x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomeSkip, Rule: s.rules[i], Note: "no credential of this kind"})
			continue
		}
		if d != nil {
			if d.Rule == "" {
				d.Rule = s.rules[i]
			}
			return pipeline.Deny(s.challenged(d))
		}
		if d := s.complete(x); d != nil {
			d.Rule = s.rules[i]
			if c := m.Challenge(); c != "" {
				d.Header = http.Header{"Www-Authenticate": {c}}
			}
			return pipeline.Deny(s.challenged(d))
		}
		x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomePass, Rule: s.rules[i], Note: x.Identity.CredentialID})
		return pipeline.Continue()
	}
	if s.optional {
		x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomePass, Note: "anonymous (auth.optional)"})
		return pipeline.Continue()
	}
	return s.missing()
}

// missing refuses a request that carries no credential the route accepts.
func (s *Stage) missing() pipeline.Decision {
	if s.certOnly {
		return pipeline.Deny(s.challenged(&pipeline.Denial{Code: "authn.client_cert_missing",
			Reason: "the connection presented no verified client certificate"}))
	}
	return pipeline.Deny(&pipeline.Denial{
		Code:   "authn.credential_missing",
		Params: map[string]string{"accepted": s.accepted},
		Header: http.Header{"Www-Authenticate": s.challenges},
		Reason: "no authenticator of the route found a credential: " + strings.Join(s.rules, ", "),
	})
}

// clientCertChallenge is offered by routes whose only method is mtls, so
// that their 401s carry WWW-Authenticate too (RFC 9110 §11.6.1); HTTP has
// no registered scheme for TLS client certificates.
const clientCertChallenge = `ClientCertificate realm="pinpoint"`

// challenged makes sure a 401 carries a WWW-Authenticate challenge: the
// method's own, else the route's.
func (s *Stage) challenged(d *pipeline.Denial) *pipeline.Denial {
	if c, ok := problem.Lookup(d.Code); !ok || c.Status != http.StatusUnauthorized || len(d.Header["Www-Authenticate"]) > 0 {
		return d
	}
	if d.Header == nil {
		d.Header = http.Header{}
	}
	if len(s.challenges) > 0 {
		d.Header["Www-Authenticate"] = s.challenges
	} else {
		d.Header["Www-Authenticate"] = []string{clientCertChallenge}
	}
	return d
}

// complete fills the consumer part of the identity from the directory.
func (s *Stage) complete(x *pipeline.Exchange) *pipeline.Denial {
	id := &x.Identity
	if id.ConsumerID == "" {
		return nil
	}
	c := s.dir.Consumer(id.ConsumerID)
	if c == nil {
		return &pipeline.Denial{Code: "authn.consumer_unknown",
			Reason: "credential " + id.CredentialID + " belongs to consumer " + id.ConsumerID + ", which does not exist"}
	}
	id.ConsumerName, id.TenantID, id.Metadata = c.Name, c.TenantID, c.Metadata
	switch {
	case len(id.Groups) == 0:
		id.Groups = c.Groups
	case len(c.Groups) > 0:
		// Token groups and consumer groups together; a new slice, since
		// both are shared read-only.
		merged := make([]string, 0, len(id.Groups)+len(c.Groups))
		merged = append(merged, c.Groups...)
		for _, g := range id.Groups {
			if !contains(merged, g) {
				merged = append(merged, g)
			}
		}
		id.Groups = merged
	}
	return nil
}

// describe says in the caller's words what a method accepts.
func describe(m Method) string {
	switch m.Kind() {
	case "api_key":
		if k, ok := m.(*APIKey); ok {
			return "an API key in the " + k.header + " header"
		}
		return "an API key"
	case "jwt", "introspection":
		return "a bearer token"
	case "basic":
		return "a user name and password (HTTP Basic)"
	case "hmac":
		return "an HTTP message signature"
	case "mtls":
		return "a TLS client certificate"
	}
	return m.Kind()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
