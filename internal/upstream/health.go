package upstream

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// Active health check defaults (config.ActiveHealthCheck).
const (
	defaultCheckInterval      = 10 * time.Second
	defaultCheckTimeout       = 2 * time.Second
	defaultHealthyThreshold   = 2
	defaultUnhealthyThreshold = 3
	// probeBodyLimit is how much of a probe's response body is read so the
	// connection can be reused; the rest is discarded with the connection.
	probeBodyLimit = 4 << 10
)

// activeHealth is the compiled active health check.
type activeHealth struct {
	path      string
	interval  time.Duration
	timeout   time.Duration
	healthy   int
	unhealthy int
	expected  []int // empty: any 2xx or 3xx
}

func newActiveHealth(c config.ActiveHealthCheck) activeHealth {
	h := activeHealth{
		path:      c.Path,
		interval:  c.Interval.Or(defaultCheckInterval),
		timeout:   c.Timeout.Or(defaultCheckTimeout),
		healthy:   c.HealthyThreshold,
		unhealthy: c.UnhealthyThreshold,
		expected:  slices.Clone(c.ExpectedStatus),
	}
	if h.healthy <= 0 {
		h.healthy = defaultHealthyThreshold
	}
	if h.unhealthy <= 0 {
		h.unhealthy = defaultUnhealthyThreshold
	}
	if h.path != "" && h.path[0] != '/' {
		h.path = "/" + h.path
	}
	return h
}

func (h activeHealth) enabled() bool { return h.path != "" }

func (h activeHealth) statusOK(code int) bool {
	if len(h.expected) == 0 {
		return code >= 200 && code < 400
	}
	return slices.Contains(h.expected, code)
}

// watch probes t until ctx ends: the first probe after a random delay within
// one interval (so that targets, and gateways restarted together, do not
// probe in lockstep), then every interval.
func (u *Upstream) watch(ctx context.Context, t *target) {
	timer := time.NewTimer(rand.N(u.health.interval))
	defer timer.Stop()
	okRun, failRun := 0, 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		pctx, cancel := context.WithTimeout(ctx, u.health.timeout)
		err := u.probe(pctx, t)
		cancel()
		if ctx.Err() != nil {
			return // closing; a probe cut short says nothing about the target
		}
		if err == nil {
			okRun, failRun = okRun+1, 0
			if okRun >= u.health.healthy && t.down.CompareAndSwap(true, false) {
				u.log.Info("target healthy again", "target", t.display, "checks_passed", okRun)
			}
		} else {
			okRun, failRun = 0, failRun+1
			t.setLastErr("health check: " + err.Error())
			if failRun >= u.health.unhealthy && t.down.CompareAndSwap(false, true) {
				u.log.Warn("target marked down by health checks", "target", t.display, "error", err.Error())
			}
		}
		timer.Reset(u.health.interval)
	}
}

// httpProbe sends GET target+path through the upstream's transport (so TLS
// settings apply) and judges the status.
func (u *Upstream) httpProbe(ctx context.Context, t *target) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.scheme+"://"+t.host+t.basePath+u.health.path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "pinpoint-health-check")
	resp, err := u.transport.RoundTrip(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, probeBodyLimit))
	_ = resp.Body.Close()
	if !u.health.statusOK(resp.StatusCode) {
		return fmt.Errorf("unexpected status %d", resp.StatusCode)
	}
	return nil
}

// passiveFailure counts a failure of real traffic against t and ejects it
// for ejectFor once the threshold is reached. After the ejection ends the
// target is tried again with a fresh count.
func (u *Upstream) passiveFailure(t *target, now time.Time, reason string) {
	t.setLastErr(reason)
	if u.passiveThreshold == 0 {
		return
	}
	n := t.fails.Add(1)
	if n >= u.passiveThreshold && t.fails.CompareAndSwap(n, 0) {
		until := now.Add(u.ejectFor)
		t.ejectedUntil.Store(until.UnixNano())
		u.log.Warn("target ejected after consecutive failures", "target", t.display,
			"failures", n, "until", until, "error", reason)
	}
}

// passiveSuccess resets t's consecutive failure count.
func (u *Upstream) passiveSuccess(t *target) {
	if t.fails.Load() != 0 {
		t.fails.Store(0)
	}
}

// retryAfter estimates when a target will be usable again: the earliest end
// of an ejection, or one check interval for targets that active checks
// marked down. At least one second.
func (u *Upstream) retryAfter(now time.Time) time.Duration {
	best := time.Duration(-1)
	for _, t := range u.targets {
		var d time.Duration
		if until := t.ejectedUntil.Load(); until > now.UnixNano() {
			d = time.Duration(until - now.UnixNano())
		}
		if t.down.Load() {
			d = max(d, u.health.interval)
		}
		if best < 0 || d < best {
			best = d
		}
	}
	return max(best, time.Second)
}
