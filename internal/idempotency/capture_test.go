package idempotency

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"reflect"
	"testing"
)

func TestUpstreamHeader(t *testing.T) {
	t.Parallel()
	pre := http.Header{
		"Vary":                        {"Origin"},
		"X-Request-Id":                {"r1"},
		"Access-Control-Allow-Origin": {"https://app.example"},
		"Ratelimit-Remaining":         {"9"},
	}
	h := http.Header{
		"Vary":                        {"Origin", "Accept"},
		"X-Request-Id":                {"r1"},
		"Access-Control-Allow-Origin": {"https://app.example"},
		"Ratelimit-Remaining":         {"7"}, // the upstream replaced it
		"Content-Type":                {"application/json"},
		"Location":                    {"/orders/1"},
		"Set-Cookie":                  {"s=1", "t=2"},
		"Date":                        {"Sun, 01 Mar 2026 12:00:00 GMT"},
		"Connection":                  {"close"},
		"Transfer-Encoding":           {"chunked"},
		"Trailer":                     {"X-Checksum"},
		"Keep-Alive":                  {"timeout=5"},
		http.TrailerPrefix + "X-Sum":  {"abc"},
	}
	want := http.Header{
		"Vary":                {"Accept"},
		"Ratelimit-Remaining": {"7"},
		"Content-Type":        {"application/json"},
		"Location":            {"/orders/1"},
	}
	got := upstreamHeader(h, pre)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stored headers\n got %v\nwant %v", got, want)
	}
	h["Location"][0] = "/changed"
	if got["Location"][0] != "/orders/1" {
		t.Error("stored headers share value slices with the live response")
	}
}

func TestCapture(t *testing.T) {
	t.Parallel()
	t.Run("informational responses pass through", func(t *testing.T) {
		t.Parallel()
		var c capture
		handled := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			defer close(handled)
			c.start(w, 100)
			c.Header().Set("Link", "</style.css>; rel=preload")
			c.WriteHeader(http.StatusEarlyHints)
			c.Header().Del("Link")
			c.Header().Set("Content-Type", "text/plain")
			c.WriteHeader(http.StatusCreated)
			_, _ = c.Write([]byte("hello"))
			c.Flush()
		}))
		defer srv.Close()
		var early int
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			Got1xxResponse: func(code int, _ textproto.MIMEHeader) error { early = code; return nil },
		})
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		<-handled
		if early != http.StatusEarlyHints || resp.StatusCode != http.StatusCreated || string(body) != "hello" {
			t.Errorf("client got %d, then %d %q", early, resp.StatusCode, body)
		}
		if c.status != http.StatusCreated || string(c.body) != "hello" || c.header.Get("Content-Type") != "text/plain" || c.header.Get("Link") != "" {
			t.Errorf("captured %d %q %v", c.status, c.body, c.header)
		}
	})
	t.Run("a declared length over the limit is not buffered", func(t *testing.T) {
		t.Parallel()
		var c capture
		c.start(httptest.NewRecorder(), 4)
		c.Header().Set("Content-Length", "5")
		_, _ = c.Write([]byte("hello"))
		if !c.over || c.body != nil || c.status != http.StatusOK {
			t.Errorf("over %v, body %q, status %d", c.over, c.body, c.status)
		}
	})
	t.Run("server errors are not buffered", func(t *testing.T) {
		t.Parallel()
		var c capture
		c.start(httptest.NewRecorder(), 100)
		c.WriteHeader(http.StatusBadGateway)
		_, _ = c.Write([]byte("down"))
		if c.body != nil {
			t.Errorf("kept %q of a 502", c.body)
		}
	})
}
