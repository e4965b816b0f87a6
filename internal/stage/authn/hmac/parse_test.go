package hmac

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	t.Parallel()
	want := time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"Sun, 06 Nov 1994 08:49:37 GMT", true},
		{"Sunday, 06-Nov-94 08:49:37 GMT", true}, // RFC 850
		{"Sun Nov  6 08:49:37 1994", true},       // asctime
		{"Mon, 06 Nov 1994 08:49:37 GMT", true},  // the weekday is not checked, as in net/http
		{"Sun, 31 Feb 1994 08:49:37 GMT", false},
		{"Sun, 06 Nov 1994 24:49:37 GMT", false},
		{"Sun, 06 Nov 1994 08:49:37 UTC", false},
		{"Sun, 06 Xyz 1994 08:49:37 GMT", false},
		{"1994-11-06T08:49:37Z", false},
		{"", false},
	} {
		got, ok := parseDate(tc.in)
		if ok != tc.ok || (ok && !got.Equal(want)) {
			t.Errorf("parseDate(%q) = %v, %v; want ok=%v", tc.in, got, ok, tc.ok)
		}
	}
}

func TestFmtDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		7*time.Minute + 12*time.Second + 400*time.Millisecond: "7m12s",
		-(7*time.Minute + 12*time.Second):                     "7m12s",
		5 * time.Minute:                                       "5m",
		90 * time.Minute:                                      "1h30m",
		time.Hour + 5*time.Second:                             "1h5s",
		250 * time.Millisecond:                                "250ms",
		49 * time.Hour:                                        "49h",
	} {
		if got := fmtDuration(d); got != want {
			t.Errorf("fmtDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestParseDigests(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, header, value, problem string
		n                            int
	}{
		{"sha-256", "Digest", "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=", "", 1},
		{"several", "Digest", "MD5=abc=, sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=", "", 1},
		{"content-digest params", "Content-Digest", "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:;x=1", "", 1},
		{"no equals", "Digest", "SHA-256", "its Digest header is not a list of algorithm=value", 0},
		{"not base64", "Digest", "SHA-256=***", "its Digest value is not base64", 0},
		{"content-digest not a byte sequence", "Content-Digest", "sha-256=abc", "its Content-Digest value is not a :base64: byte sequence", 0},
		{"only unsupported", "Digest", "MD5=abc", "its Digest or Content-Digest header has no SHA-256 or SHA-512 value", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ds, problem := parseDigests(http.Header{tc.header: {tc.value}})
			if problem != tc.problem || len(ds) != tc.n {
				t.Fatalf("parseDigests = %d digests, %q; want %d, %q", len(ds), problem, tc.n, tc.problem)
			}
		})
	}
}

func FuzzParseParams(f *testing.F) {
	f.Add(`keyId="k1",algorithm="hmac-sha256",headers="(request-target) date",signature="AAAA"`)
	f.Add(`keyId = "k\"1" , signature=abc,,`)
	f.Add(`keyId="k1",keyId="k2"`)
	f.Add(`="",`)
	f.Add(`keyId="unterminated`)
	f.Fuzz(func(t *testing.T, s string) {
		p, problem := parseParams(s)
		if problem != "" {
			if strings.Contains(problem, s) && len(s) > 8 {
				t.Fatalf("problem %q echoes the input", problem)
			}
			return
		}
		if p.keyID == "" || p.signature == "" {
			t.Fatalf("accepted %q without keyId or signature: %+v", s, p)
		}
		// Re-encoding the parsed values must parse to the same values.
		q := func(v string) string { return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"` }
		again := `keyId=` + q(p.keyID) + `,algorithm=` + q(p.algorithm) + `,signature=` + q(p.signature)
		if p.hasHeaders {
			again += `,headers=` + q(p.headers)
		}
		p2, problem := parseParams(again)
		if problem != "" || p2 != p {
			t.Fatalf("round trip of %q: %+v (%q), want %+v", s, p2, problem, p)
		}
	})
}
