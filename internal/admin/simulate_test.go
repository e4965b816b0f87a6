package admin_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/gateway"
	"github.com/pinpointgw/pinpoint/internal/problem"
	"github.com/pinpointgw/pinpoint/internal/telemetry"
)

// newSimulateFixture is the admin API over a real gateway (its Control and
// Simulator) serving quotaDoc.
func newSimulateFixture(t *testing.T) *fixture {
	t.Helper()
	var g *gateway.Gateway
	f := newFixture(t, func(o *admin.Options) {
		g = gateway.New(gateway.Options{Store: o.Store, Metrics: telemetry.New()})
		o.Control, o.Quotas = g, g
	})
	t.Cleanup(g.Close)
	if _, err := g.Apply(t.Context(), admin.ApplyRequest{Filename: "quotas.yaml", Document: []byte(quotaDoc("http://127.0.0.1:9", "")), Author: "test"}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	return f
}

func TestSimulateEndpoint(t *testing.T) {
	t.Parallel()
	f := newSimulateFixture(t)
	res, err := f.client.Simulate(t.Context(), admin.SimulateRequest{URL: "http://api.example.com/metered",
		Headers: map[string][]string{"X-Api-Key": {quotaKey}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != admin.SimForwarded || res.Route != "metered" || res.Forward == nil || res.Forward.Target != "http://127.0.0.1:9" ||
		res.Identity == nil || res.Identity.Consumer != "gold-app" || len(res.Trace) == 0 {
		t.Fatalf("result %+v", res)
	}
	raw := f.do(t, "POST", "/admin/simulate", testToken, []byte(`{"url":"http://api.example.com/metered","headers":{"X-Api-Key":["`+quotaKey+`"]}}`))
	if raw.status != 200 || strings.Contains(string(raw.body), quotaKey[20:]) {
		t.Fatalf("raw answer %d leaks or fails: %s", raw.status, raw.body)
	}

	denied, err := f.client.Simulate(t.Context(), admin.SimulateRequest{URL: "http://api.example.com/metered"})
	if err != nil {
		t.Fatal(err)
	}
	var p problem.Problem
	if denied.Outcome != admin.SimDenied || denied.Status != 401 || denied.Code != "authn.credential_missing" ||
		json.Unmarshal(denied.Problem, &p) != nil || p.Code != "authn.credential_missing" {
		t.Fatalf("denied %+v", denied)
	}

	for _, body := range []string{`{"url":"ftp://x"}`, `not json`, `{"url":"/x","as_credential":"a","as_consumer":"b"}`} {
		r := f.do(t, "POST", "/admin/simulate", testToken, []byte(body))
		if p := decodeProblem(t, r); r.status != 400 || p.Code != "admin.bad_request" {
			t.Errorf("%s: %d %s", body, r.status, r.body)
		}
	}
	_, err = f.client.Simulate(t.Context(), admin.SimulateRequest{URL: "http://api.example.com/metered", Config: "version: 1\nbogus: true\n"})
	var apiErr *admin.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnprocessableEntity || len(apiErr.ConfigErrors()) == 0 {
		t.Fatalf("bad proposed document: %v", err)
	}
	if r := f.do(t, "POST", "/admin/simulate", "", []byte(`{}`)); r.status != 401 {
		t.Errorf("no token: %d", r.status)
	}
}

func TestDryRunImpactParameters(t *testing.T) {
	t.Parallel()
	f := newSimulateFixture(t)
	doc := []byte(strings.Replace(quotaDoc("http://127.0.0.1:9", ""), "limit: 5,", "limit: 6,", 1))
	res, err := f.client.DryRun(t.Context(), "new.yaml", doc, admin.ImpactWindow{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !res.DryRun || res.Impact == nil || res.Impact.Limit != 10 || res.Impact.Groups == nil {
		t.Fatalf("dry run %+v", res)
	}
	res, err = f.client.DryRun(t.Context(), "new.yaml", doc, admin.ImpactWindow{Off: true})
	if err != nil || res.Impact != nil {
		t.Fatalf("impact off: %+v %v", res, err)
	}
	for _, q := range []string{"impact_limit=0", "impact_limit=10001", "impact_since=48h", "impact_since=x", "impact=maybe"} {
		r := f.do(t, "POST", "/admin/config?dry_run=true&"+q, testToken, doc)
		if p := decodeProblem(t, r); r.status != 400 || p.Code != "admin.bad_request" {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
	}
}
