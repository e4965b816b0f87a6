package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/pinpointgw/pinpoint/internal/analytics"
)

// Stats query bounds.
const (
	defaultStatsSince = time.Hour
	defaultStatsLimit = 10
	maxStatsLimit     = 100
	maxStatsFilter    = 256
)

// parseStatsFilter reads the parameters every /admin/stats endpoint takes:
//
//	since=1h | 7d | 2026-01-01T00:00:00Z   start of the range (default 1h ago)
//	until=...                              end of the range (default now)
//	route=R consumer=C code=CODE stage=S   exact filters
func parseStatsFilter(q url.Values, now time.Time) (analytics.Filter, error) {
	f := analytics.Filter{Since: now.Add(-defaultStatsSince), Until: now}
	var err error
	if s := q.Get("since"); s != "" {
		if f.Since, err = ParseSince(s, now); err != nil {
			return f, errors.New("since: " + err.Error())
		}
	}
	if s := q.Get("until"); s != "" {
		if f.Until, err = ParseSince(s, now); err != nil {
			return f, errors.New("until: " + err.Error())
		}
	}
	if !f.Until.After(f.Since) {
		return f, errors.New("until must be after since")
	}
	for _, p := range []struct {
		name string
		to   *string
	}{{"route", &f.Route}, {"consumer", &f.Consumer}, {"code", &f.Code}, {"stage", &f.Stage}} {
		v := q.Get(p.name)
		if len(v) > maxStatsFilter {
			return f, errors.New(p.name + ": at most " + strconv.Itoa(maxStatsFilter) + " bytes")
		}
		*p.to = v
	}
	return f, nil
}

func statsLimit(q url.Values) (int, error) {
	n, err := intParam(q.Get("limit"), defaultStatsLimit, 1, maxStatsLimit)
	if err != nil {
		return 0, errors.New("limit: " + err.Error())
	}
	return int(n), nil
}

// statsFailure answers a reader error: 400 for a query it cannot answer
// as asked, 503 for a store failure.
func (h *handler) statsFailure(w http.ResponseWriter, r *http.Request, err error) {
	var qe *analytics.QueryError
	if errors.As(err, &qe) {
		badRequest(w, r, qe.Msg)
		return
	}
	h.storeFailure(w, r, "stats", err)
}

// statsSummary serves GET /admin/stats/summary?since=&until=&route=&consumer=&code=&stage=&limit=.
func (h *handler) statsSummary(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := parseStatsFilter(q, time.Now())
	if err != nil {
		badRequest(w, r, err.Error())
		return
	}
	n, err := statsLimit(q)
	if err != nil {
		badRequest(w, r, err.Error())
		return
	}
	s, err := h.Stats.Summary(r.Context(), f, n)
	if err != nil {
		h.statsFailure(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

// statsSeries serves GET /admin/stats/series?since=&until=&step=&route=&consumer=&code=&stage=.
func (h *handler) statsSeries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := parseStatsFilter(q, time.Now())
	if err != nil {
		badRequest(w, r, err.Error())
		return
	}
	step, err := analytics.ParseStep(q.Get("step"))
	if err != nil {
		badRequest(w, r, "step: "+err.Error())
		return
	}
	s, err := h.Stats.Series(r.Context(), f, step)
	if err != nil {
		h.statsFailure(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

// statsTop serves GET /admin/stats/top?by=&kind=&since=&until=&route=&consumer=&code=&stage=&limit=.
func (h *handler) statsTop(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := parseStatsFilter(q, time.Now())
	if err != nil {
		badRequest(w, r, err.Error())
		return
	}
	n, err := statsLimit(q)
	if err != nil {
		badRequest(w, r, err.Error())
		return
	}
	by := q.Get("by")
	if by == "" {
		badRequest(w, r, "by is required: route, code, consumer, stage or rule")
		return
	}
	t, err := h.Stats.Top(r.Context(), f, by, q.Get("kind"), n)
	if err != nil {
		h.statsFailure(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}
