package admin

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"github.com/pinpointgw/pinpoint/internal/stage/limit"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// QuotaReader reads the calendar quota usage of the revision being served.
// The gateway implements it.
type QuotaReader interface {
	// QuotaUsage returns the caller's usage of the quotas q selects, in
	// the current period, in config order (routes, then their quotas). An
	// unknown route or quota is a *QuotaNotFoundError; a named quota that
	// has no counter for the caller is a *QuotaCallerError.
	QuotaUsage(ctx context.Context, q QuotaQuery) ([]limit.QuotaUsage, error)
}

// QuotaQuery selects quotas and the caller whose usage is read.
type QuotaQuery struct {
	// Route is a route name; "" reads every route that has quotas.
	Route string
	// Quota is a quota name; "" reads every quota of the selected routes.
	Quota string
	// Key is the caller, required: "consumer:orders-app", "tenant:acme",
	// "credential:pp_live_k7f3a9c2d1e0" (an API key's id, k7f3a9c2d1e0,
	// stands for its prefix) or "ip:192.0.2.7". Each quota is
	// read for the counter the caller's requests are counted in, which
	// the answer's Key names: a consumer's usage of a quota with key:
	// tenant is its tenant's (its own when it has no tenant), a
	// credential's usage of a consumer or tenant quota is its consumer's
	// or tenant's, and an IP address is counted by every quota (for
	// unauthenticated requests). A quota keyed narrower than the caller (a
	// consumer's usage of a quota with key: credential, a tenant's of a
	// consumer quota) has no counter for it: left out when Quota is
	// empty, a *QuotaCallerError when it names that quota.
	Key string
}

// QuotaNotFoundError reports a route or quota that the served revision
// does not have; the admin API answers 404 admin.not_found.
type QuotaNotFoundError struct {
	// Route is the route asked for ("" when only a quota was named).
	Route string
	// Quota is the quota asked for ("" when the route is missing).
	Quota string
}

func (e *QuotaNotFoundError) Error() string {
	switch {
	case e.Quota == "":
		return "route " + strconv.Quote(e.Route) + " not found"
	case e.Route == "":
		return "no route has a quota " + strconv.Quote(e.Quota)
	}
	return "route " + strconv.Quote(e.Route) + " has no quota " + strconv.Quote(e.Quota)
}

// what names the missing object in an admin.not_found detail.
func (e *QuotaNotFoundError) what() string {
	route, quota := strconv.Quote(truncate(e.Route, 100)), strconv.Quote(truncate(e.Quota, 100))
	switch {
	case e.Quota == "":
		return "Route " + route
	case e.Route == "":
		return "Quota " + quota + " (on any route)"
	}
	return "Quota " + quota + " of route " + route
}

// QuotaCallerError reports a quota asked for by name with a caller it
// has no counter for (a consumer's usage of a quota with key: credential);
// the admin API answers 400 admin.bad_request.
type QuotaCallerError struct {
	// Route and Quota name the quota.
	Route, Quota string
	// CountedBy is the quota's key: "consumer", "tenant" or "credential".
	CountedBy string
	// Caller is the kind of caller asked for.
	Caller string
}

func (e *QuotaCallerError) Error() string {
	return "quota " + strconv.Quote(e.Quota) + " of route " + strconv.Quote(e.Route) + " counts requests per " +
		e.CountedBy + ", not per " + e.Caller + "; ask for a " + e.CountedBy + " (or the IP address of unauthenticated callers)"
}

// QuotaUsage is one caller's usage of one quota in the current period, as
// GET /admin/quotas answers it.
type QuotaUsage struct {
	Route string `json:"route"`
	Quota string `json:"quota"`
	// Key is the caller: "consumer:orders-app", "ip:192.0.2.7", ...
	Key string `json:"key"`
	// Store is "local" or "redis".
	Store string `json:"store"`
	// Period is when the period started, Reset when it ends and the count
	// starts again from zero (UTC).
	Period time.Time `json:"period"`
	Reset  time.Time `json:"reset"`
	// Used counts the period's requests; for store: local it includes
	// what this node has not flushed to the store yet.
	Used int64 `json:"used"`
	// Limit is the caller's limit, Remaining what is left of it (never
	// below zero).
	Limit     int64 `json:"limit"`
	Remaining int64 `json:"remaining"`
	// Plan is the plan the limit comes from; "" means the quota's default
	// limit.
	Plan string `json:"plan"`
}

func quotaUsageView(u limit.QuotaUsage) QuotaUsage {
	return QuotaUsage{Route: u.Route, Quota: u.Quota, Key: u.Key, Store: u.Store, Period: u.Period, Reset: u.Reset,
		Used: u.Used, Limit: u.Limit, Remaining: max(0, u.Limit-u.Used), Plan: u.Plan}
}

// Quota history bounds.
const (
	defaultQuotaHistoryLimit = 100
	maxQuotaHistoryLimit     = 10000
)

// callerKinds are the caller query parameters, in the order errors list them.
var callerKinds = []string{"consumer", "tenant", "credential", "ip"}

// maxCallerID bounds a caller id in a query.
const maxCallerID = 256

// callerParam reads the caller parameter of a quota query: "consumer:ID"
// (and so on), or "" when none is given and required is false.
func callerParam(q url.Values, required bool) (string, error) {
	var key string
	for _, kind := range callerKinds {
		vs, ok := q[kind]
		if !ok {
			continue
		}
		switch {
		case key != "":
			return "", errors.New("give one caller: one of consumer, tenant, credential or ip")
		case len(vs) != 1:
			return "", errors.New(kind + ": give it once")
		case vs[0] == "":
			return "", errors.New(kind + ": must not be empty")
		case len(vs[0]) > maxCallerID:
			return "", errors.New(kind + ": at most " + strconv.Itoa(maxCallerID) + " bytes")
		}
		id := vs[0]
		if kind == "ip" {
			a, err := netip.ParseAddr(id)
			if err != nil {
				return "", errors.New("ip: not an IP address")
			}
			id = a.Unmap().String()
		}
		key = kind + ":" + id
	}
	if key == "" && required {
		return "", errors.New("a caller is required: one of consumer=ID, tenant=ID, credential=ID or ip=ADDR")
	}
	return key, nil
}

// quotaUsageList is the body of GET /admin/quotas.
type quotaUsageList struct {
	Usage []QuotaUsage `json:"usage"`
}

func (h *handler) quotaUsage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	key, err := callerParam(q, true)
	if err != nil {
		badRequest(w, r, err.Error())
		return
	}
	list, err := h.Quotas.QuotaUsage(r.Context(), QuotaQuery{Route: q.Get("route"), Quota: q.Get("quota"), Key: key})
	var missing *QuotaNotFoundError
	var caller *QuotaCallerError
	switch {
	case errors.As(err, &missing):
		notFound(w, r, missing.what())
		return
	case errors.As(err, &caller):
		badRequest(w, r, caller.Error())
		return
	case err != nil:
		h.storeFailure(w, r, "quota usage", err)
		return
	}
	out := quotaUsageList{Usage: make([]QuotaUsage, len(list))}
	for i, u := range list {
		out.Usage[i] = quotaUsageView(u)
	}
	writeJSON(w, http.StatusOK, out)
}

// quotaHistoryList is the body of GET /admin/quotas/history.
type quotaHistoryList struct {
	History []store.QuotaUsage `json:"history"`
}

func (h *handler) quotaHistory(w http.ResponseWriter, r *http.Request) {
	f, err := parseQuotaHistory(r.URL.Query(), time.Now())
	if err != nil {
		badRequest(w, r, err.Error())
		return
	}
	list, err := h.Store.ListQuotaUsage(r.Context(), f)
	if err != nil {
		h.storeFailure(w, r, "list quota usage", err)
		return
	}
	if list == nil {
		list = []store.QuotaUsage{}
	}
	writeJSON(w, http.StatusOK, quotaHistoryList{History: list})
}

// parseQuotaHistory reads the GET /admin/quotas/history parameters:
//
//	route=orders  quota=daily       one route's, one quota's counters
//	consumer=ID | tenant=ID | credential=ID | ip=ADDR   one caller's (optional)
//	since=90d | 2026-01-01T00:00:00Z   periods starting at or after it
//	limit=100                         1..10000
func parseQuotaHistory(q url.Values, now time.Time) (store.QuotaFilter, error) {
	f := store.QuotaFilter{Route: q.Get("route"), Quota: q.Get("quota")}
	var err error
	if f.Key, err = callerParam(q, false); err != nil {
		return f, err
	}
	if s := q.Get("since"); s != "" {
		if f.Since, err = ParseSince(s, now); err != nil {
			return f, errors.New("since: " + err.Error())
		}
	}
	n, err := intParam(q.Get("limit"), defaultQuotaHistoryLimit, 1, maxQuotaHistoryLimit)
	if err != nil {
		return f, errors.New("limit: " + err.Error())
	}
	f.Limit = int(n)
	return f, nil
}
