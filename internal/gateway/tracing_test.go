package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/pinpointgw/pinpoint/internal/telemetry/otlptest"
)

// tracingConfig routes /api/* to url through a rate limit, with tracing to
// endpoint at ratio; 127.0.0.1 is a trusted proxy.
func tracingConfig(url, endpoint, ratio string) string {
	return `version: 1
gateway:
  trusted_proxies: ["127.0.0.1"]
listeners:
  - {name: public, kind: proxy, address: "127.0.0.1:0"}
routes:
  - name: api
    paths: ["/api/*"]
    strip_prefix: true
    upstream: app
    rate_limits: [{name: wide, rate: 1000/s, key: ip}]
upstreams:
  - name: app
    targets: [{url: "` + url + `"}]
telemetry:
  tracing:
    endpoint: "` + endpoint + `"
    sample_ratio: ` + ratio + `
    service_name: edge
`
}

func flushSpans(t *testing.T, h *harness, rc *otlptest.Receiver) map[string][]otlptest.Span {
	t.Helper()
	if err := h.g.FlushTraces(context.Background()); err != nil {
		t.Fatal(err)
	}
	byTrace := map[string][]otlptest.Span{}
	for _, s := range rc.Spans() {
		byTrace[s.TraceID] = append(byTrace[s.TraceID], s)
	}
	return byTrace
}

func spanNamed(spans []otlptest.Span, name string) (otlptest.Span, bool) {
	for _, s := range spans {
		if s.Name == name {
			return s, true
		}
	}
	return otlptest.Span{}, false
}

func TestTracingSampledRequestSpansAndPropagation(t *testing.T) {
	t.Parallel()
	rc := otlptest.NewReceiver(t)
	h := newHarness(t, tracingConfig(backend(t, "app").URL, rc.URL, "1"))

	// A request the gateway starts the trace of: the trace id is the request id.
	resp, body := h.do("GET", "/api/orders?access_token=s3cr3t-value", nil, "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	id := resp.Header.Get("X-Request-Id")
	got := decode(t, body)["traceparent"].(string)
	traceID := strings.ReplaceAll(id, "-", "")
	if !strings.HasPrefix(got, "00-"+traceID+"-") || !strings.HasSuffix(got, "-01") {
		t.Fatalf("upstream traceparent %q, want trace id %s, sampled", got, traceID)
	}

	// A trusted proxy's sampled traceparent is continued.
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	resp, body = h.do("POST", "/api/orders", map[string]string{"Traceparent": parent}, "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	cont := decode(t, body)["traceparent"].(string)

	// A refusal is traced too.
	resp, body = h.do("GET", "/nowhere", nil, "")
	problemBody(t, resp, body, 404, "route.not_found")
	deniedID := resp.Header.Get("X-Request-Id")

	spans := flushSpans(t, h, rc)
	tr := spans[traceID]
	srv, ok := spanNamed(tr, "GET api")
	if !ok {
		t.Fatalf("no server span GET api in trace %s: %+v", traceID, spans)
	}
	if srv.Kind != tracepb.Span_SPAN_KIND_SERVER || srv.ParentID != "" || srv.Error {
		t.Errorf("server span = %+v", srv)
	}
	for k, want := range map[string]string{
		"pinpoint.request_id": id, "pinpoint.route": "api", "http.response.status_code": "200",
		"http.request.method": "GET", "url.path": "/api/orders", "url.query": "access_token=redacted",
	} {
		if srv.Attributes[k] != want {
			t.Errorf("server span %s = %q, want %q", k, srv.Attributes[k], want)
		}
	}
	if srv.Resource["service.name"] != "edge" {
		t.Errorf("resource %v", srv.Resource)
	}
	for _, stage := range []string{"accept", "route", "limit", "upstream"} {
		s, ok := spanNamed(tr, stage)
		if !ok {
			t.Errorf("no %s span: %+v", stage, tr)
			continue
		}
		if s.ParentID != srv.SpanID {
			t.Errorf("%s span parent %s, want the server span %s", stage, s.ParentID, srv.SpanID)
		}
		if s.Attributes["pinpoint.outcome"] != "pass" {
			t.Errorf("%s span outcome %q", stage, s.Attributes["pinpoint.outcome"])
		}
	}
	up, _ := spanNamed(tr, "upstream")
	if up.Kind != tracepb.Span_SPAN_KIND_CLIENT || got != "00-"+traceID+"-"+up.SpanID+"-01" {
		t.Errorf("upstream received %q; upstream span %s kind %v: the upstream must receive the span's context", got, up.SpanID, up.Kind)
	}

	ct := spans["4bf92f3577b34da6a3ce929d0e0e4736"]
	csrv, ok := spanNamed(ct, "POST api")
	if !ok || csrv.ParentID != "00f067aa0ba902b7" {
		t.Fatalf("continued trace: %+v", ct)
	}
	if cup, _ := spanNamed(ct, "upstream"); cont != "00-4bf92f3577b34da6a3ce929d0e0e4736-"+cup.SpanID+"-01" {
		t.Errorf("continued upstream traceparent %q, upstream span %s", cont, cup.SpanID)
	}

	dt := spans[strings.ReplaceAll(deniedID, "-", "")]
	dsrv, ok := spanNamed(dt, "GET")
	if !ok || dsrv.Attributes["pinpoint.code"] != "route.not_found" || dsrv.Attributes["http.response.status_code"] != "404" || dsrv.Attributes["pinpoint.stage"] != "route" {
		t.Errorf("denied request's server span: %+v", dt)
	}
	if rs, _ := spanNamed(dt, "route"); rs.Attributes["pinpoint.outcome"] != "deny" || rs.Attributes["pinpoint.code"] != "route.not_found" {
		t.Errorf("route span of the refusal: %+v", rs)
	}
	if _, ok := spanNamed(dt, "upstream"); ok {
		t.Error("a refused request has an upstream span")
	}
}

func TestTracingUnsampledRequests(t *testing.T) {
	t.Parallel()
	rc := otlptest.NewReceiver(t)
	h := newHarness(t, tracingConfig(backend(t, "app").URL, rc.URL, "0"))

	// Ratio 0: the gateway starts unsampled traces and says so upstream.
	for range 5 {
		resp, body := h.do("GET", "/api/x", nil, "")
		if tp := decode(t, body)["traceparent"].(string); !strings.HasSuffix(tp, "-00") || resp.StatusCode != 200 {
			t.Fatalf("upstream traceparent %q, want the unsampled flag", tp)
		}
	}
	// A trusted proxy's unsampled traceparent is passed on unchanged.
	const unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
	_, body := h.do("GET", "/api/x", map[string]string{"Traceparent": unsampled}, "")
	if tp := decode(t, body)["traceparent"]; tp != unsampled {
		t.Errorf("upstream traceparent %q, want %q", tp, unsampled)
	}
	if spans := flushSpans(t, h, rc); len(spans) != 0 {
		t.Fatalf("unsampled requests exported spans: %+v", spans)
	}

	// A trusted proxy's sampling decision is followed even at ratio 0.
	const sampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	_, body = h.do("GET", "/api/x", map[string]string{"Traceparent": sampled}, "")
	if tp := decode(t, body)["traceparent"].(string); tp == sampled || !strings.HasPrefix(tp, "00-4bf92f3577b34da6a3ce929d0e0e4736-") {
		t.Errorf("upstream traceparent %q, want the gateway's span in the proxy's trace", tp)
	}
	if spans := flushSpans(t, h, rc); len(spans["4bf92f3577b34da6a3ce929d0e0e4736"]) == 0 {
		t.Errorf("the proxy's sampled trace was not exported: %+v", spans)
	}
}

func TestTracingOffKeepsTraceparent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, simpleConfig(backend(t, "app").URL))
	resp, body := h.do("GET", "/api/x", nil, "")
	tp := decode(t, body)["traceparent"].(string)
	if want := "00-" + strings.ReplaceAll(resp.Header.Get("X-Request-Id"), "-", "") + "-"; !strings.HasPrefix(tp, want) || !strings.HasSuffix(tp, "-01") {
		t.Errorf("traceparent %q without tracing, want %s…-01", tp, want)
	}
	if h.g.Current().tracer != nil {
		t.Error("a tracer without telemetry.tracing")
	}
}

func TestTracingReloadKeepsOrReplacesTracer(t *testing.T) {
	t.Parallel()
	rc := otlptest.NewReceiver(t)
	url := backend(t, "app").URL
	h := newHarness(t, tracingConfig(url, rc.URL, "1"))
	first := h.g.Current().tracer
	h.apply(tracingConfig(url, rc.URL, "1") + "# same tracing, another revision\n")
	if h.g.Current().tracer != first {
		t.Error("an unchanged tracing block built a new tracer")
	}
	h.apply(tracingConfig(url, rc.URL, "0.5"))
	if h.g.Current().tracer == first {
		t.Error("a changed tracing block kept the old tracer")
	}
	h.apply(simpleConfig(url))
	if h.g.Current().tracer != nil {
		t.Error("removing telemetry.tracing kept a tracer")
	}
}

// Regression: a client's tracestate must not ride on a trace the gateway
// started instead of the client's (untrusted) traceparent; a trusted
// proxy's tracestate goes on with its trace.
func TestTracestateFollowsItsTrace(t *testing.T) {
	t.Parallel()
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(r.Header.Get("Tracestate")))
	}))
	t.Cleanup(be.Close)
	rc := otlptest.NewReceiver(t)
	for _, tc := range []struct {
		name, trusted, want string
	}{
		{"trusted proxy", "127.0.0.1", "vendor=abc"},
		{"untrusted client", "10.9.9.9", ""},
	} {
		doc := strings.Replace(tracingConfig(be.URL, rc.URL, "1"), `trusted_proxies: ["127.0.0.1"]`, `trusted_proxies: ["`+tc.trusted+`"]`, 1)
		h := newHarness(t, doc)
		_, body := h.do("GET", "/api/x", map[string]string{
			"Traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "Tracestate": "vendor=abc",
		}, "")
		if body != tc.want {
			t.Errorf("%s: upstream tracestate %q, want %q", tc.name, body, tc.want)
		}
	}
}
