package explain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/problem"
	"github.com/pinpointgw/pinpoint/internal/redact"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// ErrNotFound is returned by Explain when the call log holds no request
// with the id (never logged, already pruned, or a mistyped id).
var ErrNotFound = errors.New("no call with this request id in the call log")

// Directory reads the tenants, consumers and API keys an explanation
// names. *identity.Service implements it.
type Directory interface {
	Consumer(ctx context.Context, id string) (identity.ConsumerRecord, error)
	Tenant(ctx context.Context, id string) (identity.TenantRecord, error)
	Key(ctx context.Context, id string) (identity.KeyRecord, error)
}

// Explainer explains requests from the call log.
type Explainer struct {
	// Calls is the call log; the lookup uses its request_id index. Required.
	Calls store.CallLog
	// Revisions holds the configuration revisions. Required.
	Revisions store.Revisions
	// Identities names consumers, tenants and keys. Nil: the explanation
	// shows only the ids the call log kept.
	Identities Directory
	// LookupEnv resolves the ${ENV} references of a revision document
	// while it is read for the fix (expanded values are never shown).
	// Nil: os.LookupEnv, the gateway process's own environment.
	LookupEnv func(string) (string, bool)
}

// Explain builds the explanation of the request with id requestID, or
// returns ErrNotFound.
func (e *Explainer) Explain(ctx context.Context, requestID string) (*Explanation, error) {
	calls, err := e.Calls.QueryCalls(ctx, store.CallQuery{RequestID: requestID, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("reading the call log: %w", err)
	}
	if len(calls) == 0 {
		return nil, ErrNotFound
	}
	call := calls[0]
	var f Facts
	if call.Revision > 0 {
		rev, err := e.Revisions.Revision(ctx, call.Revision)
		switch {
		case err == nil:
			f.Revision = &rev
			cfg, note := e.readConfig(rev)
			f.Config = cfg
			if note != "" {
				f.Notes = append(f.Notes, note)
			}
		case errors.Is(err, store.ErrNotFound):
		default:
			return nil, fmt.Errorf("reading revision %d: %w", call.Revision, err)
		}
	}
	if e.Identities != nil {
		if err := e.lookupIdentities(ctx, call, &f); err != nil {
			return nil, err
		}
	}
	return Build(call, f), nil
}

// lookupIdentities fills the consumer, tenant and key records; objects
// that no longer exist are left nil.
func (e *Explainer) lookupIdentities(ctx context.Context, call store.Call, f *Facts) error {
	keep := func(err error) error {
		if err == nil || errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	if call.ConsumerID != "" {
		c, err := e.Identities.Consumer(ctx, call.ConsumerID)
		if err == nil {
			f.Consumer = &c
		} else if err := keep(err); err != nil {
			return fmt.Errorf("reading consumer %s: %w", call.ConsumerID, err)
		}
	}
	tenant := ""
	if f.Consumer != nil {
		tenant = f.Consumer.TenantID
	}
	if tenant != "" {
		t, err := e.Identities.Tenant(ctx, tenant)
		if err == nil {
			f.Tenant = &t
		} else if err := keep(err); err != nil {
			return fmt.Errorf("reading tenant %s: %w", tenant, err)
		}
	}
	cred := call.CredentialID
	if cred == "" {
		cred = presentedKey(call)
	}
	if id, ok := keyID(cred); ok {
		k, err := e.Identities.Key(ctx, id)
		if err == nil {
			f.Key = &k
		} else if err := keep(err); err != nil {
			return fmt.Errorf("reading key %s: %w", id, err)
		}
	}
	return nil
}

// readConfig parses a revision's document for the fix. The document keeps
// its ${ENV} references; when they cannot be resolved here the document
// is read without validation, which is enough to name routes, lists and
// policies.
func (e *Explainer) readConfig(rev store.Revision) (*config.Config, string) {
	if len(rev.Document) == 0 {
		return nil, "revision " + strconv.FormatInt(rev.Number, 10) + " has no document; the fix is generic"
	}
	lookup := e.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	name := "revision-" + strconv.FormatInt(rev.Number, 10) + ".yaml"
	if cfg, err := config.Load(name, rev.Document, lookup); err == nil {
		return cfg, ""
	}
	var cfg config.Config
	if err := yaml.Unmarshal(rev.Document, &cfg); err != nil && !isTypeError(err) {
		return nil, "revision " + strconv.FormatInt(rev.Number, 10) + " could not be read; the fix is generic"
	}
	cfg.ApplyDefaults()
	return &cfg, ""
}

func isTypeError(err error) bool {
	var te *yaml.TypeError
	return errors.As(err, &te)
}

// Facts are what an explanation draws on besides the call record. Every
// field is optional.
type Facts struct {
	// Revision is the revision the request ran on (nil: not in the store).
	Revision *store.Revision
	// Config is that revision's configuration.
	Config *config.Config
	// Consumer, Tenant and Key are the caller's records as they are now.
	Consumer *identity.ConsumerRecord
	Tenant   *identity.TenantRecord
	Key      *identity.KeyRecord
	// Notes are passed through to Explanation.Notes.
	Notes []string
}

// Build explains call with the facts given. It never fails: what is not
// known is left out, and a trace that does not parse is noted.
func Build(call store.Call, f Facts) *Explanation {
	pol := policyFor(f.Config)
	x := &Explanation{
		RequestID: call.RequestID,
		Time:      call.Time,
		Status:    call.Status,
		Code:      call.Code,
		Layer:     call.Layer,
		Route:     call.Route,
		Latency:   call.Latency,
		Notes:     append([]string(nil), f.Notes...),
	}
	if c, ok := problem.Lookup(call.Code); ok {
		x.Title = c.Title
	}
	x.Outcome = outcome(call)

	var trace []pipeline.Step
	if len(call.Trace) > 0 {
		if err := json.Unmarshal(call.Trace, &trace); err != nil {
			x.Notes = append(x.Notes, "the call's decision trace could not be read")
			trace = nil
		}
	} else if x.Outcome == OutcomeAllowed {
		x.Notes = append(x.Notes, "the request was allowed; the call log keeps no trace of allowed requests")
	}
	x.Steps = make([]Step, 0, len(trace))
	for _, s := range trace {
		st := Step{Stage: s.Stage, Outcome: s.Outcome, Code: s.Code, Rule: s.Rule, Note: pol.Text(s.Note), Duration: s.Duration}
		x.Steps = append(x.Steps, st)
		if s.Outcome == pipeline.OutcomeWouldDeny {
			x.WouldDeny = append(x.WouldDeny, st)
		}
		if s.Stage == "authn" && s.Outcome == pipeline.OutcomePass {
			x.Caller.Authenticator = strings.TrimPrefix(s.Rule, "authenticator:")
		}
	}
	if x.Outcome == OutcomeRefused {
		x.Decision = decision(call, x.Steps)
	}

	in, hasInputs := parseInputs(call.Inputs)
	x.Request = request(call, in, hasInputs, pol)
	x.Caller.Credential = call.CredentialID
	x.Caller.Consumer = call.ConsumerID
	if x.Caller.Credential == "" {
		x.Caller.Credential = in.Credential
	}
	if x.Caller.Consumer == "" {
		x.Caller.Consumer = in.Consumer
	}
	x.Caller.Method = in.AuthMethod
	if x.Caller.Credential == "" {
		x.Caller.Presented = presentedIn(trace)
	}
	if in.Authenticator != "" {
		x.Caller.Authenticator = in.Authenticator
	}
	if f.Consumer != nil {
		x.Caller.ConsumerName = f.Consumer.Name
		x.Caller.Tenant = f.Consumer.TenantID
	}
	if f.Key != nil {
		k := f.Key
		x.Caller.Key = &Key{ID: k.ID, Scopes: k.Scopes, ExpiresAt: k.ExpiresAt, RevokedAt: k.RevokedAt,
			RevokedReason: pol.Text(k.RevokedReason), ReplacedBy: k.ReplacedBy, Source: k.Source}
	}

	x.Revision = Revision{Number: call.Revision}
	if r := f.Revision; r != nil {
		x.Revision = Revision{Number: r.Number, Author: r.Author, Source: r.Source, CreatedAt: r.CreatedAt, Summary: r.Summary}
	} else if call.Revision > 0 {
		x.Revision.Missing = true
	}

	if call.Target != "" || call.Attempts > 0 || call.UpstreamLatency > 0 {
		u := &Upstream{Target: call.Target, Attempts: call.Attempts, Latency: call.UpstreamLatency}
		if x.Outcome != OutcomeRefused || !strings.HasPrefix(call.Code, "upstream.") {
			u.Status = call.Status
		}
		x.Upstream = u
	}

	x.Fix = fixFor(x, &f, &in)
	return x
}

// outcome classifies a call record.
func outcome(call store.Call) string {
	switch {
	case call.Status == 499 && call.Code == "":
		return OutcomeClientClosed
	case call.Layer == problem.LayerUpstream:
		return OutcomeUpstreamError
	case call.Code != "":
		return OutcomeRefused
	}
	return OutcomeAllowed
}

// decision finds the deciding step: the last deny step with the call's
// code, else the last deny step, else what the call record says.
func decision(call store.Call, steps []Step) *Decision {
	var found *Step
	for i := len(steps) - 1; i >= 0; i-- {
		s := &steps[i]
		if s.Outcome != pipeline.OutcomeDeny {
			continue
		}
		if s.Code == call.Code {
			found = s
			break
		}
		if found == nil {
			found = s
		}
	}
	if found == nil {
		return &Decision{Stage: call.Stage}
	}
	d := &Decision{Stage: found.Stage, Rule: found.Rule, Reason: found.Note}
	if d.Stage == "" {
		d.Stage = call.Stage
	}
	return d
}

// policyFor is the redaction policy of the revision's configuration, or
// the built-in one (every query value hidden) when it is not known.
func policyFor(cfg *config.Config) *redact.Policy {
	if cfg == nil {
		return redact.Default()
	}
	var headers []string
	c := cfg.Redact
	c.QueryParams = append([]string(nil), c.QueryParams...)
	for _, a := range cfg.Authenticators {
		if a.APIKey == nil {
			continue
		}
		if a.APIKey.Header != "" {
			headers = append(headers, a.APIKey.Header)
		}
		if a.APIKey.Query != "" {
			// A key in the query is a secret whatever redact_query says.
			c.QueryParams = append(c.QueryParams, a.APIKey.Query)
		}
	}
	return redact.New(c, cfg.Gateway.CallLog.RedactsQuery(), headers)
}

// keyPrefixRE finds an API key's prefix id in a trace note (the secret
// part never reaches the trace).
var keyPrefixRE = regexp.MustCompile(`\bpp_[a-z0-9]{1,16}_[A-Za-z0-9]{4,32}\b`)

// presentedIn is the API key prefix id the authn stage's refusal names, if any.
func presentedIn(trace []pipeline.Step) string {
	for _, s := range trace {
		if s.Stage == "authn" && s.Outcome == pipeline.OutcomeDeny {
			return keyPrefixRE.FindString(s.Note)
		}
	}
	return ""
}

// presentedKey is presentedIn of a call's trace.
func presentedKey(call store.Call) string {
	var trace []pipeline.Step
	if json.Unmarshal(call.Trace, &trace) != nil {
		return ""
	}
	return presentedIn(trace)
}

// keyID returns the prefix id of an API key's credential id
// (pp_live_k7f3a9c2d1e0 → k7f3a9c2d1e0).
func keyID(credential string) (string, bool) {
	if !identity.LooksLikeKey(credential) {
		return "", false
	}
	parts := strings.Split(credential, "_")
	if len(parts) != 3 || parts[2] == "" {
		return "", false
	}
	return parts[2], true
}
