package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pinpointgw/pinpoint/internal/analytics"
	"github.com/pinpointgw/pinpoint/internal/gateway"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// newAnalytics returns the node's roll-up aggregator, its counters
// registered on reg. The gateway records into it from the first request;
// startAnalytics starts writing it to the store.
func newAnalytics(st store.Store, node string, log *slog.Logger, reg prometheus.Registerer) *analytics.Aggregator {
	return analytics.New(analytics.Options{Node: node, Store: st, Logger: log, Registerer: reg})
}

// startAnalytics writes agg to the store every analytics.flush_interval
// and runs the compactor (closed hours and days, retention of each level,
// read from the revision being served at every run). The returned func
// stops both and writes what was counted since the last flush: call it
// once the listeners have shut down.
func startAnalytics(ctx context.Context, agg *analytics.Aggregator, st store.Store, g *gateway.Gateway, log *slog.Logger) func(context.Context) {
	a := g.Current().Config.Analytics
	agg.SetMaxKeys(a.MaxKeys)
	every := a.FlushInterval.Or(analytics.DefaultFlushInterval)
	agg.Start(ctx, every)
	cctx, cancel := context.WithCancel(ctx)
	compacted := make(chan struct{})
	c := analytics.NewCompactor(analytics.CompactorOptions{
		Store: st, Logger: log,
		// A closed hour waits for every node's last flush of it.
		Grace: max(analytics.DefaultGrace, 2*every),
		Retention: func() analytics.Retention {
			s := g.Current()
			if s == nil {
				return analytics.Retention{} // shutting down: the defaults
			}
			r := s.Config.Analytics.Retention
			return analytics.Retention{Minute: r.Minute.D(), Hour: r.Hour.D(), Day: r.Day.D()}
		},
	})
	go func() {
		defer close(compacted)
		c.Run(cctx)
	}()
	return func(sctx context.Context) {
		cancel()
		<-compacted
		fctx, done := context.WithTimeout(sctx, 10*time.Second)
		defer done()
		if err := agg.Close(fctx); err != nil {
			log.Warn("analytics roll-ups not fully flushed", "error", err)
		}
	}
}
