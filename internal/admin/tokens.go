package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/explain/token"
)

// TokenDecoder is implemented by a Control that can open the decision
// tokens of its refusals (the gateway does).
type TokenDecoder interface {
	// DecodeToken opens tok with the gateway's decision-token keys. Errors
	// wrap token.ErrMalformed, ErrVersion, ErrUnknownKey or ErrTampered.
	DecodeToken(tok string) (token.Decision, error)
}

// DecodeTokenRequest is the body of POST /admin/decision-tokens/decode.
//
//	{"token": "AQJrMf3…"}
type DecodeTokenRequest struct {
	// Token is the decision_token of a refusal, as the client got it.
	Token string `json:"token"`
}

// decodeToken answers POST /admin/decision-tokens/decode with the decision
// a token holds (a token.Decision as JSON). A token that is not one, or
// was altered, is 400 admin.bad_request; one sealed with a key this gateway
// does not hold is 404 admin.not_found. The token is never echoed.
func (h *handler) decodeToken(w http.ResponseWriter, r *http.Request) {
	dec, ok := h.Control.(TokenDecoder)
	if !ok {
		notFound(w, r, "Decision-token decoding")
		return
	}
	var req DecodeTokenRequest
	if !readJSON(w, r, &req) {
		return
	}
	tok := strings.TrimSpace(req.Token)
	if tok == "" {
		badRequest(w, r, `the body needs "token": the decision_token of a refusal`)
		return
	}
	d, err := dec.DecodeToken(tok)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, d)
	case errors.Is(err, token.ErrUnknownKey):
		id, _ := token.KeyIDOf(tok)
		notFound(w, r, "The decision-token key "+`"`+id+`"`+" that sealed this token")
	case errors.Is(err, token.ErrMalformed), errors.Is(err, token.ErrVersion), errors.Is(err, token.ErrTampered):
		badRequest(w, r, err.Error())
	default:
		h.internalError(w, r, "decode decision token", err)
	}
}
