package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/pinpointgw/pinpoint/internal/ai"
	"github.com/pinpointgw/pinpoint/internal/ai/meter"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// startAIUsage starts the AI usage recorder and a meter that already
// counts what this month's usage records say was spent, so that a
// restart does not hand out budgets a second time.
func startAIUsage(ctx context.Context, st store.Store, log *slog.Logger) (*meter.Meter, *ai.Recorder) {
	m := meter.New(nil)
	now := time.Now().UTC()
	since := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	if rows, err := st.AISpend(ctx, since); err != nil {
		log.Warn("AI budgets start from zero: this month's usage could not be read", "error", err)
	} else {
		m.Seed(rows)
	}
	return m, ai.NewRecorder(st, ai.RecorderOptions{Logger: log})
}
