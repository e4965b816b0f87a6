package validate

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// fieldErrors returns the FieldErrors in err's tree by path.
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
			t.Fatalf("error %v (%T) is not a config.FieldError", e, e)
		}
		out[fe.Path] = fe.Message
	}
	walk(err)
	return out
}

// TestNewErrors pins the construction errors: each names the field of
// the openapi block, and a document error names the file and what the
// loader said.
func TestNewErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		o    config.OpenAPI
		want map[string]string // path -> substrings of the message, "|"-separated
	}{
		{"missing spec", config.OpenAPI{}, map[string]string{"spec": "required"}},
		{"file not found", config.OpenAPI{Spec: "testdata/specs/nope.yaml"},
			map[string]string{"spec": "testdata/specs/nope.yaml|no such file"}},
		{"not YAML", config.OpenAPI{Spec: "testdata/specs/broken_yaml.yaml"},
			map[string]string{"spec": "testdata/specs/broken_yaml.yaml|yaml"}},
		{"not a valid document", config.OpenAPI{Spec: "testdata/specs/invalid_openapi.yaml"},
			map[string]string{"spec": "testdata/specs/invalid_openapi.yaml is not a valid OpenAPI document"}},
		{"no paths", config.OpenAPI{Spec: "testdata/specs/no_paths.yaml"},
			map[string]string{"spec": "describes no paths"}},
		{"remote reference", config.OpenAPI{Spec: "testdata/specs/remote_refs.yaml"},
			map[string]string{"spec": "testdata/specs/remote_refs.yaml|http://127.0.0.1:1/thing.yaml"}},
		{"bad mode and unknown_operation", config.OpenAPI{Spec: "testdata/orders.yaml", Mode: "audit", UnknownOperation: "warn"},
			map[string]string{"mode": `"audit"`, "unknown_operation": `"warn"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o := c.o
			s, err := New(Options{Route: "orders", MaxBodyBytes: 1 << 10, OpenAPI: &o})
			if err == nil {
				t.Fatalf("New returned %v, want an error", s)
			}
			got := fieldErrors(t, err)
			if len(got) != len(c.want) {
				t.Errorf("errors %v, want paths of %v", got, c.want)
			}
			for path, subs := range c.want {
				msg, ok := got[path]
				if !ok {
					t.Errorf("no error at %q (got %v)", path, got)
					continue
				}
				for _, sub := range strings.Split(subs, "|") {
					if !strings.Contains(msg, sub) {
						t.Errorf("error at %s %q does not mention %q", path, msg, sub)
					}
				}
			}
		})
	}
}

// TestNewLimitsOnly pins when the gateway gets a stage without a document.
func TestNewLimitsOnly(t *testing.T) {
	t.Parallel()
	s, err := New(Options{Route: "r", MaxBodyBytes: 1 << 10})
	if s != nil || err != nil {
		t.Errorf("no openapi and no JSON limit: New = %v, %v; want nil, nil", s, err)
	}
	if _, err := New(Options{Route: "r", MaxJSONDepth: 8}); err == nil {
		t.Error("a JSON limit without MaxBodyBytes was accepted")
	}
	if _, err := New(Options{Route: "r", MaxBodyBytes: 1 << 10, MaxJSONDepth: -1}); err == nil {
		t.Error("a negative JSON limit was accepted")
	}
	if s, err := New(Options{Route: "r", MaxBodyBytes: 1 << 10, MaxJSONFieldBytes: 8}); s == nil || err != nil {
		t.Errorf("a field limit alone: New = %v, %v; want a stage", s, err)
	}
}

// TestExternalRefs pins that a document may $ref other local files.
func TestExternalRefs(t *testing.T) {
	t.Parallel()
	s, err := New(Options{Route: "things", MaxBodyBytes: 1 << 10, OpenAPI: &config.OpenAPI{Spec: "testdata/specs/external_refs.yaml"}})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/things", strings.NewReader(`{"name": "x"}`))
	r.Header.Set("Content-Type", "application/json")
	d := s.Handle(&pipeline.Exchange{Request: r, Path: r.URL.Path})
	if d.Denial == nil || d.Denial.Code != "request.invalid_body" || d.Denial.Params["rule"] != "must be at least 2 characters long" {
		t.Fatalf("decision %+v, want the referenced schema's minLength to refuse", d.Denial)
	}
}
