package idempotency

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/stagetest"
)

// beginCase is one entry of testdata/begin.yaml.
type beginCase struct {
	Name   string `yaml:"name"`
	Config struct {
		Required bool     `yaml:"required"`
		Header   string   `yaml:"header"`
		Methods  []string `yaml:"methods"`
	} `yaml:"config"`
	Request struct {
		Method    string      `yaml:"method"`
		Key       string      `yaml:"key"`
		NoKey     bool        `yaml:"no_key"`
		KeyBytes  int         `yaml:"key_bytes"`
		Headers   [][2]string `yaml:"headers"`
		BodyBytes int         `yaml:"body_bytes"`
	} `yaml:"request"`
	Expect struct {
		Code    string `yaml:"code"`
		Status  int    `yaml:"status"`
		Rule    string `yaml:"rule"`
		Reason  string `yaml:"reason"`
		Outcome string `yaml:"outcome"`
		Note    string `yaml:"note"`
		NoStep  bool   `yaml:"no_step"`
	} `yaml:"expect"`
}

func TestBeginCorpus(t *testing.T) {
	t.Parallel()
	var cases []beginCase
	stagetest.Corpus(t, "testdata/begin.yaml", &cases)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			g := newGate(t, newMemStore(), config.Idempotency{Required: c.Config.Required, Header: c.Config.Header, Methods: c.Config.Methods}, nil)
			rq := c.Request
			if rq.Method == "" {
				rq.Method = "POST"
			}
			var hdr []string
			if !rq.NoKey {
				k := rq.Key
				if rq.KeyBytes > 0 {
					k = strings.Repeat("k", rq.KeyBytes)
				}
				hdr = append(hdr, key, k)
			}
			for _, h := range rq.Headers {
				hdr = append(hdr, h[0], h[1])
			}
			x := exchange(rq.Method, "/orders", strings.Repeat("b", rq.BodyBytes), hdr...)
			tx, d := g.Begin(x)
			e := c.Expect
			if e.Code != "" {
				stagetest.Denial(t, d.Denial, e.Code, e.Status, rq.Key)
				if tx != nil {
					t.Error("a refusal came with a Tx")
				}
				if d.Denial.Params["header"] != g.Header() || d.Denial.Stage != stageName {
					t.Errorf("params %v, stage %q", d.Denial.Params, d.Denial.Stage)
				}
				if e.Rule != "" && d.Denial.Rule != e.Rule {
					t.Errorf("rule %q, want %q", d.Denial.Rule, e.Rule)
				}
				if !strings.Contains(d.Denial.Reason, e.Reason) {
					t.Errorf("reason %q lacks %q", d.Denial.Reason, e.Reason)
				}
				if len(x.Trace) != 1 || x.Trace[0].Outcome != pipeline.OutcomeDeny || x.Trace[0].Code != e.Code {
					t.Errorf("trace %+v, want one deny step", x.Trace)
				}
				return
			}
			if d.Ends() {
				t.Fatalf("decision %+v %+v, want continue", d.Denial, d.Answer)
			}
			if e.NoStep {
				if len(x.Trace) != 0 || tx != nil {
					t.Errorf("trace %+v, tx %v; want neither", x.Trace, tx)
				}
				return
			}
			if len(x.Trace) != 1 || x.Trace[0].Outcome != e.Outcome || x.Trace[0].Note != e.Note || x.Trace[0].Stage != stageName {
				t.Errorf("trace %+v, want one %s step %q", x.Trace, e.Outcome, e.Note)
			}
			if (tx != nil) != (e.Note == "first use") {
				t.Errorf("tx %v for a %q step", tx, e.Note)
			}
		})
	}
}

func TestNewRefusesBadBlocks(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cfg  config.Idempotency
		path string
	}{
		{"method", config.Idempotency{Methods: []string{"POST", "GET"}}, "methods[1]"},
		{"ttl", config.Idempotency{TTL: -1}, "ttl"},
		{"max_response_bytes", config.Idempotency{MaxResponseBytes: -1}, "max_response_bytes"},
		{"store", config.Idempotency{Store: "memcached"}, "store"},
		{"on_store_error", config.Idempotency{OnStoreError: "retry"}, "on_store_error"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(Options{Route: "r", Config: &c.cfg, Store: newMemStore()})
			var fe *config.FieldError
			if !errors.As(err, &fe) || fe.Path != c.path {
				t.Errorf("error %v, want a field error at %s", err, c.path)
			}
		})
	}
	if _, err := New(Options{Route: "r", Store: newMemStore()}); err == nil {
		t.Error("no config block accepted")
	}
	if _, err := New(Options{Route: "r", Config: &config.Idempotency{}}); err == nil {
		t.Error("no store accepted")
	}
	g, err := New(Options{Route: "r", Config: &config.Idempotency{}, Store: newMemStore()})
	if err != nil {
		t.Fatal(err)
	}
	if g.Header() != "Idempotency-Key" || g.lock != DefaultLockTimeout+LockMargin || g.maxBody != DefaultMaxBodyBytes ||
		g.ttl.Hours() != 24 || g.maxResp != 1<<20 || !g.applies("POST") || g.applies("PUT") {
		t.Errorf("defaults of an empty block: %+v", g)
	}
}

func TestScope(t *testing.T) {
	t.Parallel()
	cases := []struct {
		route string
		id    pipeline.Identity
		ip    string
		want  string
	}{
		{"orders", pipeline.Identity{Authenticated: true, Authenticator: "keys", CredentialID: "pp_live_k1", ConsumerID: "c-1"}, "", "orders|consumer:c-1"},
		{"orders", pipeline.Identity{Authenticated: true, Authenticator: "corp-jwt", CredentialID: "alice"}, "", "orders|credential:corp-jwt:alice"},
		{"orders", pipeline.Identity{Authenticated: true, Authenticator: "a:b", CredentialID: "c"}, "", "orders|credential:a%3Ab:c"},
		{"a|b", pipeline.Identity{}, "192.0.2.9", "a%7Cb|ip:192.0.2.9"},
		{"100%", pipeline.Identity{}, "::ffff:192.0.2.9", "100%25|ip:192.0.2.9"},
		{"orders", pipeline.Identity{}, "2001:db8::1", "orders|ip:2001:db8::1"},
		{"orders", pipeline.Identity{}, "", "orders|ip:unknown"},
	}
	for _, c := range cases {
		g := newGate(t, newMemStore(), config.Idempotency{}, nil)
		g.scope = escape(c.route, '|') + "|"
		x := exchange("POST", "/", "")
		x.Identity = c.id
		x.ClientIP = parseAddr(c.ip)
		if got := g.scope + caller(x); got != c.want {
			t.Errorf("scope of %s %+v %s = %q, want %q", c.route, c.id, c.ip, got, c.want)
		}
	}
}

// FuzzScopeInjective: two different (route, authenticator, credential)
// triples never share a scope, so one caller can never be served
// another's response.
func FuzzScopeInjective(f *testing.F) {
	f.Add("r", "a:b", "c", "r", "a", "b:c")
	f.Add("a|credential", "x", "y", "a", "x", "y")
	f.Add("r%7C", "a", "b", "r|", "a", "b")
	f.Add("r", "a%3A", "b", "r", "a:", "b")
	f.Fuzz(func(t *testing.T, r1, a1, i1, r2, a2, i2 string) {
		s1 := escape(r1, '|') + "|" + caller(&pipeline.Exchange{Identity: pipeline.Identity{Authenticated: true, Authenticator: a1, CredentialID: i1}})
		s2 := escape(r2, '|') + "|" + caller(&pipeline.Exchange{Identity: pipeline.Identity{Authenticated: true, Authenticator: a2, CredentialID: i2}})
		if s1 == s2 && (r1 != r2 || a1 != a2 || i1 != i2) {
			t.Errorf("(%q %q %q) and (%q %q %q) share scope %q", r1, a1, i1, r2, a2, i2, s1)
		}
	})
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	base := fingerprint("POST", "/a", "b=1", []byte("c"))
	if len(base) != 64 || base != fingerprint("POST", "/a", "b=1", []byte("c")) {
		t.Fatalf("fingerprint %q is not a stable hex SHA-256", base)
	}
	for _, other := range [][4]string{
		{"PUT", "/a", "b=1", "c"},
		{"POST", "/ab", "=1", "c"},
		{"POST", "/a", "b=1c", ""},
		{"POST", "/a", "", "b=1c"},
		{"POS", "T/a", "b=1", "c"},
	} {
		if fingerprint(other[0], other[1], other[2], []byte(other[3])) == base {
			t.Errorf("%q has the fingerprint of POST /a?b=1 c", other)
		}
	}
}

func parseAddr(s string) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	return netip.MustParseAddr(s)
}
