package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/stage/limit"
)

// QuotaQuery selects the quotas and the caller of Gateway.QuotaUsage.
type QuotaQuery = admin.QuotaQuery

var _ admin.QuotaReader = (*Gateway)(nil)

// QuotaUsage implements admin.QuotaReader on the snapshot being served:
// how much the caller q.Key has used of each selected quota in the current
// period, in config order.
//
// Each quota is read for the counter the caller's requests are counted
// in (see admin.QuotaQuery): the directory tells a consumer's tenant and
// a credential's consumer (API keys, basic and HMAC credentials, and
// certificates identified by subject; a token names its consumer only in
// its claims, and a certificate identified by fingerprint appears as a
// shortened one, so those are read as themselves). The limit is the consumer's plan's, the value of the
// quota's plan_field in its metadata, for a consumer or credential
// caller; a tenant or an IP address has no plan and gets the quota's
// default limit.
//
// An unknown route or quota is an *admin.QuotaNotFoundError; a quota
// named in q that has no counter for the caller is an
// *admin.QuotaCallerError. Other errors come from the counter stores
// (Redis unreachable, the store failing).
func (g *Gateway) QuotaUsage(ctx context.Context, q QuotaQuery) ([]limit.QuotaUsage, error) {
	s := g.Current()
	var routes []config.Route
	dir := &identity.Directory{}
	if s != nil {
		routes, dir = s.Config.Routes, s.Directory()
	}
	who, err := resolveQuotaCaller(dir, q.Key)
	if err != nil {
		return nil, err
	}
	out := []limit.QuotaUsage{}
	routeFound, quotaFound := false, false
	var mismatch *admin.QuotaCallerError
	for i := range routes {
		rc := &routes[i]
		if q.Route != "" && rc.Name != q.Route {
			continue
		}
		routeFound = true
		rt := s.byName[rc.Name]
		for j := range rc.Quotas {
			qc := &rc.Quotas[j]
			if q.Quota != "" && qc.Name != q.Quota {
				continue
			}
			quotaFound = true
			key, ok := who.counter(qc.Key)
			if !ok {
				mismatch = &admin.QuotaCallerError{Route: rc.Name, Quota: qc.Name, CountedBy: qc.Key, Caller: who.kind}
				continue
			}
			if rt == nil || rt.limit == nil {
				// A published snapshot compiled every route and its quotas.
				return nil, fmt.Errorf("route %q: quotas not compiled", rc.Name)
			}
			u, err := rt.limit.QuotaUsage(ctx, qc.Name, key, who.plan(qc), time.Time{})
			if errors.Is(err, limit.ErrUnknownQuota) {
				return nil, &admin.QuotaNotFoundError{Route: rc.Name, Quota: qc.Name}
			}
			if err != nil {
				return nil, fmt.Errorf("quota %s of route %s: %w", qc.Name, rc.Name, err)
			}
			out = append(out, u)
		}
	}
	switch {
	case q.Route != "" && !routeFound:
		return nil, &admin.QuotaNotFoundError{Route: q.Route}
	case q.Quota != "" && !quotaFound:
		return nil, &admin.QuotaNotFoundError{Route: q.Route, Quota: q.Quota}
	case q.Quota != "" && len(out) == 0 && mismatch != nil:
		return nil, mismatch
	}
	return out, nil
}

// quotaCaller is the caller of a quota usage query with what the
// directory tells about it.
type quotaCaller struct {
	// kind and id are the caller as asked ("consumer", "orders-app"); an
	// IP address is normalized as the limit stage stores it.
	kind, id string
	// credential, consumerID and tenantID are the identities the caller's
	// requests carry ("" when unknown).
	credential, consumerID, tenantID string
	// consumer is the consumer record, for the plan; nil when unknown.
	consumer *identity.Consumer
}

// resolveQuotaCaller reads a caller key "kind:id" and looks its consumer
// and tenant up in dir.
func resolveQuotaCaller(dir *identity.Directory, key string) (quotaCaller, error) {
	kind, id, _ := strings.Cut(key, ":")
	switch kind {
	case "ip", "tenant", "consumer", "credential":
	default:
		return quotaCaller{}, fmt.Errorf(`invalid caller %q: write KIND:ID with KIND consumer, tenant, credential or ip, e.g. "consumer:orders-app"`, key)
	}
	if id == "" {
		return quotaCaller{}, fmt.Errorf("invalid caller %q: the id is empty", key)
	}
	c := quotaCaller{kind: kind, id: id}
	switch kind {
	case "ip":
		a, err := netip.ParseAddr(id)
		if err != nil {
			return quotaCaller{}, fmt.Errorf("invalid caller %q: %v", key, err)
		}
		c.id = a.Unmap().String()
		return c, nil
	case "tenant":
		c.tenantID = id
		return c, nil
	case "consumer":
		c.consumerID = id
	case "credential":
		c.credential = id
		if k := dir.Key(id); k != nil && !identity.LooksLikeKey(id) {
			// An API key's id stands for its prefix, as in `pinpoint keys`.
			c.credential = k.Prefix
		}
		c.consumerID = credentialConsumer(dir, c.credential)
	}
	if c.consumerID != "" {
		if c.consumer = dir.Consumer(c.consumerID); c.consumer != nil {
			c.tenantID = c.consumer.TenantID
		}
	}
	return c, nil
}

// counter is the caller key of the counter that a quota keyed by
// quotaKey ("tenant", "consumer" or "credential") counts the caller's
// requests in, falling back as the limit stage does (a tenant quota
// counts a consumer without tenant by consumer, a credential without
// consumer by credential); false when the quota has none for the caller.
func (c quotaCaller) counter(quotaKey string) (string, bool) {
	if c.kind == "ip" {
		return "ip:" + c.id, true
	}
	switch quotaKey {
	case "tenant":
		if c.tenantID != "" {
			return "tenant:" + c.tenantID, true
		}
		fallthrough
	case "consumer":
		if c.consumerID != "" {
			return "consumer:" + c.consumerID, true
		}
		fallthrough
	case "credential":
		if c.credential != "" {
			return "credential:" + c.credential, true
		}
	}
	return "", false
}

// plan is the caller's plan for quota qc: its consumer's metadata field
// qc.PlanField ("" without a consumer).
func (c quotaCaller) plan(qc *config.Quota) string {
	if c.consumer == nil || len(qc.Plans) == 0 {
		return ""
	}
	return c.consumer.Metadata[qc.PlanField]
}

// credentialConsumer finds the consumer of a credential as the authn stage
// names it: an API key's prefix (pp_live_k7f3a9c2d1e0), a basic user name,
// an HMAC key id or a certificate's subject; "" when the directory does
// not know it.
func credentialConsumer(dir *identity.Directory, id string) string {
	if identity.LooksLikeKey(id) {
		if k := dir.Key(id[strings.LastIndexByte(id, '_')+1:]); k != nil {
			return k.ConsumerID
		}
		return ""
	}
	if b := dir.Basic(id); b != nil {
		return b.ConsumerID
	}
	if h := dir.HMACKey(id); h != nil {
		return h.ConsumerID
	}
	if c := dir.Cert("", id); c != nil {
		return c.ConsumerID
	}
	return ""
}
