package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestReadEvents(t *testing.T) {
	t.Parallel()
	chunk := func(s string) string { return `data: {"choices":[{"delta":{"content":"` + s + `"}}]}` }
	long := `data: {"choices":[{"delta":{"content":"` + strings.Repeat("x", 100<<10) + `"}}]}`
	for _, tc := range []struct {
		name                  string
		body                  string
		done                  bool
		content, events, gaps int
	}{
		{"openai stream", `data: {"choices":[{"delta":{"role":"assistant","content":""}}]}` + "\n\n" +
			chunk("a") + "\n\n" + chunk("b") + "\n\n" + `data: {"choices":[]}` + "\n\n" + "data: [DONE]\n\n", true, 2, 5, 4},
		{"keys in another order", `data: {"choices":[{"delta":{"role":"assistant","content":"a"}}]}` + "\n\n" +
			`data: {"choices":[{"delta":{"content":""}}]}` + "\n\ndata: [DONE]\n\n", true, 1, 3, 2},
		{"CRLF lines", chunk("a") + "\r\n\r\n" + "data: [DONE]\r\n\r\n", true, 1, 2, 1},
		{"no space after data:", `data:{"choices":[{"delta":{"content":"a"}}]}` + "\n\ndata:[DONE]\n\n", true, 1, 2, 1},
		{"last event without its blank line", chunk("a") + "\n\ndata: [DONE]", true, 1, 2, 1},
		{"cut before [DONE]", chunk("a") + "\n\n" + chunk("b") + "\n\n", false, 2, 2, 1},
		{"comments and event names are not events", ": keep-alive\n\nevent: ping\n\n" + chunk("a") + "\n\n", false, 1, 1, 0},
		{"a line longer than the buffer", long + "\n\ndata: [DONE]\n\n", true, 0, 2, 1},
		{"empty", "", false, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var r reply
			var gaps []time.Duration
			if err := readEvents(bufio.NewReaderSize(strings.NewReader(tc.body), 64<<10), &r, &gaps); err != nil {
				t.Fatal(err)
			}
			if r.done != tc.done || r.content != tc.content || r.eventCount != tc.events || len(gaps) != tc.gaps {
				t.Errorf("done %v content %d events %d gaps %d, want %v %d %d %d",
					r.done, r.content, r.eventCount, len(gaps), tc.done, tc.content, tc.events, tc.gaps)
			}
			if tc.events > 0 && r.first.IsZero() {
				t.Error("first event time not set")
			}
		})
	}
}

// streamServer answers like an OpenAI stream with n content chunks, or
// with status when it is not 200; it records the bodies and headers seen.
func streamServer(t *testing.T, status, n int, seen *atomic.Value) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		seen.Store(fmt.Sprintf("%s %s %s %s", r.Method, r.URL.Path, r.Header.Get("Authorization"), body))
		if status != http.StatusOK {
			http.Error(w, "no", status)
			return
		}
		var req struct {
			Stream bool `json:"stream"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if !req.Stream {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"choices":[{"message":{"content":"hi"}}]}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		_, _ = io.WriteString(w, "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n")
		for i := range n {
			fmt.Fprintf(w, "data: {\"choices\":[{\"delta\":{\"content\":\" %d\"}}]}\n\n", i)
			_ = rc.Flush()
		}
		_, _ = io.WriteString(w, "data: [DONE]\n\n")
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRun(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		status     int
		stream     bool
		serverN    int
		wantChunks int
		rate       float64
		check      func(t *testing.T, r result)
	}{
		{name: "non-streamed, closed loop", status: 200, check: func(t *testing.T, r result) {
			if r.ok == 0 || r.ok != len(r.latencies) || r.errors+r.non2xx+r.incomplete != 0 {
				t.Errorf("ok %d of %d, errors %d non2xx %d incomplete %d", r.ok, len(r.latencies), r.errors, r.non2xx, r.incomplete)
			}
			if len(r.ttfb) != 0 || len(r.gaps) != 0 {
				t.Errorf("a non-streamed run has ttfb %d gaps %d", len(r.ttfb), len(r.gaps))
			}
		}},
		{name: "streamed, closed loop", status: 200, stream: true, serverN: 5, wantChunks: 5, check: func(t *testing.T, r result) {
			if r.ok == 0 || r.ok != len(r.latencies) || r.errors+r.non2xx+r.incomplete != 0 {
				t.Fatalf("ok %d of %d, errors %d non2xx %d incomplete %d", r.ok, len(r.latencies), r.errors, r.non2xx, r.incomplete)
			}
			// role + 5 content + [DONE] = 7 events, 6 gaps per stream.
			if r.events != 7*r.ok || len(r.ttfb) != r.ok || len(r.gaps) != 6*r.ok {
				t.Errorf("events %d ttfb %d gaps %d for %d streams, want 7, 1 and 6 each", r.events, len(r.ttfb), len(r.gaps), r.ok)
			}
			if r.ttfb[0] > r.latencies[len(r.latencies)-1] {
				t.Errorf("fastest first event %v after slowest whole reply %v", r.ttfb[0], r.latencies[len(r.latencies)-1])
			}
		}},
		{name: "streams with the wrong chunk count are incomplete", status: 200, stream: true, serverN: 4, wantChunks: 5, check: func(t *testing.T, r result) {
			if r.ok != 0 || r.incomplete == 0 || r.incomplete != len(r.latencies) || len(r.gaps) != 0 {
				t.Errorf("ok %d incomplete %d of %d, gaps %d", r.ok, r.incomplete, len(r.latencies), len(r.gaps))
			}
		}},
		{name: "non-2xx", status: 503, stream: true, check: func(t *testing.T, r result) {
			if r.ok != 0 || r.non2xx == 0 || r.non2xx != len(r.latencies) {
				t.Errorf("ok %d non2xx %d of %d", r.ok, r.non2xx, len(r.latencies))
			}
		}},
		{name: "fixed rate sends the schedule", status: 200, rate: 200, check: func(t *testing.T, r result) {
			if len(r.latencies) != 40 || r.ok != 40 {
				t.Errorf("%d requests, %d ok; want the 40 scheduled (200/s for 200ms)", len(r.latencies), r.ok)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var seen atomic.Value
			srv := streamServer(t, tc.status, tc.serverN, &seen)
			o := options{
				url: srv.URL + "/v1/chat/completions", body: defaultBody("gpt-fast", tc.stream),
				headers: []string{"Authorization: Bearer pp_test"}, stream: tc.stream, chunks: tc.wantChunks,
				conns: 3, duration: 200 * time.Millisecond, rate: tc.rate, timeout: 5 * time.Second,
			}
			r, err := run(o)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, r)
			got, _ := seen.Load().(string)
			want := "POST /v1/chat/completions Bearer pp_test " + string(o.body)
			if got != want {
				t.Errorf("server saw %q, want %q", got, want)
			}
			var out bytes.Buffer
			if err := report(&out, o, r); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"rps ", "p99_ms ", "incomplete "} {
				if !strings.Contains(out.String(), "\n"+k) {
					t.Errorf("report lacks %q:\n%s", k, out.String())
				}
			}
			if strings.Contains(out.String(), "ttfb_p99_ms") != tc.stream {
				t.Errorf("report has ttfb lines: %v, want %v", !tc.stream, tc.stream)
			}
		})
	}
}

func TestDefaultBodyIsJSON(t *testing.T) {
	t.Parallel()
	for _, stream := range []bool{false, true} {
		var v struct {
			Model         string            `json:"model"`
			Messages      []json.RawMessage `json:"messages"`
			Stream        bool              `json:"stream"`
			StreamOptions *struct {
				IncludeUsage bool `json:"include_usage"`
			} `json:"stream_options"`
		}
		if err := json.Unmarshal(defaultBody(`gpt-"fast"`, stream), &v); err != nil {
			t.Fatal(err)
		}
		if v.Model != `gpt-"fast"` || len(v.Messages) != 2 || v.Stream != stream || (v.StreamOptions != nil) != stream {
			t.Errorf("stream=%v: got %+v", stream, v)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	ok := options{url: "http://127.0.0.1:1/v1/chat/completions", conns: 4, duration: time.Second, timeout: time.Second}
	for _, tc := range []struct {
		name    string
		edit    func(*options)
		wantErr string
	}{
		{"valid", func(*options) {}, ""},
		{"valid with rate and header", func(o *options) { o.rate = 10; o.headers = []string{"X-Portkey-Provider: openai"} }, ""},
		{"no url", func(o *options) { o.url = "" }, "-url"},
		{"https", func(o *options) { o.url = "https://127.0.0.1/" }, "https"},
		{"no conns", func(o *options) { o.conns = 0 }, "-conns"},
		{"no duration", func(o *options) { o.duration = 0 }, "-duration"},
		{"negative rate", func(o *options) { o.rate = -1 }, "-rate"},
		{"rate schedules nothing", func(o *options) { o.rate = 0.5 }, "schedules no request"},
		{"header without colon", func(o *options) { o.headers = []string{"Authorization"} }, "Name: value"},
		{"header with CRLF", func(o *options) { o.headers = []string{"A: b\r\nC: d"} }, "Name: value"},
		{"Content-Length header", func(o *options) { o.headers = []string{"content-length: 3"} }, "set by aiload"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := ok
			tc.edit(&o)
			err := validate(o)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error %v, want one mentioning %q", err, tc.wantErr)
			}
		})
	}
}
