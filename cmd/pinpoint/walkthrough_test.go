package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/calllog"
	"github.com/pinpointgw/pinpoint/internal/explain"
	"github.com/pinpointgw/pinpoint/internal/explain/token"
	"github.com/pinpointgw/pinpoint/internal/gateway"
	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/problem"
	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
	"github.com/pinpointgw/pinpoint/internal/telemetry"
)

// The walk-through's API keys (declared in testdata/walkthrough.yaml by
// their SHA-256) and its decision-token key.
const (
	wtReaderKey = "pp_live_shopread0001_Rd0000000000000000000000000000AA"
	wtWriterKey = "pp_live_shopwrite001_Wr0000000000000000000000000000BB"
	wtOldKey    = "pp_live_shopold00001_Od0000000000000000000000000000CC"
	wtTokenKey  = "walkthrough-decision-token-key!!" // 32 bytes
	wtDoc       = "../../docs/walkthrough.md"
)

// wtRequest is one request of the walk-through.
type wtRequest struct {
	method, path string
	header       [][2]string
	body         string
}

// wtClass is one refusal class: a request that is refused with code.
type wtClass struct {
	class, title, intro string
	// warmup is sent first and must pass (it uses up a limit or quota).
	warmup *wtRequest
	req    wtRequest
	status int
	code   string
}

var wtClasses = []wtClass{
	{class: "authn", title: "An expired API key",
		intro:  "The shop's old key expired on New Year's Day; a forgotten cron job still uses it.",
		req:    wtRequest{method: "GET", path: "/orders/1001", header: [][2]string{{"X-API-Key", wtOldKey}}},
		status: 401, code: "authn.key_expired"},
	{class: "authz", title: "A key without the scope the route requires",
		intro: "The shop's read-only key is used to place an order; the route requires orders:write.",
		req: wtRequest{method: "POST", path: "/orders", header: [][2]string{{"X-API-Key", wtReaderKey}, {"Content-Type", "application/json"}},
			body: `{"item":"widget","quantity":2}`},
		status: 403, code: "authz.scope_missing"},
	{class: "ip", title: "A client on a deny list",
		intro:  "The proxy in front of the gateway names the client 198.51.100.23, inside the denied 198.51.100.0/24.",
		req:    wtRequest{method: "GET", path: "/orders/1001", header: [][2]string{{"X-API-Key", wtReaderKey}, {"X-Forwarded-For", "198.51.100.23"}}},
		status: 403, code: "ip.denied"},
	{class: "waf", title: "An SQL injection the WAF blocks",
		intro:  "A search for `1' UNION SELECT password FROM users--` reaches the route with the WAF on.",
		req:    wtRequest{method: "GET", path: "/search?q=1%27%20UNION%20SELECT%20password%20FROM%20users--"},
		status: 403, code: "waf.blocked"},
	{class: "cors", title: "A preflight from an origin that is not allowed",
		intro: "A browser on https://evil.example asks whether it may read an order.",
		req: wtRequest{method: "OPTIONS", path: "/orders/1001", header: [][2]string{{"Origin", "https://evil.example"},
			{"Access-Control-Request-Method", "GET"}}},
		status: 403, code: "cors.origin_not_allowed"},
	{class: "csrf", title: "A cross-site form post",
		intro: "A page on https://evil.example makes the shop's browser session post an order.",
		req: wtRequest{method: "POST", path: "/orders", header: [][2]string{{"X-API-Key", wtWriterKey}, {"Origin", "https://evil.example"},
			{"Sec-Fetch-Site", "cross-site"}, {"Content-Type", "application/json"}}, body: `{"item":"widget","quantity":2}`},
		status: 403, code: "csrf.origin_mismatch"},
	{class: "limit", title: "A rate limit",
		intro:  "The export route allows one request a minute per key; the client sends a second one at once.",
		warmup: &wtRequest{method: "GET", path: "/export", header: [][2]string{{"X-API-Key", wtWriterKey}}},
		req:    wtRequest{method: "GET", path: "/export", header: [][2]string{{"X-API-Key", wtWriterKey}}},
		status: 429, code: "ratelimit.exceeded"},
	{class: "quota", title: "A used-up quota",
		intro:  "Plan basic allows one report a day; the shop asks for a second.",
		warmup: &wtRequest{method: "GET", path: "/reports", header: [][2]string{{"X-API-Key", wtReaderKey}}},
		req:    wtRequest{method: "GET", path: "/reports", header: [][2]string{{"X-API-Key", wtReaderKey}}},
		status: 429, code: "quota.exceeded"},
	{class: "validation", title: "A body that does not match the API description",
		intro: "The order's quantity is 0; the OpenAPI document of the route requires at least 1.",
		req: wtRequest{method: "POST", path: "/orders", header: [][2]string{{"X-API-Key", wtWriterKey}, {"Content-Type", "application/json"}},
			body: `{"item":"widget","quantity":0}`},
		status: 422, code: "request.invalid_body"},
	{class: "upstream", title: "An upstream that does not answer",
		intro:  "The legacy service is down: nothing listens on its address.",
		req:    wtRequest{method: "GET", path: "/legacy/ping", header: [][2]string{{"X-API-Key", wtReaderKey}}},
		status: 502, code: "upstream.connect_failed"},
}

// walkthrough is a real gateway with its admin API and call log, and the
// CLI pointed at it.
type walkthrough struct {
	t       *testing.T
	st      *sqlite.Store
	proxy   *httptest.Server
	cli     *cliFixture
	ring    *token.Keyring
	keyFile string
	config  []byte
}

func newWalkthrough(t *testing.T) *walkthrough {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "pinpoint.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.CreateAdminToken(ctx, "ops", admin.HashToken(cliToken)); err != nil {
		t.Fatal(err)
	}
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(backend.Close)
	// An address nothing listens on: a listener's, closed.
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	legacy := "http://" + dead.Addr().String()
	dead.Close()
	secret := base64.StdEncoding.EncodeToString([]byte(wtTokenKey))
	env := map[string]string{"BACKEND_URL": backend.URL, "LEGACY_URL": legacy, "WALKTHROUGH_TOKEN_KEY": secret}
	live := identity.NewRegistry()
	g := gateway.New(gateway.Options{Store: st, Metrics: telemetry.New(), Identities: live, Logger: slog.New(slog.DiscardHandler),
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	t.Cleanup(g.Close)
	ids := &identity.Service{Store: st, Live: live,
		Declared: func() *identity.Declared {
			if s := g.Current(); s != nil {
				return s.Directory().Declared
			}
			return nil
		},
		Env: func() string { return "live" },
	}
	if err := ids.Load(ctx); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("testdata/walkthrough.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Apply(ctx, admin.ApplyRequest{Filename: "walkthrough.yaml", Document: doc, Author: "ops", Source: "cli"}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	calls := calllog.New(st, calllog.Options{FlushInterval: 5 * time.Millisecond})
	t.Cleanup(func() { _ = calls.Close(context.Background()) })
	g.SetCallLog(calls)
	g.SetListening(true)
	proxy := httptest.NewServer(g)
	t.Cleanup(proxy.Close)
	adminSrv := httptest.NewServer(admin.NewHandler(admin.Options{Control: g, Store: st, Identities: ids, Version: "test"}))
	t.Cleanup(adminSrv.Close)

	ring, err := token.NewKeyring(token.Key{ID: "wt1", Secret: []byte(wtTokenKey)})
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "token-keys.txt")
	if err := os.WriteFile(keyFile, []byte("wt1="+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &walkthrough{t: t, st: st, proxy: proxy, ring: ring, keyFile: keyFile, config: doc,
		cli: &cliFixture{st: st, srv: adminSrv, env: map[string]string{}}}
}

// send sends r with request id id and returns the answer with its body.
func (w *walkthrough) send(id string, r wtRequest) (*http.Response, []byte) {
	w.t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(w.t.Context(), r.method, w.proxy.URL+r.path, body)
	if err != nil {
		w.t.Fatal(err)
	}
	req.Host = "api.example.com"
	req.Header.Set("X-Request-Id", id)
	for _, h := range r.header {
		req.Header.Set(h[0], h[1])
	}
	resp, err := w.proxy.Client().Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, b
}

// waitCall waits for the call log to hold the request.
func (w *walkthrough) waitCall(id string) store.Call {
	w.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		calls, err := w.st.QueryCalls(w.t.Context(), store.CallQuery{RequestID: id})
		if err != nil {
			w.t.Fatal(err)
		}
		if len(calls) == 1 {
			return calls[0]
		}
		time.Sleep(5 * time.Millisecond)
	}
	w.t.Fatalf("request %s never reached the call log", id)
	return store.Call{}
}

// wtSection is what the doc shows of one class.
type wtSection struct {
	wtClass
	id                  string
	stage, rule         string // the deciding step, as explain names it
	answer              string // status line, headers and problem body
	explainText, tokens string
}

// TestWalkthrough drives one request per refusal class through a real
// gateway and checks that the client's problem body, `pinpoint explain
// --json` and the decoded decision token agree on request id, code, stage,
// rule, route, revision, consumer and credential. It renders
// docs/walkthrough.md from the run; -update rewrites the file, and without
// it the test fails when the doc no longer matches what the gateway says
// (times, durations and tokens aside).
func TestWalkthrough(t *testing.T) {
	w := newWalkthrough(t)
	var sections []wtSection
	for i, cl := range wtClasses {
		id := fmt.Sprintf("walk-%02d-%s", i+1, cl.class)
		if cl.warmup != nil {
			resp, body := w.send(id+"-first", *cl.warmup)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: the first request got %d: %s", cl.class, resp.StatusCode, body)
			}
		}
		resp, body := w.send(id, cl.req)
		sections = append(sections, w.check(cl, id, resp, body))
	}
	doc := renderWalkthrough(w.config, sections) + w.reportOnly()
	if *update {
		if err := os.WriteFile(wtDoc, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	old, err := os.ReadFile(wtDoc)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/pinpoint -run TestWalkthrough -update)", err)
	}
	if got, want := normalizeWalkthrough(doc), normalizeWalkthrough(string(old)); got != want {
		t.Errorf("docs/walkthrough.md is out of date; run go test ./cmd/pinpoint -run TestWalkthrough -update\n%s", firstDiff(got, want))
	}
}

// check verifies one class's three views of the refusal and returns its
// doc section.
func (w *walkthrough) check(cl wtClass, id string, resp *http.Response, body []byte) wtSection {
	t := w.t
	t.Helper()
	var p problem.Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("%s: the answer is not a problem: %v: %s", cl.class, err, body)
	}
	if resp.StatusCode != cl.status || p.Code != cl.code || p.RequestID != id || resp.Header.Get("X-Request-Id") != id ||
		resp.Header.Get("Content-Type") != problem.ContentType {
		t.Fatalf("%s: answer %d %+v, want %d %s for request %s", cl.class, resp.StatusCode, p, cl.status, cl.code, id)
	}
	if p.DecisionToken == "" {
		t.Fatalf("%s: the refusal carries no decision token", cl.class)
	}
	call := w.waitCall(id)

	r := w.cli.run(t, "explain", id, "--json")
	wantCode(t, r, exitOK)
	var x explain.Explanation
	if err := json.Unmarshal([]byte(r.stdout), &x); err != nil {
		t.Fatalf("%s: explain --json: %v\n%s", cl.class, err, r.stdout)
	}
	d, err := w.ring.Open(p.DecisionToken)
	if err != nil {
		t.Fatalf("%s: opening the decision token: %v", cl.class, err)
	}
	if x.Decision == nil {
		t.Fatalf("%s: explain names no decision: %s", cl.class, r.stdout)
	}
	agree := []struct{ what, problem, explain, token, log string }{
		{"request id", p.RequestID, x.RequestID, d.RequestID, call.RequestID},
		{"code", p.Code, x.Code, d.Code, call.Code},
		{"stage", p.Stage, x.Decision.Stage, d.Stage, call.Stage},
		{"rule", "", x.Decision.Rule, d.Rule, ""},
		{"route", "", x.Route, d.Route, call.Route},
		{"revision", "", fmt.Sprint(x.Revision.Number), fmt.Sprint(d.Revision), fmt.Sprint(call.Revision)},
		{"consumer", "", x.Caller.Consumer, d.ConsumerID, call.ConsumerID},
		{"credential", "", x.Caller.Credential, d.CredentialID, call.CredentialID},
	}
	for _, a := range agree {
		if a.explain != a.token || (a.problem != "" && a.problem != a.explain) || (a.log != "" && a.log != a.explain) {
			t.Errorf("%s: %s disagrees: problem %q, explain %q, token %q, call log %q", cl.class, a.what, a.problem, a.explain, a.token, a.log)
		}
	}
	if x.Revision.Number == 0 || x.Revision.Author != "ops" {
		t.Errorf("%s: revision %+v", cl.class, x.Revision)
	}
	if x.Fix == nil || len(x.Fix.Actions) == 0 {
		t.Errorf("%s: no fix: %+v", cl.class, x.Fix)
	}

	text := w.cli.run(t, "explain", id)
	wantCode(t, text, exitOK)
	dec := w.cli.run(t, "explain", "--token", p.DecisionToken, "--key-file", w.keyFile)
	wantCode(t, dec, exitOK)
	for _, out := range []string{r.stdout, text.stdout, dec.stdout, string(body)} {
		for _, secret := range []string{wtReaderKey, wtWriterKey, wtOldKey, wtTokenKey, base64.StdEncoding.EncodeToString([]byte(wtTokenKey))} {
			if strings.Contains(out, secret) {
				t.Errorf("%s: an output shows a secret:\n%s", cl.class, out)
			}
		}
	}
	return wtSection{wtClass: cl, id: id, stage: x.Decision.Stage, rule: x.Decision.Rule, answer: answerText(resp, body), explainText: text.stdout,
		tokens: strings.ReplaceAll(dec.stdout, w.keyFile, "token-keys.txt")}
}

// reportOnly sends a request that a report_only allow list would refuse
// and returns the doc's closing section: the request is served, and
// explain shows the would-be refusal apart from the stages.
func (w *walkthrough) reportOnly() string {
	t := w.t
	const id = "walk-11-report-only"
	req := wtRequest{method: "GET", path: "/beta/catalog"}
	resp, body := w.send(id, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("report_only: %d %s", resp.StatusCode, body)
	}
	w.waitCall(id)
	r := w.cli.run(t, "explain", id, "--json")
	wantCode(t, r, exitOK)
	var x explain.Explanation
	if err := json.Unmarshal([]byte(r.stdout), &x); err != nil {
		t.Fatal(err)
	}
	if x.Outcome != explain.OutcomeAllowed || len(x.WouldDeny) != 1 || x.WouldDeny[0].Code != "ip.not_allowed" ||
		x.WouldDeny[0].Rule != "route.ip.allow" || x.Fix == nil {
		t.Errorf("report_only explanation: %s", r.stdout)
	}
	text := w.cli.run(t, "explain", id)
	wantCode(t, text, exitOK)
	return fmt.Sprintf(`
## Report-only rollout

Any IP list, policy, limit or WAF rule set can run with `+"`mode: report_only`"+`
first: evaluated and traced, counted as would_deny, and the request goes on.
Route partners-beta rolls out a new allow list that way. A request from outside
it is served:

`+"```http\n%sHTTP/1.1 %s\n```"+`

and explain shows the refusal the list would have made, apart from the
stages, with what to do before enforcing it:

`+"```console\n$ pinpoint explain %s\n%s```"+`
`, shownRequest(req)+"\n", resp.Status, id, text.stdout)
}

// answerText is the client's answer as the doc shows it.
func answerText(resp *http.Response, body []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 %s\n", resp.Status)
	var names []string
	for k := range resp.Header {
		switch k {
		case "Content-Type", "Pinpoint-Code", "Pinpoint-Layer", "X-Request-Id", "Retry-After", "Www-Authenticate", "Allow":
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(&b, "%s: %s\n", k, resp.Header.Get(k))
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, body, "", "  "); err != nil {
		pretty.Write(body)
	}
	b.WriteString("\n")
	b.WriteString(strings.TrimRight(pretty.String(), "\n"))
	b.WriteString("\n")
	return b.String()
}

// shownRequest is the request as the doc shows it, key secrets elided.
func shownRequest(r wtRequest) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\nHost: api.example.com\n", r.method, r.path)
	for _, h := range r.header {
		v := h[1]
		if identity.LooksLikeKey(v) {
			v = v[:strings.LastIndexByte(v, '_')+1] + "…"
		}
		fmt.Fprintf(&b, "%s: %s\n", h[0], v)
	}
	if r.body != "" {
		b.WriteString("\n" + r.body + "\n")
	}
	return b.String()
}

func renderWalkthrough(config []byte, sections []wtSection) string {
	var b strings.Builder
	b.WriteString(`# Walk-through: every refusal, pinpointed

This walk-through sends one request per refusal class through a real gateway
and shows, for each, what the client gets back (an RFC 9457 problem with a
reason code, the request id and a sealed ` + "`decision_token`" + `), what the
operator learns from ` + "`pinpoint explain <request-id>`" + `, and what the
decision token decodes to offline with ` + "`pinpoint explain --token`" + `.
The three always agree on the request id, code, stage, rule, route,
revision, consumer and credential.

The outputs below are not written by hand: ` + "`go test ./cmd/pinpoint -run TestWalkthrough -update`" + `
regenerates this file from a run, and the same test fails when the file no
longer matches what the gateway says (times, durations and tokens aside). The
test also checks that the three views agree and that no API key or token key
appears in any of them.

Classes: `)
	for i, s := range sections {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "[%s](#%d-%s)", s.class, i+1, s.class)
	}
	b.WriteString(".\n\n| class | request | answer | stage | rule |\n|---|---|---|---|---|\n")
	for i, s := range sections {
		fmt.Fprintf(&b, "| [%s](#%d-%s) | `%s %s` | %d `%s` | %s | `%s` |\n", s.class, i+1, s.class, s.req.method,
			strings.ReplaceAll(s.req.path, "|", "%7C"), s.status, s.code, s.stage, s.rule)
	}
	b.WriteString(`
## The setup

One configuration covers every class. The test serves it with
` + "`BACKEND_URL`" + ` pointing at a small backend, ` + "`LEGACY_URL`" + ` at an address
nothing listens on, and ` + "`WALKTHROUGH_TOKEN_KEY`" + ` holding the decision-token
key; token-keys.txt holds the same key as ` + "`wt1=<base64>`" + `:

` + "```yaml\n")
	b.Write(config)
	b.WriteString("```\n")
	for i, s := range sections {
		fmt.Fprintf(&b, "\n## %d. %s\n\n### %s\n\n%s\n\n", i+1, s.class, s.title, s.intro)
		if s.warmup != nil {
			b.WriteString("A first request passes; then the client sends:\n\n")
		} else {
			b.WriteString("The client sends:\n\n")
		}
		fmt.Fprintf(&b, "```http\n%s```\n\nand gets:\n\n```http\n%s```\n\n", shownRequest(s.req), s.answer)
		fmt.Fprintf(&b, "The operator asks why:\n\n```console\n$ pinpoint explain %s\n%s```\n\n", s.id, s.explainText)
		b.WriteString("A third party reporting the refusal needs to send only the decision token (`TOKEN` is the `decision_token` above); the operator decodes it without the call log:\n\n")
		fmt.Fprintf(&b, "```console\n$ pinpoint explain --token \"$TOKEN\" --key-file token-keys.txt\n%s```\n", s.tokens)
	}
	return b.String()
}

// Variable parts of a walk-through run.
var wtVolatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`), "TIME"},
	{regexp.MustCompile(`"decision_token": "[A-Za-z0-9_-]+"`), `"decision_token": "TOKEN"`},
	{regexp.MustCompile(`\b\d+(\.\d+)?(ns|µs|us|ms|s|m)\b`), "DUR"},
	{regexp.MustCompile(`\b\d+(h\d+m)?\d+(\.\d+)?s\b|\b\d+m\d+(\.\d+)?s\b`), "DUR"},
	{regexp.MustCompile(`retry in \d+ seconds`), "retry in N seconds"},
	{regexp.MustCompile(`Retry-After: \d+`), "Retry-After: N"},
	{regexp.MustCompile(`"(latency_ns|duration_ns|upstream_latency_ns)": \d+`), `"$1": N`},
	{regexp.MustCompile(`127\.0\.0\.1:\d+`), "127.0.0.1:PORT"},
}

// normalizeWalkthrough blanks what changes from run to run.
func normalizeWalkthrough(s string) string {
	for _, v := range wtVolatile {
		s = v.re.ReplaceAllString(s, v.with)
	}
	return s
}

// firstDiff shows the first differing line.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n  generated: %s\n  in the doc: %s", i+1, a, b)
		}
	}
	return ""
}
