package gateway

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
	"github.com/pinpointgw/pinpoint/internal/telemetry"
)

// BenchmarkProxy measures a routed request through the whole gateway to a
// real backend over loopback, next to the same request sent directly, so the
// ratio is what the gateway adds. Profile it with -cpuprofile.
func BenchmarkProxy(b *testing.B) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("0123456789012345678901234567890123456789012345678901234567890123"))
	}))
	defer be.Close()
	st, err := sqlite.Open(context.Background(), b.TempDir()+"/pinpoint.db")
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	g := New(Options{Store: st, Metrics: telemetry.New()})
	if _, err := g.apply(context.Background(), admin.ApplyRequest{Filename: "bench.yaml", Document: []byte(simpleConfig(be.URL))}); err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	gw := httptest.NewServer(g)
	defer gw.Close()

	run := func(b *testing.B, url string) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := client.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
	b.Run("direct", func(b *testing.B) { run(b, be.URL+"/orders") })
	b.Run("gateway", func(b *testing.B) { run(b, gw.URL+"/api/orders") })
}
