// Package quota counts calendar quotas (at most N requests per day or
// month) in memory and persists the counts through store.Quotas, so a
// restart does not reset them.
package quota

import (
	"fmt"
	"sync/atomic"
	"time"
)

// Period is a calendar period in a time zone: a day starts at local
// midnight, a month at local midnight of the 1st. It is safe for
// concurrent use.
type Period struct {
	kind string // "day" or "month"
	loc  *time.Location
	// cur caches the window of the last instant asked for, so that
	// requests do not convert to local time each.
	cur atomic.Pointer[Window]
}

// Window is one occurrence of a period: [Start, End), both in UTC.
type Window struct {
	Start, End time.Time
	start, end int64 // Unix nanoseconds
}

// NewPeriod returns the period "day" or "month" in the IANA zone (""
// means UTC).
func NewPeriod(kind, zone string) (*Period, error) {
	if kind != "day" && kind != "month" {
		return nil, fmt.Errorf(`invalid period %q: use "day" or "month"`, kind)
	}
	loc := time.UTC
	if zone != "" {
		var err error
		if loc, err = time.LoadLocation(zone); err != nil {
			return nil, fmt.Errorf(`unknown time zone %q: use an IANA name such as "UTC" or "Europe/Berlin"`, zone)
		}
	}
	return &Period{kind: kind, loc: loc}, nil
}

// Kind is "day" or "month".
func (p *Period) Kind() string { return p.kind }

// Location is the period's time zone.
func (p *Period) Location() *time.Location { return p.loc }

// At returns the window that holds t.
func (p *Period) At(t time.Time) Window {
	ns := t.UnixNano()
	if w := p.cur.Load(); w != nil && w.start <= ns && ns < w.end {
		return *w
	}
	w := p.compute(t)
	p.cur.Store(&w)
	return w
}

// compute finds the window of t. time.Date normalizes a local midnight
// that a DST change skips to the first instant that exists.
func (p *Period) compute(t time.Time) Window {
	l := t.In(p.loc)
	y, m, d := l.Date()
	var start, end time.Time
	if p.kind == "day" {
		start = time.Date(y, m, d, 0, 0, 0, 0, p.loc)
		end = time.Date(y, m, d+1, 0, 0, 0, 0, p.loc)
	} else {
		start = time.Date(y, m, 1, 0, 0, 0, 0, p.loc)
		end = time.Date(y, m+1, 1, 0, 0, 0, 0, p.loc)
	}
	start, end = start.UTC(), end.UTC()
	return Window{Start: start, End: end, start: start.UnixNano(), end: end.UnixNano()}
}
