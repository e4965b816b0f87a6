// Command bareproxy is the benchmark's floor for a Go proxy: the standard
// library's httputil.ReverseProxy with Rewrite and SetURL and nothing else.
// Pinpoint's numbers divided by these show what its features cost.
//
//	bareproxy -listen 127.0.0.1:18082 -upstream http://127.0.0.1:18081 -conns 64
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

func main() {
	listen := flag.String("listen", "127.0.0.1:18082", "address to serve on")
	upstream := flag.String("upstream", "http://127.0.0.1:18081", "backend URL")
	conns := flag.Int("conns", 64, "idle connections kept to the backend; match the load's connections")
	flag.Parse()
	target, err := url.Parse(*upstream)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: *listen, Handler: newProxy(target, *conns), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
