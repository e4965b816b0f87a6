package authz

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// echoUpstream is a backend that answers with the body it received and
// its declared length.
func echoUpstream(t *testing.T) *url.URL {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("X-Got-Length", r.Header.Get("Content-Length"))
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// gatewayFront runs the stage in front of a reverse proxy to upstream, the
// way the gateway does, and returns the front server's URL.
func gatewayFront(t *testing.T, s *Stage, upstream *url.URL) string {
	t.Helper()
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(upstream) }}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := &pipeline.Exchange{Request: r, Path: r.URL.Path}
		x.Identity = pipeline.Identity{Authenticated: true, ConsumerID: "orders-app"}
		if d := s.Handle(x); d.Denied() {
			w.Header().Set("Pinpoint-Code", d.Denial.Code)
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, d.Denial.Reason)
			return
		}
		proxy.ServeHTTP(w, x.Request)
	}))
	t.Cleanup(front.Close)
	return front.URL
}

func ownerStage(t *testing.T, mode string, maxBody int64) *Stage {
	t.Helper()
	s, err := New(&config.Authorize{
		Owner: []config.OwnerRule{{BodyField: "/owner", Equals: "consumer.id"}},
		Mode:  mode,
	}, nil, Route{MaxBodyBytes: maxBody})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func post(t *testing.T, url, contentType, body string, chunked bool) (*http.Response, string) {
	t.Helper()
	var rd io.Reader = strings.NewReader(body)
	if chunked {
		rd = io.MultiReader(rd) // hides the length: sent chunked
	}
	resp, err := http.Post(url+"/orders", contentType, rd)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestOwnerBodyReachesUpstream(t *testing.T) {
	t.Parallel()
	front := gatewayFront(t, ownerStage(t, "", 1024), echoUpstream(t))
	for _, c := range []struct {
		name       string
		body, ct   string
		chunked    bool
		wantStatus int
	}{
		{"owner", `{"owner": "orders-app", "items": [1, 2, 3]}`, "application/json", false, 200},
		{"owner, chunked", `{"owner": "orders-app"}`, "application/json", true, 200},
		{"not the owner", `{"owner": "globex"}`, "application/json", false, 403},
		{"not JSON", `owner=orders-app`, "application/x-www-form-urlencoded", false, 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			resp, got := post(t, front, c.ct, c.body, c.chunked)
			if resp.StatusCode != c.wantStatus {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, got, c.wantStatus)
			}
			if c.wantStatus != 200 {
				if resp.Header.Get("Pinpoint-Code") != "authz.not_owner" {
					t.Errorf("code %q", resp.Header.Get("Pinpoint-Code"))
				}
				return
			}
			if got != c.body {
				t.Errorf("upstream got body %q, want %q", got, c.body)
			}
			// Content-Length is kept as the client declared it.
			if want := strconv.Itoa(len(c.body)); !c.chunked && resp.Header.Get("X-Got-Length") != want {
				t.Errorf("upstream Content-Length %q, want %s", resp.Header.Get("X-Got-Length"), want)
			}
		})
	}
}

// Regression: in report_only mode an over-limit body is reported, and the
// upstream still receives all of it, not just the part the stage read.
func TestOwnerBodyOverLimitReportOnlyKeepsWholeBody(t *testing.T) {
	t.Parallel()
	front := gatewayFront(t, ownerStage(t, "report_only", 64), echoUpstream(t))
	body := `{"owner": "orders-app", "pad": "` + strings.Repeat("p", 500) + `"}`
	resp, got := post(t, front, "application/json", body, false)
	if resp.StatusCode != 200 || got != body {
		t.Fatalf("status %d, upstream got %d bytes, want %d", resp.StatusCode, len(got), len(body))
	}
}

func TestOwnerBodyStaysReadable(t *testing.T) {
	t.Parallel()
	s := ownerStage(t, "", 1024)
	body := `{"owner": "orders-app"}`
	r := httptest.NewRequest("POST", "/orders", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	x := &pipeline.Exchange{Request: r, Identity: pipeline.Identity{Authenticated: true, ConsumerID: "orders-app"}}
	if d := s.Handle(x); d.Denied() {
		t.Fatalf("denied: %s", d.Denial.Reason)
	}
	if x.Request.ContentLength != int64(len(body)) {
		t.Errorf("ContentLength %d", x.Request.ContentLength)
	}
	for i := range 2 {
		b, _ := io.ReadAll(x.Request.Body)
		if string(b) != body {
			t.Fatalf("read %d: %q", i, b)
		}
		if x.Request.GetBody == nil {
			t.Fatal("GetBody is nil")
		}
		rc, err := x.Request.GetBody()
		if err != nil {
			t.Fatal(err)
		}
		x.Request.Body = rc
	}
}

// Regression: the gateway's own body limit (accept.LimitBody) reports
// pipeline.ErrBodyTooLarge; the stage answers 413, not not_owner.
func TestOwnerBodyGatewayLimit(t *testing.T) {
	t.Parallel()
	s := ownerStage(t, "", 1024)
	r := httptest.NewRequest("POST", "/orders", nil)
	r.Header.Set("Content-Type", "application/json")
	r.ContentLength = -1
	r.Body = io.NopCloser(io.MultiReader(strings.NewReader(`{"owner": "orders-app"`), errReader{pipeline.ErrBodyTooLarge}))
	x := &pipeline.Exchange{Request: r, Identity: pipeline.Identity{Authenticated: true, ConsumerID: "orders-app"}}
	d := s.Handle(x)
	checkDecision(t, d, "request.body_too_large", 413, map[string]string{"limit": "1024"}, nil)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestOwnerNonJSONBodyIsNotRead(t *testing.T) {
	t.Parallel()
	s := ownerStage(t, "report_only", 1024)
	body := `owner=orders-app`
	r := httptest.NewRequest("POST", "/orders", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	x := &pipeline.Exchange{Request: r, Identity: pipeline.Identity{Authenticated: true, ConsumerID: "orders-app"}}
	if d := s.Handle(x); d.Denied() {
		t.Fatalf("denied in report_only: %s", d.Denial.Reason)
	}
	checkTrace(t, x.Trace, pipeline.Continue(), []string{"authz.not_owner"}, "owner", false)
	if b, _ := io.ReadAll(x.Request.Body); string(b) != body {
		t.Errorf("body after the stage %q", b)
	}
}
