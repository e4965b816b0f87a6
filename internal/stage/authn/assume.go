package authn

import (
	"net/http"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// assume takes the identity a simulation names instead of verifying a
// credential (pinpoint simulate --as-credential / --as-consumer, and the
// replays of apply --dry-run, whose recorded credentials are redacted).
// Only the secret is skipped: the credential must exist in the snapshot's
// directory and be of a kind the route accepts, and revocation, validity
// windows, expiry and the consumer's existence are checked as usual (the
// consumer stage then checks suspensions).
func (s *Stage) assume(x *pipeline.Exchange, sim *pipeline.Simulation) pipeline.Decision {
	if sim.AsCredential != "" {
		return s.assumeCredential(x, sim.AsCredential)
	}
	var m Method
	for _, c := range s.methods {
		if sim.Authenticator == "" || c.Name() == sim.Authenticator {
			m = c
			break
		}
	}
	if m == nil && len(s.methods) > 0 {
		m = s.methods[0]
	}
	if m == nil {
		return s.missing()
	}
	id := &x.Identity
	id.Authenticated, id.Method, id.Authenticator = true, m.Kind(), m.Name()
	id.ConsumerID, id.Scopes, id.Groups = sim.AsConsumer, sim.Scopes, sim.Groups
	return s.assumed(x, m, "simulated: assumed consumer "+sim.AsConsumer+" (no credential checked)")
}

// assumeCredential assumes the API key, basic user or HMAC key with id.
func (s *Stage) assumeCredential(x *pipeline.Exchange, id string) pipeline.Decision {
	keyID := id
	if strings.HasPrefix(id, "pp_") {
		keyID = id[strings.LastIndexByte(id, '_')+1:]
	}
	if k := s.dir.Key(keyID); k != nil {
		for _, m := range s.methods {
			a, ok := m.(*APIKey)
			if !ok {
				continue
			}
			if env := k.Env(); env != a.env {
				return pipeline.Deny(s.challenged(a.deny(false, "authn.key_wrong_environment",
					map[string]string{"key_id": k.Prefix, "key_env": env, "env": a.env},
					"key "+k.Prefix+" is for environment "+env+"; the gateway runs as "+a.env)))
			}
			now := x.Start.UnixNano()
			if x.Start.IsZero() {
				now = time.Now().UnixNano()
			}
			if d := a.valid(k, now, false); d != nil {
				return pipeline.Deny(s.challenged(d))
			}
			a.identify(x, k, false)
			return s.assumed(x, m, "simulated: assumed key "+k.Prefix+" (secret not checked)")
		}
		return s.notAccepted(x, "API key "+k.Prefix)
	}
	if c := s.dir.Basic(id); c != nil {
		return s.assumeOf(x, "basic", id, c.ConsumerID, "basic user "+id)
	}
	if k := s.dir.HMACKey(id); k != nil {
		return s.assumeOf(x, "hmac", id, k.ConsumerID, "HMAC key "+id)
	}
	d := &pipeline.Denial{Code: "authn.key_unknown", Params: map[string]string{"key_id": id},
		Reason: "simulated: no API key, basic user or HMAC key with id " + id + " exists in this revision"}
	for _, m := range s.methods {
		if a, ok := m.(*APIKey); ok {
			d.Rule, d.Header = a.rule, http.Header{"Www-Authenticate": {a.challenge}}
			break
		}
	}
	return pipeline.Deny(s.challenged(d))
}

// assumeOf assumes a basic or HMAC credential, when the route has a
// method of that kind.
func (s *Stage) assumeOf(x *pipeline.Exchange, kind, credID, consumerID, what string) pipeline.Decision {
	for _, m := range s.methods {
		if m.Kind() != kind {
			continue
		}
		id := &x.Identity
		id.Authenticated, id.Method, id.Authenticator = true, kind, m.Name()
		id.CredentialID, id.ConsumerID = credID, consumerID
		return s.assumed(x, m, "simulated: assumed "+what+" (secret not checked)")
	}
	return s.notAccepted(x, what)
}

// notAccepted answers as the route would to a credential none of its
// methods reads: every method finds nothing.
func (s *Stage) notAccepted(x *pipeline.Exchange, what string) pipeline.Decision {
	for i := range s.methods {
		x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomeSkip, Rule: s.rules[i],
			Note: "simulated: the route does not accept the assumed " + what})
	}
	return s.missing()
}

// assumed completes an assumed identity like a verified one.
func (s *Stage) assumed(x *pipeline.Exchange, m Method, note string) pipeline.Decision {
	rule := "authenticator:" + m.Name()
	if d := s.complete(x); d != nil {
		d.Rule = rule
		if c := m.Challenge(); c != "" {
			d.Header = http.Header{"Www-Authenticate": {c}}
		}
		return pipeline.Deny(s.challenged(d))
	}
	x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomePass, Rule: rule, Note: note})
	return pipeline.Continue()
}
