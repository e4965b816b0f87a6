package validate

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// TestThroughHTTP runs the stage on real server requests, as the gateway
// does, in front of an upstream that echoes the body: validated bodies,
// chunked or not, reach the upstream byte for byte, and refused ones do
// not reach it at all.
func TestThroughHTTP(t *testing.T) {
	t.Parallel()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Upstream", "yes")
		io.Copy(w, r.Body)
	}))
	defer upstream.Close()
	target, _ := url.Parse(upstream.URL)
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) }}

	s, err := New(Options{Route: "orders", MaxBodyBytes: 1 << 10, MaxJSONDepth: 8, OpenAPI: &config.OpenAPI{Spec: "testdata/orders.yaml"}})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := &pipeline.Exchange{Request: r, Path: r.URL.Path}
		if d := s.Handle(x); d.Denied() {
			w.Header().Set("Pinpoint-Code", d.Denial.Code)
			w.WriteHeader(http.StatusTeapot)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()

	valid := `{"customer": "ACME", "items": [{"sku": "ABC-123", "qty": 2}]}`
	for _, c := range []struct {
		name, body string
		chunked    bool
		code       string
	}{
		{"valid", valid, false, ""},
		{"valid chunked", valid, true, ""},
		{"invalid chunked", `{"customer": "ACME", "items": []}`, true, "request.invalid_body"},
		{"too deep", `{"customer": "ACME", "items": [[[[[[[[[]]]]]]]]]}`, false, "request.json_too_deep"},
		{"too large chunked", `{"customer": "` + strings.Repeat("x", 2000) + `"}`, true, "request.body_too_large"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(c.body)
			if c.chunked {
				body = io.MultiReader(body) // hides the length: sent chunked
			}
			req, _ := http.NewRequest("POST", front.URL+"/shop/v1/orders", body)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Tenant", "acme")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if c.code != "" {
				if resp.StatusCode != http.StatusTeapot || resp.Header.Get("Pinpoint-Code") != c.code {
					t.Fatalf("status %d code %q, want the stage to refuse with %s", resp.StatusCode, resp.Header.Get("Pinpoint-Code"), c.code)
				}
				return
			}
			if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Upstream") != "yes" {
				t.Fatalf("status %d (code %q), want the upstream's answer", resp.StatusCode, resp.Header.Get("Pinpoint-Code"))
			}
			if string(got) != c.body {
				t.Errorf("upstream received %q, want %q", got, c.body)
			}
		})
	}
}
