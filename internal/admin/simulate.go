package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// Simulator runs described requests through the gateway without serving
// them (POST /admin/simulate). The gateway implements it; the endpoint is
// served when Options.Control does.
type Simulator interface {
	// Simulate runs req through the live revision, or through req.Config
	// compiled aside (never published or stored). An *InvalidRequestError
	// describes a request that cannot be simulated; a config.Errors error
	// a proposed document that does not compile.
	Simulate(ctx context.Context, req SimulateRequest) (SimulateResult, error)
}

// SimulateRequest describes a request to simulate.
type SimulateRequest struct {
	// Method is the HTTP method. Default GET.
	Method string `json:"method,omitempty"`
	// URL is the request URL: absolute ("https://api.example.com/orders?x=1"),
	// or a path with the host in a Host header.
	URL string `json:"url"`
	// Headers are the request headers, as the client would send them (a
	// real credential may be among them).
	Headers map[string][]string `json:"headers,omitempty"`
	// Body is the request body.
	Body string `json:"body,omitempty"`
	// ClientIP is the client's address. Default 127.0.0.1.
	ClientIP string `json:"client_ip,omitempty"`
	// Peer is the direct TCP peer. Default ClientIP; set it to a trusted
	// proxy's address (with X-Forwarded-For in Headers) to simulate a
	// request that comes through that proxy.
	Peer string `json:"peer,omitempty"`
	// AsCredential assumes a credential without its secret: an API key's
	// prefix id ("pp_live_k7f3a9c2d1e0"), a basic user name or an HMAC key
	// id. Revoked, expired and suspended checks still apply.
	AsCredential string `json:"as_credential,omitempty"`
	// AsConsumer assumes a caller of this consumer without a credential;
	// Scopes are then the scopes granted.
	AsConsumer string   `json:"as_consumer,omitempty"`
	Scopes     []string `json:"scopes,omitempty"`
	// Config, when set, is a proposed configuration document (YAML) to run
	// the request through instead of the live revision; Filename names it
	// in error positions.
	Config   string `json:"config,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// Outcomes of a simulated request.
const (
	// SimForwarded: every stage passed; the request would go upstream.
	SimForwarded = "forwarded"
	// SimDenied: the gateway would refuse it (Code names why).
	SimDenied = "denied"
	// SimAnswered: a stage would answer it itself (a CORS preflight).
	SimAnswered = "answered"
)

// SimulateResult is what a simulated request would get, and why.
type SimulateResult struct {
	// Revision is the revision simulated (0 for a proposed document).
	Revision int64 `json:"revision"`
	// Proposed is true when the request ran through SimulateRequest.Config.
	Proposed bool `json:"proposed"`
	// RequestID is the id the request was given.
	RequestID string `json:"request_id"`
	// Route is the matched route ("" when none matched).
	Route string `json:"route,omitempty"`
	// Outcome is SimForwarded, SimDenied or SimAnswered.
	Outcome string `json:"outcome"`
	// Summary says the outcome in one line.
	Summary string `json:"summary"`
	// Status, Code, Stage and Layer describe a refusal or a stage's answer
	// (Status is 0 for a forwarded request: the upstream would decide).
	Status int    `json:"status,omitempty"`
	Code   string `json:"code,omitempty"`
	Stage  string `json:"stage,omitempty"`
	Layer  string `json:"layer,omitempty"`
	// Header holds the response headers the gateway would set (redacted).
	Header http.Header `json:"headers,omitempty"`
	// Problem is the problem+json body the client would get for a refusal.
	Problem json.RawMessage `json:"problem,omitempty"`
	// Body is the body of a stage's own answer, if any.
	Body string `json:"body,omitempty"`
	// Forward says where an allowed request would be forwarded.
	Forward *SimulatedForward `json:"forward,omitempty"`
	// Identity is who the request was taken to be.
	Identity *SimulatedIdentity `json:"identity,omitempty"`
	// Trace is the full decision trace (redacted).
	Trace []pipeline.Step `json:"trace"`
	// Notes say what the simulation did differently from real traffic.
	Notes []string `json:"notes,omitempty"`
}

// SimulatedForward is where an allowed simulated request would go.
type SimulatedForward struct {
	// Upstream and Target name the upstream and the target the balancer
	// would pick now; URL is what the target would be asked for.
	Upstream string `json:"upstream"`
	Target   string `json:"target"`
	URL      string `json:"url"`
	// Balance is the algorithm; Candidates the targets usable now.
	Balance    string   `json:"balance"`
	Candidates []string `json:"candidates,omitempty"`
	// Circuit is the circuit breaker's state.
	Circuit string `json:"circuit"`
}

// SimulatedIdentity is the caller a simulated request was taken to be.
type SimulatedIdentity struct {
	Method        string   `json:"method,omitempty"`
	Authenticator string   `json:"authenticator,omitempty"`
	Credential    string   `json:"credential,omitempty"`
	Consumer      string   `json:"consumer,omitempty"`
	Tenant        string   `json:"tenant,omitempty"`
	Scopes        []string `json:"scopes,omitempty"`
	// Assumed is true when the identity was assumed (as_credential,
	// as_consumer) rather than verified.
	Assumed bool `json:"assumed,omitempty"`
}

// InvalidRequestError is a simulate request that cannot be simulated (a
// bad URL, client IP, or both as_credential and as_consumer).
type InvalidRequestError struct{ Reason string }

func (e *InvalidRequestError) Error() string { return e.Reason }

// maxSimulateBytes bounds a simulate request (a proposed document included).
const maxSimulateBytes = MaxDocumentBytes + 1<<20

func (h *handler) simulate(w http.ResponseWriter, r *http.Request) {
	sim, ok := h.Control.(Simulator)
	if !ok {
		notFound(w, r, "Endpoint /admin/simulate")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSimulateBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeProblem(w, r, "request.body_too_large", map[string]string{"limit": strconv.Itoa(maxSimulateBytes)})
			return
		}
		badRequest(w, r, "the request body could not be read")
		return
	}
	var req SimulateRequest
	if err := json.Unmarshal(body, &req); err != nil {
		badRequest(w, r, "the body must be a JSON simulate request: "+err.Error())
		return
	}
	res, err := sim.Simulate(r.Context(), req)
	if err != nil {
		var bad *InvalidRequestError
		if errors.As(err, &bad) {
			badRequest(w, r, bad.Reason)
			return
		}
		h.controlFailure(w, r, "simulate", err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// Simulate runs a described request through the live revision (or
// req.Config) without serving it; see SimulateRequest.
func (c *Client) Simulate(ctx context.Context, req SimulateRequest) (SimulateResult, error) {
	var out SimulateResult
	err := c.doJSON(ctx, http.MethodPost, "/admin/simulate", req, &out)
	return out, err
}

// Bounds of the change-impact replay of a dry run.
const (
	// DefaultImpactLimit and MaxImpactLimit bound how many recent calls
	// are replayed.
	DefaultImpactLimit = 1000
	MaxImpactLimit     = 10000
	// DefaultImpactSince and MaxImpactSince bound how far back.
	DefaultImpactSince = time.Hour
	MaxImpactSince     = 24 * time.Hour
)

// ImpactWindow bounds the recent calls a dry run replays: the newest
// Limit records of the last Since, whichever is fewer.
type ImpactWindow struct {
	// Limit is how many records, at most. 0: DefaultImpactLimit; at most
	// MaxImpactLimit.
	Limit int
	// Since is how far back. 0: DefaultImpactSince; at most MaxImpactSince.
	Since time.Duration
	// Off skips the replay.
	Off bool
}

// Bounded returns w with defaults and caps applied.
func (w ImpactWindow) Bounded() ImpactWindow {
	if w.Limit <= 0 {
		w.Limit = DefaultImpactLimit
	}
	w.Limit = min(w.Limit, MaxImpactLimit)
	if w.Since <= 0 {
		w.Since = DefaultImpactSince
	}
	w.Since = min(w.Since, MaxImpactSince)
	return w
}

// Impact is the change impact of a proposed revision: recent real
// requests replayed, from their decision inputs, through the running
// revision and the proposed one (both simulated, so limit counts and
// upstream health cancel out), and those whose outcome differs.
type Impact struct {
	// Since and Until bound the calls replayed; Limit is the record bound used.
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	Limit int       `json:"limit"`
	// Considered is how many call records the window held; Replayed how
	// many had decision inputs and were replayed; WithoutInputs the rest
	// (explain.keep_inputs off when they were served, or older records).
	Considered    int `json:"considered"`
	Replayed      int `json:"replayed"`
	WithoutInputs int `json:"without_inputs"`
	// WithoutBody counts replays of requests whose body was not kept (see
	// docs/simulate.md): body-dependent stages saw no body on either side.
	WithoutBody int `json:"without_body"`
	// Changed is how many replayed requests would change outcome.
	Changed int `json:"changed"`
	// Groups are the changes grouped by kind, route, consumer and codes,
	// largest first.
	Groups []ImpactGroup `json:"groups"`
}

// Kinds of outcome change.
const (
	ImpactNewlyDenied  = "newly_denied"
	ImpactNewlyAllowed = "newly_allowed"
	ImpactCodeChanged  = "code_changed"
)

// ImpactGroup is one group of requests whose outcome would change alike.
type ImpactGroup struct {
	// Change is ImpactNewlyDenied, ImpactNewlyAllowed or ImpactCodeChanged.
	Change string `json:"change"`
	// Route and Consumer the requests share ("" for none).
	Route    string `json:"route,omitempty"`
	Consumer string `json:"consumer,omitempty"`
	// From and To are the reason codes under the running and the proposed
	// revision ("" for allowed).
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Count is how many requests; Examples up to three of their request ids.
	Count    int      `json:"count"`
	Examples []string `json:"examples"`
}

// parseImpactWindow reads impact_limit, impact_since (a duration such as
// "30m") and impact=false from a dry run's query.
func parseImpactWindow(get func(string) string) (ImpactWindow, error) {
	var w ImpactWindow
	if v := get("impact"); v != "" {
		on, err := boolParam(v)
		if err != nil {
			return w, errors.New("impact: " + err.Error())
		}
		w.Off = !on
	}
	if v := get("impact_limit"); v != "" {
		n, err := intParam(v, DefaultImpactLimit, 1, MaxImpactLimit)
		if err != nil {
			return w, errors.New("impact_limit: " + err.Error())
		}
		w.Limit = int(n)
	}
	if v := get("impact_since"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > MaxImpactSince {
			return w, errors.New("impact_since: want a positive duration of at most 24h, such as 30m")
		}
		w.Since = d
	}
	return w, nil
}

// DryRun validates and diffs a document like Apply with dryRun, and
// reports the change impact over window (see Impact).
func (c *Client) DryRun(ctx context.Context, filename string, doc []byte, window ImpactWindow) (ApplyResult, error) {
	q := map[string][]string{"dry_run": {"true"}}
	if filename != "" {
		q["filename"] = []string{filename}
	}
	if window.Off {
		q["impact"] = []string{"false"}
	}
	if window.Limit > 0 {
		q["impact_limit"] = []string{strconv.Itoa(window.Limit)}
	}
	if window.Since > 0 {
		q["impact_since"] = []string{window.Since.String()}
	}
	var out ApplyResultJSON
	err := c.do(ctx, http.MethodPost, "/admin/config", q, doc, &out)
	return out.result(), err
}
