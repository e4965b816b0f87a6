package alert

import (
	"fmt"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/problem"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// Measures a rule compares with its threshold.
const (
	// MeasureShare is matching requests / the rule's requests (0..1).
	MeasureShare = "share"
	// MeasureCount is the number of matching requests.
	MeasureCount = "count"
)

// Rule is a compiled alert rule: what it selects from the roll-ups and
// the threshold it fires above.
type Rule struct {
	// Config is the rule as configured (defaults applied).
	Config config.AlertRule
	// Measure is MeasureShare or MeasureCount.
	Measure string
	// Threshold fires when the measure is above it.
	Threshold float64

	status, class int // exact status or status class matched; 0: any
	code          string
	codeFamily    bool // code is a family ("authz.*" → "authz")
}

// Compile builds a rule from its configuration (validated by config.Load,
// defaults applied).
func Compile(c config.AlertRule) (*Rule, error) {
	r := &Rule{Config: c}
	switch {
	case c.ShareAbove != nil && c.CountAbove == nil:
		r.Measure, r.Threshold = MeasureShare, c.ShareAbove.F()
	case c.CountAbove != nil && c.ShareAbove == nil:
		r.Measure, r.Threshold = MeasureCount, float64(*c.CountAbove)
	default:
		return nil, fmt.Errorf("alert rule %q: give exactly one of share_above and count_above", c.Name)
	}
	if c.Window.D() < time.Minute {
		return nil, fmt.Errorf("alert rule %q: window %s is under a minute", c.Name, c.Window.D())
	}
	if s := c.Match.Status; s != "" {
		var ok bool
		if r.status, r.class, ok = config.ParseStatusMatch(s); !ok {
			return nil, fmt.Errorf("alert rule %q: invalid status %q", c.Name, s)
		}
	}
	r.code = c.Match.Code
	if fam, ok := strings.CutSuffix(r.code, ".*"); ok {
		r.code, r.codeFamily = fam, true
	}
	return r, nil
}

// Name is the rule's name.
func (r *Rule) Name() string { return r.Config.Name }

// matchedKind is the roll-up kind the rule counts.
func (r *Rule) matchedKind() string {
	if r.Config.Match.WouldDeny {
		return store.RollupWouldDeny
	}
	return store.RollupRequest
}

// inScope reports whether a row belongs to the rule's requests (its route
// and consumer).
func (r *Rule) inScope(row *store.Rollup) bool {
	return (r.Config.Route == "" || row.Route == r.Config.Route) &&
		(r.Config.Consumer == "" || row.Consumer == r.Config.Consumer)
}

// matched returns how many of the row's requests (or would-be refusals)
// the rule counts.
func (r *Rule) matched(row *store.Rollup) int64 {
	m := &r.Config.Match
	if row.Kind != r.matchedKind() || !r.inScope(row) {
		return 0
	}
	if m.Stage != "" && row.Stage != m.Stage || m.Rule != "" && row.Rule != m.Rule {
		return 0
	}
	if r.code != "" {
		if r.codeFamily && problem.Family(row.Code) != r.code || !r.codeFamily && row.Code != r.code {
			return 0
		}
	}
	if r.class != 0 && statusClass(row.StatusClass) != r.class {
		return 0
	}
	if r.status != 0 {
		c, ok := problem.Lookup(row.Code)
		if !ok || c.Status != r.status {
			return 0
		}
	}
	if m.UpstreamError {
		return row.UpstreamErrors
	}
	return row.Count
}

// statusClass normalizes a roll-up's status class to 1..5 (rows may carry
// the class digit or a status).
func statusClass(sc int) int {
	if sc >= 100 {
		return sc / 100
	}
	return sc
}

// describe renders what the rule measures, for notifications:
// "share of requests with status 403 on route orders".
func (r *Rule) describe() string {
	c := r.Config
	var what []string
	m := c.Match
	if m.Status != "" {
		what = append(what, "status "+m.Status)
	}
	if m.Code != "" {
		what = append(what, "code "+m.Code)
	}
	if m.Stage != "" {
		what = append(what, "stage "+m.Stage)
	}
	if m.Rule != "" {
		what = append(what, "rule "+m.Rule)
	}
	if m.UpstreamError {
		what = append(what, "an upstream error")
	}
	noun := "requests"
	if m.WouldDeny {
		noun = "would-be refusals"
	}
	s := noun
	if len(what) > 0 {
		s += " with " + strings.Join(what, ", ")
	}
	if c.Route != "" {
		s += " on route " + c.Route
	}
	if c.Consumer != "" {
		s += " from consumer " + c.Consumer
	}
	if r.Measure == MeasureShare {
		return "share of " + s
	}
	return s
}
