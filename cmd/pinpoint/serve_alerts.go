package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pinpointgw/pinpoint/internal/alert"
	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/gateway"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// alertDrain is how long a stopping gateway waits for queued alert
// notifications.
const alertDrain = 5 * time.Second

// startAlerts evaluates the alert rules of the revision g serves, in the
// background, until ctx ends or the returned stop is called; stop waits
// for queued notifications up to alertDrain.
func startAlerts(ctx context.Context, g *gateway.Gateway, st store.Store, reg prometheus.Registerer, node string, log *slog.Logger) (stop func()) {
	a, err := alert.New(alert.Options{
		Rollups: st, History: st, Node: node, Logger: log, Registerer: reg,
		Current: func() (*config.Config, int64) {
			if s := g.Current(); s != nil {
				return s.Config, s.Revision
			}
			return nil, 0
		},
	})
	if err != nil {
		log.Error("alerts are off", "error", err)
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Run(ctx, alertDrain)
	}()
	return func() { cancel(); <-done }
}
