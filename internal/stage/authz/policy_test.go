package authz

import (
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// fieldErrors flattens an errors.Join tree into path → message.
func fieldErrors(t *testing.T, err error) map[string]string {
	t.Helper()
	out := map[string]string{}
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, inner := range j.Unwrap() {
				walk(inner)
			}
			return
		}
		var fe *config.FieldError
		if !errors.As(e, &fe) {
			t.Errorf("error %v (%T) is not a config.FieldError", e, e)
			return
		}
		out[fe.Path] = fe.Message
	}
	walk(err)
	return out
}

// wantFieldErrors checks that err holds exactly the paths of want, each
// message containing the wanted text.
func wantFieldErrors(t *testing.T, err error, want map[string]string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %v", want)
	}
	got := fieldErrors(t, err)
	for path, msg := range want {
		if g, ok := got[path]; !ok {
			t.Errorf("no error at %q; got %v", path, got)
		} else if !strings.Contains(g, msg) {
			t.Errorf("%s: %q, want it to contain %q", path, g, msg)
		}
	}
	for path, msg := range got {
		if _, ok := want[path]; !ok {
			t.Errorf("unexpected error %s: %s", path, msg)
		}
	}
}

func TestCompilePoliciesErrors(t *testing.T) {
	t.Parallel()
	ok := "request.method == 'GET'"
	for _, c := range []struct {
		name string
		ps   []config.Policy
		want map[string]string
	}{
		{"valid", []config.Policy{{Name: "a", Expression: ok}, {Name: "b", Expression: ok, Mode: "report_only"}}, nil},
		{"missing name", []config.Policy{{Expression: ok}}, map[string]string{"[0].name": "required"}},
		{"duplicate name", []config.Policy{{Name: "a", Expression: ok}, {Name: "a", Expression: ok}},
			map[string]string{"[1].name": `duplicate policy name "a" (also policies[0])`}},
		{"unknown mode", []config.Policy{{Name: "a", Expression: ok, Mode: "audit"}},
			map[string]string{"[0].mode": `unknown mode "audit" (want "enforce" or "report_only")`}},
		{"empty expression", []config.Policy{{Name: "a", Expression: "  "}}, map[string]string{"[0].expression": "required"}},
		{"syntax error names line and column", []config.Policy{{Name: "a", Expression: ok}, {Name: "b", Expression: ok},
			{Name: "c", Expression: "request.method == 'GET' &&\n  request.path =="}},
			map[string]string{"[2].expression": "invalid CEL: 2:"}},
		{"not bool", []config.Policy{{Name: "a", Expression: "request.method"}},
			map[string]string{"[0].expression": "must evaluate to bool, not string"}},
		{"dyn is not bool", []config.Policy{{Name: "a", Expression: "credential.claims.admin"}},
			map[string]string{"[0].expression": "must evaluate to bool, not dyn (compare dynamic values"}},
		{"unknown variable", []config.Policy{{Name: "a", Expression: "req.method == 'GET'"}},
			map[string]string{"[0].expression": "1:1: undeclared reference to 'req'"}},
		{"unknown field", []config.Policy{{Name: "a", Expression: "request.methd == 'GET'"}},
			map[string]string{"[0].expression": "1:8: undefined field 'methd'"}},
		{"type mismatch", []config.Policy{{Name: "a", Expression: "request.method == 1"}},
			map[string]string{"[0].expression": "no matching overload for '_==_' applied to '(string, int)'"}},
		{"unknown time zone", []config.Policy{{Name: "a", Expression: `request.time.getHours("Europe/Berln") > 8`}},
			map[string]string{"[0].expression": `1:23: getHours("Europe/Berln"): unknown time zone`}},
		{"bad regex literal", []config.Policy{{Name: "a", Expression: `request.path.matches('[')`}},
			map[string]string{"[0].expression": "invalid CEL: 1:"}},
		{"policy variables cannot be constructed", []config.Policy{{Name: "a", Expression: `pinpoint.Route{name: 'x'} == route`}},
			map[string]string{"[0].expression": "1:15: pinpoint.Route cannot be constructed in a policy"}},
		{"every error is reported", []config.Policy{{Name: "", Expression: "1"}, {Name: "b", Expression: "b", Mode: "x"}},
			map[string]string{"[0].name": "required", "[0].expression": "not int", "[1].expression": "undeclared reference to 'b'",
				"[1].mode": "unknown mode"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ps, err := CompilePolicies(c.ps)
			wantFieldErrors(t, err, c.want)
			if err == nil && len(ps.Names()) != len(c.ps) {
				t.Errorf("names %v", ps.Names())
			}
		})
	}
}

// TestDocExamplesCompile keeps the examples of the package documentation
// valid.
func TestDocExamplesCompile(t *testing.T) {
	t.Parallel()
	for _, e := range []string{
		`'partners' in consumer.groups && request.method == 'GET'`,
		`request.headers[?'x-tenant'].orValue('') == consumer.tenant`,
		`request.params.account == credential.claims.account_id`,
		`credential.claims.?amr.orValue([]).exists(m, m == 'mfa')`,
		`request.time.getDayOfWeek("Europe/Berlin") in [1, 2, 3, 4, 5]`,
		`request.time.getHours("Europe/Berlin") >= 8`,
		`'x-tenant' in request.headers`,
		`sets.intersects(consumer.groups, ["admins", "ops"])`,
		`"a,b".split(",").size() == 2 && consumer.name.lowerAscii() != ''`,
		`type(request) == pinpoint.Request`,
	} {
		if _, err := CompilePolicies([]config.Policy{{Name: "p", Expression: e}}); err != nil {
			t.Errorf("%s: %v", e, err)
		}
	}
}

// policyDecision runs one policy against a default caller.
func policyDecision(t *testing.T, expr string, edit func(*pipeline.Exchange)) (pipeline.Decision, *pipeline.Exchange) {
	t.Helper()
	ps, err := CompilePolicies([]config.Policy{{Name: "p", Expression: expr, Detail: "No.", Hint: "Ask."}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(&config.Authorize{Policies: []string{"p"}}, ps, Route{Name: "orders"})
	if err != nil {
		t.Fatal(err)
	}
	x := &pipeline.Exchange{Request: httptest.NewRequest("GET", "/orders", nil), Start: time.Now()}
	x.Identity = testIdentity{}.identity()
	if edit != nil {
		edit(x)
	}
	return s.Handle(x), x
}

func TestPolicyFailsClosed(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, expr, reason string }{
		{"missing header", "request.headers['x-missing'] == 'a'", "no such key: x-missing"},
		{"missing metadata", "consumer.metadata.plan == 'gold'", "no such key: plan"},
		{"missing claim", "credential.claims.sub == 'a'", "no such key: sub"},
		{"claim of the wrong type", "credential.claims.n > 1", "no such key"},
		{"division by zero", "size(consumer.groups) / 0 == 1", "division by zero"},
		{"cost limit", "[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, " +
			"[1,2,3,4,5,6,7,8,9,10].all(d, [1,2,3,4,5,6,7,8,9,10].all(e, a+b+c+d+e > 0)))))", "cost limit exceeded"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d, _ := policyDecision(t, c.expr, nil)
			checkDecision(t, d, "authz.policy_denied", 403, map[string]string{"detail": "No.", "hint": "Ask."}, []string{c.expr})
			if !strings.Contains(d.Denial.Reason, "fail closed") || !strings.Contains(d.Denial.Reason, c.reason) {
				t.Errorf("reason %q, want fail closed and %q", d.Denial.Reason, c.reason)
			}
		})
	}
}

// Regression: the policy source is operator-only; neither a refusal nor
// an evaluation error may put it (or the CEL error quoting it) in front of
// the caller.
func TestPolicySourceNeverClientFacing(t *testing.T) {
	t.Parallel()
	for _, expr := range []string{
		"'internal-admins' in consumer.groups",
		"request.headers['x-internal-bypass-token'] == 's3cr3t'",
		"credential.claims.secret_flag == true",
	} {
		d, x := policyDecision(t, expr, nil)
		if !d.Denied() {
			t.Fatalf("%s: passed", expr)
		}
		checkDecision(t, d, "authz.policy_denied", 403, nil,
			[]string{expr, "internal-admins", "x-internal-bypass-token", "s3cr3t", "secret_flag"})
		if len(x.Trace) != 0 {
			t.Errorf("trace %v: a refusal's step is written by the gateway", x.Trace)
		}
	}
}

func TestReportOnlyBlockAppliesToPolicies(t *testing.T) {
	t.Parallel()
	ps, err := CompilePolicies([]config.Policy{{Name: "never", Expression: "false"}, {Name: "always", Expression: "true"}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(&config.Authorize{Policies: []string{"never", "always"}, Mode: "report_only"}, ps, Route{})
	if err != nil {
		t.Fatal(err)
	}
	x := &pipeline.Exchange{Request: httptest.NewRequest("GET", "/", nil), Identity: testIdentity{}.identity()}
	if d := s.Handle(x); d.Denied() {
		t.Fatalf("denied: %s", d.Denial.Reason)
	}
	checkTrace(t, x.Trace, pipeline.Continue(), []string{"authz.policy_denied"}, "policy:never,policy:always", false)
	if x.Trace[0].Rule != "policy:never" {
		t.Errorf("would_deny rule %q", x.Trace[0].Rule)
	}
}

// Regression: pooled activations must never show one request's data to
// another's policies.
func TestPoliciesConcurrentRequestsAreIsolated(t *testing.T) {
	t.Parallel()
	ps, err := CompilePolicies([]config.Policy{{Name: "own", Expression: "request.params.id == consumer.metadata.user_id && request.query.u == consumer.id"}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(&config.Authorize{Policies: []string{"own"}}, ps, Route{Params: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				user := string(rune('a'+g)) + string(rune('a'+i%26))
				x := &pipeline.Exchange{Request: httptest.NewRequest("GET", "/u/"+user+"?u="+user, nil)}
				x.Params[0] = pipeline.Param{Name: "id", Value: user}
				x.NParams = 1
				x.Identity = pipeline.Identity{Authenticated: true, ConsumerID: user, Metadata: map[string]string{"user_id": user}}
				if i%3 == 0 {
					x.Identity.ConsumerID = "other"
				}
				d := s.Handle(x)
				if d.Denied() != (i%3 == 0) {
					t.Errorf("goroutine %d request %d: denied=%v", g, i, d.Denied())
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestZone(t *testing.T) {
	t.Parallel()
	a, err := zone("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := zone("Europe/Berlin"); a != b {
		t.Error("zone is not cached")
	}
	at := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		tz   string
		hour int
	}{{"Europe/Berlin", 14}, {"+05:30", 17}, {"-08:00", 4}, {"-00:30", 11}, {"UTC", 12}} {
		l, err := zone(c.tz)
		if err != nil {
			t.Fatalf("%s: %v", c.tz, err)
		}
		if h := at.In(l).Hour(); h != c.hour {
			t.Errorf("%s: hour %d, want %d", c.tz, h, c.hour)
		}
	}
	for _, bad := range []string{"Mars/Olympus", "+24:00", "+01:60", "a:b", "../etc/passwd"} {
		if _, err := zone(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// Regression: concurrent compiles (an apply next to a validation) raced
// inside cel-go's shared checker environment: the first expression with an
// undeclared variable builds an error catalog on the Env while another
// compile clones its declarations for a comprehension. The race is only
// there until the catalog exists, so this test catches it when it is the
// first to compile a bad expression in the process (run it alone with
// -race: go test -race -run TestConcurrentCompilesDoNotRace).
func TestConcurrentCompilesDoNotRace(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if i%2 == 0 {
					if _, err := CompilePolicies([]config.Policy{{Name: "bad", Expression: "nosuchvar == 1"}}); err == nil {
						t.Error("an undeclared variable compiled")
					}
					continue
				}
				if _, err := CompilePolicies([]config.Policy{{Name: "ok", Expression: "[1, 2].exists(i, i == 2)"}}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
}
