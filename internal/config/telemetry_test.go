package config

import (
	"strings"
	"testing"
	"time"
)

// fullTelemetry adds the telemetry and redact sections of testdata/full.yaml.
func fullTelemetry(want *Config) {
	ratio := 0.25
	want.Telemetry = Telemetry{Tracing: &Tracing{
		Endpoint:    "http://otel-collector:4318/v1/traces",
		SampleRatio: &ratio,
		Headers:     map[string]string{"Authorization": "Bearer " + testSecret},
		ServiceName: "edge-gateway",
		Timeout:     Duration(5 * time.Second),
	}}
	want.Redact = Redact{Headers: []string{"X-Partner-Secret"}, QueryParams: []string{"ticket"}, JSONFields: []string{"card_number"}}
}

func TestTelemetryDefaultsAndErrors(t *testing.T) {
	t.Parallel()
	base := "version: 1\nroutes: [{name: r, paths: [\"/\"], upstream: u}]\nupstreams: [{name: u, targets: [{url: \"http://127.0.0.1:1\"}]}]\n"
	c, err := Load("t.yaml", []byte(base+"telemetry:\n  tracing: {endpoint: \"http://c:4318/v1/traces\"}\n"), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	tr := c.Telemetry.Tracing
	if tr.Ratio() != 1 || tr.ServiceName != "pinpoint" || tr.Timeout.D() != 10*time.Second {
		t.Errorf("defaults: ratio %v, service %q, timeout %v", tr.Ratio(), tr.ServiceName, tr.Timeout.D())
	}
	for _, tc := range []struct{ doc, want string }{
		{"telemetry:\n  tracing: {sample_ratio: 0.5}\n", "telemetry.tracing.endpoint: required"},
		{"telemetry:\n  tracing: {endpoint: \"otel:4318\"}\n", "invalid endpoint"},
		{"telemetry:\n  tracing: {endpoint: \"grpc://otel:4317\"}\n", "invalid endpoint"},
		{"telemetry:\n  tracing: {endpoint: \"http://c/v1/traces\", sample_ratio: 1.5}\n", "sample_ratio 1.5 must be from 0 to 1"},
		{"telemetry:\n  tracing: {endpoint: \"http://c/v1/traces\", sample_ratio: -0.1}\n", "must be from 0 to 1"},
		{"telemetry:\n  tracing: {endpoint: \"http://c/v1/traces\", headers: {\"bad header\": x}}\n", "invalid header name"},
		{"telemetry:\n  tracing: {endpoint: \"http://c/v1/traces\", service_name: \"  \"}\n", "service_name must not be blank"},
		{"redact:\n  headers: [\"bad header\"]\n", "redact.headers[0]"},
		{"redact:\n  query_params: [\"\"]\n", "redact.query_params[0]"},
		{"redact:\n  json_fields: [\"\"]\n", "redact.json_fields[0]"},
	} {
		_, err := Load("t.yaml", []byte(base+tc.doc), testEnv)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.doc, err, tc.want)
		}
	}
}

func TestTracingHeaderSecretNotInErrors(t *testing.T) {
	t.Parallel()
	doc := "version: 1\ntelemetry:\n  tracing: {endpoint: \"${SECRET_TOKEN}\"}\n"
	_, err := Load("t.yaml", []byte(doc), testEnv)
	if err == nil || strings.Contains(err.Error(), testSecret) {
		t.Errorf("error %v must refuse the endpoint without showing the secret", err)
	}
}
