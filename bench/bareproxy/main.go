// Command bareproxy is the benchmark's floor for a Go proxy: the standard
// library's httputil.ReverseProxy with Rewrite and SetURL and nothing else.
// Pinpoint's numbers divided by these show what its features cost.
//
//	bareproxy -listen 127.0.0.1:18082 -upstream http://127.0.0.1:18081 -conns 64
//
// bench/ai.sh adds -full-duplex: it proxies POSTs whose replies stream, and
// without it about one stream in a hundred is cut short (see fullDuplex).
package main

import (
	"flag"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

// newProxy forwards every request to target, keeping up to conns idle
// connections to it (the default of 2 would make it reconnect under load).
func newProxy(target *url.URL, conns int) *httputil.ReverseProxy {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	transport.MaxIdleConnsPerHost = conns
	return &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(target) },
		Transport: transport,
	}
}

// fullDuplex lets the proxy keep reading a request's body after it has begun
// writing the reply. Without it the HTTP/1 server closes the body as soon as
// the upstream's reply headers are written; the Transport may still read the
// body once more after copying Content-Length bytes, gets an error, and
// tears down the upstream connection in the middle of a streamed reply
// (golang/go#40747). POSTs with small bodies and flushed streamed replies,
// which is what an AI API is, hit it on about 1% of requests.
func fullDuplex(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).EnableFullDuplex() // only fails for HTTP/2, which allows it anyway
		h.ServeHTTP(w, r)
	})
}

func main() {
	listen := flag.String("listen", "127.0.0.1:18082", "address to serve on")
	upstream := flag.String("upstream", "http://127.0.0.1:18081", "backend URL")
	conns := flag.Int("conns", 64, "idle connections kept to the backend; match the load's connections")
	duplex := flag.Bool("full-duplex", false, "keep request bodies readable while replying (for POSTs with streamed replies)")
	flag.Parse()
	target, err := url.Parse(*upstream)
	if err != nil {
		log.Fatal(err)
	}
	var h http.Handler = newProxy(target, *conns)
	if *duplex {
		h = fullDuplex(h)
	}
	srv := &http.Server{Addr: *listen, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
