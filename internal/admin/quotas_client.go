package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// QuotaHistoryFilter selects stored quota counters; zero fields do not
// filter.
type QuotaHistoryFilter struct {
	// Route and Quota name a route and one of its quotas.
	Route, Quota string
	// Key is one caller: "consumer:orders-app", "tenant:acme",
	// "credential:pp_live_k7f3a9c2d1e0" or "ip:192.0.2.7".
	Key string
	// Since is an RFC 3339 time or an age such as "90d": periods starting
	// at or after it.
	Since string
	// Limit caps the result (server default 100, at most 10000).
	Limit int
}

// QuotaUsage calls GET /admin/quotas: the caller's usage of the selected
// quotas in the current period.
func (c *Client) QuotaUsage(ctx context.Context, q QuotaQuery) ([]QuotaUsage, error) {
	v := url.Values{}
	if err := setCaller(v, q.Key); err != nil {
		return nil, err
	}
	setNonEmpty(v, "route", q.Route)
	setNonEmpty(v, "quota", q.Quota)
	var out quotaUsageList
	err := c.do(ctx, http.MethodGet, "/admin/quotas", v, nil, &out)
	return out.Usage, err
}

// QuotaHistory calls GET /admin/quotas/history: stored counters of quotas
// with store: local, newest period first.
func (c *Client) QuotaHistory(ctx context.Context, f QuotaHistoryFilter) ([]store.QuotaUsage, error) {
	v := url.Values{}
	if err := setCaller(v, f.Key); err != nil {
		return nil, err
	}
	setNonEmpty(v, "route", f.Route)
	setNonEmpty(v, "quota", f.Quota)
	setNonEmpty(v, "since", f.Since)
	if f.Limit > 0 {
		v.Set("limit", strconv.Itoa(f.Limit))
	}
	var out quotaHistoryList
	err := c.do(ctx, http.MethodGet, "/admin/quotas/history", v, nil, &out)
	return out.History, err
}

// setCaller sets the caller parameter of key ("consumer:ID" → consumer=ID).
func setCaller(v url.Values, key string) error {
	if key == "" {
		return nil
	}
	kind, id, _ := strings.Cut(key, ":")
	if !slices.Contains(callerKinds, kind) {
		return fmt.Errorf(`admin API: caller %q: write KIND:ID with KIND consumer, tenant, credential or ip`, key)
	}
	v.Set(kind, id)
	return nil
}

func setNonEmpty(v url.Values, name, value string) {
	if value != "" {
		v.Set(name, value)
	}
}
