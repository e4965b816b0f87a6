package waf

import (
	"errors"
	"io/fs"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// Engines builds and keeps the compiled rule sets. Parsing the CRS is
// expensive, so an engine is built once per distinct set of settings
// (paranoia level, threshold, body limit, directives, exclusions) and
// shared by every route, and every config revision, that asks for the
// same. The gateway creates one Engines at start, compiles each
// revision's waf block with Compile, calls Retain with the Firewall of
// the revision it switched to (which lets the engines and error logs no
// longer used go), and calls Close at shutdown. It is safe for
// concurrent use.
type Engines struct {
	logger *slog.Logger

	mu      sync.Mutex
	engines map[string]*slot
	logs    map[string]*errorLog
	closed  bool
}

// slot is an engine being built or built; waiters block on ready.
type slot struct {
	ready chan struct{}
	eng   *engine
	err   error
}

// NewEngines returns an empty engine cache. logger (may be nil) receives
// one line per engine built, with its build time, and error-log write
// failures.
func NewEngines(logger *slog.Logger) *Engines {
	return &Engines{logger: logger, engines: map[string]*slot{}, logs: map[string]*errorLog{}}
}

// Compile validates the waf block of a revision and returns what the
// routes' stages are built from. It builds the engine of the block's own
// settings (which every route without overrides uses), so that an error
// in waf.directives or waf.exclusions is reported once, positioned
// relative to the block: "directives[0]", "exclusions[1].targets[0]",
// "body_limit", "error_log". The gateway calls it only when a route
// runs the WAF (config.WAF.RouteEnabled), with the defaults applied.
func (e *Engines) Compile(w *config.WAF) (*Firewall, error) {
	if w.BodyLimit > maxBodyLimit {
		return nil, config.Fieldf("body_limit", "at most 1GiB: the WAF holds an inspected body in memory")
	}
	var errs []error
	for i, d := range w.Directives {
		if msg := checkManaged(d); msg != "" {
			errs = append(errs, config.Fieldf("directives["+strconv.Itoa(i)+"]", "%s", msg))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	fw := &Firewall{engines: e, global: w, used: map[string]*engine{}}
	if _, err := fw.engine(fw.settings(nil), false); err != nil {
		return nil, err
	}
	if w.ErrorLog != "" {
		l, err := e.errorLog(w.ErrorLog)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, config.Fieldf("error_log", "cannot open %s: %v", w.ErrorLog, err)
		}
		fw.log = l
	}
	fw.ctx = withErrorLog(fw.log)
	return fw, nil
}

// engine returns the engine of s, building it unless it is cached or
// being built.
func (e *Engines) engine(s *settings) (*engine, error) {
	key := s.key()
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, errors.New("waf engines are closed")
	}
	if sl, ok := e.engines[key]; ok {
		e.mu.Unlock()
		<-sl.ready
		return sl.eng, sl.err
	}
	sl := &slot{ready: make(chan struct{})}
	e.engines[key] = sl
	e.mu.Unlock()

	sl.eng, sl.err = build(s, key)
	close(sl.ready)
	if sl.err != nil {
		// Not kept: the next revision may have fixed what failed.
		e.mu.Lock()
		if e.engines[key] == sl {
			delete(e.engines, key)
		}
		e.mu.Unlock()
		return nil, sl.err
	}
	if e.logger != nil {
		e.logger.Info("waf engine built", "engine", key, "rules", sl.eng.rules,
			"paranoia_level", s.Paranoia, "inbound_anomaly_threshold", s.Threshold,
			"duration", sl.eng.built.Round(time.Millisecond))
	}
	return sl.eng, nil
}

// errorLog returns the open error log at path, opening it once.
func (e *Engines) errorLog(path string) (*errorLog, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if l, ok := e.logs[path]; ok {
		return l, nil
	}
	l, err := openErrorLog(path, e.logger)
	if err != nil {
		return nil, err
	}
	e.logs[path] = l
	return l, nil
}

// Retain keeps the engines and error logs the given firewalls use and
// lets the others go: the gateway calls it after switching to a new
// revision, with that revision's Firewall (none when no route runs the
// WAF). Requests of the replaced revision still running finish on the
// engines they hold; lines they log to a closed error log are dropped.
func (e *Engines) Retain(keep ...*Firewall) {
	engines, logs := map[string]bool{}, map[*errorLog]bool{}
	for _, fw := range keep {
		if fw == nil {
			continue
		}
		fw.mu.Lock()
		for k := range fw.used {
			engines[k] = true
		}
		fw.mu.Unlock()
		if fw.log != nil {
			logs[fw.log] = true
		}
	}
	var drop []*engine
	var closeLogs []*errorLog
	e.mu.Lock()
	for k, sl := range e.engines {
		select {
		case <-sl.ready:
		default:
			continue // still building, for a revision being compiled
		}
		if !engines[k] {
			drop = append(drop, sl.eng)
			delete(e.engines, k)
		}
	}
	for p, l := range e.logs {
		if !logs[l] {
			closeLogs = append(closeLogs, l)
			delete(e.logs, p)
		}
	}
	e.mu.Unlock()
	for _, eng := range drop {
		eng.close()
	}
	for _, l := range closeLogs {
		if err := l.close(); err != nil && e.logger != nil {
			e.logger.Error("waf error log close failed", "path", l.path, "err", err)
		}
	}
}

// Len returns the number of engines built and kept.
func (e *Engines) Len() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, sl := range e.engines {
		select {
		case <-sl.ready:
			n++
		default:
		}
	}
	return n
}

// Close flushes and closes the error logs and drops every engine; the
// gateway calls it at shutdown, after the last request. Compile fails
// afterwards.
func (e *Engines) Close() error {
	e.mu.Lock()
	e.closed = true
	logs := e.logs
	e.logs = map[string]*errorLog{}
	e.mu.Unlock()
	e.Retain()
	var errs []error
	for _, l := range logs {
		errs = append(errs, l.close())
	}
	return errors.Join(errs...)
}
