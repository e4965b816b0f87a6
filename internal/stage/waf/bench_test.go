package waf

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
	corazahttp "github.com/corazawaf/coraza/v3/http"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// benchRequest is a plain browser-like GET, as the comparison
// sends it.
func benchRequest(method, target string, body []byte) *http.Request {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	r.Host = "api.example.com"
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	r.Header.Set("Accept", "application/json")
	r.Header.Set("Accept-Language", "en-US,en;q=0.5")
	r.Header.Set("Accept-Encoding", "gzip, deflate, br")
	r.Header.Set("Connection", "keep-alive")
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	return r
}

const benchJSON = `{"customer":"c-1042","items":[{"sku":"BK-2201","quantity":2},{"sku":"PN-0007","quantity":1}],"note":"leave at the front door","express":false}`

// stockWAF is Coraza configured the way its README and the CRS docs
// show: the recommended config with the engine on, the CRS setup and all
// CRS rules (paranoia 1, threshold 5, the same as the stage's default).
func stockWAF(b *testing.B) coraza.WAF {
	b.Helper()
	w, err := coraza.NewWAF(coraza.NewWAFConfig().WithRootFS(coreruleset.FS).WithDirectives(
		"Include @coraza.conf-recommended\nSecRuleEngine On\nInclude @crs-setup.conf.example\nInclude @owasp_crs/*.conf"))
	if err != nil {
		b.Fatal(err)
	}
	return w
}

func benchExchange(r *http.Request) *pipeline.Exchange {
	return &pipeline.Exchange{Request: r, ID: "01JDBENCHREQUEST0000000000", ClientIP: netip.MustParseAddr("192.0.2.10"),
		Host: "api.example.com", Path: r.URL.Path, RawURI: r.RequestURI, Trace: make([]pipeline.Step, 0, 8)}
}

// BenchmarkPlainGET is the stage's Handle for a plain GET, CRS paranoia
// 1 with anomaly blocking.
func BenchmarkPlainGET(b *testing.B) {
	s := newStage(b, enabled, "")
	x := benchExchange(benchRequest("GET", "/api/orders?id=42&sort=desc", nil))
	b.ReportAllocs()
	for b.Loop() {
		x.Trace = x.Trace[:0]
		if s.Handle(x).Denied() {
			b.Fatal("denied")
		}
	}
}

// BenchmarkStockCoraza is the same GET through Coraza's own
// http.WrapHandler around a handler that does nothing.
func BenchmarkStockCoraza(b *testing.B) {
	h := corazahttp.WrapHandler(stockWAF(b), http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := benchRequest("GET", "/api/orders?id=42&sort=desc", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkPlainGETVsStock runs the stage and the stock handler on the
// same GET in alternating blocks of iterations, so that both see the
// same machine load (other work on a shared machine moves ns/op between
// separate runs), and reports the time of each and their ratio (stock ÷
// stage: how many times a stock Coraza proxy's throughput the stage
// has). Blocks rather than strict alternation keep each rule set warm in
// the CPU caches, as it is in a server that runs one of them.
//
// api_get is benchRequest's GET with a no-op handler (as
// BenchmarkStockCoraza); bench_s3 is the GET of bench/ scenario S3 (Host,
// User-Agent and Accept only, no query) with a handler that answers like
// its backend (a short text/plain body, which the stock configuration
// inspects in the response phases).
func BenchmarkPlainGETVsStock(b *testing.B) {
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	text := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "from backend")
	})
	s3 := httptest.NewRequest("GET", "/", nil)
	s3.Host = "localhost"
	s3.Header.Set("User-Agent", "pinpoint-bench/S3")
	s3.Header.Set("Accept", "*/*")
	b.Run("api_get", func(b *testing.B) { vsStock(b, benchRequest("GET", "/api/orders?id=42&sort=desc", nil), noop) })
	b.Run("bench_s3", func(b *testing.B) { vsStock(b, s3, text) })
}

func vsStock(b *testing.B, r *http.Request, handler http.Handler) {
	s := newStage(b, enabled, "")
	h := corazahttp.WrapHandler(stockWAF(b), handler)
	x := benchExchange(r)
	const block = 32
	var took [2]time.Duration
	var runs [2]int
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		which := i / block % 2
		i++
		t0 := time.Now()
		if which == 0 {
			x.Trace = x.Trace[:0]
			if s.Handle(x).Denied() {
				b.Fatal("denied")
			}
		} else {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Fatal(w.Code)
			}
		}
		took[which] += time.Since(t0)
		runs[which]++
	}
	if runs[0] == 0 || runs[1] == 0 {
		return
	}
	stage := float64(took[0]) / float64(runs[0])
	stock := float64(took[1]) / float64(runs[1])
	b.ReportMetric(stage, "stage-ns/op")
	b.ReportMetric(stock, "stock-ns/op")
	b.ReportMetric(stock/stage, "ratio")
}

// BenchmarkPOSTJSON is the stage's Handle for a clean JSON body (the
// body read and parsed by Coraza's JSON processor). Each iteration
// rewinds the body (two allocations of the harness).
func BenchmarkPOSTJSON(b *testing.B) {
	s := newStage(b, enabled, "")
	body := []byte(benchJSON)
	r := benchRequest("POST", "/api/orders", body)
	x := benchExchange(r)
	b.ReportAllocs()
	for b.Loop() {
		r.Body = io.NopCloser(bytes.NewReader(body))
		trace := x.Trace[:0]
		*x = pipeline.Exchange{Request: r, ID: x.ID, ClientIP: x.ClientIP, Host: x.Host, Path: x.Path, RawURI: x.RawURI, Trace: trace}
		if s.Handle(x).Denied() {
			b.Fatal("denied")
		}
	}
}

// BenchmarkStockCorazaPOSTJSON is the same POST through WrapHandler.
func BenchmarkStockCorazaPOSTJSON(b *testing.B) {
	h := corazahttp.WrapHandler(stockWAF(b), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	body := []byte(benchJSON)
	r := benchRequest("POST", "/api/orders", body)
	b.ReportAllocs()
	for b.Loop() {
		r.Body = io.NopCloser(bytes.NewReader(body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkBlocked is a blocked SQL injection, building the denial, with
// and without an error log (one flush per request).
func BenchmarkBlocked(b *testing.B) {
	for _, withLog := range []bool{false, true} {
		name := "no_error_log"
		global := enabled
		if withLog {
			name = "error_log"
			global = "enabled: true\nerror_log: " + filepath.Join(b.TempDir(), "waf.log")
		}
		b.Run(name, func(b *testing.B) {
			s := newStage(b, global, "")
			x := benchExchange(benchRequest("GET", "/api/orders?id=1'%20OR%20'1'='1", nil))
			b.ReportAllocs()
			for b.Loop() {
				x.Trace = x.Trace[:0]
				if !s.Handle(x).Denied() {
					b.Fatal("not denied")
				}
			}
		})
	}
}

// BenchmarkEngineBuild builds engines of distinct settings (a different
// threshold each), as a revision with new settings does, and reports the
// heap each one keeps. Coraza caches compiled patterns across engines,
// so an engine after the first costs less than the first.
func BenchmarkEngineBuild(b *testing.B) {
	var kept []*engine
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n := 0
	for b.Loop() {
		n++
		s := &settings{Paranoia: 1, Threshold: 1000 + n}
		e, err := build(s, s.key())
		if err != nil {
			b.Fatal(err)
		}
		kept = append(kept, e)
	}
	b.StopTimer()
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n)/(1<<20), "MiB/engine")
	b.ReportMetric(float64(kept[0].rules), "rules")
	for _, e := range kept {
		e.close()
	}
}
