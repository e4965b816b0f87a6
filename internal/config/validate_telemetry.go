package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Telemetry defaults.
const (
	defaultServiceName    = "pinpoint"
	defaultTracingTimeout = 10 * time.Second
)

// telemetry validates the telemetry block.
func (v *validator) telemetry(path string, t *Telemetry) {
	tr := t.Tracing
	if tr == nil {
		return
	}
	path = join(path, "tracing")
	ep := join(path, "endpoint")
	if tr.Endpoint == "" {
		v.required(ep, "the OTLP/HTTP traces URL, e.g. http://otel-collector:4318/v1/traces")
	} else if u, err := url.Parse(tr.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.failValue(ep, tr.Endpoint, fmt.Sprintf("invalid endpoint %q: an http:// or https:// URL, e.g. http://otel-collector:4318/v1/traces", tr.Endpoint))
	}
	if r := tr.SampleRatio; r != nil && !(*r >= 0 && *r <= 1) {
		v.fail(join(path, "sample_ratio"), fmt.Sprintf("sample_ratio %v must be from 0 to 1", *r))
	}
	for name := range tr.Headers {
		v.headerKey(join(join(path, "headers"), name), name)
	}
	if tr.ServiceName != "" && strings.TrimSpace(tr.ServiceName) == "" {
		v.fail(join(path, "service_name"), "service_name must not be blank")
	}
}

func (t *Telemetry) applyDefaults() {
	if t.Tracing == nil {
		return
	}
	if t.Tracing.ServiceName == "" {
		t.Tracing.ServiceName = defaultServiceName
	}
	if t.Tracing.Timeout == 0 {
		t.Tracing.Timeout = Duration(defaultTracingTimeout)
	}
}

// redact validates the redaction policy.
func (v *validator) redact(path string, r *Redact) {
	for i, h := range r.Headers {
		v.headerName(index(join(path, "headers"), i), h)
	}
	for i, q := range r.QueryParams {
		if q == "" {
			v.fail(index(join(path, "query_params"), i), "a query parameter name must not be empty")
		}
	}
	for i, f := range r.JSONFields {
		if f == "" {
			v.fail(index(join(path, "json_fields"), i), "a JSON field name must not be empty")
		}
	}
}
