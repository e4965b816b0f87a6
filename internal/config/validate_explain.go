package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/explain/token"
)

// StoredTokenKeyPrefix begins the ids of the decision-token keys the
// gateway generates and keeps in the store; configured ids may not use it.
const StoredTokenKeyPrefix = "store-"

// explain validates the explain block (decision-token keys).
func (v *validator) explain(path string, e *Explain) {
	kp := join(path, "decision_tokens.keys")
	seen := map[string]string{}
	for i, k := range e.DecisionTokens.Keys {
		p := index(kp, i)
		v.tokenKey(p, k, seen)
	}
}

// tokenKey checks one decision-token key reference: a valid, unique id and
// a 32-byte secret given as ${ENV}. Messages never show the secret.
func (v *validator) tokenKey(path string, k TokenKeyRef, seen map[string]string) {
	idPath := join(path, "id")
	switch {
	case k.ID == "":
		v.required(idPath, `the key id written into each token, e.g. "k2"`)
	case token.CheckKeyID(k.ID) != nil:
		v.failValue(idPath, k.ID, fmt.Sprintf("invalid key id %q: use 1 to %d letters, digits, _ or -", k.ID, token.MaxKeyIDLen))
	case strings.HasPrefix(k.ID, StoredTokenKeyPrefix):
		v.failValue(idPath, k.ID, fmt.Sprintf("key id %q: ids starting with %q are reserved for keys the gateway generates", k.ID, StoredTokenKeyPrefix))
	case seen[k.ID] != "":
		v.failValue(idPath, k.ID, fmt.Sprintf("duplicate key id %q (first defined at line %d)", k.ID, v.d.at(seen[k.ID]).line))
	default:
		seen[k.ID] = idPath
	}
	secretPath := join(path, "secret")
	raw, fromEnv := v.d.secret[secretPath]
	switch {
	case !fromEnv && k.Secret == "":
		v.required(secretPath, `the 32-byte key as "${ENV_NAME}" (make one with: openssl rand -base64 32)`)
	case !fromEnv:
		v.fromEnv(secretPath, k.Secret, "a decision-token key")
	default:
		if _, err := token.ParseSecret(k.Secret); err != nil {
			v.fail(secretPath, "the value of "+strconv.Quote(raw)+" is not a decision-token key: "+err.Error())
		}
	}
}

func (e *Explain) applyDefaults() {
	setBool(&e.KeepInputs, true)
	setBool(&e.DecisionTokens.Enabled, true)
}

// IsEnabled reports whether refusals carry a decision token (default true).
func (d *DecisionTokens) IsEnabled() bool { return d.Enabled == nil || *d.Enabled }
