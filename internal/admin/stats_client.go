package admin

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/pinpointgw/pinpoint/internal/analytics"
)

// StatsQuery selects the requests of a stats call; zero fields take the
// server's defaults.
type StatsQuery struct {
	// Since and Until are RFC 3339 times or ages such as "1h" or "7d"
	// (server defaults: 1h ago, now).
	Since, Until string
	// Route, Consumer, Code and Stage filter exactly.
	Route, Consumer, Code, Stage string
	// Limit is the length of top lists (server default 10, at most 100).
	Limit int
}

func (q StatsQuery) values() url.Values {
	v := url.Values{}
	setNonEmpty(v, "since", q.Since)
	setNonEmpty(v, "until", q.Until)
	setNonEmpty(v, "route", q.Route)
	setNonEmpty(v, "consumer", q.Consumer)
	setNonEmpty(v, "code", q.Code)
	setNonEmpty(v, "stage", q.Stage)
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// StatsSummary calls GET /admin/stats/summary: the totals and top lists of a range.
func (c *Client) StatsSummary(ctx context.Context, q StatsQuery) (*analytics.Summary, error) {
	var out analytics.Summary
	if err := c.do(ctx, http.MethodGet, "/admin/stats/summary", q.values(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// StatsSeries calls GET /admin/stats/series: the range in intervals of
// step ("" for the server's choice, "5m", "hour", ...).
func (c *Client) StatsSeries(ctx context.Context, q StatsQuery, step string) (*analytics.Series, error) {
	v := q.values()
	setNonEmpty(v, "step", step)
	var out analytics.Series
	if err := c.do(ctx, http.MethodGet, "/admin/stats/series", v, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// StatsTop calls GET /admin/stats/top: one ranked list by route, code,
// consumer, stage or rule, of requests (kind "request" or "") or of
// would-be refusals ("would_deny").
func (c *Client) StatsTop(ctx context.Context, q StatsQuery, by, kind string) (*analytics.TopList, error) {
	v := q.values()
	v.Set("by", by)
	setNonEmpty(v, "kind", kind)
	var out analytics.TopList
	if err := c.do(ctx, http.MethodGet, "/admin/stats/top", v, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
