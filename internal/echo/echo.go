// Package echo is the built-in demo backend that `pinpoint serve` starts on
// loopback for the quickstart configuration. It answers every request with a
// JSON description of what it received, so a new user can see what the
// gateway forwarded.
//
//	GET /anything            → 200 JSON echo of method, path, query and headers
//	GET /status/{code}       → answers with that status (e.g. /status/403)
//	GET /delay/{ms}          → waits up to 10 s, then echoes
//	GET /sse                 → a short server-sent event stream
package echo

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"time"
)

// Handler returns the echo handler.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.PathValue("code"))
		if err != nil || code < 200 || code > 599 {
			http.Error(w, "status must be a number from 200 to 599", http.StatusBadRequest)
			return
		}
		writeEcho(w, r, code)
	})
	mux.HandleFunc("/delay/{ms}", func(w http.ResponseWriter, r *http.Request) {
		ms, err := strconv.Atoi(r.PathValue("ms"))
		if err != nil || ms < 0 || ms > 10000 {
			http.Error(w, "delay must be 0 to 10000 ms", http.StatusBadRequest)
			return
		}
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		writeEcho(w, r, http.StatusOK)
	})
	mux.HandleFunc("/sse", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		rc := http.NewResponseController(w)
		for i := 1; i <= 3; i++ {
			fmt.Fprintf(w, "id: %d\nevent: tick\ndata: {\"n\":%d}\n\n", i, i)
			if err := rc.Flush(); err != nil {
				return
			}
			select {
			case <-time.After(200 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { writeEcho(w, r, http.StatusOK) })
	return mux
}

type echoBody struct {
	Service string              `json:"service"`
	Status  int                 `json:"status"`
	Method  string              `json:"method"`
	Host    string              `json:"host"`
	Path    string              `json:"path"`
	Query   string              `json:"query,omitempty"`
	Headers map[string][]string `json:"headers"`
}

func writeEcho(w http.ResponseWriter, r *http.Request, status int) {
	h := make(map[string][]string, len(r.Header))
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "Authorization" || k == "Cookie" {
			h[k] = []string{"(redacted by the echo backend)"}
			continue
		}
		h[k] = r.Header[k]
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(echoBody{
		Service: "pinpoint-echo", Status: status, Method: r.Method, Host: r.Host,
		Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Headers: h,
	})
}

// Start serves the echo handler on a free loopback port until ctx ends, and
// returns its base URL ("http://127.0.0.1:PORT").
func Start(ctx context.Context) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("echo backend: %w", err)
	}
	srv := &http.Server{Handler: Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return "http://" + ln.Addr().String(), nil
}
