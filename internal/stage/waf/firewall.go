package waf

import (
	"context"
	"errors"
	"strconv"
	"sync"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// Firewall is the compiled waf block of one revision; the routes' stages
// are built from it. Its engines come from the Engines it was compiled
// by, shared with other revisions.
type Firewall struct {
	engines *Engines
	global  *config.WAF
	log     *errorLog
	// ctx is the context every transaction of this revision runs with: it
	// carries the error log to the engines' error callback.
	ctx context.Context

	mu   sync.Mutex
	used map[string]*engine
}

// Stage builds the waf stage of a route with settings route (nil when
// the route has no waf block). It returns nil, nil when the WAF does not
// run on the route (config.WAF.RouteEnabled), and the gateway leaves the
// stage out of the chain. Errors are positioned relative to the route's
// waf block ("exclusions[0].rule_ids[1]"); routes with the same settings
// share one engine.
func (f *Firewall) Stage(route *config.RouteWAF) (*Stage, error) {
	g := f.global
	if !g.RouteEnabled(route) {
		return nil, nil
	}
	s := f.settings(route)
	eng, err := f.engine(s, true)
	if err != nil {
		return nil, err
	}
	limit := int64(g.BodyLimit)
	if limit <= 0 {
		limit = defaultBodyLimit
	}
	mode := g.Mode
	if route != nil && route.Mode != "" {
		mode = route.Mode
	}
	st := &Stage{
		eng:        eng,
		ctx:        f.ctx,
		log:        f.log,
		reportOnly: mode == "report_only",
		body:       g.InspectsBody(),
		bodyLimit:  limit,
		limitParam: strconv.FormatInt(limit, 10),
		reject:     g.BodyLimitAction == "reject",
		facts:      facts{paranoia: s.Paranoia, threshold: s.Threshold, bodyLimit: limit},
	}
	return st, nil
}

// settings are the engine settings of a route with overrides route (nil:
// the block's own).
func (f *Firewall) settings(route *config.RouteWAF) *settings {
	g := f.global
	s := &settings{
		Paranoia:   g.ParanoiaLevel,
		Threshold:  g.InboundAnomalyThreshold,
		Directives: g.Directives,
	}
	if s.Paranoia < 1 {
		s.Paranoia = 1
	}
	for i, x := range g.Exclusions {
		s.Exclusions = append(s.Exclusions, exclusion{WAFExclusion: x, Path: "exclusions[" + strconv.Itoa(i) + "]"})
	}
	if route != nil {
		if route.ParanoiaLevel > 0 {
			s.Paranoia = route.ParanoiaLevel
		}
		if route.InboundAnomalyThreshold > 0 {
			s.Threshold = route.InboundAnomalyThreshold
		}
		for i, x := range route.Exclusions {
			s.Exclusions = append(s.Exclusions, exclusion{WAFExclusion: x, Path: "exclusions[" + strconv.Itoa(i) + "]", Route: true})
		}
	}
	if s.Threshold < 1 {
		s.Threshold = defaultThreshold
	}
	return s
}

// Defaults for a block that did not go through config defaults.
const (
	defaultBodyLimit = 128 << 10
	defaultThreshold = 5
)

// engine returns the engine of s and remembers that this revision uses
// it. A build error is positioned for the block being compiled: the waf
// block for Compile, the route's block for Stage (forRoute). A route can
// make a field of the waf block fail only through its overrides (Compile
// built the block's own fields first), so that error names the field
// under waf and is positioned at the route's block.
func (f *Firewall) engine(s *settings, forRoute bool) (*engine, error) {
	eng, err := f.engines.engine(s)
	if err != nil {
		var pe *pieceError
		switch {
		case !errors.As(err, &pe):
			return nil, err
		case pe.piece.path == "":
			return nil, errors.New(pe.msg)
		case forRoute && !pe.piece.route:
			return nil, errors.New("with this route's settings, waf." + pe.field() + " fails: " + pe.msg)
		default:
			return nil, config.Fieldf(pe.field(), "%s", pe.msg)
		}
	}
	f.mu.Lock()
	f.used[eng.key] = eng
	f.mu.Unlock()
	return eng, nil
}
