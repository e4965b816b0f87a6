package explain_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/explain"
	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/problem"
	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/store/postgres"
	"github.com/pinpointgw/pinpoint/internal/store/postgres/pgtest"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// secret is a whole API key that appears in some records' inputs; it must
// never appear in an explanation.
const secret = "pp_live_ordr0000ordr_S3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB"

var t0 = time.Date(2026, 3, 4, 14, 5, 6, 0, time.UTC)

// revision 42 is the configuration of testdata/gateway.yaml.
func revision(t *testing.T) (*store.Revision, *config.Config) {
	t.Helper()
	doc, err := os.ReadFile("testdata/gateway.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load("gateway.yaml", doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &store.Revision{Number: 42, Author: "alice", Source: "admin-api", CreatedAt: t0.Add(-2 * time.Minute),
		Summary: "~ route orders: authorize.scopes", Document: doc}, cfg
}

func trace(steps ...pipeline.Step) []byte {
	b, err := json.Marshal(steps)
	if err != nil {
		panic(err)
	}
	return b
}

func step(stage, outcome, code, rule, note string) pipeline.Step {
	return pipeline.Step{Stage: stage, Outcome: outcome, Code: code, Rule: rule, Note: note, Duration: 1500}
}

// The common head of an authenticated request's trace on route orders.
var authed = []pipeline.Step{
	step("route", "pass", "", "orders", "/orders/{id}"),
	step("authn", "pass", "", "authenticator:keys", "pp_live_ordr0000ordr"),
	step("consumer", "pass", "", "consumer:orders-app", ""),
}

func with(head []pipeline.Step, tail ...pipeline.Step) []byte {
	return trace(append(append([]pipeline.Step(nil), head...), tail...)...)
}

func inputs(method, path string, headers map[string][]string, body string) []byte {
	in := pipeline.Inputs{Method: method, Scheme: "https", Host: "api.example.com", Path: path, Header: headers,
		ClientIP: "203.0.113.7", Peer: "203.0.113.7", Credential: "pp_live_ordr0000ordr", Consumer: "orders-app",
		AuthMethod: "api_key", Authenticator: "keys"}
	if body != "" {
		in.Body, in.BodyBytes = json.RawMessage(body), int64(len(body))
	}
	b, err := json.Marshal(in)
	if err != nil {
		panic(err)
	}
	return b
}

func call(code string, status int, stage string, tr []byte) store.Call {
	layer := ""
	if c, ok := problem.Lookup(code); ok {
		layer = c.Layer
	} else if code != "" {
		layer = problem.LayerGateway
	}
	return store.Call{Seq: 7, Time: t0, RequestID: "0197a0f2-" + orOK(strings.ReplaceAll(code, ".", "-")), Route: "orders",
		Method: "POST", Host: "api.example.com", Path: "/orders/42", Status: status, Code: code, Layer: layer, Stage: stage,
		ClientIP: "203.0.113.7", ConsumerID: "orders-app", CredentialID: "pp_live_ordr0000ordr",
		Latency: 1234567, Revision: 42, Trace: tr}
}

func storeKey(scopes ...string) *identity.KeyRecord {
	return &identity.KeyRecord{Source: identity.SourceStore, APIKey: store.APIKey{ID: "ordr0000ordr", Env: "live",
		ConsumerID: "orders-app", Scopes: scopes, CreatedAt: t0.Add(-48 * time.Hour)}}
}

func consumer(source string) *identity.ConsumerRecord {
	return &identity.ConsumerRecord{Source: source, Consumer: store.Consumer{ID: "orders-app", Name: "Orders App", TenantID: "acme",
		Groups: []string{"partners"}, Metadata: map[string]string{"plan": "basic"}, Status: "active"}}
}

type goldenCase struct {
	name  string
	call  store.Call
	facts func(f *explain.Facts)
	json  bool // also write the JSON form
}

func goldenCases(t *testing.T) []goldenCase {
	revoked := storeKey("orders:read")
	revoked.RevokedAt, revoked.RevokedReason = t0.Add(-time.Hour), "leaked in CI logs"
	suspended := consumer(identity.SourceStore)
	suspended.Status, suspended.SuspendedReason, suspended.SuspendedCategory = "suspended", "invoice 2026-02 unpaid", "billing"

	upstreamFail := call("upstream.connect_failed", 502, "upstream", with(authed,
		step("authz", "pass", "", "scopes, groups, tenants, policies", ""),
		step("upstream", "deny", "upstream.connect_failed", "", "dial tcp 10.0.4.2:8080: connect: connection refused")))
	upstreamFail.Target, upstreamFail.Attempts, upstreamFail.UpstreamLatency = "10.0.4.2:8080", 2, 3100000

	backend := call("upstream.error", 500, "", nil)
	backend.Target, backend.Attempts, backend.UpstreamLatency = "10.0.4.2:8080", 1, 80000000
	backend.Method, backend.Path = "GET", "/orders/42?debug=redacted"

	allowed := call("", 200, "", nil)
	allowed.Method, allowed.Target, allowed.Attempts, allowed.UpstreamLatency = "GET", "10.0.4.2:8080", 1, 5000000

	wouldDeny := call("", 200, "", with(authed,
		step("authz", "would_deny", "authz.policy_denied", "policy:business-hours", "policy business-hours evaluated to false"),
		step("upstream", "pass", "", "", "")))
	wouldDeny.Method, wouldDeny.Target, wouldDeny.Attempts = "DELETE", "10.0.4.2:8080", 1

	notFound := call("route.not_found", 404, "route", trace(step("route", "deny", "route.not_found", "", "")))
	notFound.Route, notFound.Path, notFound.ConsumerID, notFound.CredentialID, notFound.Method = "", "/ordres/42", "", "", "GET"

	ipDenied := call("ip.denied", 403, "ip", trace(step("route", "pass", "", "orders", "/orders/{id}"),
		step("ip", "deny", "ip.denied", "gateway.ip.deny", `client 198.51.100.23 is on gateway.ip.deny entry "198.51.100.0/24"`)))
	ipDenied.ClientIP, ipDenied.ConsumerID, ipDenied.CredentialID = "198.51.100.23", "", ""

	ipAllow := call("ip.not_allowed", 403, "ip", trace(step("route", "pass", "", "internal", "/internal/*"),
		step("ip", "deny", "ip.not_allowed", "route.ip.allow", "client 203.0.113.7 is on none of the 1 entries of route.ip.allow")))
	ipAllow.Route, ipAllow.Path, ipAllow.ConsumerID, ipAllow.CredentialID = "internal", "/internal/metrics", "", ""

	cors := call("cors.origin_not_allowed", 403, "cors", trace(step("route", "pass", "", "orders", "/orders/{id}"),
		step("cors", "deny", "cors.origin_not_allowed", "cors.allow_origins", `preflight from "https://evil.example" is not in cors.allow_origins`)))
	cors.Method, cors.ConsumerID, cors.CredentialID = "OPTIONS", "", ""
	cors.Inputs = inputs("OPTIONS", "/orders/42", map[string][]string{
		"Origin": {"https://evil.example"}, "Access-Control-Request-Method": {"DELETE"},
		"X-Api-Key": {secret}, "Authorization": {"Bearer " + secret}, "User-Agent": {"Mozilla/5.0"},
	}, "")

	csrf := call("csrf.origin_mismatch", 403, "csrf", with(authed,
		step("csrf", "deny", "csrf.origin_mismatch", "csrf.origin", `Origin "https://evil.example" is not the request's own origin nor in csrf.trusted_origins`)))
	csrf.Inputs = inputs("POST", "/orders/42", map[string][]string{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}, "")

	return []goldenCase{
		{name: "authz_scope_missing", json: true, call: func() store.Call {
			c := call("authz.scope_missing", 403, "authz", with(authed, step("authz", "deny", "authz.scope_missing", "scopes",
				`credential "pp_live_ordr0000ordr" lacks scope orders:write (scopes_mode all of [orders:read orders:write]); granted [orders:read]`)))
			c.Inputs = inputs("POST", "/orders/42", map[string][]string{"X-Api-Key": {secret}, "Content-Type": {"application/json"}},
				`{"item":"widget","card_token":"`+secret+`"}`)
			return c
		}(), facts: func(f *explain.Facts) { f.Key, f.Consumer = storeKey("orders:read"), consumer(identity.SourceConfig) }},
		{name: "authn_key_revoked", call: call("authn.key_revoked", 401, "authn", trace(step("route", "pass", "", "orders", "/orders/{id}"),
			step("authn", "deny", "authn.key_revoked", "authenticator:keys", "key pp_live_ordr0000ordr was revoked: leaked in CI logs"))),
			facts: func(f *explain.Facts) { f.Key = revoked }},
		{name: "consumer_suspended", call: call("consumer.suspended", 403, "consumer", trace(authed[0], authed[1],
			step("consumer", "deny", "consumer.suspended", "consumer:orders-app", "consumer orders-app is suspended: invoice 2026-02 unpaid"))),
			facts: func(f *explain.Facts) { f.Consumer = suspended }},
		{name: "authz_role_missing", call: call("authz.role_missing", 403, "authz", with(authed,
			step("authz", "deny", "authz.role_missing", "groups", `caller's groups [guests] include none of authorize.groups [partners staff]`))),
			facts: func(f *explain.Facts) {
				c := consumer(identity.SourceStore)
				c.Groups = []string{"guests"}
				f.Consumer = c
			}},
		{name: "authz_policy_denied", call: call("authz.policy_denied", 403, "authz", with(authed,
			step("authz", "deny", "authz.policy_denied", "policy:business-hours", "policy business-hours evaluated to false")))},
		{name: "ip_denied", call: ipDenied},
		{name: "ip_not_allowed", call: ipAllow},
		{name: "cors_origin_not_allowed", call: cors, json: true},
		{name: "csrf_origin_mismatch", call: csrf},
		{name: "ratelimit_exceeded", call: call("ratelimit.exceeded", 429, "limit", with(authed,
			step("limit", "deny", "ratelimit.exceeded", "rate_limits.per-key",
				"rate limit per-key (10/s burst 20, store local) refused credential pp_live_ordr0000ordr: the next request fits in 100ms")))},
		{name: "quota_exceeded", call: call("quota.exceeded", 429, "limit", with(authed,
			step("limit", "deny", "quota.exceeded", "quotas.monthly",
				"quota monthly (plan basic: 100 per month, UTC, store local) used up by consumer orders-app: 100 of 100 used in the period 2026-03-01T00:00:00Z to 2026-04-01T00:00:00Z"))),
			facts: func(f *explain.Facts) { f.Consumer = consumer(identity.SourceStore) }},
		{name: "waf_blocked", call: call("waf.blocked", 403, "waf", with(authed,
			step("waf", "deny", "waf.blocked", "942100", "anomaly score 5 >= 5: 942100 SQL Injection Attack Detected via libinjection (ARGS:q)")))},
		{name: "request_invalid_body", call: call("request.invalid_body", 422, "validate", with(authed,
			step("validate", "deny", "request.invalid_body", "body", "/quantity: must be >= 1")))},
		{name: "route_not_found", call: notFound},
		{name: "upstream_connect_failed", call: upstreamFail},
		{name: "upstream_error", call: backend},
		{name: "would_deny", call: wouldDeny},
		{name: "allowed", call: allowed},
	}
}

// TestGolden explains constructed call records of every refusal class on
// the revision of testdata/gateway.yaml and compares the text (and for
// some the JSON) with testdata/<name>.golden; -update rewrites them.
func TestGolden(t *testing.T) {
	t.Parallel()
	rev, cfg := revision(t)
	for _, tc := range goldenCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := explain.Facts{Revision: rev, Config: cfg}
			if tc.facts != nil {
				tc.facts(&f)
			}
			x := explain.Build(tc.call, f)
			var buf bytes.Buffer
			if err := x.WriteText(&buf, time.UTC); err != nil {
				t.Fatal(err)
			}
			if tc.json {
				b, err := json.MarshalIndent(x, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				buf.WriteString("--- json ---\n")
				buf.Write(b)
				buf.WriteByte('\n')
			}
			if strings.Contains(buf.String(), "S3cr3t") {
				t.Errorf("the explanation shows a secret:\n%s", buf.String())
			}
			checkGolden(t, tc.name, buf.String())
		})
	}
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/explain -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run go test ./internal/explain -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestEveryCodeHasAFix: every code the gateway writes gets a fix with a
// cause and at least one action, and every family except the label-only
// codes gets one written for it rather than the catalog's documentation.
func TestEveryCodeHasAFix(t *testing.T) {
	t.Parallel()
	rev, cfg := revision(t)
	for _, c := range problem.All() {
		if problem.Family(c.Code) == "admin" {
			continue // admin refusals are not call-log records
		}
		t.Run(c.Code, func(t *testing.T) {
			t.Parallel()
			x := explain.Build(call(c.Code, c.Status, c.Stage, with(authed, step(c.Stage, "deny", c.Code, "", "the stage's reason"))),
				explain.Facts{Revision: rev, Config: cfg})
			if x.Fix == nil || x.Fix.Cause == "" || len(x.Fix.Actions) == 0 {
				t.Fatalf("fix %+v", x.Fix)
			}
			for _, a := range x.Fix.Actions {
				if a == c.Doc {
					t.Errorf("the fix is the catalog's generic documentation: %q", a)
				}
				for _, name := range append(problem.Placeholders(c.Detail), problem.Placeholders(c.Hint)...) {
					if strings.Contains(a, "{"+name+"}") {
						t.Errorf("unexpanded placeholder {%s} in %q", name, a)
					}
				}
			}
		})
	}
}

// TestUnknownCodeFallsBack: a code this version does not know still gets
// an explanation and a generic fix.
func TestUnknownCodeFallsBack(t *testing.T) {
	t.Parallel()
	x := explain.Build(call("future.code", 403, "future", nil), explain.Facts{})
	if x.Outcome != explain.OutcomeRefused || x.Fix == nil || !strings.Contains(x.Fix.Cause, "future.code") {
		t.Fatalf("%+v %+v", x, x.Fix)
	}
	if !x.Revision.Missing || x.Revision.Number != 42 {
		t.Errorf("revision %+v: the store did not have it", x.Revision)
	}
}

// TestExplainerReadsTheStore: Explain finds the call by request id in a
// real call log (SQLite, and PostgreSQL when reachable), joins the revision
// and the caller's records, and answers ErrNotFound for an unknown id.
func TestExplainerReadsTheStore(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "pinpoint.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		testExplainer(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		st, err := postgres.Open(context.Background(), pgtest.FreshSchemaDSN(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		testExplainer(t, st)
	})
}

func testExplainer(t *testing.T, st store.Store) {
	ctx := context.Background()
	doc, err := os.ReadFile("testdata/gateway.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rev, err := st.AppendRevision(ctx, store.Revision{Author: "alice", Source: "cli", Document: doc, Summary: "+ route orders"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateConsumer(ctx, store.Consumer{ID: "batch", Name: "Batch Jobs", TenantID: "acme", Status: "active"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateAPIKey(ctx, store.APIKey{ID: "btch0000btch", Env: "live", ConsumerID: "batch", Hash: strings.Repeat("ab", 32),
		Scopes: []string{"orders:read"}}); err != nil {
		t.Fatal(err)
	}
	c := call("authz.scope_missing", 403, "authz", with(authed, step("authz", "deny", "authz.scope_missing", "scopes", "")))
	c.RequestID, c.Revision, c.ConsumerID, c.CredentialID = "req-1", rev.Number, "batch", "pp_live_btch0000btch"
	other := c
	other.RequestID = "req-2"
	if err := st.InsertCalls(ctx, []store.Call{c, other}); err != nil {
		t.Fatal(err)
	}
	ids := &identity.Service{Store: st, Live: identity.NewRegistry()}
	e := &explain.Explainer{Calls: st, Revisions: st, Identities: ids}
	x, err := e.Explain(ctx, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	if x.RequestID != "req-1" || x.Revision.Number != rev.Number || x.Revision.Author != "alice" || x.Caller.Tenant != "acme" ||
		x.Caller.ConsumerName != "Batch Jobs" || x.Caller.Key == nil || x.Caller.Key.Source != identity.SourceStore {
		t.Fatalf("explanation %+v caller %+v", x, x.Caller)
	}
	want := "`pinpoint keys create --consumer batch --scope orders:read --scope orders:write`"
	if !strings.Contains(strings.Join(x.Fix.Actions, "\n"), want) {
		t.Errorf("fix %+v lacks %s", x.Fix, want)
	}
	if _, err := e.Explain(ctx, "nope"); !errors.Is(err, explain.ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
}

// TestRevisionWithUnsetEnvStillNamesTheRules: a revision whose ${ENV}
// references cannot be resolved where explain runs is still read well
// enough to name the route's required scopes.
func TestRevisionWithUnsetEnvStillNamesTheRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "pinpoint.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	doc, _ := os.ReadFile("testdata/gateway.yaml")
	doc = bytes.Replace(doc, []byte(`"http://127.0.0.1:9"`), []byte(`"${ORDERS_URL}"`), 1)
	rev, err := st.AppendRevision(ctx, store.Revision{Author: "alice", Source: "cli", Document: doc})
	if err != nil {
		t.Fatal(err)
	}
	c := call("authz.scope_missing", 403, "authz", with(authed, step("authz", "deny", "authz.scope_missing", "scopes", "")))
	c.Revision = rev.Number
	if err := st.InsertCalls(ctx, []store.Call{c}); err != nil {
		t.Fatal(err)
	}
	e := &explain.Explainer{Calls: st, Revisions: st, LookupEnv: func(string) (string, bool) { return "", false }}
	x, err := e.Explain(ctx, c.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(x.Fix.Cause, "lacks scope orders:read orders:write") {
		t.Errorf("fix %+v", x.Fix)
	}
}

func orOK(s string) string {
	if s == "" {
		return "allowed"
	}
	return s
}
