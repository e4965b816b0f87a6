package main

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
	txhttp "github.com/corazawaf/coraza/v3/http"
)

// stockDirectives is the configuration Coraza's and the CRS's documentation
// give for the embedded rule set, in their order: the recommended engine
// settings (which leave the engine in DetectionOnly), the engine turned on,
// the CRS setup (anomaly scoring, paranoia level 1, inbound threshold 5) and
// the rules. Only the audit log's destination is chosen here.
func stockDirectives(auditLog string) string {
	return "Include @coraza.conf-recommended\n" +
		"SecRuleEngine On\n" +
		"SecAuditLog " + strconv.Quote(auditLog) + "\n" +
		"Include @crs-setup.conf.example\n" +
		"Include @owasp_crs/*.conf\n"
}

// newWAF compiles the stock configuration.
func newWAF(auditLog string) (coraza.WAF, error) {
	return coraza.NewWAF(coraza.NewWAFConfig().
		WithRootFS(coreruleset.FS).
		WithDirectives(stockDirectives(auditLog)))
}

// newHandler is the WAF in front of a reverse proxy to target that keeps up
// to conns idle connections to it (the default of 2 would make it reconnect
// under load).
func newHandler(target *url.URL, conns int, auditLog string) (http.Handler, error) {
	waf, err := newWAF(auditLog)
	if err != nil {
		return nil, err
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	transport.MaxIdleConnsPerHost = conns
	proxy := &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(target) },
		Transport: transport,
	}
	return txhttp.WrapHandler(waf, proxy), nil
}
