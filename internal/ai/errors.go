package ai

import (
	"net/http"
	"strconv"

	"github.com/pinpointgw/pinpoint/internal/ai/provider"
	"github.com/pinpointgw/pinpoint/internal/problem"

	"github.com/pinpointgw/pinpoint/internal/jsontext"
)

// writeProviderError passes a provider's refusal of the caller's request
// itself (a context too long, a bad parameter) to the caller, in OpenAI's
// error shape with the provider's status and message, labelled as the
// backend's answer (layer "upstream"), not a gateway refusal.
func (c *call) writeProviderError(pe *provider.Error) {
	status := pe.Status
	if status < 400 || status > 599 {
		status = http.StatusBadRequest
	}
	typ := pe.Type
	if typ == "" {
		typ = "invalid_request_error"
	}
	b := make([]byte, 0, 256+len(pe.Message))
	b = append(b, `{"error":{"message":`...)
	b = jsontext.AppendString(b, pe.Message)
	b = append(b, `,"type":`...)
	b = jsontext.AppendString(b, typ)
	b = append(b, `,"param":`...)
	b = appendOptString(b, pe.Param)
	b = append(b, `,"code":`...)
	b = appendOptString(b, pe.Code)
	b = append(b, `},"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"layer":"upstream","request_id":`...)
	b = jsontext.AppendString(b, c.x.ID)
	b = append(b, "}\n"...)
	h := c.w.Header()
	h.Set(problem.HeaderLayer, problem.LayerUpstream)
	h.Set("X-Should-Retry", "false")
	writeJSON(c.w, status, b)
	c.started = true
	c.rec.Status = status
}

func appendOptString(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return jsontext.AppendString(b, s)
}
