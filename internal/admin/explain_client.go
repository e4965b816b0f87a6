package admin

import (
	"context"
	"net/http"
	"net/url"

	"github.com/pinpointgw/pinpoint/internal/explain"
)

// Explain calls GET /admin/requests/{id}/explain. An id the call log does
// not hold is an *APIError with status 404 (see IsNotFound).
func (c *Client) Explain(ctx context.Context, requestID string) (*explain.Explanation, error) {
	var out explain.Explanation
	if err := c.do(ctx, http.MethodGet, "/admin/requests/"+url.PathEscape(requestID)+"/explain", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
