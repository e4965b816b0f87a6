package limit

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/redisconn/redistest"
	"github.com/pinpointgw/pinpoint/internal/stage/stagetest"
)

// overload sends requests at twice rate per second, with jittered gaps,
// on the virtual clock through the stages in turn (several gateway
// nodes), for warm (to use up the burst) and then window, and returns how
// many were admitted during the window.
func overload(t *testing.T, clock *stagetest.Clock, stages []*Stage, rate int, warm, window time.Duration) int {
	t.Helper()
	rnd := rand.New(rand.NewPCG(1, 2))
	gap := time.Second / time.Duration(2*rate)
	end := clock.Now().Add(warm + window)
	measureFrom := clock.Now().Add(warm)
	admitted, i := 0, 0
	for clock.Now().Before(end) {
		a := handle(stages[i%len(stages)], Who{Consumer: "c1", Credential: "k1"})
		if !clock.Now().Before(measureFrom) && a.code() == "" {
			admitted++
		}
		if c := a.code(); c != "" && c != "ratelimit.exceeded" {
			t.Fatalf("unexpected %s: %s", c, a.d.Denial.Reason)
		}
		i++
		// Gaps vary by ±50% around the mean, so arrivals are irregular.
		clock.Advance(gap/2 + time.Duration(rnd.Int64N(int64(gap))))
	}
	return admitted
}

func checkAccuracy(t *testing.T, admitted, rate int, window time.Duration) {
	t.Helper()
	want := float64(rate) * window.Seconds()
	dev := (float64(admitted) - want) / want
	t.Logf("admitted %d in %v at 2× overload; the limit allows %.0f (%+.2f%%)", admitted, window, want, 100*dev)
	if math.Abs(dev) > 0.02 {
		t.Errorf("admitted %d, want %.0f ± 2%%", admitted, want)
	}
}

// Under 2× overload the local store admits the rate, within 2%.
func TestAccuracyLocal(t *testing.T) {
	t.Parallel()
	for _, rate := range []int{7, 100, 1000} {
		clock := stagetest.NewClock(t0)
		s := newNode(t, clock).stage(t, []config.RateLimit{{Name: "l", Rate: strconv.Itoa(rate) + "/s", Key: "consumer"}}, nil)
		checkAccuracy(t, overload(t, clock, []*Stage{s}, rate, 2*time.Second, 10*time.Second), rate, 10*time.Second)
	}
}

// Two gateway nodes sharing a Redis limit admit the rate between them,
// within 2%.
func TestAccuracyRedisTwoNodes(t *testing.T) {
	t.Parallel()
	cfg := redistest.Config(t)
	clock := stagetest.NewClock(t0)
	limits := []config.RateLimit{{Name: "l", Rate: "100/s", Key: "consumer", Store: "redis"}}
	a := redisNode(t, clock, openRedis(t, cfg)).stage(t, limits, nil)
	b := redisNode(t, clock, openRedis(t, cfg)).stage(t, limits, nil)
	checkAccuracy(t, overload(t, clock, []*Stage{a, b}, 100, 2*time.Second, 10*time.Second), 100, 10*time.Second)
}
