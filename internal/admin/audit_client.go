package admin

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// AuditFilter selects audit log entries; zero fields do not filter.
type AuditFilter struct {
	// Action is one action ("key.revoked") or every action of a kind ("key.*").
	Action string
	// Kind is an object kind ("key", "consumer", "revision", …).
	Kind string
	// Object is an object id, or KIND:ID ("key:pp_live_ab12…").
	Object string
	// Actor is who made the change (an admin token's name, "system", …).
	Actor string
	// Since and Until bound the time: RFC 3339 times or ages such as "24h" or "7d".
	Since, Until string
	// After returns only entries with a greater sequence number.
	After int64
	// Limit caps the result (server default 100, at most 10000).
	Limit int
	// Ascending orders oldest first; the default is newest first.
	Ascending bool
}

// Audit queries the audit log (GET /admin/audit).
func (c *Client) Audit(ctx context.Context, f AuditFilter) ([]store.AuditEntry, error) {
	q := url.Values{}
	for k, v := range map[string]string{"action": f.Action, "kind": f.Kind, "object": f.Object, "actor": f.Actor,
		"since": f.Since, "until": f.Until} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.After > 0 {
		q.Set("after", strconv.FormatInt(f.After, 10))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.Ascending {
		q.Set("order", "asc")
	}
	var out struct {
		Entries []auditEntryJSON `json:"entries"`
	}
	if err := c.do(ctx, http.MethodGet, "/admin/audit", q, nil, &out); err != nil {
		return nil, err
	}
	entries := make([]store.AuditEntry, len(out.Entries))
	for i, v := range out.Entries {
		entries[i] = v.AuditEntry
		entries[i].Detail = v.Detail
	}
	return entries, nil
}
