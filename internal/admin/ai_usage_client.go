package admin

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// AIUsageQuery selects the AI calls of a usage report; zero fields take
// the server's defaults.
type AIUsageQuery struct {
	// From and To are RFC 3339 times or ages such as "24h" or "7d"
	// (server defaults: 24h ago, now).
	From, To string
	// Consumer, Tenant, Model, Route and Provider filter exactly.
	Consumer, Tenant, Model, Route, Provider string
	// GroupBy lists the keys to group by (consumer, tenant, credential,
	// model, provider, route, day). Nil: the server's default
	// (consumer, model); empty but not nil: one group with the totals.
	GroupBy []string
}

func (q AIUsageQuery) values() url.Values {
	v := url.Values{}
	setNonEmpty(v, "from", q.From)
	setNonEmpty(v, "to", q.To)
	setNonEmpty(v, "consumer", q.Consumer)
	setNonEmpty(v, "tenant", q.Tenant)
	setNonEmpty(v, "model", q.Model)
	setNonEmpty(v, "route", q.Route)
	setNonEmpty(v, "provider", q.Provider)
	if q.GroupBy != nil {
		v.Set("group_by", strings.Join(q.GroupBy, ","))
	}
	return v
}

// AIUsage calls GET /admin/ai/usage: the AI calls, tokens and cost of a
// range, summed per group.
func (c *Client) AIUsage(ctx context.Context, q AIUsageQuery) (*AIUsageReport, error) {
	var out AIUsageReport
	if err := c.do(ctx, http.MethodGet, "/admin/ai/usage", q.values(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
