package alert_test

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/alert"
	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// BenchmarkMeasure evaluates a share rule over a 5-minute window holding
// 10,000 minute rows (2,000 route × consumer × code combinations a minute)
// in SQLite: the cost of one rule at each evaluate_every.
func BenchmarkMeasure(b *testing.B) {
	st := openStore(b)
	var rows []store.Rollup
	for m := range 5 {
		bucket := base.Add(time.Duration(m) * time.Minute)
		for i := range 2000 {
			r := ok(bucket, fmt.Sprintf("route-%d", i%20), fmt.Sprintf("consumer-%d", i/20), 10)
			if i%4 == 0 {
				r = denied(bucket, r.Route, r.Consumer, "authz.scope_missing", "authz", 3)
			}
			r.Level, r.Kind, r.Node = store.LevelMinute, store.RollupRequest, "gw-1"
			rows = append(rows, r)
		}
	}
	if err := st.AddRollups(b.Context(), rows, nil); err != nil {
		b.Fatal(err)
	}
	share := config.Ratio(0.05)
	r, err := alert.Compile(config.AlertRule{Name: "r", Match: config.AlertMatch{Status: "403"}, ShareAbove: &share, Window: config.Duration(5 * time.Minute)})
	if err != nil {
		b.Fatal(err)
	}
	now := base.Add(4*time.Minute + 30*time.Second)
	b.ReportAllocs()
	for b.Loop() {
		o, err := alert.Measure(b.Context(), st, r, now)
		if err != nil || o.Matched == 0 {
			b.Fatal(o, err)
		}
	}
}

// BenchmarkEvaluateTenRules is one evaluation of ten rules (on different
// routes and codes) over the same 10,000 rows: the rows are read once.
func BenchmarkEvaluateTenRules(b *testing.B) {
	st := openStore(b)
	var rows []store.Rollup
	for m := range 5 {
		bucket := base.Add(time.Duration(m) * time.Minute)
		for i := range 2000 {
			r := ok(bucket, fmt.Sprintf("route-%d", i%20), fmt.Sprintf("consumer-%d", i/20), 10)
			r.Level, r.Kind, r.Node = store.LevelMinute, store.RollupRequest, "gw-1"
			rows = append(rows, r)
		}
	}
	if err := st.AddRollups(b.Context(), rows, nil); err != nil {
		b.Fatal(err)
	}
	var doc strings.Builder
	doc.WriteString("version: 1\nroutes:\n")
	for i := range 20 {
		fmt.Fprintf(&doc, "  - {name: route-%d, paths: [\"/r%d\"], upstream: u}\n", i, i)
	}
	doc.WriteString("upstreams:\n  - {name: u, targets: [{url: \"http://10.0.0.5:8080\"}]}\nalerts:\n  rules:\n")
	for i := range 10 {
		fmt.Fprintf(&doc, "    - {name: r%d, route: route-%d, match: {code: \"authz.*\"}, share_above: 5%%}\n", i, i)
	}
	cfg := loadConfig(b, doc.String(), nil)
	a, err := alert.New(alert.Options{
		Rollups: st, History: st, Logger: testLogger(io.Discard), Now: func() time.Time { return base.Add(270 * time.Second) },
		Current: func() (*config.Config, int64) { return cfg, 1 },
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		a.Evaluate(b.Context())
	}
}
