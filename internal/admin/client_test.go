package admin_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/problem"
)

func TestAPIErrorText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  admin.APIError
		want string
	}{
		{"full", admin.APIError{Status: 404, Problem: problem.Problem{Title: "Not found", Detail: "Revision 9 was not found.", Code: "admin.not_found", RequestID: "r1"}},
			"Not found: Revision 9 was not found. (code admin.not_found, request r1)"},
		{"no detail", admin.APIError{Status: 401, Problem: problem.Problem{Title: "Admin token required", Code: "admin.unauthorized"}},
			"Admin token required (code admin.unauthorized)"},
		{"bare", admin.APIError{Status: 502, Problem: problem.Problem{Title: "Bad Gateway"}}, "Bad Gateway"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

// A proxy between the CLI and the gateway may answer with HTML; the client
// still reports a usable error.
func TestClientNonProblemError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("X-Request-Id", "proxy-1")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html>bad gateway</html>"))
	}))
	t.Cleanup(srv.Close)
	c := &admin.Client{BaseURL: srv.URL + "/", HTTP: srv.Client()}
	_, err := c.Revisions(t.Context(), 0, 0)
	var apiErr *admin.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want *APIError", err)
	}
	if apiErr.Status != 502 || apiErr.Problem.Title != "Bad Gateway" || apiErr.Problem.RequestID != "proxy-1" {
		t.Errorf("APIError = %+v", apiErr)
	}
}

func TestClientConnectionRefused(t *testing.T) {
	t.Parallel()
	// Reserve a port and close it so that nothing listens there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	c := &admin.Client{BaseURL: "http://" + addr}
	err = c.Health(t.Context())
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("err = %v, want ECONNREFUSED", err)
	}
}
