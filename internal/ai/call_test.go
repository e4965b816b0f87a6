package ai

import (
	"math"
	"os"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/config"
)

func TestScan(t *testing.T) {
	for _, tc := range []struct {
		body string
		want fields
	}{
		{`{"model":"fast","messages":[{"role":"user","content":"hi"}]}`,
			fields{model: "fast", modelOK: true, messages: true}},
		{`{"messages": [ ], "model": ""}`, fields{}},
		{`{"model":7,"messages":[1]}`, fields{messages: true}},
		{`{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[1],"max_tokens":100,"max_completion_tokens":50,"n":2}`,
			fields{model: "m", modelOK: true, stream: true, includeUsage: true, messages: true, maxTokens: 50, n: 2}},
		{`{"model":"e","input":null}`, fields{model: "e", modelOK: true}},
		{`{"model":"e","input":["a","b"],"stream":"yes"}`, fields{model: "e", modelOK: true, input: true}},
		// A nested "model" is not the request's.
		{`{"messages":[{"model":"x"}],"metadata":{"model":"y"}}`, fields{messages: true}},
	} {
		if got := scan([]byte(tc.body)); got != tc.want {
			t.Errorf("scan(%s) = %+v, want %+v", tc.body, got, tc.want)
		}
	}
}

func TestOrderedFollowsWeights(t *testing.T) {
	group := []target{{model: "a", weight: 3}, {model: "b", weight: 1}}
	first := map[string]int{}
	const n = 20000
	for range n {
		o := ordered(group)
		if len(o) != 2 || o[0].model == o[1].model {
			t.Fatalf("ordered = %+v", o)
		}
		first[o[0].model]++
	}
	// a is first 3 times in 4; 20000 draws put it within 1% of that with
	// overwhelming probability (σ ≈ 0.3%).
	if share := float64(first["a"]) / n; math.Abs(share-0.75) > 0.01 {
		t.Errorf("a first in %.3f of the orders, want 0.75", share)
	}
}

func TestResolveKey(t *testing.T) {
	env := func(k string) (string, bool) {
		if k == "SET" {
			return " sk-123\n", true
		}
		return "", false
	}
	read := func(p string) ([]byte, error) {
		if p == "/run/key" {
			return []byte("sk-file\n"), nil
		}
		return nil, &os.PathError{Op: "open", Path: p, Err: os.ErrNotExist}
	}
	for _, tc := range []struct{ ref, want, err string }{
		{"", "", ""},
		{"env:SET", "sk-123", ""},
		{"env:UNSET", "", "environment variable UNSET"},
		{"file:/run/key", "sk-file", ""},
		{"file:/nope", "", "reading file:/nope: file does not exist"},
		{"sk-inline", "", "never the key itself"},
	} {
		got, err := ResolveKey(tc.ref, env, read)
		if got != tc.want || (tc.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ResolveKey(%q) = %q, %v; want %q, %q", tc.ref, got, err, tc.want, tc.err)
		}
		if err != nil && strings.Contains(err.Error(), "sk-") {
			t.Errorf("the error shows a key: %v", err)
		}
	}
}

func TestRuleSelectsCallers(t *testing.T) {
	alice := caller{consumer: "alice", tenant: "acme", groups: []string{"trial"}, metadata: map[string]string{"tier": "free"}}
	anon := caller{}
	for _, tc := range []struct {
		name        string
		rule        config.AIAccess
		alice, anon bool
	}{
		{"everyone", config.AIAccess{Name: "all"}, true, true},
		{"by consumer", config.AIAccess{Name: "c", Consumers: []string{"alice"}}, true, false},
		{"by tenant", config.AIAccess{Name: "t", Tenants: []string{"acme"}}, true, false},
		{"an empty tenant name selects no anonymous caller", config.AIAccess{Name: "t", Tenants: []string{""}}, false, false},
		{"by group", config.AIAccess{Name: "g", Groups: []string{"trial"}}, true, false},
		{"by plan field", config.AIAccess{Name: "p", Plans: []string{"free"}, PlanField: "tier"}, true, false},
		{"by the default plan field", config.AIAccess{Name: "p", Plans: []string{"free"}}, false, false},
		{"other consumer", config.AIAccess{Name: "o", Consumers: []string{"bob"}}, false, false},
	} {
		r, errs := compileRule(&tc.rule)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		if got := r.applies(&alice); got != tc.alice {
			t.Errorf("%s: applies to alice = %v", tc.name, got)
		}
		if got := r.applies(&anon); got != tc.anon {
			t.Errorf("%s: applies to an anonymous caller = %v", tc.name, got)
		}
	}
}

func TestCounterKey(t *testing.T) {
	c := caller{consumer: "alice", tenant: "acme", credential: "pp_live_k1"}
	for key, want := range map[string]string{"consumer": "consumer:alice", "tenant": "tenant:acme", "credential": "credential:pp_live_k1"} {
		if got := (&rule{key: key}).counterKey(&c); got != want {
			t.Errorf("key %s: %s, want %s", key, got, want)
		}
	}
	// A token of an unregistered subject counts by its credential; no
	// credential at all shares one anonymous counter.
	if got := (&rule{key: "consumer"}).counterKey(&caller{credential: "sub-7"}); got != "credential:sub-7" {
		t.Errorf("credential fallback: %s", got)
	}
	if got := (&rule{key: "tenant"}).counterKey(&caller{}); got != "anonymous" {
		t.Errorf("anonymous: %s", got)
	}
}
