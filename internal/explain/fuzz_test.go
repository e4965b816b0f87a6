package explain_test

import (
	"io"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/explain"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// FuzzBuild: whatever a call record's trace and decision inputs hold (they
// are JSON written by another version, or damaged), Build explains it
// without panicking and the text renders.
func FuzzBuild(f *testing.F) {
	f.Add("authz.scope_missing", 403, string(with(authed, step("authz", "deny", "authz.scope_missing", "scopes", "x"))),
		string(inputs("POST", "/orders", map[string][]string{"Origin": {"https://a.example"}}, `{"a":1}`)))
	f.Add("", 200, `[{"stage":"ip","outcome":"would_deny","code":"ip.denied"}]`, `{"method":"GET","headers":{"X":["`+secret+`"]}}`)
	f.Add("upstream.error", 500, `[`, `{"body":[1,2`)
	f.Add("quota.exceeded", 429, `[{"stage":"limit","outcome":"deny","code":"quota.exceeded","rule":"quotas."}]`, `null`)
	f.Fuzz(func(t *testing.T, code string, status int, trace, in string) {
		c := store.Call{Time: t0, RequestID: "r", Route: "orders", Method: "GET", Status: status, Code: code,
			Layer: "gateway", Trace: []byte(trace), Inputs: []byte(in), Revision: 42, CredentialID: "pp_live_ordr0000ordr"}
		x := explain.Build(c, explain.Facts{})
		if x.RequestID != "r" {
			t.Fatalf("request id %q", x.RequestID)
		}
		if err := x.WriteText(io.Discard, time.UTC); err != nil {
			t.Fatal(err)
		}
	})
}
