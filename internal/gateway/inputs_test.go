package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/redact"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
	"github.com/pinpointgw/pinpoint/internal/telemetry"

	"github.com/pinpointgw/pinpoint/internal/jsontext"
)

// FuzzAppendJSONString: the hand-written encoder of decision inputs
// writes valid JSON that decodes to what encoding/json would encode.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `q"uote\back`, "tab\tnl\n\x00\x1f", "é✓", "bad\xffutf8\xc3", "<&>", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := jsontext.AppendString([]byte("x"), s)
		var got, want string
		if err := json.Unmarshal(b[1:], &got); err != nil {
			t.Fatalf("%q encodes to invalid JSON %s: %v", s, b[1:], err)
		}
		ref, _ := json.Marshal(s)
		if err := json.Unmarshal(ref, &want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("%q: decodes to %q, encoding/json's to %q", s, got, want)
		}
	})
}

func TestInputsOffAndBodyKept(t *testing.T) {
	t.Parallel()
	st, err := sqlite.Open(context.Background(), t.TempDir()+"/pinpoint.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	g := New(Options{Store: st, Metrics: telemetry.New()})
	defer g.Close()
	doc := simpleConfig("http://127.0.0.1:1") + "explain: {keep_inputs: false}\n"
	if _, err := g.apply(context.Background(), admin.ApplyRequest{Filename: "t.yaml", Document: []byte(doc)}); err != nil {
		t.Fatal(err)
	}
	stt := runForInputs(g, httptest.NewRequest("GET", "/users/1", nil))
	if in := g.inputs(stt, g.Current()); in != nil {
		t.Errorf("keep_inputs false kept %s", in)
	}

	// A body a stage read whole is kept, redacted; hop-by-hop headers are not.
	doc = simpleConfig("http://127.0.0.1:1") + "redact: {json_fields: [card]}\n"
	if _, err := g.apply(context.Background(), admin.ApplyRequest{Filename: "t.yaml", Document: []byte(doc)}); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/api/x", strings.NewReader(`{"card":"4111-1111","n":2,"token":"tok-1"}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Connection", "keep-alive")
	stt = runForInputs(g, r)
	if _, _, err := stt.x.Body(1 << 10); err != nil {
		t.Fatal(err)
	}
	var in pipeline.Inputs
	raw := g.inputs(stt, g.Current())
	if err := json.Unmarshal(raw, &in); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	if string(in.Body) != `{"card":"redacted","n":2,"token":"redacted"}` || in.BodyOmitted || in.Header["Connection"] != nil {
		t.Errorf("inputs %s", raw)
	}
}

// runForInputs runs r through the gateway's pipeline (to the refused
// upstream) and returns its state, as finish would see it.
func runForInputs(g *Gateway, r *http.Request) *state {
	st := &state{}
	st.x.Request = r
	st.rw.reset(httptest.NewRecorder(), "X-Request-Id")
	st.x.ResponseHeader = st.rw.Header()
	st.x.Simulation = &pipeline.Simulation{} // no upstream call
	g.run(st, g.Current())
	st.x.Simulation = nil
	return st
}

// BenchmarkCallRecordInputs is the cost of the decision inputs on the
// call-log record of a typical authenticated request (eight headers, a
// query, an API key): keep_inputs on against off.
func BenchmarkCallRecordInputs(b *testing.B) {
	key, sha := accessKey("live", "bnch0000bnch")
	for _, c := range []struct {
		keep  bool
		query string
	}{{false, "?page=2&sort=desc"}, {true, "?page=2&sort=desc"}, {true, ""}} {
		keep := c.keep
		b.Run(fmt.Sprintf("keep_inputs=%v/query=%v", keep, c.query != ""), func(b *testing.B) {
			st, err := sqlite.Open(context.Background(), b.TempDir()+"/pinpoint.db")
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			g := New(Options{Store: st, Metrics: telemetry.New()})
			defer g.Close()
			doc := fmt.Sprintf(`version: 1
explain: {keep_inputs: %v}
authenticators: [{name: keys, type: api_key}]
consumers: [{id: app, api_keys: [{id: bnch0000bnch, sha256: %s}]}]
routes: [{name: r, paths: ["/orders"], upstream: u, auth: {methods: [keys]}}]
upstreams: [{name: u, targets: [{url: "http://127.0.0.1:1"}]}]
`, keep, sha)
			if _, err := g.apply(context.Background(), admin.ApplyRequest{Filename: "b.yaml", Document: []byte(doc)}); err != nil {
				b.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/orders"+c.query, nil)
			r.RemoteAddr = "192.0.2.1:1234"
			for k, v := range map[string]string{"X-Api-Key": key, "Accept": "application/json", "User-Agent": "bench/1.0",
				"Accept-Encoding": "gzip", "X-Partner": "acme", "Traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
				"Cookie": "sid=abc", "Accept-Language": "en"} {
				r.Header.Set(k, v)
			}
			stt := runForInputs(g, r)
			if stt.x.Identity.ConsumerID != "app" {
				b.Fatalf("not authenticated: %+v", stt.x.Trace)
			}
			snap := g.Current()
			b.ReportAllocs()
			for b.Loop() {
				_ = g.callRecord(stt, snap, 200, "", "", 0, false)
			}
		})
	}
}

// TestHeaderVerdictsAreBounded: the per-snapshot cache answers like the
// policy and stops growing at maxVerdicts names.
func TestHeaderVerdictsAreBounded(t *testing.T) {
	t.Parallel()
	p := redact.Default()
	var v headerVerdicts
	for range 2 {
		if !v.hidden(p, "Authorization") || v.hidden(p, "Accept") {
			t.Fatal("verdicts differ from the policy")
		}
	}
	for i := range 2 * maxVerdicts {
		name := fmt.Sprintf("X-Name-%d", i)
		if v.hidden(p, name) != p.Header(name) {
			t.Fatalf("%s: verdict differs", name)
		}
	}
	if n := len(*v.m.Load()); n != maxVerdicts {
		t.Fatalf("cache holds %d names, want %d", n, maxVerdicts)
	}
}
