package introspect

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/pinpointgw/pinpoint/internal/stage/authn/credential"
)

// answer is one introspection response (RFC 7662 §2.2), decoded once and
// shared read-only by every request that presents the same token.
type answer struct {
	active       bool
	exp, nbf     time.Time // zero when absent
	credentialID string    // sub, else client_id, else username
	consumer     string    // the consumer_claim member
	scopes       []string
	claims       map[string]any // the whole response; nil when inactive
}

// parseAnswer decodes an introspection response. active must be a
// boolean; exp and nbf, when present, must be numbers (seconds since the
// epoch). An inactive answer keeps nothing else (RFC 7662 §2.2: the
// server should not say more about such tokens).
func parseAnswer(body []byte, consumerClaim, scopeClaim string) (*answer, error) {
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("the answer is not JSON: %w", err)
	}
	if doc == nil {
		return nil, errors.New("the answer is not a JSON object")
	}
	active, ok := doc["active"].(bool)
	if !ok {
		return nil, errors.New(`the answer has no boolean "active" member`)
	}
	if !active {
		return &answer{}, nil
	}
	a := &answer{active: true, claims: doc}
	var err error
	if a.exp, err = numericDate(doc, "exp"); err != nil {
		return nil, err
	}
	if a.nbf, err = numericDate(doc, "nbf"); err != nil {
		return nil, err
	}
	for _, name := range []string{"sub", "client_id", "username"} {
		if s, ok := doc[name].(string); ok && s != "" {
			a.credentialID = s
			break
		}
	}
	a.consumer, _ = doc[consumerClaim].(string)
	a.scopes = credential.StringList(doc[scopeClaim])
	return a, nil
}

// numericDate reads a NumericDate member; zero when absent.
func numericDate(doc map[string]any, name string) (time.Time, error) {
	v, ok := doc[name]
	if !ok || v == nil {
		return time.Time{}, nil
	}
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
		return time.Time{}, fmt.Errorf("the answer's %q is not a number of seconds", name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}
