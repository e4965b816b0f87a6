package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestStockCRSBlocksAttacksAndForwardsTheRest checks that the proxy S3
// measures really runs the CRS in blocking mode: a benchmark of a WAF that
// lets attacks through (DetectionOnly, the recommended file's default)
// would compare nothing.
func TestStockCRSBlocksAttacksAndForwardsTheRest(t *testing.T) {
	t.Parallel()
	var reached atomic.Int64
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "from backend")
	}))
	t.Cleanup(backend.Close)
	target, err := url.Parse(backend.URL)
	if err != nil {
		t.Fatal(err)
	}
	handler, err := newHandler(target, 4, filepath.Join(t.TempDir(), "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(handler)
	t.Cleanup(proxy.Close)

	for _, tc := range []struct {
		name, path string
		status     int
		reaches    bool
	}{
		{"plain GET is forwarded", "/", http.StatusOK, true},
		{"query without an attack is forwarded", "/orders?id=42", http.StatusOK, true},
		{"SQL injection is blocked (942100)", "/?id=1%27%20OR%20%271%27%3D%271", http.StatusForbidden, false},
		{"XSS is blocked (941100)", "/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", http.StatusForbidden, false},
		{"path traversal is blocked (930100)", "/?file=..%2f..%2f..%2fetc%2fpasswd", http.StatusForbidden, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, proxy.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			// The CRS scores requests without these headers (920300, 920320)
			// and wrk sends neither; the cases here isolate the attack rules.
			req.Header.Set("Accept", "*/*")
			req.Header.Set("User-Agent", "corazaproxy-test")
			before := reached.Load()
			resp, err := proxy.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if _, err := io.Copy(io.Discard, resp.Body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if got := reached.Load() > before; got != tc.reaches {
				t.Errorf("backend reached: %v, want %v", got, tc.reaches)
			}
		})
	}
}

func TestStockDirectivesTurnTheEngineOnAfterTheRecommendedFile(t *testing.T) {
	t.Parallel()
	// coraza.conf-recommended sets DetectionOnly; the order is what makes
	// the proxy block.
	d := stockDirectives("/dev/null")
	rec, on := strings.Index(d, "Include @coraza.conf-recommended"), strings.Index(d, "SecRuleEngine On")
	setup, rules := strings.Index(d, "Include @crs-setup.conf.example"), strings.Index(d, "Include @owasp_crs/*.conf")
	if rec < 0 || on < rec || setup < on || rules < setup {
		t.Errorf("directives out of order:\n%s", d)
	}
}
