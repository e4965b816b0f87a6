package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHandlerAnswersFixedBody(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(handler())
	t.Cleanup(srv.Close)

	for _, tc := range []struct {
		name, method, path string
	}{
		{"root", http.MethodGet, "/"},
		{"any path", http.MethodGet, "/orders/42?x=1"},
		{"post", http.MethodPost, "/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status = %d, want 200", resp.StatusCode)
			}
			if len(got) != 64 || string(got) != string(body) {
				t.Errorf("body = %q (%d bytes), want the fixed 64-byte body", got, len(got))
			}
			if resp.ContentLength != 64 || len(resp.TransferEncoding) != 0 {
				t.Errorf("ContentLength = %d, TransferEncoding = %v; want 64 and not chunked", resp.ContentLength, resp.TransferEncoding)
			}
		})
	}
}
