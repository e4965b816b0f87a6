package ai

import (
	"net/http"
	"strconv"
	"time"

	"github.com/pinpointgw/pinpoint/internal/ai/meter"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// caller is who a call is counted for.
type caller struct {
	consumer, tenant, credential string
	groups                       []string
	metadata                     map[string]string
}

func callerOf(id *pipeline.Identity) caller {
	return caller{consumer: id.ConsumerID, tenant: id.TenantID, credential: id.CredentialID,
		groups: id.Groups, metadata: id.Metadata}
}

// counterKey is the meter key of a rule's counter for c: by consumer,
// credential or tenant, falling back to the credential (a token of an
// unregistered subject) and then to one shared anonymous counter.
func (r *rule) counterKey(c *caller) string {
	switch r.key {
	case "tenant":
		if c.tenant != "" {
			return "tenant:" + c.tenant
		}
	case "credential":
		if c.credential != "" {
			return "credential:" + c.credential
		}
	}
	if c.consumer != "" && r.key != "credential" {
		return "consumer:" + c.consumer
	}
	if c.credential != "" {
		return "credential:" + c.credential
	}
	return "anonymous"
}

// rulesFor returns the access rules that apply to c, in config order.
func (s *Service) rulesFor(c *caller) []*rule {
	var out []*rule
	for _, r := range s.access {
		if r.applies(c) {
			out = append(out, r)
		}
	}
	return out
}

// deniedBy returns the first rule that lists models and not name.
func deniedBy(rules []*rule, name string) *rule {
	for _, r := range rules {
		if r.models != nil && !r.models[name] {
			return r
		}
	}
	return nil
}

func modelUnknown(name, reason string) *pipeline.Denial {
	return &pipeline.Denial{Code: "ai.model_unknown", Params: map[string]string{"model": name},
		Header: noRetry(), Reason: reason}
}

func modelNotAllowed(name string, r *rule) *pipeline.Denial {
	return &pipeline.Denial{Code: "ai.model_not_allowed", Rule: "ai.access." + r.name,
		Params: map[string]string{"model": name}, Header: noRetry(),
		Reason: "access rule " + strconv.Quote(r.name) + " does not list model " + strconv.Quote(name)}
}

// noRetry tells OpenAI's SDKs not to retry an answer they would
// otherwise retry (a 429 budget refusal, a 5xx the caller cannot fix).
func noRetry() http.Header { return http.Header{"X-Should-Retry": {"false"}} }

// meterDenial turns a meter refusal into the caller's answer.
func meterDenial(ref *meter.Refusal) *pipeline.Denial {
	rule := ref.Rule
	switch ref.Kind {
	case meter.Tokens:
		secs := max(int64((ref.RetryAfter+time.Second-1)/time.Second), 1)
		d := &pipeline.Denial{Code: "ai.tokens_rate_exceeded", Rule: "ai.access." + rule,
			Params: map[string]string{"limit": strconv.FormatInt(ref.TokenLimit, 10), "rule": rule,
				"retry_after": strconv.FormatInt(secs, 10)},
			Header: http.Header{"Retry-After": {strconv.FormatInt(secs, 10)}},
			Reason: "key " + ref.Key + ": " + strconv.FormatInt(ref.TokensUsed, 10) + " tokens used and " +
				strconv.FormatInt(ref.TokensReserved, 10) + " reserved in the last minute; the call asks for " +
				strconv.FormatInt(ref.Ask.Tokens, 10)}
		if ref.NeverFits {
			d.Header.Set("X-Should-Retry", "false")
			d.Reason += "; the call alone is larger than the limit"
		}
		return d
	}
	period := "daily"
	if ref.Kind == meter.Monthly {
		period = "monthly"
	}
	reset := ref.Reset.UTC().Format(time.RFC3339)
	if ref.NeverFits {
		reset = "no time: this call alone may cost more than the budget"
	}
	return &pipeline.Denial{Code: "ai.budget_exceeded", Rule: "ai.access." + rule,
		Params: map[string]string{"period": period, "budget": ref.Budget.String(), "spent": ref.Spent.String(),
			"rule": rule, "reset": reset},
		Header: http.Header{"X-Should-Retry": {"false"}},
		Reason: "key " + ref.Key + ": " + ref.Spent.String() + " USD spent and " + ref.Reserved.String() +
			" reserved of " + ref.Budget.String() + "; the call may cost up to " + ref.Ask.Cost.String()}
}
