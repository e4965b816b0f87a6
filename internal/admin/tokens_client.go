package admin

import (
	"context"
	"net/http"

	"github.com/pinpointgw/pinpoint/internal/explain/token"
)

// DecodeToken asks the gateway to open a decision token
// (POST /admin/decision-tokens/decode). A token the gateway cannot open is
// an *APIError: 404 admin.not_found for an unknown key, 400
// admin.bad_request for a malformed or altered token.
func (c *Client) DecodeToken(ctx context.Context, tok string) (token.Decision, error) {
	var d token.Decision
	err := c.doJSON(ctx, http.MethodPost, "/admin/decision-tokens/decode", DecodeTokenRequest{Token: tok}, &d)
	return d, err
}
