package upstream

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
)

func TestRetryBudget(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		requests    int // requests in the current second before retrying
		wantRetries int // retries allowed in that second
	}{
		{"quiet upstream: min_per_second only", 0, 3},
		{"ratio allows more than the minimum", 100, 20},
		{"minimum wins over a small ratio", 10, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				b := newBudget(config.Retry{BudgetRatio: 0.2, MinPerSecond: 3})
				for range tc.requests {
					b.request()
				}
				got := 0
				for b.tryRetry() {
					got++
				}
				if got != tc.wantRetries {
					t.Fatalf("%d retries allowed, want %d", got, tc.wantRetries)
				}
			})
		})
	}
}

func TestRetryBudgetWindow(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newBudget(config.Retry{}) // defaults: ratio 0.2, 3 per second
		for range 100 {
			b.request()
		}
		for range 20 {
			if !b.tryRetry() {
				t.Fatal("retry refused within the ratio")
			}
		}
		if b.tryRetry() {
			t.Fatal("retry allowed beyond ratio and minimum")
		}
		time.Sleep(time.Second)
		// A new second: the minimum is available again, the ratio is spent.
		for range 3 {
			if !b.tryRetry() {
				t.Fatal("per-second minimum refused")
			}
		}
		if b.tryRetry() {
			t.Fatal("retry allowed beyond the per-second minimum")
		}
		time.Sleep(10 * time.Second)
		// The 100 requests left the window; so did the retries.
		for range 3 {
			b.tryRetry()
		}
		if b.tryRetry() {
			t.Fatal("requests older than the window still fund retries")
		}
	})
}
