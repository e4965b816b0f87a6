package analytics

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// Point is one interval of a series.
type Point struct {
	// Time is the start of the interval (UTC).
	Time time.Time `json:"time"`
	Totals
}

// Series is GET /admin/stats/series: the range cut into intervals of Step.
type Series struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Step is the interval, e.g. "1m0s", "1h0m0s".
	Step   string        `json:"step"`
	StepNs time.Duration `json:"step_ns"`
	// Points has one entry per interval, empty ones included.
	Points []Point `json:"points"`
}

// maxPoints bounds a series.
const maxPoints = 5000

// steps are the intervals AutoStep picks from.
var steps = []time.Duration{time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, day, 7 * day}

// AutoStep returns the smallest of 1m, 5m, 10m, 15m, 30m, 1h, 3h, 6h, 12h,
// 1d and 7d that cuts d into at most points intervals.
func AutoStep(d time.Duration, points int) time.Duration {
	for _, s := range steps {
		if d/s <= time.Duration(points) {
			return s
		}
	}
	return steps[len(steps)-1]
}

// ParseStep reads a series step: "minute", "hour", "day" or a duration
// that is a whole number of minutes ("5m", "6h"). "" returns 0 (automatic).
func ParseStep(s string) (time.Duration, error) {
	switch strings.ToLower(s) {
	case "":
		return 0, nil
	case "minute":
		return time.Minute, nil
	case "hour":
		return time.Hour, nil
	case "day":
		return day, nil
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(days, "%d", &n); err != nil || n <= 0 || fmt.Sprint(n) != days {
			return 0, errors.New("want minute, hour, day or a duration such as 5m, 1h or 7d")
		}
		d = time.Duration(n) * day
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, errors.New("want minute, hour, day or a duration such as 5m, 1h or 7d")
		}
	}
	if d < time.Minute || d%time.Minute != 0 {
		return 0, errors.New("a step is a whole number of minutes, at least 1m")
	}
	return d, nil
}

// Series cuts f's range into intervals of step (0: AutoStep for about 60
// points) and totals each. A row of a level coarser than step (an hour
// row in a series of minutes, where minute rows have aged out) counts in
// the interval its period starts in.
func (r *Reader) Series(ctx context.Context, f Filter, step time.Duration) (*Series, error) {
	since, until := f.Since.UTC(), f.Until.UTC()
	if !until.After(since) {
		return nil, queryErrorf("until (%s) must be after since (%s)", until.Format(time.RFC3339), since.Format(time.RFC3339))
	}
	if step == 0 {
		step = AutoStep(until.Sub(since), 60)
	}
	if step < time.Minute {
		return nil, queryErrorf("step must be at least 1m")
	}
	first := since.Truncate(step)
	n := int((until.Sub(first) + step - 1) / step)
	if n > maxPoints {
		return nil, queryErrorf("%d points of %s; at most %d (use a larger step)", n, step, maxPoints)
	}
	req, err := load(ctx, r.Store, f, store.RollupRequest)
	if err != nil {
		return nil, err
	}
	wd, err := load(ctx, r.Store, wouldDenyFilter(f), store.RollupWouldDeny)
	if err != nil {
		return nil, err
	}
	byPoint := func(rows []store.Rollup) [][]store.Rollup {
		out := make([][]store.Rollup, n)
		for _, row := range rows {
			i := int(row.Bucket.Sub(first) / step)
			if i >= 0 && i < n {
				out[i] = append(out[i], row)
			}
		}
		return out
	}
	reqs, wds := byPoint(req), byPoint(wd)
	s := &Series{Since: since, Until: until, Step: step.String(), StepNs: step, Points: make([]Point, n)}
	for i := range s.Points {
		s.Points[i] = Point{Time: first.Add(time.Duration(i) * step), Totals: totals(reqs[i], wds[i])}
	}
	return s, nil
}
