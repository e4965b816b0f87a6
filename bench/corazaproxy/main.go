// Command corazaproxy is the benchmark's stock Coraza deployment: the
// standard library's httputil.ReverseProxy (as in bench/bareproxy) wrapped in
// Coraza's own net/http middleware, with the OWASP CRS v4 that Pinpoint
// embeds (github.com/corazawaf/coraza-coreruleset, the same version). It
// loads what Coraza's documentation tells a user to load, in that order:
// coraza.conf-recommended, SecRuleEngine On, crs-setup.conf.example and the
// CRS rules. Scenario S3 compares Pinpoint's WAF stage against it.
//
//	corazaproxy -listen 127.0.0.1:18085 -upstream http://127.0.0.1:18081 -conns 64
package main

import (
	"flag"
	"log"
	"net/http"
	"net/url"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18085", "address to serve on")
	upstream := flag.String("upstream", "http://127.0.0.1:18081", "backend URL")
	conns := flag.Int("conns", 64, "idle connections kept to the backend; match the load's connections")
	auditLog := flag.String("audit-log", "/dev/null", "file for Coraza's audit log (coraza.conf-recommended logs relevant 4xx/5xx)")
	flag.Parse()
	target, err := url.Parse(*upstream)
	if err != nil {
		log.Fatal(err)
	}
	handler, err := newHandler(target, *conns, *auditLog)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: *listen, Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
