package validate

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

func benchStage(b *testing.B, spec string) *Stage {
	b.Helper()
	s, err := New(Options{
		Route: "orders", MaxBodyBytes: 1 << 20, MaxJSONDepth: 64, MaxJSONFieldBytes: 64 << 10,
		OpenAPI: &config.OpenAPI{Spec: spec},
	})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// orderBody is a valid createOrder body of about 1 KiB.
func orderBody() []byte {
	var b strings.Builder
	b.WriteString(`{"customer": "ACME Corporation", "priority": "high", "email": "buyer@example.com", "items": [`)
	for i := 0; b.Len() < 1000; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`{"sku": "SKU-` + strconv.Itoa(1000+i) + `", "qty": ` + strconv.Itoa(i%9+1) + `, "note": "handle with care"}`)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// BenchmarkHandleGET is a valid GET with a path parameter, query
// parameters, a header and a cookie.
func BenchmarkHandleGET(b *testing.B) {
	s := benchStage(b, "testdata/orders.yaml")
	r := httptest.NewRequest("GET", "/shop/v1/orders?limit=10&status=open", nil)
	r.Header.Set("X-Tenant", "acme")
	r.Header.Set("Cookie", "view=full")
	x := &pipeline.Exchange{Request: r, Path: r.URL.Path, Trace: make([]pipeline.Step, 0, 4)}
	b.ReportAllocs()
	for b.Loop() {
		x.Trace = x.Trace[:0]
		if d := s.Handle(x); d.Ends() {
			b.Fatal(d.Denial.Reason)
		}
	}
}

// BenchmarkHandleGETPathParam is a valid GET of /orders/{id}.
func BenchmarkHandleGETPathParam(b *testing.B) {
	s := benchStage(b, "testdata/orders.yaml")
	r := httptest.NewRequest("GET", "/shop/v1/orders/12345", nil)
	x := &pipeline.Exchange{Request: r, Path: r.URL.Path, Trace: make([]pipeline.Step, 0, 4)}
	b.ReportAllocs()
	for b.Loop() {
		x.Trace = x.Trace[:0]
		if d := s.Handle(x); d.Ends() {
			b.Fatal(d.Denial.Reason)
		}
	}
}

// BenchmarkHandlePOST is a valid POST with a 1 KiB JSON body: read,
// scanned for the JSON limits, decoded and validated.
func BenchmarkHandlePOST(b *testing.B) {
	s := benchStage(b, "testdata/orders.yaml")
	body := orderBody()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/shop/v1/orders", bytes.NewReader(body))
		r.Header.Set("X-Tenant", "acme")
		r.Header.Set("Content-Type", "application/json")
		x := &pipeline.Exchange{Request: r, Path: r.URL.Path}
		if d := s.Handle(x); d.Ends() {
			b.Fatal(d.Denial.Reason)
		}
	}
}

// BenchmarkRequestOnly is the cost of building the request and exchange
// in BenchmarkHandlePOST, to subtract from it.
func BenchmarkRequestOnly(b *testing.B) {
	body := orderBody()
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/shop/v1/orders", bytes.NewReader(body))
		r.Header.Set("X-Tenant", "acme")
		r.Header.Set("Content-Type", "application/json")
		x := &pipeline.Exchange{Request: r, Path: r.URL.Path}
		if _, _, err := x.Body(1 << 20); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandlePOSTInvalid is a POST whose body breaks the schema in
// three places.
func BenchmarkHandlePOSTInvalid(b *testing.B) {
	s := benchStage(b, "testdata/orders.yaml")
	body := []byte(`{"priority": "urgent", "items": [{"sku": "ABC-123", "qty": 0}, {"sku": "x", "qty": 1}]}`)
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/shop/v1/orders", bytes.NewReader(body))
		r.Header.Set("X-Tenant", "acme")
		r.Header.Set("Content-Type", "application/json")
		x := &pipeline.Exchange{Request: r, Path: r.URL.Path}
		if d := s.Handle(x); d.Denial == nil || d.Denial.Code != "request.invalid_body" {
			b.Fatal("not refused")
		}
	}
}

// BenchmarkHandleLimitsOnly is the JSON-limits-only stage on the 1 KiB body.
func BenchmarkHandleLimitsOnly(b *testing.B) {
	s, err := New(Options{Route: "any", MaxBodyBytes: 1 << 20, MaxJSONDepth: 64, MaxJSONFieldBytes: 64 << 10})
	if err != nil {
		b.Fatal(err)
	}
	body := orderBody()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/any", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		x := &pipeline.Exchange{Request: r, Path: r.URL.Path}
		if d := s.Handle(x); d.Ends() {
			b.Fatal(d.Denial.Reason)
		}
	}
}

// BenchmarkHandle31 is a valid PUT to a 3.1 document's operation that
// kin-openapi's own validator checks.
func BenchmarkHandle31(b *testing.B) {
	s := benchStage(b, "testdata/catalog31.yaml")
	body := []byte(`{"name": "Lamp", "price": 12.5, "description": null, "tags": ["home", "light"]}`)
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("PUT", "/items/ABC-123?version=2", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		x := &pipeline.Exchange{Request: r, Path: r.URL.Path}
		if d := s.Handle(x); d.Ends() {
			b.Fatal(d.Denial.Reason)
		}
	}
}

// BenchmarkHandle31Schema2020 is a valid POST to the operation whose
// schema needs kin-openapi's JSON Schema 2020-12 validator.
func BenchmarkHandle31Schema2020(b *testing.B) {
	s := benchStage(b, "testdata/catalog31.yaml")
	body := []byte(`{"kind": "deleted", "version": 2, "reason": "gone", "data": {"id": 7}}`)
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/events", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/cloudevents+json")
		x := &pipeline.Exchange{Request: r, Path: r.URL.Path}
		if d := s.Handle(x); d.Ends() {
			b.Fatal(d.Denial.Reason)
		}
	}
}

// BenchmarkScanJSON is the JSON limit scanner alone.
func BenchmarkScanJSON(b *testing.B) {
	for _, c := range []struct {
		name string
		body []byte
	}{
		{"order1KiB", orderBody()},
		{"strings64KiB", []byte(`["` + strings.Repeat("lorem ipsum dolor sit amet ", 2400) + `"]`)},
		{"escapes", []byte(`["` + strings.Repeat(`\u00e9\n\"x`, 4000) + `"]`)},
		{"nested", []byte(strings.Repeat("[", 60) + strings.Repeat("]", 60))},
	} {
		b.Run(c.name, func(b *testing.B) {
			l := jsonLimits{depth: 64, field: 1 << 20}
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				if p := scanJSON(c.body, l); p.kind != problemNone {
					b.Fatal(p.what)
				}
			}
		})
	}
}

// BenchmarkDecodeJSON compares the stage's decoder with encoding/json's
// decoding into any on the 1 KiB body.
func BenchmarkDecodeJSON(b *testing.B) {
	body := orderBody()
	b.Run("stage", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			_ = decodeJSON(body)
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			d := json.NewDecoder(bytes.NewReader(body))
			d.UseNumber()
			var v any
			if err := d.Decode(&v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
