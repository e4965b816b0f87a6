// Command backend is the benchmark's upstream: a net/http server that answers
// every request with the same 64-byte text body over keep-alive connections,
// so that what the benchmark measures is the proxy in front of it.
//
//	backend -listen 127.0.0.1:18081
package main

import (
	"flag"
	"log"
	"net/http"
	"strconv"
	"time"
)

// body is the fixed reply: exactly 64 bytes, small enough that the numbers
// measure per-request proxy overhead rather than copying.
var body = []byte("pinpoint bench backend: a fixed 64-byte reply for each request.\n")

// handler writes body with an explicit Content-Length, so responses are
// never chunked and connections stay alive.
func handler() http.Handler {
	length := strconv.Itoa(len(body))
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Content-Length", length)
		_, _ = w.Write(body)
	})
}

func main() {
	listen := flag.String("listen", "127.0.0.1:18081", "address to serve on")
	flag.Parse()
	srv := &http.Server{
		Addr:              *listen,
		Handler:           handler(),
		ReadHeaderTimeout: 10 * time.Second,
	}
	log.Fatal(srv.ListenAndServe())
}
