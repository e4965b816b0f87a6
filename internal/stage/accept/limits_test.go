package accept

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

func TestLimitsCheck(t *testing.T) {
	t.Parallel()
	l := Limits{MaxBodyBytes: 100, MaxHeaderBytes: 200, MaxURIBytes: 50, MaxHeaderCount: 5}
	for _, c := range []struct {
		name    string
		uri     string
		headers map[string][]string
		length  int64
		code    string
		params  map[string]string
	}{
		{"fits", "/a?b=c", map[string][]string{"Accept": {"*/*"}}, 100, "", nil},
		{"URI at the limit", "/" + strings.Repeat("a", 49), nil, 0, "", nil},
		{"URI over the limit", "/" + strings.Repeat("a", 30) + "?" + strings.Repeat("q", 19), nil, 0,
			"request.uri_too_long", map[string]string{"length": "51", "limit": "50"}},
		// Host counts as a field: 4 more make 5.
		{"header count at the limit", "/", map[string][]string{"A": {"1", "2"}, "B": {"1", "2"}}, 0, "", nil},
		{"header count over the limit", "/", map[string][]string{"A": {"1", "2", "3"}, "B": {"1", "2"}}, 0,
			"request.too_many_headers", map[string]string{"count": "6", "limit": "5"}},
		// "Host" + "example.com" is 15 bytes; 185 more reach 200.
		{"header bytes at the limit", "/", map[string][]string{"Cookie": {strings.Repeat("c", 179)}}, 0, "", nil},
		{"header bytes over the limit", "/", map[string][]string{"Cookie": {strings.Repeat("c", 180)}}, 0,
			"request.header_too_large", map[string]string{"size": "201", "limit": "200"}},
		{"declared body over the limit", "/", nil, 101,
			"request.body_too_large", map[string]string{"limit": "100", "length": "101"}},
		{"URI is checked first", "/" + strings.Repeat("a", 60), map[string][]string{"Cookie": {strings.Repeat("c", 300)}}, 500,
			"request.uri_too_long", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := newTestRequest("POST", c.uri, "198.51.100.1:1", c.headers)
			r.ContentLength = c.length
			d := l.Check(&pipeline.Exchange{Request: r})
			checkDecision(t, pipeline.Decision{Denial: d}, c.code, 0, c.params)
		})
	}
	t.Run("zero limits are not checked", func(t *testing.T) {
		t.Parallel()
		r := newTestRequest("POST", "/"+strings.Repeat("a", 5000), "198.51.100.1:1", nil)
		r.ContentLength = 1 << 40
		if d := (Limits{}).Check(&pipeline.Exchange{Request: r}); d != nil {
			t.Fatalf("zero limits refused: %s", d.Reason)
		}
	})
}

// TestLimitBodyOverHTTP streams bodies to a real server whose handler limits
// and reads them, covering declared lengths and chunked bodies.
func TestLimitBodyOverHTTP(t *testing.T) {
	t.Parallel()
	const limit = 1000
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := &pipeline.Exchange{Request: r}
		if d := LimitBody(x, limit); d != nil {
			w.Header().Set("Pinpoint-Code", d.Code)
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		if r.Header.Get("Route-Limit") != "" {
			// A route raising the limit after the gateway's wrap.
			if d := LimitBody(x, 5000); d != nil {
				t.Errorf("route limit refused: %v", d.Reason)
			}
		}
		n, err := io.Copy(io.Discard, r.Body)
		if errors.Is(err, pipeline.ErrBodyTooLarge) {
			w.Header().Set("Pinpoint-Code", "request.body_too_large")
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		if err != nil {
			t.Errorf("read: %v", err)
		}
		io.WriteString(w, itoa(n))
	}))
	t.Cleanup(srv.Close)

	for _, c := range []struct {
		name    string
		size    int
		chunked bool
		route   bool
		code    string
	}{
		{"declared, at the limit", limit, false, false, ""},
		{"declared, over the limit", limit + 1, false, false, "request.body_too_large"},
		{"chunked, at the limit", limit, true, false, ""},
		{"chunked, over the limit", limit + 1, true, false, "request.body_too_large"},
		{"chunked, far over the limit", 100 * limit, true, false, "request.body_too_large"},
		{"chunked, route raises the limit", 3 * limit, true, true, ""},
		{"empty", 0, false, false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var body io.Reader = bytes.NewReader(bytes.Repeat([]byte("b"), c.size))
			if c.chunked {
				body = io.MultiReader(body) // hides the length: sent chunked
			}
			req, _ := http.NewRequest("POST", srv.URL, body)
			if c.route {
				req.Header.Set("Route-Limit", "1")
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if code := resp.Header.Get("Pinpoint-Code"); code != c.code {
				t.Fatalf("code %q (status %d), want %q", code, resp.StatusCode, c.code)
			}
			if c.code == "" && string(got) != itoa(int64(c.size)) {
				t.Fatalf("handler read %s bytes, want %d", got, c.size)
			}
		})
	}
}

func TestLimitedBody(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		size    int
		max     int64
		wantN   int
		wantErr error
	}{
		{"under", 5, 10, 5, nil},
		{"exact", 10, 10, 10, nil},
		{"over by one", 11, 10, 10, pipeline.ErrBodyTooLarge},
		{"no limit", 50, 0, 50, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			// OneByteReader exercises the boundary one read at a time.
			src := io.NopCloser(iotest.OneByteReader(strings.NewReader(strings.Repeat("x", c.size))))
			b := &limitedBody{rc: src, max: c.max}
			got, err := io.ReadAll(b)
			if len(got) != c.wantN || !errors.Is(err, c.wantErr) {
				t.Fatalf("read %d bytes, %v; want %d, %v", len(got), err, c.wantN, c.wantErr)
			}
			if c.wantErr != nil {
				if _, err := b.Read(make([]byte, 1)); !errors.Is(err, c.wantErr) {
					t.Fatalf("later read: %v, want the same error", err)
				}
			}
		})
	}
	t.Run("lowered below what was read", func(t *testing.T) {
		t.Parallel()
		b := &limitedBody{rc: io.NopCloser(strings.NewReader("abcdef")), max: 10}
		buf := make([]byte, 4)
		if n, err := b.Read(buf); n != 4 || err != nil {
			t.Fatalf("first read %d, %v", n, err)
		}
		b.max = 3
		if _, err := b.Read(buf); !errors.Is(err, pipeline.ErrBodyTooLarge) {
			t.Fatalf("read after lowering: %v", err)
		}
	})
}
