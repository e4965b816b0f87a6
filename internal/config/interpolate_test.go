package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestInterpolate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		in       string
		want     string
		expanded bool
		problems []string
	}{
		{name: "no reference", in: "plain text $HOME $", want: "plain text $HOME $"},
		{name: "whole value", in: "${ORDERS_HOST}", want: "orders.internal", expanded: true},
		{name: "inside text", in: "http://${ORDERS_HOST}:8080/x", want: "http://orders.internal:8080/x", expanded: true},
		{name: "two references", in: "${ORDERS_HOST}/${ORDERS_HOST}", want: "orders.internal/orders.internal", expanded: true},
		{name: "default when unset", in: "${NOPE:-fallback}", want: "fallback", expanded: true},
		{name: "default when empty", in: "${EMPTY:-fallback}", want: "fallback", expanded: true},
		{name: "set value beats default", in: "${ORDERS_HOST:-fallback}", want: "orders.internal", expanded: true},
		{name: "empty default", in: "a${NOPE:-}b", want: "ab", expanded: true},
		{name: "default with colon", in: "${NOPE:-http://x:1}", want: "http://x:1", expanded: true},
		{name: "set but empty without default", in: "[${EMPTY}]", want: "[]", expanded: true},
		{name: "escape", in: "$${ORDERS_HOST}", want: "${ORDERS_HOST}"},
		{name: "escape then reference", in: "$${x} ${ORDERS_HOST}", want: "${x} orders.internal", expanded: true},
		{name: "dollar before escape", in: "$$${ORDERS_HOST}", want: "$${ORDERS_HOST}"},
		{
			name: "missing", in: "${NOPE}", want: "${NOPE}",
			problems: []string{"environment variable NOPE is not set (use ${NOPE:-default} to give a default)"},
		},
		{
			name: "every missing variable is reported", in: "${A1}${A2}", want: "${A1}${A2}",
			problems: []string{
				"environment variable A1 is not set (use ${A1:-default} to give a default)",
				"environment variable A2 is not set (use ${A2:-default} to give a default)",
			},
		},
		{name: "unterminated", in: "x${NOPE", want: "x${NOPE", problems: []string{`unterminated "${" (write "$${" for a literal "${")`}},
		{
			name: "empty name", in: "${}", want: "${}",
			problems: []string{`invalid environment variable name "" in "${...}" (letters, digits and _, not starting with a digit)`},
		},
		{
			name: "name with dash", in: "${A-B}", want: "${A-B}",
			problems: []string{`invalid environment variable name "A-B" in "${...}" (letters, digits and _, not starting with a digit)`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, expanded, problems := interpolate(tt.in, testEnv)
			if got != tt.want || expanded != tt.expanded || !reflect.DeepEqual(problems, tt.problems) {
				t.Errorf("interpolate(%q) = %q, %v, %q; want %q, %v, %q", tt.in, got, expanded, problems, tt.want, tt.expanded, tt.problems)
			}
		})
	}
}

func TestInterpolateNilLookup(t *testing.T) {
	t.Parallel()
	if _, _, problems := interpolate("${HOME}", nil); len(problems) != 1 {
		t.Errorf("problems = %q, want HOME reported unset", problems)
	}
}

// Keys are names in the schema, not values: "${X}" as a key stays literal
// and is then an unknown field.
func TestInterpolationSkipsKeys(t *testing.T) {
	t.Parallel()
	errs := loadErrors(t, "k.yaml", []byte("version: 1\n${ORDERS_HOST}: 1\nroutes:\n  - name: r\n    paths: [/r]\n    upstream: u\n    headers: {request: {set: {\"${ORDERS_HOST}\": \"${ORDERS_HOST}\"}}}\nupstreams: [{name: u, targets: [{url: \"http://${ORDERS_HOST}:1\"}]}]\n"))
	got := errs.Error()
	for _, want := range []string{`["${ORDERS_HOST}"]: unknown field "${ORDERS_HOST}"`, `invalid header name "${ORDERS_HOST}"`} {
		if !strings.Contains(got, want) {
			t.Errorf("errors lack %q:\n%s", want, got)
		}
	}
}

func TestInterpolatedValuesNeverShown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc, want string
	}{
		{"integer", "version: ${SECRET_TOKEN}\n", `expected an integer, got "${SECRET_TOKEN}"`},
		{"duration", "version: 1\ngateway: {shutdown_timeout: \"x${SECRET_TOKEN}\"}\n", `invalid duration "x${SECRET_TOKEN}"`},
		{"size", "version: 1\ngateway: {limits: {max_body_bytes: \"${SECRET_TOKEN}\"}}\n", `invalid size "${SECRET_TOKEN}"`},
		{"disclosure", "version: 1\ngateway: {disclosure: \"${SECRET_TOKEN}\"}\n", `invalid disclosure "${SECRET_TOKEN}"`},
		{"proxy", "version: 1\ngateway: {trusted_proxies: [\"${SECRET_TOKEN}\"]}\n", `invalid CIDR or IP address "${SECRET_TOKEN}"`},
		{"path", "version: 1\nroutes: [{name: r, paths: [\"${SECRET_TOKEN}\"], upstream: u}]\nupstreams: [{name: u, targets: [{url: \"http://a:1\"}]}]\n", `path "${SECRET_TOKEN}" must start with "/"`},
		{"url", "version: 1\nupstreams: [{name: u, targets: [{url: \"http://u:${SECRET_TOKEN}@a:1\"}]}]\n", `target URL "http://u:${SECRET_TOKEN}@a:1" must not contain credentials`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := loadErrors(t, "s.yaml", []byte(tt.doc)).Error()
			if strings.Contains(got, "hunter2") {
				t.Errorf("secret shown: %s", got)
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("errors lack %q:\n%s", tt.want, got)
			}
		})
	}
}
