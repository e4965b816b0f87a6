package hmac

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

func TestNew(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		c         *config.HMACAuth
		err       string
		challenge string
	}{
		{"defaults", nil, "", `Signature realm="pinpoint", headers="(request-target) date digest"`},
		{"empty block", &config.HMACAuth{}, "", `Signature realm="pinpoint", headers="(request-target) date digest"`},
		{"custom headers are lower-cased", &config.HMACAuth{RequiredHeaders: []string{"(request-target)", "Host", "Date"}}, "",
			`Signature realm="pinpoint", headers="(request-target) host date digest"`},
		{"digest listed", &config.HMACAuth{RequiredHeaders: []string{"date", "digest"}}, "", `Signature realm="pinpoint", headers="date digest"`},
		{"negative skew", &config.HMACAuth{ClockSkew: config.Duration(-time.Second)}, "clock_skew: must not be negative", ""},
		{"empty header", &config.HMACAuth{RequiredHeaders: []string{"date", " "}}, "required_headers[1]: must not be empty", ""},
		{"pseudo-header", &config.HMACAuth{RequiredHeaders: []string{"(created)"}}, `required_headers[0]: "(created)" is not supported`, ""},
		{"not a name", &config.HMACAuth{RequiredHeaders: []string{"x date"}}, `required_headers[0]: "x date" is not a header name`, ""},
		{"duplicate", &config.HMACAuth{RequiredHeaders: []string{"date", "Date"}}, `required_headers[1]: "Date" is listed twice`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := New("h", tc.c, Options{})
			if tc.err != "" {
				var fe *config.FieldError
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.As(err, &fe) {
					t.Fatalf("err = %v, want a FieldError containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Challenge() != tc.challenge {
				t.Errorf("challenge = %q, want %q", m.Challenge(), tc.challenge)
			}
			if m.Name() != "h" || m.Kind() != "hmac" {
				t.Errorf("name %q kind %q", m.Name(), m.Kind())
			}
		})
	}
}

func TestNewJoinsErrors(t *testing.T) {
	t.Parallel()
	_, err := New("h", &config.HMACAuth{ClockSkew: -1, RequiredHeaders: []string{"", "(expires)"}}, Options{})
	if err == nil || strings.Count(err.Error(), "\n") != 2 {
		t.Fatalf("err = %v, want three joined errors", err)
	}
}

func TestConfiguredSkew(t *testing.T) {
	t.Parallel()
	m, err := New("partner-hmac", &config.HMACAuth{ClockSkew: config.Duration(30 * time.Second)}, Options{Now: func() time.Time { return testClock }})
	if err != nil {
		t.Fatal(err)
	}
	r := newSignedRequest("GET", "/", "", -45*time.Second, signSpec{KeyID: "k1"})
	_, d := m.Authenticate(&pipeline.Exchange{Request: r}, testDirectory())
	if d == nil || d.Code != "authn.signature_expired" || d.Params["skew"] != "45s" || d.Params["allowed"] != "30s" {
		t.Fatalf("denial = %+v", d)
	}
	if !strings.Contains(d.Reason, "45s behind the gateway's clock") {
		t.Errorf("reason = %q", d.Reason)
	}
}

// Regression: the clock moves on; a request signed now must be refused
// once it is replayed after clock_skew.
func TestReplayAfterSkewIsRefused(t *testing.T) {
	t.Parallel()
	now := testClock
	m, err := New("partner-hmac", nil, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	r := newSignedRequest("GET", "/orders", "", 0, signSpec{KeyID: "k1"})
	if _, d := m.Authenticate(&pipeline.Exchange{Request: r}, testDirectory()); d != nil {
		t.Fatal(d.Reason)
	}
	now = now.Add(5*time.Minute + time.Second)
	_, d := m.Authenticate(&pipeline.Exchange{Request: r}, testDirectory())
	if d == nil || d.Code != "authn.signature_expired" || d.Params["skew"] != "5m1s" {
		t.Fatalf("replay: denial = %+v", d)
	}
}

// Regression: the request target is the raw URI as the client sent it,
// not the gateway's normalized path (which the client never saw).
func TestRequestTargetIsTheRawURI(t *testing.T) {
	t.Parallel()
	m := newTestMethod(t)
	r := newSignedRequest("GET", "/a/./b/%7Euser?q=1%202", "", 0, signSpec{KeyID: "k1"})
	x := &pipeline.Exchange{Request: r, RawURI: "/a/./b/%7Euser?q=1%202", Path: "/a/b/~user"}
	r.URL.Path = "/a/b/~user" // the accept stage normalizes
	r.URL.RawPath = ""
	if _, d := m.Authenticate(x, testDirectory()); d != nil {
		t.Fatalf("raw target: %s", d.Reason)
	}
	x = &pipeline.Exchange{Request: r, RawURI: "/a/b/~user?q=1%202"}
	if _, d := m.Authenticate(x, testDirectory()); d == nil || d.Code != "authn.signature_invalid" {
		t.Fatalf("a different raw URI must not verify: %v", d)
	}
}

func TestAbsoluteFormTarget(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ raw, want string }{
		{"http://api.example.com/orders?x=1", "/orders?x=1"},
		{"https://api.example.com", "/"},
		{"http://api.example.com?x=1", "/?x=1"},
		{"/plain", "/plain"},
		{"*", "*"},
	} {
		x := &pipeline.Exchange{Request: httptest.NewRequest("GET", "/", nil), RawURI: tc.raw}
		if got := string(appendTarget(nil, x)); got != tc.want {
			t.Errorf("appendTarget(%q) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}

func TestDigestPutsTheBodyBack(t *testing.T) {
	t.Parallel()
	m := newTestMethod(t)
	body := `{"item":"widget","qty":2}`
	r := newSignedRequest("POST", "/orders", body, 0, signSpec{KeyID: "k1", Headers: "(request-target) date digest"})
	n := r.ContentLength
	if _, d := m.Authenticate(&pipeline.Exchange{Request: r}, testDirectory()); d != nil {
		t.Fatal(d.Reason)
	}
	got, _ := io.ReadAll(r.Body)
	if string(got) != body || r.ContentLength != n {
		t.Fatalf("body after verification = %q (length %d), want %q (%d)", got, r.ContentLength, body, n)
	}
	again, err := r.GetBody()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(again); string(got) != body {
		t.Errorf("GetBody = %q", got)
	}
}

func TestChunkedBodyNeedsADigest(t *testing.T) {
	t.Parallel()
	m := newTestMethod(t)
	r := newSignedRequest("POST", "/orders", "", 0, signSpec{KeyID: "k1"})
	r.Body = io.NopCloser(strings.NewReader("streamed"))
	r.ContentLength = -1
	r.TransferEncoding = []string{"chunked"}
	_, d := m.Authenticate(&pipeline.Exchange{Request: r}, testDirectory())
	if d == nil || d.Code != "authn.signature_headers_missing" || d.Params["header"] != "digest" {
		t.Fatalf("denial = %+v", d)
	}
}

func TestBodyOverTheLimit(t *testing.T) {
	t.Parallel()
	m, err := New("partner-hmac", nil, Options{Now: func() time.Time { return testClock }, MaxBodyBytes: 8})
	if err != nil {
		t.Fatal(err)
	}
	r := newSignedRequest("POST", "/orders", "0123456789", 0, signSpec{KeyID: "k1", Headers: "(request-target) date digest"})
	_, d := m.Authenticate(&pipeline.Exchange{Request: r}, testDirectory())
	if d == nil || d.Code != "request.body_too_large" || d.Params["limit"] != "8" {
		t.Fatalf("denial = %+v", d)
	}
}

// tooLarge is a body that fails like the accept stage's limited reader.
type tooLarge struct{}

func (tooLarge) Read([]byte) (int, error) { return 0, pipeline.ErrBodyTooLarge }

func TestBodyLimitOfTheAcceptStage(t *testing.T) {
	t.Parallel()
	m := newTestMethod(t)
	r := newSignedRequest("POST", "/orders", "abc", 0, signSpec{KeyID: "k1", Headers: "(request-target) date digest"})
	r.Body = io.NopCloser(tooLarge{})
	_, d := m.Authenticate(&pipeline.Exchange{Request: r}, testDirectory())
	if d == nil || d.Code != "request.body_too_large" {
		t.Fatalf("denial = %+v", d)
	}
}

// Regression: pooled keyed hashes must never verify one key's signature
// with another key's secret, also under concurrency.
func TestKeyedHashesStayWithTheirKey(t *testing.T) {
	t.Parallel()
	m := newTestMethod(t)
	dir := testDirectory()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				key := []string{"k1", "k2", "partner.key"}[(i+j)%3]
				good := newSignedRequest("GET", fmt.Sprintf("/o/%d", j), "", 0, signSpec{KeyID: key, Algorithm: "hmac-sha512"})
				if _, d := m.Authenticate(&pipeline.Exchange{Request: good}, dir); d != nil {
					t.Errorf("%s: %s", key, d.Reason)
					return
				}
				other := map[string]string{"k1": "k2", "k2": "partner.key", "partner.key": "k1"}[key]
				bad := newSignedRequest("GET", "/o", "", 0, signSpec{KeyID: key, Secret: testKeys[other], Algorithm: "hmac-sha512"})
				if _, d := m.Authenticate(&pipeline.Exchange{Request: bad}, dir); d == nil || d.Code != "authn.signature_invalid" {
					t.Errorf("%s signed with %s's secret: %v", key, other, d)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestSignatureInvalidReasonListsTheSignedHeaders(t *testing.T) {
	t.Parallel()
	m := newTestMethod(t)
	r := newSignedRequest("GET", "/orders", "", 0, signSpec{KeyID: "k1", Secret: "wrong"})
	_, d := m.Authenticate(&pipeline.Exchange{Request: r}, testDirectory())
	if d == nil || !strings.Contains(d.Reason, `key "k1"`) || !strings.Contains(d.Reason, "hmac-sha256 over (request-target) host date") {
		t.Fatalf("reason = %v", d)
	}
}

func TestEmptySecretNeverVerifies(t *testing.T) {
	t.Parallel()
	m := newTestMethod(t)
	dir := testDirectory()
	k := *dir.Declared.HMACKeys["k1"]
	k.ID, k.Secret = "empty", nil
	dir.Declared.HMACKeys["empty"] = &k
	r := newSignedRequest("GET", "/", "", 0, signSpec{KeyID: "empty", Secret: ""})
	_, d := m.Authenticate(&pipeline.Exchange{Request: r}, dir)
	if d == nil || d.Code != "authn.signature_invalid" || !strings.Contains(d.Reason, "empty secret") {
		t.Fatalf("denial = %+v", d)
	}
}

// FuzzAuthenticate feeds arbitrary Authorization values through the whole
// method: it must never panic, and must never authenticate.
func FuzzAuthenticate(f *testing.F) {
	f.Add(`Signature keyId="k1",algorithm="hmac-sha256",headers="(request-target) host date",signature="AAAA"`)
	f.Add(`Signature keyId="k1",headers="date x-a x-a",signature="AAAA"`)
	f.Add(`Signature keyId="k1",headers="(request-target",signature="AAAA"`)
	m, err := New("fuzz", nil, Options{Now: func() time.Time { return testClock }})
	if err != nil {
		f.Fatal(err)
	}
	dir := testDirectory()
	f.Fuzz(func(t *testing.T, auth string) {
		r := httptest.NewRequest("POST", "/x?y=1", bytes.NewReader([]byte("body")))
		r.Header.Set("Date", testClock.Format(http.TimeFormat))
		r.Header["Authorization"] = []string{auth}
		found, d := m.Authenticate(&pipeline.Exchange{Request: r}, dir)
		if found && d == nil {
			t.Fatalf("authenticated a forged signature: %q", auth)
		}
	})
}

var sinkDenial *pipeline.Denial

// BenchmarkVerify is the pass path of a signed GET.
func BenchmarkVerify(b *testing.B) {
	m, err := New("bench", nil, Options{Now: func() time.Time { return testClock }})
	if err != nil {
		b.Fatal(err)
	}
	dir := testDirectory()
	r := newSignedRequest("GET", "/orders/42?expand=items", "", 0, signSpec{KeyID: "k1", Headers: "(request-target) host date"})
	x := &pipeline.Exchange{Request: r, RawURI: "/orders/42?expand=items"}
	b.ReportAllocs()
	for b.Loop() {
		x.Identity = pipeline.Identity{}
		_, sinkDenial = m.Authenticate(x, dir)
		if sinkDenial != nil {
			b.Fatal(sinkDenial.Reason)
		}
	}
}

// BenchmarkVerifyWithBody is a signed POST whose 1 KiB body is digested.
func BenchmarkVerifyWithBody(b *testing.B) {
	m, err := New("bench", nil, Options{Now: func() time.Time { return testClock }})
	if err != nil {
		b.Fatal(err)
	}
	dir := testDirectory()
	body := strings.Repeat("x", 1024)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		r := newSignedRequest("POST", "/orders", body, 0, signSpec{KeyID: "k1", Headers: "(request-target) date digest"})
		x := &pipeline.Exchange{Request: r}
		b.StartTimer()
		_, sinkDenial = m.Authenticate(x, dir)
		if sinkDenial != nil {
			b.Fatal(sinkDenial.Reason)
		}
	}
}
