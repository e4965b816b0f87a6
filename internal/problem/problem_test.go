package problem

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/reason-codes.md and golden files")

// TestReasonCodeDocs keeps docs/reason-codes.md in sync with the catalog.
func TestReasonCodeDocs(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "reason-codes.md")
	want := Markdown()
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run: go test ./internal/problem -run TestReasonCodeDocs -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("docs/reason-codes.md is out of date with the catalog; run: go test ./internal/problem -run TestReasonCodeDocs -update")
	}
}

func TestCatalogIsWellFormed(t *testing.T) {
	t.Parallel()
	for _, c := range All() {
		t.Run(c.Code, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(c.Code, ".") || strings.ToLower(c.Code) != c.Code {
				t.Errorf("code %q must be lower-case family.cause", c.Code)
			}
			if c.Status < 400 || c.Status > 599 {
				t.Errorf("status %d out of range", c.Status)
			}
			if c.Title == "" || c.Doc == "" || c.Stage == "" {
				t.Error("title, doc and stage are required")
			}
			if c.Layer == LayerGateway && (c.Detail == "" || c.Hint == "") {
				t.Error("gateway-written codes need a client detail and hint")
			}
			for _, p := range append(Placeholders(c.Detail), Placeholders(c.Hint)...) {
				if p == "" || strings.ContainsAny(p, " {") {
					t.Errorf("bad placeholder %q", p)
				}
			}
		})
	}
}

func TestExpand(t *testing.T) {
	t.Parallel()
	cases := []struct{ tpl, want string }{
		{"plain", "plain"},
		{"{a} and {b}", "1 and 2"},
		{"{missing}!", "unknown!"},
		{"open { brace", "open { brace"},
		{"{a}{a}", "11"},
	}
	for _, tc := range cases {
		if got := Expand(tc.tpl, map[string]string{"a": "1", "b": "2"}); got != tc.want {
			t.Errorf("Expand(%q) = %q, want %q", tc.tpl, got, tc.want)
		}
	}
}

func TestWriteDisclosure(t *testing.T) {
	t.Parallel()
	p := New("route.not_found", map[string]string{"method": "GET", "path": "/x"})
	p.RequestID = "req-1"
	p.Trace = []string{"step"}
	cases := []struct {
		mode       Disclosure
		wantDetail bool
		wantTrace  bool
	}{
		{Minimal, false, false},
		{Standard, true, false},
		{Debug, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.mode.String(), func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			Write(rec, httptest.NewRequest("GET", "/x", nil), p, tc.mode)
			if rec.Code != 404 {
				t.Fatalf("status %d", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); ct != ContentType {
				t.Fatalf("content type %q", ct)
			}
			if rec.Header().Get(HeaderCode) != "route.not_found" || rec.Header().Get(HeaderLayer) != "gateway" {
				t.Fatalf("headers %v", rec.Header())
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"type", "title", "status", "code", "layer", "request_id"} {
				if _, ok := body[k]; !ok {
					t.Errorf("member %q missing in %s", k, tc.mode)
				}
			}
			if _, ok := body["detail"]; ok != tc.wantDetail {
				t.Errorf("detail present=%v", ok)
			}
			if _, ok := body["trace"]; ok != tc.wantTrace {
				t.Errorf("trace present=%v", ok)
			}
			if body["type"] != "urn:pinpoint:problem:route.not_found" {
				t.Errorf("type %v", body["type"])
			}
		})
	}
}

func TestWriteHeadHasNoBody(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	Write(rec, httptest.NewRequest(http.MethodHead, "/", nil), New("route.not_found", nil), Standard)
	if rec.Body.Len() != 0 || rec.Header().Get(HeaderCode) != "route.not_found" {
		t.Fatalf("HEAD: body %q headers %v", rec.Body.String(), rec.Header())
	}
}

func TestUnknownCodeIsInternalError(t *testing.T) {
	t.Parallel()
	if p := New("no.such_code", nil); p.Code != "gateway.internal_error" || p.Status != 500 {
		t.Fatalf("got %+v", p)
	}
}
