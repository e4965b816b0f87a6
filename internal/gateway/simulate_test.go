package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/redisconn/redistest"
)

// simFixture is a gateway with keys of several consumers, a rate limit,
// a quota and an idempotent route, in front of a backend that counts
// every request it gets.
type simFixture struct {
	*harness
	keys map[string]string // name -> whole key
	hits *atomic.Int64
	doc  string
}

// simConfig is the fixture's document; bobScopes are the scopes of bob's key.
func simConfig(url string, shas map[string]string, bobScopes string) string {
	return fmt.Sprintf(`version: 1
authenticators:
  - {name: keys, type: api_key}
consumers:
  - id: alice
    api_keys: [{id: alic0000alic, sha256: %s, scopes: ["orders:read", "orders:write"]}]
  - id: bob
    api_keys: [{id: bobb0000bobb, sha256: %s, scopes: [%s]}]
  - id: carol
    status: suspended
    suspension: {category: billing, reason: invoice 42 unpaid}
    api_keys: [{id: caro0000caro, sha256: %s, scopes: ["orders:read"]}]
  - id: dave
    api_keys: [{id: dave0000dave, sha256: %s, scopes: ["orders:read"], expires_at: "2020-01-01T00:00:00Z"}]
routes:
  - name: orders
    paths: ["/orders"]
    methods: [GET]
    upstream: app
    auth: {methods: [keys]}
    authorize: {scopes: ["orders:read"]}
  - name: create-order
    paths: ["/orders"]
    methods: [POST]
    upstream: app
    auth: {methods: [keys]}
    authorize: {scopes: ["orders:write"]}
    idempotency: {}
  - name: limited
    paths: ["/limited"]
    upstream: app
    rate_limits: [{name: per-ip, rate: 1/m, key: ip}]
    quotas: [{name: daily, period: day, limit: 5}]
upstreams:
  - name: app
    targets: [{url: %q}]
`, shas["alice"], shas["bob"], bobScopes, shas["carol"], shas["dave"], url)
}

func newSimFixture(t *testing.T) *simFixture {
	t.Helper()
	hits := &atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, "ok")
	}))
	t.Cleanup(srv.Close)
	keys, shas := map[string]string{}, map[string]string{}
	for name, id := range map[string]string{"alice": "alic0000alic", "bob": "bobb0000bobb", "carol": "caro0000caro", "dave": "dave0000dave"} {
		keys[name], shas[name] = accessKey("live", id)
	}
	doc := simConfig(srv.URL, shas, `"orders:read"`)
	f := &simFixture{harness: newHarness(t, doc), keys: keys, hits: hits, doc: doc}
	f.doc = doc
	return f
}

func (f *simFixture) simulate(req admin.SimulateRequest) admin.SimulateResult {
	f.t.Helper()
	res, err := f.g.Simulate(context.Background(), req)
	if err != nil {
		f.t.Fatalf("simulate: %v", err)
	}
	return res
}

func TestSimulateAllowedRequestIsNotForwardedAndTouchesNothing(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t)
	res := f.simulate(admin.SimulateRequest{URL: "http://api.example.com/orders?page=2",
		Headers: map[string][]string{"X-Api-Key": {f.keys["alice"]}, "Cookie": {"session=s3cr3t-cookie"}}, ClientIP: "198.51.100.7"})
	if res.Outcome != admin.SimForwarded || res.Forward == nil || res.Forward.Upstream != "app" || res.Route != "orders" {
		t.Fatalf("result %+v", res)
	}
	if !strings.HasPrefix(res.Summary, "would be forwarded to upstream app target http://127.0.0.1:") || !strings.HasSuffix(res.Summary, "path /orders?page=2") {
		t.Errorf("summary %q", res.Summary)
	}
	if res.Identity == nil || res.Identity.Consumer != "alice" || res.Identity.Credential != "pp_live_alic0000alic" || res.Identity.Assumed {
		t.Errorf("identity %+v", res.Identity)
	}
	if n := f.hits.Load(); n != 0 {
		t.Errorf("the upstream was called %d times", n)
	}
	if k := f.g.Current().Directory().Key("alic0000alic"); k.LastUsed() != 0 {
		t.Errorf("simulate touched the key's last-used time")
	}
	out, _ := json.Marshal(res)
	for _, secret := range []string{f.keys["alice"], "s3cr3t-cookie"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("the result leaks %q: %s", secret, out)
		}
	}
	stages := []string{}
	for _, s := range res.Trace {
		stages = append(stages, s.Stage+":"+s.Outcome)
	}
	if got := strings.Join(stages, " "); got != "accept:pass route:pass authn:pass authz:pass upstream:skip" {
		t.Errorf("trace %s", got)
	}
}

func TestSimulateAssumedIdentityKeepsTheChecks(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t)
	for _, c := range []struct {
		name            string
		req             admin.SimulateRequest
		status          int
		code, stage     string
		consumerInTrace string
	}{
		{"key lacks scope", admin.SimulateRequest{Method: "POST", URL: "http://api.example.com/orders", AsCredential: "pp_live_bobb0000bobb"},
			403, "authz.scope_missing", "authz", "bob"},
		{"bare prefix id", admin.SimulateRequest{Method: "POST", URL: "/orders", Headers: map[string][]string{"Host": {"api.example.com"}}, AsCredential: "alic0000alic"},
			0, "", "", "alice"},
		{"suspended consumer", admin.SimulateRequest{URL: "http://api.example.com/orders", AsCredential: "caro0000caro"},
			403, "consumer.suspended", "consumer", ""},
		{"expired key", admin.SimulateRequest{URL: "http://api.example.com/orders", AsCredential: "dave0000dave"},
			401, "authn.key_expired", "authn", ""},
		{"unknown key", admin.SimulateRequest{URL: "http://api.example.com/orders", AsCredential: "pp_live_nope0000nope"},
			401, "authn.key_unknown", "authn", ""},
		{"consumer with scopes", admin.SimulateRequest{URL: "http://api.example.com/orders", AsConsumer: "bob", Scopes: []string{"orders:read"}},
			0, "", "", "bob"},
		{"consumer without scopes", admin.SimulateRequest{URL: "http://api.example.com/orders", AsConsumer: "bob"},
			403, "authz.scope_missing", "authz", ""},
		{"unknown consumer", admin.SimulateRequest{URL: "http://api.example.com/orders", AsConsumer: "zed"},
			401, "authn.consumer_unknown", "authn", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := f.simulate(c.req)
			if c.code == "" {
				if res.Outcome != admin.SimForwarded || res.Identity == nil || res.Identity.Consumer != c.consumerInTrace || !res.Identity.Assumed {
					t.Fatalf("want forwarded as %s: %+v", c.consumerInTrace, res)
				}
				return
			}
			if res.Outcome != admin.SimDenied || res.Status != c.status || res.Code != c.code || res.Stage != c.stage {
				t.Fatalf("got %s %d %s at %s, want %d %s at %s; trace %+v", res.Outcome, res.Status, res.Code, res.Stage, c.status, c.code, c.stage, res.Trace)
			}
			var p map[string]any
			if err := json.Unmarshal(res.Problem, &p); err != nil || p["code"] != c.code {
				t.Fatalf("problem %s (%v)", res.Problem, err)
			}
		})
	}
	if n := f.hits.Load(); n != 0 {
		t.Errorf("the upstream was called %d times", n)
	}
}

// TestSimulatePeeksAtLimitsWithoutCharging: simulations see the counts
// real traffic left and never spend them.
func TestSimulatePeeksAtLimitsWithoutCharging(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t)
	req := admin.SimulateRequest{URL: "http://api.example.com/limited", ClientIP: "127.0.0.1"}
	for range 3 {
		res := f.simulate(req)
		if res.Outcome != admin.SimForwarded {
			t.Fatalf("simulation refused before any real request: %+v", res)
		}
		if !strings.Contains(strings.Join(res.Notes, "\n"), "without charging") {
			t.Errorf("notes %q", res.Notes)
		}
		if last := res.Trace[len(res.Trace)-2]; last.Stage != "limit" || !strings.Contains(last.Note, "nothing was charged") {
			t.Errorf("limit step %+v", last)
		}
		if res.Header.Get("X-Ratelimit-Remaining") != "0" {
			t.Errorf("headers %v", res.Header)
		}
	}
	if resp, body := f.do("GET", "/limited", nil, ""); resp.StatusCode != 200 {
		t.Fatalf("the first real request was refused: %d %s", resp.StatusCode, body)
	}
	if resp, _ := f.do("GET", "/limited", nil, ""); resp.StatusCode != 429 {
		t.Fatalf("second real request: %d, want 429", resp.StatusCode)
	}
	res := f.simulate(req)
	if res.Outcome != admin.SimDenied || res.Code != "ratelimit.exceeded" || res.Header.Get("Retry-After") == "" {
		t.Fatalf("after the real request: %+v", res)
	}
	if !strings.Contains(res.Trace[len(res.Trace)-1].Note, "nothing was charged") {
		t.Errorf("deny step %+v", res.Trace[len(res.Trace)-1])
	}
	usage, err := f.g.QuotaUsage(context.Background(), QuotaQuery{Route: "limited", Key: "ip:127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(usage) != 1 || usage[0].Used != 1 {
		t.Errorf("quota usage %+v, want 1 (the one admitted real request)", usage)
	}
}

func TestSimulateReportsIdempotencyWithoutTakingTheKey(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t)
	req := admin.SimulateRequest{Method: "POST", URL: "http://api.example.com/orders", AsCredential: "alic0000alic",
		Headers: map[string][]string{"Idempotency-Key": {"order-1"}}, Body: `{"item":1}`}
	for range 2 {
		res := f.simulate(req)
		if res.Outcome != admin.SimForwarded {
			t.Fatalf("%+v", res)
		}
		found := false
		for _, s := range res.Trace {
			found = found || (s.Stage == "idempotency" && strings.Contains(s.Note, "nothing was taken"))
		}
		if !found {
			t.Errorf("no idempotency report in %+v", res.Trace)
		}
	}
	// The key is still free: a real request with it is a first use.
	resp, body := f.do("POST", "/orders", map[string]string{"X-Api-Key": f.keys["alice"], "Idempotency-Key": "order-1"}, `{"item":1}`)
	if resp.StatusCode != 200 || body != "ok" || resp.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("real request after simulations: %d %s %v", resp.StatusCode, body, resp.Header)
	}
	bad := f.simulate(admin.SimulateRequest{Method: "POST", URL: "http://api.example.com/orders", AsCredential: "alic0000alic",
		Headers: map[string][]string{"Idempotency-Key": {"bad key"}}})
	if bad.Code != "idempotency.key_invalid" {
		t.Errorf("invalid key: %+v", bad)
	}
}

func TestSimulateProposedConfigIsNeverPublished(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t)
	rev := f.g.Revision()
	proposed := strings.Replace(f.doc, `authorize: {scopes: ["orders:read"]}`, `authorize: {scopes: ["orders:admin"]}`, 1)
	res := f.simulate(admin.SimulateRequest{URL: "http://api.example.com/orders", AsCredential: "alic0000alic", Config: proposed})
	if !res.Proposed || res.Revision != 0 || res.Code != "authz.scope_missing" {
		t.Fatalf("proposed: %+v", res)
	}
	if f.g.Revision() != rev {
		t.Fatalf("revision moved from %d to %d", rev, f.g.Revision())
	}
	live := f.simulate(admin.SimulateRequest{URL: "http://api.example.com/orders", AsCredential: "alic0000alic"})
	if live.Outcome != admin.SimForwarded || live.Revision != rev {
		t.Fatalf("live: %+v", live)
	}
	_, err := f.g.Simulate(context.Background(), admin.SimulateRequest{URL: "http://api.example.com/orders", Config: "version: 1\nroutes: [{name: x, bogus: 1}]\n", Filename: "p.yaml"})
	var errs config.Errors
	if !errors.As(err, &errs) || !strings.Contains(err.Error(), "p.yaml") {
		t.Fatalf("bad proposed document: %v", err)
	}
}

func TestSimulateRejectsBadDescriptions(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t)
	for _, req := range []admin.SimulateRequest{
		{URL: ""},
		{URL: "/orders"},
		{URL: "ftp://x/y"},
		{URL: "http://a/b", ClientIP: "not-an-ip"},
		{URL: "http://a/b", AsCredential: "x", AsConsumer: "y"},
		{URL: "http://a/b", Scopes: []string{"s"}},
		{URL: "http://a/b", Method: "GE T"},
	} {
		_, err := f.g.Simulate(context.Background(), req)
		var bad *admin.InvalidRequestError
		if !errors.As(err, &bad) {
			t.Errorf("%+v: err %v, want InvalidRequestError", req, err)
		}
	}
}

// TestInputsAreKeptRedactedAndReplayable: the call log keeps what a
// replay needs, without the secrets.
func TestInputsAreKeptRedactedAndReplayable(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t)
	resp, _ := f.do("POST", "/orders?token=q-secret-1&page=2", map[string]string{"X-Api-Key": f.keys["bob"],
		"Content-Type": "application/json", "Cookie": "sid=cookie-secret-2"}, `{"password":"body-secret-3","n":1}`)
	if resp.StatusCode != 403 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	call := f.waitCall(resp.Header.Get("X-Request-Id"))
	for _, secret := range []string{f.keys["bob"], "q-secret-1", "cookie-secret-2", "body-secret-3"} {
		if strings.Contains(string(call.Inputs), secret) {
			t.Errorf("inputs leak %q: %s", secret, call.Inputs)
		}
	}
	var in pipeline.Inputs
	if err := json.Unmarshal(call.Inputs, &in); err != nil {
		t.Fatalf("inputs %s: %v", call.Inputs, err)
	}
	if in.Method != "POST" || in.Path != "/orders" || in.Credential != "pp_live_bobb0000bobb" || in.Consumer != "bob" ||
		in.AuthMethod != "api_key" || in.ClientIP != "127.0.0.1" || in.Peer != "127.0.0.1" || in.Scheme != "http" {
		t.Errorf("inputs %+v", in)
	}
	if in.Query != "token=redacted&page=redacted" || in.Header["Cookie"][0] != "redacted" || in.BodyBytes == 0 {
		t.Errorf("inputs %s", call.Inputs)
	}
	// No stage read the body, so it is not kept: a replay says so.
	if !in.BodyOmitted || len(in.Body) != 0 {
		t.Errorf("body kept without a stage reading it: %s", call.Inputs)
	}
	// Replayed through the live revision, the request gets the same answer.
	st, _ := f.g.simulateOn(context.Background(), f.g.Current(), replayOf(&in))
	if st.code != "authz.scope_missing" || st.x.Identity.ConsumerID != "bob" {
		t.Errorf("replay: %q as %q", st.code, st.x.Identity.ConsumerID)
	}
}

// TestDryRunImpactNamesExactlyTheAffectedRequests: removing a scope from
// bob's key reports bob's reads, and nobody else's.
func TestDryRunImpactNamesExactlyTheAffectedRequests(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t)
	var bobIDs, all []string
	send := func(method, path, who string, want int) string {
		resp, body := f.do(method, path, map[string]string{"X-Api-Key": f.keys[who]}, "")
		if resp.StatusCode != want {
			t.Fatalf("%s %s as %s: %d %s", method, path, who, resp.StatusCode, body)
		}
		id := resp.Header.Get("X-Request-Id")
		all = append(all, id)
		return id
	}
	for range 3 {
		send("GET", "/orders", "alice", 200)
	}
	bobIDs = append(bobIDs, send("GET", "/orders", "bob", 200), send("GET", "/orders", "bob", 200))
	send("POST", "/orders", "bob", 403)
	send("GET", "/orders", "carol", 403)
	for _, id := range all {
		f.waitCall(id)
	}
	hitsBefore := f.hits.Load()

	proposed := strings.Replace(f.doc, `scopes: ["orders:read"]}]
  - id: carol`, `scopes: ["orders:list"]}]
  - id: carol`, 1)
	if proposed == f.doc {
		t.Fatal("the proposed document did not change")
	}
	res, err := f.g.apply(context.Background(), admin.ApplyRequest{Filename: "new.yaml", Document: []byte(proposed), DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	imp := res.Impact
	if imp == nil {
		t.Fatal("no impact")
	}
	if imp.Considered != len(all) || imp.Replayed != len(all) || imp.WithoutInputs != 0 || imp.Changed != 2 {
		t.Fatalf("impact %+v", imp)
	}
	if len(imp.Groups) != 1 {
		t.Fatalf("groups %+v", imp.Groups)
	}
	g := imp.Groups[0]
	if g.Change != admin.ImpactNewlyDenied || g.Route != "orders" || g.Consumer != "bob" || g.From != "" || g.To != "authz.scope_missing" || g.Count != 2 {
		t.Fatalf("group %+v", g)
	}
	if strings.Join(sorted(g.Examples), ",") != strings.Join(sorted(bobIDs), ",") {
		t.Errorf("examples %v, want %v", g.Examples, bobIDs)
	}
	if f.hits.Load() != hitsBefore {
		t.Errorf("the replay called the upstream")
	}
	if rev := f.g.Current(); rev.Hash == res.Revision.Hash {
		t.Errorf("the dry run was published")
	}

	// The window is bounded: one record replays only the newest call.
	res, err = f.g.apply(context.Background(), admin.ApplyRequest{Filename: "new.yaml", Document: []byte(proposed), DryRun: true,
		Impact: admin.ImpactWindow{Limit: 1}})
	if err != nil || res.Impact == nil || res.Impact.Considered != 1 || res.Impact.Changed != 0 {
		t.Fatalf("limit 1: %+v %v", res.Impact, err)
	}
	res, err = f.g.apply(context.Background(), admin.ApplyRequest{Filename: "new.yaml", Document: []byte(proposed), DryRun: true,
		Impact: admin.ImpactWindow{Off: true}})
	if err != nil || res.Impact != nil {
		t.Fatalf("impact off: %+v %v", res.Impact, err)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestSimulatePeeksAtRedisLimits: limits kept in Redis are read, not
// charged, by simulations.
func TestSimulatePeeksAtRedisLimits(t *testing.T) {
	t.Parallel()
	rc := redistest.Config(t)
	extra := "  - name: shared\n    paths: [\"/shared\"]\n    upstream: app\n" +
		"    rate_limits: [{name: cluster, rate: 1/m, key: route, store: redis}]\n" +
		"    quotas: [{name: monthly, period: month, limit: 5, key: tenant, store: redis}]\n" +
		"redis: {url: \"" + rc.URL + "\", key_prefix: \"" + rc.KeyPrefix + "\"}\n"
	h := newHarness(t, protectConfig(backend(t, "app").URL, extra))
	req := admin.SimulateRequest{URL: "http://api.example.com/shared"}
	for range 3 {
		res, err := h.g.Simulate(context.Background(), req)
		if err != nil || res.Outcome != admin.SimForwarded {
			t.Fatalf("simulation: %+v %v", res, err)
		}
	}
	if resp, body := h.do("GET", "/shared", nil, ""); resp.StatusCode != 200 {
		t.Fatalf("the first real request was refused: %d %s", resp.StatusCode, body)
	}
	res, err := h.g.Simulate(context.Background(), req)
	if err != nil || res.Code != "ratelimit.exceeded" {
		t.Fatalf("after the real request: %+v %v", res, err)
	}
}
