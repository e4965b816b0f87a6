package main

import (
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/stage/limit"
)

// The measurement counts only the window and only admitted requests; a
// short run on the local store must offer about twice what it admits.
func TestMeasureLocal(t *testing.T) {
	t.Parallel()
	s, err := newStage(config.RateLimit{Name: "acc", Rate: "200/s", Key: "consumer"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := measure("local", []*limit.Stage{s}, 200, 100*time.Millisecond, 300*time.Millisecond)
	if r.offered == 0 || r.admitted == 0 || r.admitted > r.offered {
		t.Fatalf("offered %d, admitted %d", r.offered, r.admitted)
	}
	if r.allowed != 60 {
		t.Errorf("allowed %.0f, want 200/s × 0.3s = 60", r.allowed)
	}
	if r.p50 <= 0 || r.p99 < r.p50 {
		t.Errorf("latencies p50 %v p99 %v", r.p50, r.p99)
	}
}
