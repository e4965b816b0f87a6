package upstream

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/config"
)

func TestHeaderOps(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		ops  config.HeaderOps
		in   http.Header
		want http.Header
	}{
		{"empty changes nothing", config.HeaderOps{},
			http.Header{"A": {"1"}}, http.Header{"A": {"1"}}},
		{"remove is case-insensitive", config.HeaderOps{Remove: []string{"x-secret"}},
			http.Header{"X-Secret": {"s"}, "B": {"2"}}, http.Header{"B": {"2"}}},
		{"set replaces every value", config.HeaderOps{Set: map[string]string{"x-env": "prod"}},
			http.Header{"X-Env": {"dev", "test"}}, http.Header{"X-Env": {"prod"}}},
		{"add appends", config.HeaderOps{Add: map[string]string{"Via": "pinpoint"}},
			http.Header{"Via": {"1.1 cdn"}}, http.Header{"Via": {"1.1 cdn", "pinpoint"}}},
		{"order is remove, set, add", config.HeaderOps{
			Remove: []string{"X-A"}, Set: map[string]string{"X-A": "set"}, Add: map[string]string{"X-A": "added"}},
			http.Header{"X-A": {"old"}}, http.Header{"X-A": {"set", "added"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := CompileHeaderOps(tc.ops)
			got := tc.in.Clone()
			h.Apply(got)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if h.Empty() != (len(tc.ops.Remove)+len(tc.ops.Set)+len(tc.ops.Add) == 0) {
				t.Fatal("Empty() wrong")
			}
		})
	}
}

func TestValidateHeaderOps(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		ops  config.HeaderOps
		ok   bool
	}{
		{"valid", config.HeaderOps{Remove: []string{"X-A"}, Set: map[string]string{"X-B": "v"}, Add: map[string]string{"X-C": "v w"}}, true},
		{"space in name", config.HeaderOps{Set: map[string]string{"X B": "v"}}, false},
		{"empty name", config.HeaderOps{Remove: []string{""}}, false},
		{"newline in value", config.HeaderOps{Add: map[string]string{"X-A": "v\r\nX-Injected: 1"}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := ValidateHeaderOps(tc.ops); (err == nil) != tc.ok {
				t.Fatalf("ValidateHeaderOps = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func FuzzHeaderOps(f *testing.F) {
	f.Add("X-A", "v", "x-a")
	f.Add("Content-Type", "text/plain", "")
	f.Fuzz(func(t *testing.T, name, value, remove string) {
		ops := config.HeaderOps{Set: map[string]string{name: value}, Remove: []string{remove}}
		h := http.Header{}
		CompileHeaderOps(ops).Apply(h)
		if ValidateHeaderOps(ops) == nil {
			if got := h.Get(name); got != value {
				t.Fatalf("valid op set %q=%q, header has %q", name, value, got)
			}
		}
	})
}
