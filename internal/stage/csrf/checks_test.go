package csrf

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

func TestNewErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		cfg  config.CSRF
		want string
	}{
		{"mode", config.CSRF{Mode: "audit"}, `mode: unknown mode "audit"`},
		{"origin with path", config.CSRF{TrustedOrigins: []string{"https://ok.test", "https://a.test/app"}}, "trusted_origins[1]: "},
		{"origin trailing slash", config.CSRF{TrustedOrigins: []string{"https://a.test/"}}, "trusted_origins[0]: "},
		{"origin without scheme", config.CSRF{TrustedOrigins: []string{"a.test"}}, "trusted_origins[0]: "},
		{"wildcard origin", config.CSRF{TrustedOrigins: []string{"*"}}, "trusted_origins[0]: "},
		{"cookie name", config.CSRF{Token: &config.CSRFToken{Cookie: "a=b"}}, "token.cookie: "},
		{"header name", config.CSRF{Token: &config.CSRFToken{Header: "X CSRF"}}, "token.header: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, err := New(&c.cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("New = %v, %v; want error containing %q", s, err, c.want)
			}
			var fe *config.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a config.FieldError", err)
			}
		})
	}
	if s, err := New(nil); s != nil || err != nil {
		t.Fatalf("New(nil) = %v, %v; want nil, nil", s, err)
	}
	if s, err := New(&config.CSRF{}); s == nil || err != nil || s.Name() != "csrf" {
		t.Fatalf("New(empty) = %v, %v", s, err)
	}
}

// TestTokenNeverLeaks: for each token refusal, the distinct token values
// the request carried appear nowhere in the denial or the trace, in both
// modes.
func TestTokenNeverLeaks(t *testing.T) {
	t.Parallel()
	const header, cookie = "hdr-secret-4f1c9a", "cookie-secret-77b2e0"
	for _, mode := range []string{"", "report_only"} {
		s, err := New(&config.CSRF{Mode: mode, Token: &config.CSRFToken{}})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			code    string
			headers map[string]string
		}{
			{"csrf.token_mismatch", map[string]string{"X-CSRF-Token": header, "Cookie": "csrf_token=" + cookie}},
			{"csrf.token_missing", map[string]string{"X-CSRF-Token": header}},
			{"csrf.token_missing", map[string]string{"Cookie": "csrf_token=" + cookie}},
		} {
			x := exchange("POST", "", c.headers)
			d := s.Handle(x)
			got := ""
			if d.Denied() {
				got = d.Denial.Code
			} else if len(x.Trace) == 1 {
				got = x.Trace[0].Code
			}
			if got != c.code {
				t.Fatalf("mode %q: got %q (%+v), want %s", mode, got, d, c.code)
			}
			assertNoSecret(t, d, x.Trace, header)
			assertNoSecret(t, d, x.Trace, cookie)
		}
	}
}

// TestReportOnlyRecordsReason: a would-be refusal keeps its rule and the
// operator reason in the trace.
func TestReportOnlyRecordsReason(t *testing.T) {
	t.Parallel()
	s, err := New(&config.CSRF{Mode: "report_only"})
	if err != nil {
		t.Fatal(err)
	}
	x := exchange(http.MethodPost, "", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.test"})
	if d := s.Handle(x); d.Ends() {
		t.Fatalf("report_only refused: %+v", d)
	}
	want := pipeline.Step{Stage: "csrf", Outcome: pipeline.OutcomeWouldDeny, Code: "csrf.origin_mismatch", Rule: "csrf.origin",
		Note: `Sec-Fetch-Site is "cross-site", and Origin "https://evil.test" is not in csrf.trusted_origins`}
	if len(x.Trace) != 1 || x.Trace[0] != want {
		t.Fatalf("trace %+v, want [%+v]", x.Trace, want)
	}
}

// TestOriginParamIsSanitized: control characters are dropped and the
// origin cut before it reaches the client.
func TestOriginParamIsSanitized(t *testing.T) {
	t.Parallel()
	s, err := New(&config.CSRF{})
	if err != nil {
		t.Fatal(err)
	}
	x := exchange(http.MethodPost, "", map[string]string{"Origin": "https://evil.test\x01" + strings.Repeat("x", 400)})
	d := s.Handle(x)
	if !d.Denied() {
		t.Fatal("passed")
	}
	if o := d.Denial.Params["origin"]; strings.ContainsRune(o, 1) || len(o) > 210 {
		t.Fatalf("origin param %q is not sanitized", o)
	}
}
